//! A hospital's daemon configuration (TOML). Relative paths are resolved
//! against the directory of the config file.

use crate::ParticipantError;
use candor_core::dataset::Study;
use candor_core::file::{read_toml, resolve_beside, FileError};
use candor_core::statement::DataCommitment;
use candor_protocols::net::check_dial_address;
pub use candor_protocols::Registration;
use candor_prover::checkpoint::Checkpoints;
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
    /// Proving checkpoints its folding state to `<state>.checkpoint` (it
    /// holds patient data: owner-only, deleted when the proof is made)
    /// after every this many folds, so that a restart resumes the round's
    /// proof; 0 turns it off. Default 8.
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: usize,
    /// Seed of the order rows are committed (and so trained) in, for a
    /// study that wants repeatable runs; by default the secret fixes it.
    /// The rows stay private either way (the proofs are zero knowledge),
    /// but a seed others know makes the order known, and two runs on the
    /// same data no longer differ, so their updates can be linked.
    #[serde(default)]
    pub commit_order_seed: Option<u64>,
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

fn default_checkpoint_every() -> usize {
    8
}

impl HospitalConfig {
    /// Reads and resolves a config file.
    pub fn load(path: &Path) -> Result<Self, ParticipantError> {
        let mut c: Self = read_toml(path)?;
        resolve_beside(
            path,
            [&mut c.study, &mut c.data, &mut c.key, &mut c.secret, &mut c.state, &mut c.registration]
                .into_iter()
                .chain(c.coordinator_peer_id_file.as_mut()),
        );
        c.validate().map_err(|e| ParticipantError::config(format!("{}: {e}", path.display())))?;
        Ok(c)
    }

    /// Checks the fields that need no other file: the coordinator's address
    /// (an `/ip4`, `/ip6` or `/dns4` TCP address, no `/p2p`: the PeerId is set apart)
    /// and its PeerId when given inline.
    pub fn validate(&self) -> Result<(), ParticipantError> {
        let bad = |m: String| Err(ParticipantError::Config(m));
        let Ok(addr) = self.coordinator_addr.parse::<libp2p::Multiaddr>() else {
            return bad(format!("coordinator_addr: {:?} is not a multiaddr", self.coordinator_addr));
        };
        if let Err(e) = check_dial_address(&addr) {
            return bad(format!("coordinator_addr: {e}"));
        }
        if addr.iter().any(|p| matches!(p, libp2p::multiaddr::Protocol::P2p(_))) {
            return bad(format!("coordinator_addr: {addr} must not end in /p2p (set coordinator_peer_id or coordinator_peer_id_file)"));
        }
        if let Some(id) = &self.coordinator_peer_id {
            if id.parse::<libp2p::PeerId>().is_err() {
                return bad(format!("coordinator_peer_id: {id:?} is not a PeerId"));
            }
        }
        if self.coordinator_peer_id.is_none() && self.coordinator_peer_id_file.is_none() {
            return bad("set coordinator_peer_id or coordinator_peer_id_file".into());
        }
        Ok(())
    }

    /// Where and how often proving checkpoints, if it does.
    pub fn checkpoints(&self) -> Option<Checkpoints> {
        (self.checkpoint_every > 0).then(|| Checkpoints::new(self.state.with_extension("checkpoint"), self.checkpoint_every))
    }

    /// The seed of the commit order: `commit_order_seed`, or the secret's
    /// first eight bytes.
    pub fn commit_order(&self, secret: &[u8; 32]) -> u64 {
        self.commit_order_seed.unwrap_or_else(|| u64::from_le_bytes(secret[..8].try_into().expect("8 bytes")))
    }

    /// The study.
    pub fn study(&self) -> Result<Study, ParticipantError> {
        Ok(Study::load(&self.study)?)
    }

