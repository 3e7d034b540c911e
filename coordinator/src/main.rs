//! `candor-coordinator`: run by the consortium.
#![forbid(unsafe_code)]

use anyhow::Context;
use candor_circuits::cost::{best_steps_per_fold, predict, CircuitCost, REFERENCE};
use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
use candor_coordinator::audit::audit;
use candor_coordinator::config::CoordinatorConfig;
use candor_coordinator::node::Coordinator;
use candor_coordinator::store::Store;
use candor_core::dataset::Study;
use candor_core::summary::{normalization_toml, Summary};
use candor_core::{Layout, TrainSpec};
use candor_protocols::net::{keygen, load_key};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(version, about = "Candor coordinator: verified federated rounds")]
struct Cli {
    #[command(flatten)]
    global: candor_cli::Global,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create the coordinator's key; writes its PeerId beside it (`.peer`).
    Keygen {
        /// Coordinator config.
        #[arg(long)]
        config: PathBuf,
    },
    /// Run the coordinator until all rounds are done (or Ctrl-C, SIGTERM).
    Run {
        /// Coordinator config.
        #[arg(long)]
        config: PathBuf,
        /// Keep serving (the status page, answers to hospitals) after the
        /// last round instead of exiting: for an orchestrator that restarts
        /// whatever exits.
        #[arg(long)]
        keep_running: bool,
    },
    /// Derive a study's public parameters and print their digests as the
    /// study's [params] table: pin them there, and every daemon refuses
    /// parameters (cached or derived) that differ. Also prints the power of
    /// two each circuit pads to, the steps per fold that fill it, and what
    /// a hospital's round is predicted to cost (the reference machine) at
    /// the spec's steps per fold and at the fastest.
    Params {
        /// Any config with a [spec] table (study, simulation or local run).
        #[arg(long)]
        study: PathBuf,
        /// Rows of the hospital to predict a round's cost for.
        #[arg(long, default_value_t = 1000)]
        rows: usize,
    },
    /// Compute a study's feature normalization (and, for regression, its
    /// target standardization) and print it as the study's [normalization]
    /// table: from data files read under the study, or from the hospitals'
    /// `candor-participant summarize` outputs (aggregates only, no rows).
    Normalize {
        /// Study file (its label, features, delimiter and spec are used).
        #[arg(long)]
        study: PathBuf,
        /// Data files to summarize (repeat for several).
        #[arg(long)]
        data: Vec<PathBuf>,
        /// Summaries written by `candor-participant summarize` (repeat).
        #[arg(long)]
        summary: Vec<PathBuf>,
    },
    /// Exit 0 if the running coordinator's heartbeat (`DB.health`, rewritten
    /// every 5 s by its event loop) is fresh, 1 otherwise: for container
    /// health checks and Kubernetes probes.
    Health {
        /// Coordinator config.
        #[arg(long)]
        config: PathBuf,
        /// Age in seconds past which the coordinator counts as stalled.
        #[arg(long, default_value_t = 60)]
        max_age_secs: u64,
    },
    /// Re-verify every stored commitment and training proof and recompute
    /// every aggregate.
    Audit {
        /// Coordinator config (for the study).
        #[arg(long)]
        config: PathBuf,
        /// Database to audit (default: the config's).
        #[arg(long)]
        db: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.global.init_logs();
    match cli.cmd {
        Cmd::Keygen { config } => {
            let cfg = CoordinatorConfig::load(&config)?;
            let key = keygen(&cfg.key).with_context(|| format!("writing {}", cfg.key.display()))?;
            let id = key.public().to_peer_id();
            std::fs::write(cfg.key.with_extension("peer"), id.to_string())?;
            println!("{id}");
        }
        Cmd::Run { config, keep_running } => {
            let cfg = CoordinatorConfig::load(&config)?;
            let cache = cli.global.cache_beside(&cfg.key);
            let study = cfg.study()?;
            let layout = Layout::new(&study.spec)?;
            let participants = cfg.participants(&layout, KeySource::data(Some(&cache), &study.params)?)?;
            let (fed, node) = cfg.federation(&study, participants)?;
            let keys = Arc::new(TrainKeys::for_training(&layout, KeySource::train(Some(&cache), &study.params)?)?);
            let eval = cfg.eval_csv.as_ref().map(|p| study.load_csv(p)).transpose()?;
            let eval = eval.map(|data| candor_core::eval::TestSet { data, target: study.normalization.target });
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let mut c = Coordinator::new(load_key(&cfg.key)?, fed, keys, node, eval)?;
                if !keep_running {
                    c = c.exit_when_finished();
                }
                let addr = c.listening().await;
                println!("coordinator listening on {addr}");
                c.run(candor_cli::stop_requested()).await?;
                anyhow::Ok(())
            })?;
        }
        Cmd::Health { config, max_age_secs } => {
            let cfg = CoordinatorConfig::load(&config)?;
            println!("{}", candor_protocols::health::check_beside(&cfg.db, max_age_secs).map_err(anyhow::Error::msg)?);
        }
        Cmd::Params { study, rows } => {
            let text = std::fs::read_to_string(&study).with_context(|| format!("reading {}", study.display()))?;
            let table: toml::Table = toml::from_str(&text).with_context(|| format!("parsing {}", study.display()))?;
            let mut spec: TrainSpec = table
                .get("spec")
                .with_context(|| format!("{} has no [spec] table", study.display()))?
                .clone()
                .try_into()
                .with_context(|| format!("{}: spec", study.display()))?;
            // as a simulation or local run would take it
            if let Some(note) = candor_circuits::cost::fill_steps_per_fold(&mut spec)? {
                println!("# {note}");
            }
            let layout = Layout::new(&spec)?;
            let train = TrainKeys::for_training(&layout, KeySource::derive())?;
            let data = DataKeys::for_commitment(&layout, KeySource::derive())?;
            println!("[params]\ntrain = \"{}\"\ndata = \"{}\"", train.digest(), data.digest());
            // the padded sizes, as comments the table can keep
            println!("# training fold: {}", candor_circuits::padding::advice(&train)?);
            let (commit, _) = data.sizes();
            println!("# commitment step: {commit}");
            let cost = CircuitCost::of(&spec)?;
            let now = predict(&cost, &REFERENCE, rows, spec.steps_per_fold)?;
            println!("# a hospital of {rows} rows, predicted on {}: {now}", REFERENCE.name);
            let best = best_steps_per_fold(&cost, &REFERENCE, rows, f64::INFINITY)?;
            if best.steps_per_fold != spec.steps_per_fold {
                println!("# fastest at {rows} rows: {best}");
            }
        }
        Cmd::Normalize { study, data, summary } => {
            anyhow::ensure!(!data.is_empty() || !summary.is_empty(), "name at least one --data file or --summary");
            let study = Study::load(&study)?;
            let mut parts = data.iter().map(|p| study.summarize(p)).collect::<Result<Vec<_>, _>>()?;
            for p in &summary {
                let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
                parts.push(toml::from_str(&text).with_context(|| format!("{}: not a summary", p.display()))?);
            }
            if let (Some(named), Some(first)) = (&study.features, parts.first()) {
                let named: Vec<&str> = named.iter().map(|n| n.trim()).collect();
                anyhow::ensure!(first.features == named, "the summaries have features {:?}, the study names {named:?}", first.features);
            }
            let norm = Summary::combine(&parts, &study.spec)?;
            let rows: u64 = parts.iter().map(|p| p.rows).sum();
            println!("# computed from {rows} rows in {} file(s) by `candor-coordinator normalize`", parts.len());
            print!("{}", normalization_toml(&norm)?);
        }
        Cmd::Audit { config, db } => {
            let cfg = CoordinatorConfig::load(&config)?;
            let path = db.as_ref().unwrap_or(&cfg.db);
            // opening would create an empty database: an audit only reads
            anyhow::ensure!(path.exists(), "no database at {}", path.display());
            let cache = cli.global.cache_beside(&cfg.key);
            let study = cfg.study()?;
            let layout = Layout::new(&study.spec)?;
            let keys = TrainKeys::for_training(&layout, KeySource::train(Some(&cache), &study.params)?)?;
            let dkeys = DataKeys::for_commitment(&layout, KeySource::data(Some(&cache), &study.params)?)?;
            let store = Store::open(path)?;
            let report = audit(&store, &keys, &dkeys)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            // the status page shows the last audit; an audit that cannot
            // record it still reports (a read-only copy, say)
            let at_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as u64;
            if let Err(e) = store.record_audit(at_ms, &serde_json::to_string(&report)?) {
                eprintln!("warning: the audit's result was not recorded in {}: {e}", path.display());
            }
            anyhow::ensure!(report.passed(), "audit failed: {} problem(s)", report.problems.len());
        }
    }
    Ok(())
}
