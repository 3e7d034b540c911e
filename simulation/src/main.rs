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
    #[command(flatten)]
    global: candor_cli::Global,
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
    /// Fraction trimmed at each end by fed-trimmed-avg (default 0.2).
    #[arg(long)]
    beta: Option<f64>,
    /// How rows are dealt to participants.
    #[arg(long, value_enum)]
    partition: Option<Split>,
    /// Dirichlet concentration of the dirichlet partition (default 0.5).
    #[arg(long)]
    alpha: Option<f64>,
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
    /// Prove as unpatched nova-snark 0.76 does (for comparing timings; the
    /// proofs verify the same).
    #[arg(long, hide = true)]
    upstream_prover: bool,
}

impl Simulate {
    fn apply(&self, cfg: &mut SimConfig) -> anyhow::Result<()> {
        let f = &mut cfg.federation;
        f.participants = self.participants.unwrap_or(f.participants);
        f.rounds = self.rounds.unwrap_or(f.rounds);
        f.malicious = self.malicious.unwrap_or(f.malicious);
        f.proofs &= !self.no_proof;
        candor_prover::use_upstream_prover(self.upstream_prover);
        let configured_beta = match f.strategy {
            StrategyConfig::FedTrimmedAvg { beta } => Some(beta),
            _ => None,
        };
        f.strategy = match (self.strategy, self.beta) {
            (Some(Strategy::FedAvg), None) => StrategyConfig::FedAvg,
            (Some(Strategy::FedMedian), None) => StrategyConfig::FedMedian,
            (Some(Strategy::FedTrimmedAvg), b) => StrategyConfig::FedTrimmedAvg { beta: b.or(configured_beta).unwrap_or(0.2) },
            (None, Some(beta)) if configured_beta.is_some() => StrategyConfig::FedTrimmedAvg { beta },
            (_, Some(_)) => anyhow::bail!("--beta applies to fed-trimmed-avg only"),
            (None, None) => f.strategy,
        };
        let configured_alpha = match cfg.partition {
            PartitionConfig::Dirichlet { alpha } => Some(alpha),
            PartitionConfig::Iid => None,
        };
        cfg.partition = match (self.partition, self.alpha) {
            (Some(Split::Iid), None) => PartitionConfig::Iid,
            (Some(Split::Dirichlet), a) => PartitionConfig::Dirichlet { alpha: a.or(configured_alpha).unwrap_or(0.5) },
            (None, Some(alpha)) if configured_alpha.is_some() => PartitionConfig::Dirichlet { alpha },
            (_, Some(_)) => anyhow::bail!("--alpha applies to the dirichlet partition only"),
            (None, None) => cfg.partition,
        };
        let s = &mut cfg.spec;
        s.epochs = self.epochs.unwrap_or(s.epochs);
        s.batch_size = self.batch_size.unwrap_or(s.batch_size);
        s.learning_rate = self.learning_rate.unwrap_or(s.learning_rate);
        s.steps_per_fold = self.steps_per_fold.unwrap_or(s.steps_per_fold);
        cfg.data.seed = self.seed.unwrap_or(cfg.data.seed);
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.global.init_logs();
    let Cmd::Simulate(args) = cli.cmd;
    let mut cfg = SimConfig::load(&args.config)?;
    args.apply(&mut cfg)?;
    if let Some(note) = candor_circuits::cost::fill_steps_per_fold(&mut cfg.spec)? {
        println!("{note}");
    }
    cfg.validate()?;
    let f = &cfg.federation;
    let mode = if f.proofs { "every update proven and verified" } else { "UNVERIFIED: no proofs, updates taken on trust" };
    let data = match &cfg.split {
        Some(s) => format!("the given split ({} files, test {})", s.hospitals.len(), s.test.display()),
        None => format!("{:?} partition of {}", cfg.partition, cfg.data.path.display()),
    };
    println!("Simulating {} participants ({} malicious), {} rounds, {data}: {mode}", f.participants, f.malicious, f.rounds);
    let bars = MultiProgress::new();
    // on stdout, with the progress bars (on stderr) cleared meanwhile
    let say = |line: String| bars.suspend(|| println!("{line}"));
    // the table starts with its first row: a data or config error found
    // while loading comes before anything that looks like a started run
    let mut header = Some(table_header(f.proofs));
    let report = candor_sim::sim::run(&cfg, Some(&cli.global.cache_or_default()), &bars, |r| {
        if let Some(h) = header.take() {
            say(h);
        }
        say(table_row(r))
    })
    .context("simulation failed")?;
    let t = &report.totals;
    let metric = if report.initial.accuracy.is_some() { "accuracy" } else { "MSE" };
    let last = report.final_metrics();
    println!(
        "final test {metric}: {:.4} ({}); centralized float32 on the same schedule: {:.4}",
        last.accuracy.unwrap_or(last.loss),
        report.mode,
        report.centralized_float_reference.metric
    );
    if let Some(b) = &report.centralized_baseline {
        println!(
            "centralized baseline (float32, {} epochs, best of a learning-rate grid: {}): {metric} {:.4}",
            b.epochs, b.learning_rate, b.metric
        );
    }
    println!(
        "{} updates accepted, {} refused, {} tampered accepted; {:.1} s in all (setup {:.1}, commitments {:.1}, training {:.1}, proving {:.1} of which compression {:.1}, verifying {:.1})",
        t.accepted,
        t.rejected,
        t.tampered_accepted,
        t.wall_secs,
        t.setup_secs,
        t.commit_secs,
        t.train_secs,
        t.prove_secs,
        t.compress_secs,
        t.verify_secs
    );
    if let Some(path) = &args.report {
        let (svg, html) = report.write(path)?;
        println!("report: {}, {} and {}", path.display(), svg.display(), html.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(args: &[&str]) -> anyhow::Result<SimConfig> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/simulate-breast-cancer.toml");
        let mut cfg = SimConfig::load(path.as_ref())?;
        let cli = Cli::try_parse_from([&["candor-sim", "simulate"], args].concat())?;
        let Cmd::Simulate(sim) = cli.cmd;
        sim.apply(&mut cfg)?;
        Ok(cfg)
    }

    #[test]
    fn flags_override_the_config() {
        let cfg = applied(&["--participants", "7", "--no-proof", "--seed", "9", "--epochs", "2"]).unwrap();
        assert_eq!((cfg.federation.participants, cfg.federation.proofs, cfg.data.seed, cfg.spec.epochs), (7, false, 9, 2));
        let strategy = |a: &[&str]| applied(a).unwrap().federation.strategy;
        assert_eq!(strategy(&["--strategy", "fed-trimmed-avg"]), StrategyConfig::FedTrimmedAvg { beta: 0.2 });
        assert_eq!(strategy(&["--strategy", "fed-trimmed-avg", "--beta", "0.1"]), StrategyConfig::FedTrimmedAvg { beta: 0.1 });
        assert_eq!(strategy(&["--strategy", "fed-median"]), StrategyConfig::FedMedian);
        let partition = |a: &[&str]| applied(a).unwrap().partition;
        assert_eq!(partition(&["--partition", "dirichlet"]), PartitionConfig::Dirichlet { alpha: 0.5 });
        assert_eq!(partition(&["--partition", "dirichlet", "--alpha", "0.1"]), PartitionConfig::Dirichlet { alpha: 0.1 });
    }

    #[test]
    fn a_flag_that_cannot_apply_is_an_error_not_ignored() {
        // the sample config uses FedAvg and an IID partition
        assert!(applied(&["--beta", "0.1"]).unwrap_err().to_string().contains("--beta"));
        assert!(applied(&["--alpha", "0.1"]).unwrap_err().to_string().contains("--alpha"));
        assert!(applied(&["--strategy", "fed-avg", "--beta", "0.1"]).is_err());
    }
}