    /// The coordinator's full address, `/p2p/<PeerId>` included.
    pub fn coordinator(&self) -> Result<libp2p::Multiaddr, ParticipantError> {
        let id = match (&self.coordinator_peer_id, &self.coordinator_peer_id_file) {
            (Some(id), _) => id.clone(),
            (None, Some(f)) => std::fs::read_to_string(f).map_err(|error| FileError::Read { path: f.clone(), error })?.trim().to_string(),
            (None, None) => return Err(ParticipantError::config("set coordinator_peer_id or coordinator_peer_id_file")),
        };
        let addr = format!("{}/p2p/{id}", self.coordinator_addr);
        addr.parse().map_err(|e| ParticipantError::config(format!("coordinator address {addr}: {e}")))
    }
}

/// The commitment a registration names.
pub fn registered_commitment(reg: &Registration) -> Result<DataCommitment, ParticipantError> {
    reg.commitment().map_err(ParticipantError::Config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
study = "study.toml"
name = "hospital-a"
data = "a.csv"
key = "a.key"
secret = "a.secret"
state = "a.state"
registration = "a.registration.toml"
coordinator_addr = "/ip4/127.0.0.1/tcp/7400"
coordinator_peer_id = "12D3KooWLT7sGNnJ5Vf3WmgrYKDgv2cF6NTUF7ToHhXFfrGJr3iT"
"#;

    fn load_with(from: &str, to: &str) -> String {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("candor-hospital-config-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("hospital.toml");
        assert!(GOOD.contains(from), "{from}");
        std::fs::write(&p, GOOD.replace(from, to)).unwrap();
        let r = HospitalConfig::load(&p).map(|_| "loaded".to_string()).unwrap_or_else(|e| format!("{e:#}"));
        std::fs::remove_dir_all(&dir).unwrap();
        r
    }

    #[test]
    fn a_good_config_loads() {
        assert_eq!(load_with("", ""), "loaded");
        // a name (a Kubernetes Service) is resolved at each dial
        assert_eq!(
            load_with("coordinator_addr = \"/ip4/127.0.0.1/tcp/7400\"", "coordinator_addr = \"/dns4/candor-coordinator/tcp/7400\""),
            "loaded"
        );
    }

    #[test]
    fn a_coordinator_address_that_cannot_be_dialled_is_refused_at_load() {
        for (to, field) in [
            ("coordinator_addr = \"/dns4/coordinator.example/udp/7400\"", "coordinator_addr"),
            ("coordinator_addr = \"/ip4/127.0.0.1/udp/7400\"", "coordinator_addr"),
            ("coordinator_addr = \"127.0.0.1:7400\"", "coordinator_addr"),
            ("coordinator_addr = \"/ip4/127.0.0.1/tcp/7400/p2p/12D3KooWLT7sGNnJ5Vf3WmgrYKDgv2cF6NTUF7ToHhXFfrGJr3iT\"", "coordinator_addr"),
        ] {
            let e = load_with("coordinator_addr = \"/ip4/127.0.0.1/tcp/7400\"", to);
            assert!(e != "loaded" && e.contains(field), "{to}: {e}");
        }
        let e = load_with("12D3KooWLT7sGNnJ5Vf3WmgrYKDgv2cF6NTUF7ToHhXFfrGJr3iT", "not-a-peer");
        assert!(e.contains("coordinator_peer_id"), "{e}");
    }

    #[test]
    fn a_commit_order_seed_fixes_the_order_whatever_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hospital.toml");
        std::fs::write(&p, GOOD).unwrap();
        let random = HospitalConfig::load(&p).unwrap();
        assert_ne!(random.commit_order(&[1; 32]), random.commit_order(&[2; 32]), "by default the secret fixes it");
        std::fs::write(&p, format!("{GOOD}commit_order_seed = 42\n")).unwrap();
        let seeded = HospitalConfig::load(&p).unwrap();
        assert_eq!((seeded.commit_order(&[1; 32]), seeded.commit_order(&[2; 32])), (42, 42));
    }
}
