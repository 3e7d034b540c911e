//! What `candor-coordinator`, `candor-participant` and `candor-sim` share on
//! the command line: the global flags ([`Global`], flattened into each
//! binary's parser), log setup and where public parameters are cached.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

/// The parameter cache of commands that have no key to put it beside.
pub const DEFAULT_CACHE: &str = ".candor-cache";

/// Flags every binary takes, before or after its subcommand.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    pub json_logs: bool,
    /// Directory caching public parameters; read only when the study pins
    /// their digests ([params]). Default: beside the daemon's key
    /// (KEY.cache/), or .candor-cache where there is no key.
    #[arg(long, global = true)]
    pub cache: Option<PathBuf>,
}

impl Global {
    /// Installs the global log subscriber: human-readable by default, JSON
    /// lines for log collectors; `RUST_LOG` filters (default `info`).
    pub fn init_logs(&self) {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
        if self.json_logs {
            tracing_subscriber::fmt().json().with_env_filter(filter).init();
        } else {
            tracing_subscriber::fmt().with_env_filter(filter).init();
        }
    }

    /// The cache of a daemon: `--cache`, or `KEY.cache/` beside its key.
    pub fn cache_beside(&self, key: &Path) -> PathBuf {
        self.cache.clone().unwrap_or_else(|| key.with_extension("cache"))
    }

    /// The cache of a keyless command: `--cache`, or [`DEFAULT_CACHE`].
    pub fn cache_or_default(&self) -> PathBuf {
        self.cache.clone().unwrap_or_else(|| DEFAULT_CACHE.into())
    }
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT) or, as
/// container runtimes and Kubernetes ask, SIGTERM. A daemon then finishes
/// the write it is in (each is one SQLite transaction or an atomic rename)
/// and returns.
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        global: Global,
        #[command(subcommand)]
        cmd: Cmd,
    }

    #[derive(clap::Subcommand)]
    enum Cmd {
        Run,
    }

    #[test]
    fn global_flags_go_before_or_after_the_subcommand_and_caches_default_sensibly() {
        let after = Cli::parse_from(["x", "run", "--json-logs", "--cache", "/c"]);
        let before = Cli::parse_from(["x", "--json-logs", "--cache", "/c", "run"]);
        for cli in [after, before] {
            assert!(matches!(cli.cmd, Cmd::Run));
            assert!(cli.global.json_logs);
            assert_eq!(cli.global.cache_beside(Path::new("k.key")), PathBuf::from("/c"));
        }
        let none = Cli::parse_from(["x", "run"]).global;
        assert_eq!(none.cache_beside(Path::new("keys/a.key")), PathBuf::from("keys/a.cache"));
        assert_eq!(none.cache_or_default(), PathBuf::from(DEFAULT_CACHE));
    }
}
