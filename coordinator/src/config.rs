//! The coordinator's configuration (TOML). Relative paths are resolved
//! against the directory of the config file.

use crate::node::{Federation, NodeConfig};
use crate::round::{Admitted, Policy};
use crate::strategy::StrategyConfig;
use anyhow::Context;
use candor_circuits::engine::{DataKeys, KeySource};
use candor_circuits::verifier::{verify_commitment, DataCommitment, Digest};
use candor_core::dataset::Study;
use candor_core::Model;
use candor_core::Layout;
use candor_protocols::net::NetConfig;
use candor_protocols::Registration;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// Largest request accepted, in bytes.
    #[serde(default = "default_max_request")]
    pub max_request_bytes: usize,
    /// Aggregation strategy.
    pub strategy: StrategyConfig,
    /// Registration files of admitted hospitals (from their `commit`).
    pub registrations: Vec<PathBuf>,
}

fn default_poll() -> u64 {
    30
}
fn default_verifying() -> usize {
    2
}
fn default_max_request() -> usize {
    1 << 20
}

impl CoordinatorConfig {
    /// Reads and resolves a config file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut c: Self = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut c.study, &mut c.key, &mut c.db] {
            *p = base.join(&*p);
        }
        for p in c.export_dir.iter_mut().chain(c.eval_csv.iter_mut()).chain(c.registrations.iter_mut()) {
            *p = base.join(&*p);
        }
        anyhow::ensure!(c.quorum >= 1, "quorum must be at least 1");
        anyhow::ensure!(c.round_secs >= 1, "round_secs must be at least 1");
        Ok(c)
    }

    /// The study.
    pub fn study(&self) -> anyhow::Result<Study> {
        Ok(Study::load(&self.study)?)
    }

    /// Admitted participants; each registration's commitment proof is
    /// verified, and a bad one stops the coordinator with its name.
    pub fn participants(&self, layout: &Layout, keys: KeySource<'_>) -> anyhow::Result<BTreeMap<Vec<u8>, Admitted>> {
        let keys = DataKeys::for_commitment(layout, keys)?;
        let mut out = BTreeMap::new();
        for path in &self.registrations {
            let reg: Registration = toml::from_str(&std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?)
                .with_context(|| format!("parsing {}", path.display()))?;
            let peer: libp2p::PeerId = reg.peer_id.parse().with_context(|| format!("{}: peer_id", path.display()))?;
            let c = DataCommitment { root: Digest(reg.root_bytes().map_err(anyhow::Error::msg)?), rows: reg.rows, batches: reg.batches };
            let proof_path = path.parent().unwrap_or(Path::new(".")).join(&reg.proof);
            let proof = std::fs::read(&proof_path).with_context(|| format!("reading {}", proof_path.display()))?;
            let commitment = verify_commitment(&keys, &c, &proof).with_context(|| format!("commitment proof of {}", reg.name))?;
            tracing::info!(name = reg.name, %peer, rows = reg.rows, "admitted");
            out.insert(peer.to_bytes(), Admitted { name: reg.name, commitment, proof });
        }
        Ok(out)
    }

    /// The federation and node settings.
    pub fn federation(&self, study: &Study, participants: BTreeMap<Vec<u8>, Admitted>) -> anyhow::Result<(Federation, NodeConfig)> {
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
            limits: candor_protocols::Limits { max_request: self.max_request_bytes, ..Default::default() },
            request_timeout: Duration::from_secs(self.poll_timeout_secs + 60),
            ..NetConfig::default()
        };
        let node = NodeConfig { listen: self.listen.parse().context("listen address")?, db: self.db.clone(), export_dir: self.export_dir.clone(), net };
        Ok((fed, node))
    }
}
