//! `candor-participant`: run by a hospital.
#![forbid(unsafe_code)]

use anyhow::Context;
use candor_participant::local::{run_local, verify_file, LocalConfig};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(version, about = "Candor participant: train locally and prove every SGD step")]
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
    /// Commit a CSV, train with proof, write the proof, verify it.
    Local {
        /// Run config (TOML): data source and training spec.
        #[arg(long, default_value = "configs/local-breast-cancer.toml")]
        config: PathBuf,
        /// Output directory for update.msgpack, commitment.msgpack, report.json.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Verify an update file written by `local`.
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
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if cli.json_logs {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    match cli.cmd {
        Cmd::Local { config, out } => {
            let cfg = LocalConfig::load(&config)?;
            let (report, verified) = run_local(&cfg, &out, Some(&cli.cache)).context("local run failed")?;
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
            let v = verify_file(&cfg.spec, &update, Some(&cli.cache)).context("verification failed")?;
            println!("valid: round {} samples {} model digest {}", v.round(), v.samples(), v.model_digest());
        }
    }
    Ok(())
}
