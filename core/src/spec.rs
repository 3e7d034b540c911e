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
    /// Multiclass classification: `softmax2` output, cross-entropy gradient
    /// `p - onehot(y)`, labels `0..classes`; without a hidden layer this is
    /// multinomial logistic regression.
    Softmax,
}

impl Task {
    /// Stable numeric code, used when the spec is hashed.
    pub fn code(self) -> u64 {
        match self {
            Task::Logistic => 1,
            Task::Linear => 2,
            Task::Softmax => 3,
        }
    }
}

/// Model architecture: one dense layer over `features` inputs plus a bias
/// per output (`hidden = 0`: logistic, linear or, with task "softmax",
/// multinomial logistic regression), or an MLP with one hidden clipped-ReLU
/// layer of `hidden` units (see `candor_core::model::mlp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Number of input features.
    pub features: usize,
    /// Output head and loss.
    pub task: Task,
    /// Hidden units of the MLP's hidden layer; 0 for no hidden layer.
    #[serde(default)]
    pub hidden: usize,
    /// Number of classes of a softmax output; 0 for other tasks.
    #[serde(default)]
    pub classes: usize,
    /// Seed of the MLP's initial global weights (seeded Glorot-uniform; an
    /// all-zero MLP cannot learn). Proofs bind the global model itself, so
    /// the seed is only how a federation agrees on its first one.
    #[serde(default)]
    pub init_seed: u64,
}

impl ModelSpec {
    /// A model without a hidden layer.
    pub fn linear(features: usize, task: Task) -> Self {
        Self { features, task, hidden: 0, classes: 0, init_seed: 0 }
    }

    /// Multinomial (softmax) logistic regression: no hidden layer.
    pub fn softmax_regression(features: usize, classes: usize) -> Self {
        Self { features, task: Task::Softmax, hidden: 0, classes, init_seed: 0 }
    }

    /// An MLP `features -> hidden -> outputs`: one sigmoid output for
    /// `Task::Logistic`, `classes` softmax outputs for `Task::Softmax`.
    pub fn mlp(features: usize, hidden: usize, task: Task, classes: usize) -> Self {
        Self { features, task, hidden, classes, init_seed: 0 }
    }

    /// Whether the model has a hidden layer.
    pub fn is_mlp(&self) -> bool {
        self.hidden > 0
    }

    /// The MLP's shape, if the model has a hidden layer.
    pub fn mlp_shape(&self) -> Option<MlpShape> {
        self.is_mlp().then(|| MlpShape { features: self.features, hidden: self.hidden, outputs: self.outputs() })
    }

    /// Output units: `classes` for softmax, else 1.
    pub fn outputs(&self) -> usize {
        if self.task == Task::Softmax {
            self.classes
        } else {
            1
        }
    }

    /// Number of distinct labels of a classification task (2 for logistic).
    pub fn label_classes(&self) -> Option<usize> {
        match self.task {
            Task::Logistic => Some(2),
            Task::Softmax => Some(self.classes),
            Task::Linear => None,
        }
    }

    /// Checks that the combination of task, hidden layer and classes is one
    /// Candor trains.
    pub fn validate(&self) -> Result<(), CoreError> {
        let bad = |m: &str| Err(CoreError::InvalidSpec(m.to_string()));
        match self.task {
            Task::Softmax if !(2..=64).contains(&self.classes) => bad("task \"softmax\" needs model.classes in 2..=64"),
            Task::Linear if self.hidden > 0 => bad("an MLP (model.hidden > 0) needs task \"logistic\" or \"softmax\""),
            Task::Logistic | Task::Linear if self.classes != 0 => bad("model.classes applies to task \"softmax\" only"),
            _ if self.hidden > 1024 => bad("model.hidden must be at most 1024"),
            _ => Ok(()),
        }
    }
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
    /// Absent from a file, it reads as 0: simulations and local runs then
    /// take the padding advice (`candor_circuits::cost::padding_steps_per_fold`)
    /// and say so; a study must set it, since its digests depend on it.
    #[serde(default)]
    pub steps_per_fold: usize,
}

impl TrainSpec {
    /// Learning rate as an integer in the format, checked to be positive.
    pub fn learning_rate_q(&self) -> Result<i64, CoreError> {
        let q = self
            .format
            .quantize(self.learning_rate)
            .map_err(|_| CoreError::InvalidSpec(format!("learning_rate {} does not fit {}", self.learning_rate, self.format)))?;
        if q <= 0 {
            return Err(CoreError::InvalidSpec(format!("learning_rate {} rounds to zero in {}", self.learning_rate, self.format)));
        }
        Ok(q)
    }

    /// Canonical integer encoding of the spec, hashed into every proof's
    /// public statement.
    pub fn to_words(&self) -> Result<Vec<u64>, CoreError> {
        let mut words = vec![
            self.model.features as u64,
            self.model.task.code(),
            u64::from(self.format.frac_bits),
            u64::from(self.format.int_bits),
            self.learning_rate_q()? as u64,
            self.batch_size as u64,
            u64::from(self.epochs),
            self.steps_per_fold as u64,
        ];
        if self.model.is_mlp() || self.model.task == Task::Softmax {
            // appended, so that a linear spec's words are unchanged
            words.extend([self.model.hidden as u64, self.model.outputs() as u64]);
        }
        Ok(words)
    }
}

/// The expected digests of a study's public parameters (hex of 32 bytes),
/// as `candor-coordinator params` prints them. With a pin, parameters are
/// loaded from a cache only if they match it, and freshly derived ones must
/// match it too; without one they are derived at every start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsPin {
    /// Digest of the training circuit's public parameters.
    pub train: Option<String>,
    /// Digest of the data-commitment circuit's public parameters.
    pub data: Option<String>,
}

/// Architecture: `features -> hidden (clipped ReLU) -> outputs`. One output
/// is binary classification (hard sigmoid), two or more are classes
/// (`softmax2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpShape {
    /// Input features.
    pub features: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Output units: 1 (binary) or the number of classes.
    pub outputs: usize,
}

impl MlpShape {
    /// Number of parameters.
    pub fn params(&self) -> usize {
        (self.features + 1) * self.hidden + (self.hidden + 1) * self.outputs
    }

    /// Multiply-accumulates of one training step over `batch` rows (forward,
    /// hidden error, both gradients).
    pub fn macs_per_step(&self, batch: usize) -> usize {
        let (d, h, k) = (self.features, self.hidden, self.outputs);
        batch * (2 * d * h + 3 * h * k)
    }
}
