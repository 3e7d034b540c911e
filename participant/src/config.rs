//! A hospital's daemon configuration (TOML). Relative paths are resolved
//! against the directory of the config file.

use anyhow::Context;
use candor_circuits::verifier::{DataCommitment, Digest};
use candor_core::dataset::Study;
pub use candor_protocols::Registration;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Per-hospital settings; run-wide ones live in the study file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HospitalConfig {
    /// The consortium's study file.
    pub study: PathBuf,
    /// Display name, sent to the coordinator's operator with the registration.
    pub name: String,
    /// The private CSV.
    pub data: PathBuf,
    /// ed25519 key (created by `keygen`, owner-only).
    pub key: PathBuf,
    /// Secret seed of the commit order and blinding (created by `commit`).
    pub secret: PathBuf,
    /// Last completed round (survives restarts).
    pub state: PathBuf,
    /// Registration file written by `commit`, for the coordinator's operator.
    pub registration: PathBuf,
    /// Coordinator address without `/p2p/`.
    pub coordinator_addr: String,
    /// The coordinator's PeerId.
    #[serde(default)]
    pub coordinator_peer_id: Option<String>,
    /// Or a file holding it (written by the coordinator's `keygen`).
    #[serde(default)]
    pub coordinator_peer_id_file: Option<PathBuf>,
}

impl HospitalConfig {
    /// Reads and resolves a config file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut c: Self = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut c.study, &mut c.data, &mut c.key, &mut c.secret, &mut c.state, &mut c.registration] {
            *p = base.join(&*p);
        }
        if let Some(f) = c.coordinator_peer_id_file.as_mut() {
            *f = base.join(&*f);
        }
        Ok(c)
    }

    /// The study.
    pub fn study(&self) -> anyhow::Result<Study> {
        Ok(Study::load(&self.study)?)
    }

    /// The coordinator's full address, `/p2p/<PeerId>` included.
    pub fn coordinator(&self) -> anyhow::Result<libp2p::Multiaddr> {
        let id = match (&self.coordinator_peer_id, &self.coordinator_peer_id_file) {
            (Some(id), _) => id.clone(),
            (None, Some(f)) => std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?.trim().to_string(),
            (None, None) => anyhow::bail!("set coordinator_peer_id or coordinator_peer_id_file"),
        };
        format!("{}/p2p/{id}", self.coordinator_addr).parse().context("coordinator address")
    }
}

/// The commitment a registration names.
pub fn registered_commitment(reg: &Registration) -> anyhow::Result<DataCommitment> {
    Ok(DataCommitment { root: Digest(reg.root_bytes().map_err(anyhow::Error::msg)?), rows: reg.rows, batches: reg.batches })
}
