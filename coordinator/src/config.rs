//! The coordinator's configuration (TOML). Relative paths are resolved
//! against the directory of the config file.

use crate::node::StatusConfig;
use crate::node::{Federation, NodeConfig};
use crate::round::{Admitted, Policy};
use crate::status::server::MIN_TOKEN_BYTES;
use crate::strategy::StrategyConfig;
use crate::CoordinatorError;
use candor_circuits::engine::{DataKeys, KeySource};
use candor_circuits::verifier::verify_commitment;
use candor_core::dataset::Study;
use candor_core::file::{read_toml, resolve_beside, FileError};
use candor_core::Layout;
use candor_core::Model;
use candor_protocols::net::{check_tcp_address, NetConfig};
use candor_protocols::Registration;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Fails validation with a message naming the field.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(config(format!($($msg)+)));
        }
    };
}

fn config(message: impl Into<String>) -> CoordinatorError {
    CoordinatorError::Config(message.into())
}

/// Coordinator settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorConfig {
    /// The consortium's study file.
    pub study: PathBuf,
    /// Listen address, e.g. `/ip4/0.0.0.0/tcp/7400`.
    pub listen: String,
    /// ed25519 key (created by `keygen`).
    pub key: PathBuf,
    /// The federation's database.
    pub db: PathBuf,
    /// Where the model is exported after each round.
    pub export_dir: Option<PathBuf>,
    /// Held-out CSV for centralized evaluation after each round.
    pub eval_csv: Option<PathBuf>,
    /// Rounds to run.
    pub rounds: u64,
    /// Accepted updates that close a round early.
    pub quorum: u32,
    /// Round deadline in seconds.
    pub round_secs: u64,
    /// How long a participant's poll is held, in seconds.
    #[serde(default = "default_poll")]
    pub poll_timeout_secs: u64,
    /// Proofs verified at once.
    #[serde(default = "default_verifying")]
    pub max_verifying: usize,
    /// Largest request accepted, in bytes ([`MIN_REQUEST_BYTES`] to
    /// [`MAX_REQUEST_BYTES`]).
    #[serde(default = "default_max_request")]
    pub max_request_bytes: usize,
    /// Requests one hospital may make per minute (in bursts of a quarter of
    /// them); more are answered `Busy`. Default 120.
    #[serde(default = "default_requests_per_minute")]
    pub requests_per_minute: u32,
    /// Address of the status page and metrics (HTTP), e.g.
    /// `127.0.0.1:7480`; not served when absent.
    #[serde(default)]
    pub status_listen: Option<String>,
    /// File holding the token the status server asks for (at least
    /// [`MIN_TOKEN_BYTES`] bytes); required when `status_listen` is not a
    /// loopback address.
    #[serde(default)]
    pub status_token_file: Option<PathBuf>,
    /// Aggregation strategy.
    pub strategy: StrategyConfig,
    /// Registration files of admitted hospitals (from their `commit`).
    pub registrations: Vec<PathBuf>,
}

/// Smallest `max_request_bytes`: room for a submission (a model and a proof of
/// some 20 KB).
pub const MIN_REQUEST_BYTES: usize = 64 << 10;
/// Largest `max_request_bytes`: each admitted peer may have this many bytes
/// being read on each of its streams.
pub const MAX_REQUEST_BYTES: usize = 16 << 20;
/// Longest `round_secs`: thirty days.
pub const MAX_ROUND_SECS: u64 = 30 * 24 * 3600;
/// Longest `poll_timeout_secs`: an hour.
pub const MAX_POLL_SECS: u64 = 3600;
/// Most `max_verifying`.
pub const MAX_VERIFYING: usize = 256;
/// Most `requests_per_minute`.
pub const MAX_REQUESTS_PER_MINUTE: u32 = 60_000;

