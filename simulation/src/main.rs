//! `candor-sim`: a federation on one machine, for researchers.
#![forbid(unsafe_code)]

use anyhow::Context;
use candor_coordinator::strategy::StrategyConfig;
use candor_sim::config::{PartitionConfig, SimConfig};
use candor_sim::report::{table_header, table_row};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::MultiProgress;
use std::path::PathBuf;

#[derive(Parser)]
#[command(version, about = "Candor simulation: a coordinator and many participants in one process")]
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
    /// Run a simulated federation; flags override the config file.
    Simulate(Box<Simulate>),
}

// the names users type: fed-avg, fed-median, fed-trimmed-avg
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, ValueEnum)]
enum Strategy {
    FedAvg,
    FedMedian,
    FedTrimmedAvg,
}

#[derive(Clone, Copy, ValueEnum)]
enum Split {
    Iid,
    Dirichlet,
}

#[derive(clap::Args)]
struct Simulate {
    /// Simulation config (TOML): data, partition, federation, spec.
    #[arg(long, default_value = "configs/simulate-breast-cancer.toml")]
    config: PathBuf,
    /// Participants (malicious ones included).
    #[arg(long)]
    participants: Option<usize>,
    /// Rounds.
    #[arg(long)]
    rounds: Option<u64>,
    /// Local epochs per round.
    #[arg(long)]
    epochs: Option<u32>,
    /// Batch size (a power of two).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate.
    #[arg(long)]
    learning_rate: Option<f64>,
    /// SGD steps proven per Nova fold.
    #[arg(long)]
    steps_per_fold: Option<usize>,
    /// Aggregation strategy.
    #[arg(long, value_enum)]
    strategy: Option<Strategy>,
    /// Fraction trimmed at each end by fed-trimmed-avg.
    #[arg(long, default_value_t = 0.2)]
    beta: f64,
    /// How rows are dealt to participants.
    #[arg(long, value_enum)]
    partition: Option<Split>,
    /// Dirichlet concentration (with --partition dirichlet).
    #[arg(long, default_value_t = 0.5)]
    alpha: f64,
    /// Seed of the split, the partition, commitments and identities.
    #[arg(long)]
    seed: Option<u64>,
    /// Skip proofs: updates are taken on trust and output says "unverified".
    #[arg(long)]
    no_proof: bool,
    /// Participants (the last K) that submit tampered updates.
    #[arg(long)]
    malicious: Option<usize>,
    /// Write a JSON report here, and an accuracy plot (.svg) beside it.
    #[arg(long)]
    report: Option<PathBuf>,
}

impl Simulate {
    fn apply(&self, cfg: &mut SimConfig) {
        let f = &mut cfg.federation;
        f.participants = self.participants.unwrap_or(f.participants);
        f.rounds = self.rounds.unwrap_or(f.rounds);
        f.malicious = self.malicious.unwrap_or(f.malicious);
        f.proofs &= !self.no_proof;
        if let Some(s) = self.strategy {
            f.strategy = match s {
                Strategy::FedAvg => StrategyConfig::FedAvg,
                Strategy::FedMedian => StrategyConfig::FedMedian,
                Strategy::FedTrimmedAvg => StrategyConfig::FedTrimmedAvg { beta: self.beta },
            };
        }
        if let Some(p) = self.partition {
            cfg.partition = match p {
                Split::Iid => PartitionConfig::Iid,
                Split::Dirichlet => PartitionConfig::Dirichlet { alpha: self.alpha },
            };
        }
        let s = &mut cfg.spec;
        s.epochs = self.epochs.unwrap_or(s.epochs);
        s.batch_size = self.batch_size.unwrap_or(s.batch_size);
        s.learning_rate = self.learning_rate.unwrap_or(s.learning_rate);
        s.steps_per_fold = self.steps_per_fold.unwrap_or(s.steps_per_fold);
        cfg.data.seed = self.seed.unwrap_or(cfg.data.seed);
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    candor_protocols::logging::init(cli.json_logs);
    let Cmd::Simulate(args) = cli.cmd;
    let mut cfg = SimConfig::load(&args.config)?;
    args.apply(&mut cfg);
    cfg.validate()?;
    let f = &cfg.federation;
    let mode = if f.proofs { "every update proven and verified" } else { "UNVERIFIED: no proofs, updates taken on trust" };
    println!(
        "Simulating {} participants ({} malicious), {} rounds, {:?} partition of {}: {mode}",
        f.participants,
        f.malicious,
        f.rounds,
        cfg.partition,
        cfg.data.path.display()
    );
    let bars = MultiProgress::new();
    // above the progress bars on a terminal; plain lines otherwise (the bars
    // are hidden then, and so would be their println)
    let say = |line: String| {
        if bars.is_hidden() {
            println!("{line}");
        } else {
            let _ = bars.println(line);
        }
    };
    say(table_header(f.proofs));
    let report = candor_sim::sim::run(&cfg, Some(&cli.cache), &bars, |r| say(table_row(r)))
    .context("simulation failed")?;
    let t = &report.totals;
    let metric = if report.initial.accuracy.is_some() { "accuracy" } else { "MSE" };
    let last = report.final_metrics();
    println!(
        "final test {metric}: {:.4} ({}); centralized float32 reference: {:.4}",
        last.accuracy.unwrap_or(last.loss),
        report.mode,
        report.centralized_float_reference.metric
    );
    println!(
        "{} updates accepted, {} refused, {} tampered accepted; {:.1} s in all (setup {:.1}, commitments {:.1}, proving {:.1}, verifying {:.1})",
        t.accepted, t.rejected, t.tampered_accepted, t.wall_secs, t.setup_secs, t.commit_secs, t.prove_secs, t.verify_secs
    );
    if let Some(path) = &args.report {
        let svg = report.write(path)?;
        println!("report: {} and {}", path.display(), svg.display());
    }
    Ok(())
}
