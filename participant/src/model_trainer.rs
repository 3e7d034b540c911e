//! The spec's model trained on candle, whichever its architecture:
//! [`ExactTrainer`] (fixed point, bit-exact with the reference and the
//! circuit) and [`ReferenceTrainer`] (float32, the accuracy reference).

use crate::mlp_trainer::{FixedMlpTrainer, FloatMlpTrainer};
use crate::softmax_trainer::{FixedSoftmaxTrainer, FloatSoftmaxTrainer};
use crate::trainer::{FixedTrainer, FloatTrainer};
use crate::ParticipantError;
use candor_core::data::{Batch, Dataset};
use candor_core::{Layout, Model};

/// Exact fixed-point SGD of a linear model, an MLP or multinomial logistic
/// regression.
pub enum ExactTrainer {
    /// Logistic or linear regression.
    Linear(FixedTrainer),
    /// One-hidden-layer MLP.
    Mlp(FixedMlpTrainer),
    /// Multinomial logistic regression.
    Softmax(FixedSoftmaxTrainer),
}

impl ExactTrainer {
    /// Starts from `model`, checked against the spec's architecture.
    pub fn new(layout: &Layout, model: &Model) -> Result<Self, ParticipantError> {
        model.validate(layout)?;
        Ok(match model {
            Model::Linear(m) => ExactTrainer::Linear(FixedTrainer::new(layout, m)?),
            Model::Mlp(m) => ExactTrainer::Mlp(FixedMlpTrainer::new(layout.mlp_hyper(), m)?),
            Model::Softmax(m) => ExactTrainer::Softmax(FixedSoftmaxTrainer::new(layout, m)?),
        })
    }

    /// One SGD step over a batch.
    pub fn step(&mut self, batch: &Batch) -> Result<(), ParticipantError> {
        match self {
            ExactTrainer::Linear(t) => t.step(batch),
            ExactTrainer::Mlp(t) => t.step(batch),
            ExactTrainer::Softmax(t) => t.step(batch),
        }
    }

    /// The spec's epochs over one epoch of batches, in committed order.
    pub fn train(&mut self, layout: &Layout, epoch: &[Batch]) -> Result<(), ParticipantError> {
        for _ in 0..layout.spec.epochs {
            for b in epoch {
                self.step(b)?;
            }
        }
        Ok(())
    }

    /// The current model.
    pub fn model(&self) -> Result<Model, ParticipantError> {
        Ok(match self {
            ExactTrainer::Linear(t) => Model::Linear(t.model()?),
            ExactTrainer::Mlp(t) => Model::Mlp(t.model()?),
            ExactTrainer::Softmax(t) => Model::Softmax(t.model()?),
        })
    }
}

/// Float32 SGD of the same architecture with exact activations.
pub enum ReferenceTrainer {
    /// Logistic or linear regression.
    Linear(FloatTrainer),
    /// One-hidden-layer MLP.
    Mlp(FloatMlpTrainer),
    /// Multinomial logistic regression.
    Softmax(FloatSoftmaxTrainer),
}

impl ReferenceTrainer {
    /// Starts from a fixed-point model, dequantized.
    pub fn new(layout: &Layout, model: &Model) -> Result<Self, ParticipantError> {
        model.validate(layout)?;
        Ok(match model {
            Model::Linear(m) => ReferenceTrainer::Linear(FloatTrainer::new(layout, m)?),
            Model::Mlp(m) => ReferenceTrainer::Mlp(FloatMlpTrainer::new(m, layout.spec.format, layout.spec.learning_rate)?),
            Model::Softmax(m) => ReferenceTrainer::Softmax(FloatSoftmaxTrainer::new(m, layout.spec.format, layout.spec.learning_rate)?),
        })
    }

    /// `epochs` passes over fixed-point batches (their real rows).
    pub fn train_batches(&mut self, layout: &Layout, batches: &[Batch], epochs: u32) -> Result<(), ParticipantError> {
        match self {
            ReferenceTrainer::Linear(t) => t.train_batches(layout, batches, epochs),
            ReferenceTrainer::Mlp(t) => {
                for _ in 0..epochs {
                    for b in batches {
                        t.step(b, layout.spec.format)?;
                    }
                }
                Ok(())
            }
            ReferenceTrainer::Softmax(t) => {
                for _ in 0..epochs {
                    for b in batches {
                        t.step(b, layout.spec.format)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Accuracy (classification) or mean squared error (regression).
    pub fn evaluate_dataset(&self, layout: &Layout, data: &Dataset) -> Result<f64, ParticipantError> {
        match self {
            ReferenceTrainer::Linear(t) => t.evaluate_dataset(layout, data),
            ReferenceTrainer::Mlp(t) => t.accuracy(data, layout.spec.format),
            ReferenceTrainer::Softmax(t) => t.accuracy(data, layout.spec.format),
        }
    }
}