fn default_poll() -> u64 {
    30
}
fn default_verifying() -> usize {
    2
}
fn default_max_request() -> usize {
    1 << 20
}
fn default_requests_per_minute() -> u32 {
    crate::node::DEFAULT_REQUESTS_PER_MINUTE.get()
}

impl CoordinatorConfig {
    /// Reads and resolves a config file.
    pub fn load(path: &Path) -> Result<Self, CoordinatorError> {
        let mut c: Self = read_toml(path)?;
        resolve_beside(
            path,
            [&mut c.study, &mut c.key, &mut c.db]
                .into_iter()
                .chain(c.export_dir.iter_mut())
                .chain(c.eval_csv.iter_mut())
                .chain(c.status_token_file.iter_mut())
                .chain(c.registrations.iter_mut()),
        );
        c.validate().map_err(|e| match e {
            CoordinatorError::Config(m) => CoordinatorError::Config(format!("{}: {m}", path.display())),
            e => e,
        })?;
        Ok(c)
    }

    /// Checks every field that can be checked without reading other files,
    /// so that a bad value fails at once, before any proving parameters are
    /// built, with the field named.
    pub fn validate(&self) -> Result<(), CoordinatorError> {
        let listen: libp2p::Multiaddr = self.listen.parse().map_err(|_| config(format!("listen: {:?} is not a multiaddr", self.listen)))?;
        check_tcp_address(&listen).map_err(|e| config(format!("listen: {e}")))?;
        ensure!(
            !listen.iter().any(|p| matches!(p, libp2p::multiaddr::Protocol::P2p(_))),
            "listen: {listen} must not name a PeerId (the key file fixes it)"
        );
        ensure!(self.rounds >= 1, "rounds must be at least 1");
        ensure!(self.quorum >= 1, "quorum must be at least 1");
        ensure!(
            self.quorum as usize <= self.registrations.len(),
            "quorum = {} exceeds the {} registrations: no round could reach it",
            self.quorum,
            self.registrations.len()
        );
        ensure!((1..=MAX_ROUND_SECS).contains(&self.round_secs), "round_secs must be in 1..={MAX_ROUND_SECS}");
        ensure!((1..=MAX_POLL_SECS).contains(&self.poll_timeout_secs), "poll_timeout_secs must be in 1..={MAX_POLL_SECS}");
        ensure!((1..=MAX_VERIFYING).contains(&self.max_verifying), "max_verifying must be in 1..={MAX_VERIFYING}");
        ensure!(
            (MIN_REQUEST_BYTES..=MAX_REQUEST_BYTES).contains(&self.max_request_bytes),
            "max_request_bytes must be in {MIN_REQUEST_BYTES}..={MAX_REQUEST_BYTES}"
        );
        ensure!(
            (1..=MAX_REQUESTS_PER_MINUTE).contains(&self.requests_per_minute),
            "requests_per_minute must be in 1..={MAX_REQUESTS_PER_MINUTE}"
        );
        if let Some(listen) = &self.status_listen {
            let addr: std::net::SocketAddr =
                listen.parse().map_err(|_| config(format!("status_listen: {listen:?} is not an address such as 127.0.0.1:7480")))?;
            ensure!(
                addr.ip().is_loopback() || self.status_token_file.is_some(),
                "status_listen: {addr} is reachable from other machines; set status_token_file so that only holders of \
                 the token can read the federation's status, or listen on 127.0.0.1"
            );
        }
        ensure!(
            self.status_token_file.is_none() || self.status_listen.is_some(),
            "status_token_file is set but status_listen is not: nothing would be served"
        );
        // fed_avg with a beta is refused when the strategy is parsed
        self.strategy.build().map_err(|e| config(format!("strategy: {e}")))?;
        Ok(())
    }

    /// The study.
    pub fn study(&self) -> Result<Study, CoordinatorError> {
        Ok(Study::load(&self.study)?)
    }

