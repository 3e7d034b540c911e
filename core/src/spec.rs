//! The training spec a consortium agrees on. Every field changes either the
//! circuit (and so its parameter digest) or the public statement a proof is
//! checked against, so a proof can never be verified under a different spec.

use crate::{CoreError, FixedFormat};
use serde::{Deserialize, Serialize};

/// What the output layer learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Binary classification: hard-sigmoid output, log-loss gradient
    /// `sigma(z) - y`, labels 0 or 1.
    Logistic,
    /// Regression with squared error: gradient `z - y`, targets in the
    /// fixed-point format.
    Linear,
}

impl Task {
    /// Stable numeric code, used when the spec is hashed.
    pub fn code(self) -> u64 {
        match self {
            Task::Logistic => 1,
            Task::Linear => 2,
        }
    }
}

/// Model architecture: one dense layer over `features` inputs plus a bias.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Number of input features.
    pub features: usize,
    /// Output head and loss.
    pub task: Task,
}

/// Everything that fixes what one participant's local training computes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    /// Architecture.
    pub model: ModelSpec,
    /// Fixed-point format of data, weights and activations.
    #[serde(default)]
    pub format: FixedFormat,
    /// Learning rate; quantized to the format (floor) before use.
    pub learning_rate: f64,
    /// Rows per SGD step; a power of two so that dividing by it is a shift.
    pub batch_size: usize,
    /// Local epochs per round: every committed row is consumed this often.
    pub epochs: u32,
    /// SGD steps proven per Nova fold (amortizes Nova's per-fold cost).
    pub steps_per_fold: usize,
}

impl TrainSpec {
    /// Learning rate as an integer in the format, checked to be positive.
    pub fn learning_rate_q(&self) -> Result<i64, CoreError> {
        let q = self.format.quantize(self.learning_rate).map_err(|_| {
            CoreError::InvalidSpec(format!("learning_rate {} does not fit {}", self.learning_rate, self.format))
        })?;
        if q <= 0 {
            return Err(CoreError::InvalidSpec(format!(
                "learning_rate {} rounds to zero in {}",
                self.learning_rate, self.format
            )));
        }
        Ok(q)
    }

    /// Canonical integer encoding of the spec, hashed into every proof's
    /// public statement.
    pub fn to_words(&self) -> Result<Vec<u64>, CoreError> {
        Ok(vec![
            self.model.features as u64,
            self.model.task.code(),
            u64::from(self.format.frac_bits),
            u64::from(self.format.int_bits),
            self.learning_rate_q()? as u64,
            self.batch_size as u64,
            u64::from(self.epochs),
            self.steps_per_fold as u64,
        ])
    }
}
