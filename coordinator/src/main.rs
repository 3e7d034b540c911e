//! `candor-coordinator`: run by the consortium.
#![forbid(unsafe_code)]

use anyhow::Context;
use candor_circuits::engine::TrainKeys;
use candor_coordinator::audit::audit;
use candor_coordinator::config::CoordinatorConfig;
use candor_coordinator::node::Coordinator;
use candor_coordinator::store::Store;
use candor_core::Layout;
use candor_protocols::net::{keygen, load_key};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(version, about = "Candor coordinator: verified federated rounds")]
struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    json_logs: bool,
    /// Directory caching public parameters (deterministic, checked by digest).
    #[arg(long, global = true, default_value = ".candor-cache")]
    cache: PathBuf,
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
    /// Run the coordinator until all rounds are done (or Ctrl-C).
    Run {
        /// Coordinator config.
        #[arg(long)]
        config: PathBuf,
    },
    /// Re-verify every stored proof and recompute every aggregate.
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
    candor_protocols::logging::init(cli.json_logs);
    match cli.cmd {
        Cmd::Keygen { config } => {
            let cfg = CoordinatorConfig::load(&config)?;
            let key = keygen(&cfg.key).with_context(|| format!("writing {}", cfg.key.display()))?;
            let id = key.public().to_peer_id();
            std::fs::write(cfg.key.with_extension("peer"), id.to_string())?;
            println!("{id}");
        }
        Cmd::Run { config } => {
            let cfg = CoordinatorConfig::load(&config)?;
            let study = cfg.study()?;
            let layout = Layout::new(&study.spec)?;
            let participants = cfg.participants(&layout, &cli.cache)?;
            let (fed, node) = cfg.federation(&study, participants)?;
            let keys = Arc::new(TrainKeys::for_training(&layout, Some(&cli.cache))?);
            let eval = cfg.eval_csv.as_ref().map(|p| study.load_csv(p)).transpose()?;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let mut c = Coordinator::new(load_key(&cfg.key)?, fed, keys, node, eval)?.exit_when_finished();
                let addr = c.listening().await;
                println!("coordinator listening on {addr}");
                c.run(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
                anyhow::Ok(())
            })?;
        }
        Cmd::Audit { config, db } => {
            let cfg = CoordinatorConfig::load(&config)?;
            let layout = Layout::new(&cfg.study()?.spec)?;
            let keys = TrainKeys::for_training(&layout, Some(&cli.cache))?;
            let store = Store::open(db.as_ref().unwrap_or(&cfg.db))?;
            let report = audit(&store, &keys)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            anyhow::ensure!(report.passed(), "audit failed: {} problem(s)", report.problems.len());
        }
    }
    Ok(())
}
