//! `candor-participant`: run by a hospital.
#![forbid(unsafe_code)]

use anyhow::Context;
use candor_participant::commands;
use candor_participant::config::HospitalConfig;
use candor_participant::local::{run_local, verify_file, LocalConfig};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(version, about = "Candor participant: train locally and prove every SGD step")]
struct Cli {
    #[command(flatten)]
    global: candor_cli::Global,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create this hospital's ed25519 key (owner-only file) and print its PeerId.
    Keygen {
        /// Hospital config.
        #[arg(long)]
        config: PathBuf,
    },
    /// Commit the data, prove the commitment, write the registration file.
    Commit {
        /// Hospital config.
        #[arg(long)]
        config: PathBuf,
    },
    /// Run the daemon: join rounds, train, prove, submit.
    Run {
        /// Hospital config.
        #[arg(long)]
        config: PathBuf,
        /// Exit once this round is done.
        #[arg(long)]
        until_round: Option<u64>,
    },
    /// Check that the hospital's data and the study's spec fit: cells and
    /// labels, values the format clips, a dry run of one round (with a
    /// learning rate or format that passes when it overflows), the proving
    /// cost predicted for the reference machine, and the steps per fold
    /// that would prove a round soonest. Exits non-zero on a problem;
    /// `commit` runs it first. Takes a hospital's config, a `local` run's
    /// or a simulation's.
    Check {
        /// A hospital's config, a `local` run's or a simulation's.
        #[arg(long)]
        config: PathBuf,
    },
    /// Exit 0 if the running daemon's heartbeat (`STATE.health`, rewritten
    /// every 5 s by its event loop, also while it proves) is fresh, 1
    /// otherwise: for container health checks and Kubernetes probes.
    Health {
        /// Hospital config.
        #[arg(long)]
        config: PathBuf,
        /// Age in seconds past which the daemon counts as stalled.
        #[arg(long, default_value_t = 60)]
        max_age_secs: u64,
    },
    /// Print this hospital's column summary (row count, per-feature mean and
    /// sum of squared deviations; the target's for regression) as TOML: the
    /// consortium combines all hospitals' with `candor-coordinator normalize
    /// --summary` into the study's [normalization]. It reveals no row.
    Summarize {
        /// Hospital config.
        #[arg(long)]
        config: PathBuf,
    },
    /// Commit a CSV, train with proof, write the proof, verify it.
    Local {
        /// Run config (TOML): data source and training spec.
        #[arg(long, default_value = "configs/local-breast-cancer.toml")]
        config: PathBuf,
        /// Output directory for update.msgpack, commitment.msgpack, report.json.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Verify an update file written by `local`: its data commitment's proof
    /// (carried in the file; a file without one is refused), then the
    /// training proof over that commitment.
    Verify {
        /// Run config whose spec the proof must match.
        #[arg(long, default_value = "configs/local-breast-cancer.toml")]
        config: PathBuf,
        /// The update file.
        #[arg(long, default_value = "out/update.msgpack")]
        update: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.global.init_logs();
    match cli.cmd {
        Cmd::Keygen { config } => {
            let cfg = HospitalConfig::load(&config)?;
            let key = candor_protocols::net::keygen(&cfg.key).with_context(|| format!("writing {}", cfg.key.display()))?;
            println!("{}", key.public().to_peer_id());
        }
        Cmd::Check { config } => {
            let findings = if let Some((cfg, participants)) = candor_participant::check::run_config(&config)? {
                for note in &cfg.notes {
                    println!("{note}");
                }
                candor_participant::check::check_local(&cfg, participants)?
            } else {
                let cfg = HospitalConfig::load(&config)?;
                // the commit order, once `commit` has drawn the secret (or a
                // study fixes it); file order before
                let order = match std::fs::read(&cfg.secret) {
                    Ok(b) => {
                        Some(cfg.commit_order(&b.try_into().map_err(|_| anyhow::anyhow!("{} must hold 32 bytes", cfg.secret.display()))?))
                    }
                    Err(_) => cfg.commit_order_seed,
                };
                candor_participant::check::check(&cfg, order)?
            };
            print!("{findings}");
            anyhow::ensure!(findings.errors.is_empty(), "{} problem(s): see above", findings.errors.len());
        }
        Cmd::Summarize { config } => {
            let cfg = HospitalConfig::load(&config)?;
            let summary = cfg.study()?.summarize(&cfg.data)?;
            print!("{}", toml::to_string(&summary)?);
        }
        Cmd::Commit { config } => {
            let cfg = HospitalConfig::load(&config)?;
            let cache = cli.global.cache_beside(&cfg.key);
            let reg = commands::commit(&cfg, &cache)?;
            println!("committed {} rows in {} batches; registration written to {}", reg.rows, reg.batches, cfg.registration.display());
        }
        Cmd::Health { config, max_age_secs } => {
            let cfg = HospitalConfig::load(&config)?;
            println!("{}", candor_protocols::health::check_beside(&cfg.state, max_age_secs).map_err(anyhow::Error::msg)?);
        }
        Cmd::Run { config, until_round } => {
            let cfg = HospitalConfig::load(&config)?;
            let rt = tokio::runtime::Runtime::new()?;
            let cache = cli.global.cache_beside(&cfg.key);
            let done = rt.block_on(commands::run(&cfg, &cache, until_round));
            // on Ctrl-C, leave a proof in progress where it is: waiting for
            // it would compress it and delete its checkpoint, submitting
            // nothing; the next start resumes from the checkpoint
            rt.shutdown_background();
            done?;
        }
        Cmd::Local { config, out } => {
            let cfg = LocalConfig::load(&config)?;
            for note in &cfg.notes {
                println!("{note}");
            }
            let cache = cli.global.cache_or_default();
            let (report, verified) = run_local(&cfg, &out, Some(&cache)).context("local run failed")?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            println!(
                "verified: {} steps over {} samples, model digest {}; proof written to {}",
                report.steps,
                verified.samples(),
                verified.model_digest(),
                out.join("update.msgpack").display()
            );
        }
        Cmd::Verify { config, update } => {
            let cfg = LocalConfig::load(&config)?;
            let cache = cli.global.cache_or_default();
            let v = verify_file(&cfg, &update, Some(&cache)).context("verification failed")?;
            println!("valid: round {} samples {} model digest {}", v.round(), v.samples(), v.model_digest());
        }
    }
    Ok(())
}