    /// Admitted participants; each registration's commitment proof is
    /// verified, and a bad one stops the coordinator with its name.
    pub fn participants(&self, layout: &Layout, keys: KeySource<'_>) -> Result<BTreeMap<Vec<u8>, Admitted>, CoordinatorError> {
        let keys = DataKeys::for_commitment(layout, keys)?;
        let mut out = BTreeMap::new();
        for path in &self.registrations {
            let reg: Registration = read_toml(path)?;
            let peer: libp2p::PeerId = reg.peer_id.parse().map_err(|e| config(format!("{}: peer_id: {e}", path.display())))?;
            let c = reg.commitment().map_err(config)?;
            let proof_path = path.parent().unwrap_or(Path::new(".")).join(&reg.proof);
            let proof = std::fs::read(&proof_path).map_err(|error| FileError::Read { path: proof_path.clone(), error })?;
            let commitment =
                verify_commitment(&keys, &c, &proof).map_err(|error| CoordinatorError::Commitment { name: reg.name.clone(), error })?;
            tracing::info!(name = reg.name, %peer, rows = reg.rows, "admitted");
            out.insert(peer.to_bytes(), Admitted { name: reg.name, commitment, proof });
        }
        Ok(out)
    }

    /// The status server's settings, its token read from its file.
    fn status(&self) -> Result<Option<StatusConfig>, CoordinatorError> {
        let Some(listen) = &self.status_listen else { return Ok(None) };
        let token = match &self.status_token_file {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| config(format!("status_token_file: reading {}: {e}", path.display())))?;
                let token = text.trim().to_string();
                ensure!(
                    token.len() >= MIN_TOKEN_BYTES && token.bytes().all(|b| b.is_ascii_graphic()),
                    "status_token_file: {} must hold one token of at least {MIN_TOKEN_BYTES} printable ASCII characters, no spaces \
                     (e.g. from `openssl rand -hex 32`)",
                    path.display()
                );
                Some(token)
            }
            None => None,
        };
        let study = self.study.file_stem().map_or_else(|| "study".into(), |s| s.to_string_lossy().into_owned());
        Ok(Some(StatusConfig { listen: listen.parse().map_err(|e| config(format!("status_listen: {e}")))?, token, study }))
    }

    /// The federation and node settings.
    pub fn federation(
        &self,
        study: &Study,
        participants: BTreeMap<Vec<u8>, Admitted>,
    ) -> Result<(Federation, NodeConfig), CoordinatorError> {
        let fed = Federation {
            spec: study.spec.clone(),
            strategy: self.strategy,
            initial: Model::initial(&study.spec),
            policy: Policy {
                rounds: self.rounds,
                quorum: self.quorum,
                round_ms: self.round_secs * 1000,
                poll_timeout_ms: self.poll_timeout_secs * 1000,
                max_pending_polls: 1024,
                max_verifying: self.max_verifying,
            },
            participants,
        };
        let net = NetConfig {
            // the node bounds a request's entries by the study's model shape
            limits: candor_protocols::Limits { max_request: self.max_request_bytes, ..Default::default() },
            request_timeout: Duration::from_secs(self.poll_timeout_secs + 60),
            ..NetConfig::default()
        };
        let node = NodeConfig {
            listen: self.listen.parse().map_err(|e| config(format!("listen: {e}")))?,
            db: self.db.clone(),
            export_dir: self.export_dir.clone(),
            net,
            requests_per_minute: std::num::NonZeroU32::new(self.requests_per_minute)
                .ok_or_else(|| config("requests_per_minute must be at least 1"))?,
            status: self.status()?,
        };
        Ok((fed, node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
study = "study.toml"
listen = "/ip4/127.0.0.1/tcp/7400"
key = "c.key"
db = "c.db"
rounds = 3
quorum = 2
round_secs = 600
registrations = ["a.toml", "b.toml"]
[strategy]
name = "fed_avg"
"#;

    /// The error of loading GOOD with `from` replaced by `to`.
    fn load_with(from: &str, to: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("coordinator.toml");
        assert!(GOOD.contains(from), "{from}");
        std::fs::write(&p, GOOD.replace(from, to)).unwrap();
        match CoordinatorConfig::load(&p) {
            Ok(_) => "loaded".into(),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn a_good_config_loads() {
        assert_eq!(load_with("", ""), "loaded");
    }

    #[test]
    fn every_bad_value_is_refused_at_load_with_its_field_named() {
        for (from, to, field) in [
            ("/ip4/127.0.0.1/tcp/7400", "/ip4/127.0.0.1/tcp/seventy", "listen"),
            ("/ip4/127.0.0.1/tcp/7400", "/dns4/coordinator.example/tcp/7400", "listen"),
            ("/ip4/127.0.0.1/tcp/7400", "/ip4/127.0.0.1/udp/7400", "listen"),
            ("rounds = 3", "rounds = 0", "rounds"),
            ("quorum = 2", "quorum = 0", "quorum"),
            ("quorum = 2", "quorum = 3", "quorum"),
            ("round_secs = 600", "round_secs = 0", "round_secs"),
            ("round_secs = 600", "round_secs = 4000000000", "round_secs"),
            ("round_secs = 600", "round_secs = 600\npoll_timeout_secs = 0", "poll_timeout_secs"),
            ("round_secs = 600", "round_secs = 600\nmax_verifying = 0", "max_verifying"),
            ("round_secs = 600", "round_secs = 600\nmax_request_bytes = 0", "max_request_bytes"),
            ("round_secs = 600", "round_secs = 600\nmax_request_bytes = 1073741824", "max_request_bytes"),
            ("name = \"fed_avg\"", "name = \"fed_avg\"\nbeta = 0.2", "beta"),
            ("name = \"fed_avg\"", "name = \"fed_median\"\nbeta = 0.2", "beta"),
            ("name = \"fed_avg\"", "name = \"fed_trimmed_avg\"", "beta"),
            ("name = \"fed_avg\"", "name = \"fed_trimmed_avg\"\nbeta = 0.5", "beta"),
            ("name = \"fed_avg\"", "name = \"fed_trimmed_avg\"\nbeta = nan", "beta"),
            ("round_secs = 600", "round_secs = 600\nstatus_listen = \"localhost:80\"", "status_listen"),
            ("round_secs = 600", "round_secs = 600\nstatus_listen = \"0.0.0.0:7480\"", "status_token_file"),
            ("round_secs = 600", "round_secs = 600\nstatus_listen = \"[::]:7480\"", "status_token_file"),
            ("round_secs = 600", "round_secs = 600\nstatus_token_file = \"t\"", "status_listen"),
        ] {
            let e = load_with(from, to);
            assert!(e != "loaded" && e.contains(field), "{to}: {e}");
        }
    }

    #[test]
    fn the_status_token_is_read_from_its_file_and_must_be_long() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("coordinator.toml");
        let text = GOOD.replace("round_secs = 600", "round_secs = 600\nstatus_listen = \"0.0.0.0:7480\"\nstatus_token_file = \"token\"");
        std::fs::write(&p, text).unwrap();
        let c = CoordinatorConfig::load(&p).unwrap();
        let e = format!("{:#}", c.status().unwrap_err());
        assert!(e.contains("status_token_file") && e.contains("reading"), "{e}");
        std::fs::write(dir.path().join("token"), "short\n").unwrap();
        let e = format!("{:#}", c.status().unwrap_err());
        assert!(e.contains("status_token_file") && e.contains("at least 16"), "{e}");
        std::fs::write(dir.path().join("token"), "0123456789abcdef0123\n").unwrap();
        let s = c.status().unwrap().unwrap();
        assert_eq!((s.token.as_deref(), s.listen.port(), s.study.as_str()), (Some("0123456789abcdef0123"), 7480, "study"));
    }
}
