//! What a simulation runs: data, partition, federation and training spec,
//! from a TOML file with command-line overrides applied on top.

use crate::SimError;
use candor_coordinator::strategy::StrategyConfig;
use candor_core::TrainSpec;
use candor_participant::local::DataConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How the training rows are dealt to participants.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PartitionConfig {
    /// Shuffled and dealt evenly.
    Iid,
    /// Per class, participants' shares drawn from Dirichlet(alpha): small
    /// alpha gives each participant few classes (label skew).
    Dirichlet {
        /// Concentration; 0.1 is very skewed, 100 is nearly IID.
        alpha: f64,
    },
}

/// The federation being simulated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Participants, malicious ones included.
    pub participants: usize,
    /// Of those, how many submit tampered updates (the last ones).
    #[serde(default)]
    pub malicious: usize,
    /// Rounds to run.
    pub rounds: u64,
    /// Aggregation strategy.
    #[serde(default = "fed_avg")]
    pub strategy: StrategyConfig,
    /// Prove every update and verify it before aggregation. Without proofs
    /// every update is taken on trust and all output says "unverified".
    #[serde(default = "yes")]
    pub proofs: bool,
}

fn iid() -> PartitionConfig {
    PartitionConfig::Iid
}

fn fed_avg() -> StrategyConfig {
    StrategyConfig::FedAvg
}

fn yes() -> bool {
    true
}

/// A split given as files (`[split]`), for comparing with another framework
/// on the same rows: one file per participant and a held-out file. `[data]`
/// still names the label, features, delimiter and seed; its `path`,
/// `test_fraction` and `[partition]` are not used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GivenSplit {
    /// One data file per participant, in order.
    pub hospitals: Vec<PathBuf>,
    /// The held-out file the global model is evaluated on.
    pub test: PathBuf,
}

/// A whole simulation.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// Data set, held-out split and the seed everything derives from.
    pub data: DataConfig,
    /// How training rows are dealt (without `[split]`).
    #[serde(default = "iid")]
    pub partition: PartitionConfig,
    /// Participants' files and a test file instead of one data set.
    #[serde(default)]
    pub split: Option<GivenSplit>,
    /// Participants, rounds, strategy, proofs.
    pub federation: FederationConfig,
    /// Training spec every participant follows (epochs are per round).
    pub spec: TrainSpec,
    /// Pinned parameter digests (`candor-coordinator params` prints them);
    /// without them parameters are derived at every run.
    #[serde(default)]
    pub params: candor_core::ParamsPin,
}

impl SimConfig {
    /// Reads a TOML file. Relative data paths (`[data] path`, the `[split]`
    /// files) are resolved against the file's directory, as in every daemon
    /// config.
    pub fn load(path: &Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::Config(format!("{}: {e}", path.display())))?;
        let mut c: Self = toml::from_str(&text).map_err(|e| SimError::Config(format!("{}: {e}", path.display())))?;
        c.data.resolve_against(path);
        if let Some(split) = &mut c.split {
            candor_core::file::resolve_beside(path, split.hospitals.iter_mut().chain([&mut split.test]));
        }
        Ok(c)
    }

    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), SimError> {
        let f = &self.federation;
        let bad = |m: String| Err(SimError::Config(m));
        if f.participants == 0 {
            return bad("participants must be at least 1".into());
        }
        if f.malicious > f.participants {
            return bad(format!("malicious ({}) exceeds participants ({})", f.malicious, f.participants));
        }
        if f.rounds == 0 {
            return bad("rounds must be at least 1".into());
        }
        if let Some(split) = &self.split {
            if split.hospitals.len() != f.participants {
                return bad(format!(
                    "[split] names {} hospital files for {} participants: one file each",
                    split.hospitals.len(),
                    f.participants
                ));
            }
            if self.partition != PartitionConfig::Iid {
                return bad("[split] gives each participant its rows: a [partition] cannot apply".into());
            }
        }
        if self.split.is_none() && self.data.path.as_os_str().is_empty() {
            return bad("[data] needs a path (or give a [split])".into());
        }
        // before anything is printed that looks like a started run
        let files: Vec<&PathBuf> = match &self.split {
            Some(s) => s.hospitals.iter().chain([&s.test]).collect(),
            None => vec![&self.data.path],
        };
        if let Some(missing) = files.into_iter().find(|p| !p.is_file()) {
            return bad(format!("{}: no such data file (relative paths are read from the config file's directory)", missing.display()));
        }
        if let Some(d) = &self.data.delimiter {
            candor_core::table::Delimiter::parse(d).map_err(|e| SimError::Config(format!("[data] {e}")))?;
        }
        if !(0.0..1.0).contains(&self.data.test_fraction) || self.data.test_fraction == 0.0 {
            return bad(format!("test_fraction {} must be in (0, 1)", self.data.test_fraction));
        }
        if let PartitionConfig::Dirichlet { alpha } = self.partition {
            if !(alpha.is_finite() && alpha > 0.0) {
                return bad(format!("dirichlet alpha {alpha} must be positive"));
            }
            if self.spec.model.task == candor_core::Task::Linear {
                return bad("a Dirichlet partition is by class label: it needs a classification task".into());
            }
        }
        candor_core::Layout::new(&self.spec)?;
        Ok(())
    }
}
