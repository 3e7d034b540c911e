//! Training on candle, one file per architecture ([`linear`], [`mlp`],
//! [`softmax`]) and one for the activations ([`activation`]). Each
//! architecture has two trainers behind one [`Trainer`] trait: an exact one
//! (fixed point, bit-exact with the integer reference in
//! `candor_core::model` and with the step circuit), wrapped by
//! [`ExactTrainer`], and a float32 one (the accuracy reference), wrapped by
//! [`ReferenceTrainer`]. The epoch loop is written once, in
//! [`Trainer::train`].

pub mod activation;
pub mod linear;
pub mod mlp;
pub mod softmax;

use crate::ParticipantError;
use candor_core::data::{Batch, Dataset};
use candor_core::{Layout, Model};
use linear::{FixedTrainer, FloatTrainer};
use mlp::{FixedMlpTrainer, FloatMlpTrainer};
use softmax::{FixedSoftmaxTrainer, FloatSoftmaxTrainer};

/// One architecture's SGD over fixed-point batches.
pub trait Trainer: Send {
    /// One SGD step over a batch.
    fn step(&mut self, batch: &Batch) -> Result<(), ParticipantError>;

    /// `epochs` passes over `batches`, in order.
    fn train(&mut self, epochs: u32, batches: &[Batch]) -> Result<(), ParticipantError> {
        for _ in 0..epochs {
            for b in batches {
                self.step(b)?;
            }
        }
        Ok(())
    }
}

/// A fixed-point trainer: its model is what the proof attests.
pub trait Exact: Trainer {
    /// The current model.
    fn model(&self) -> Result<Model, ParticipantError>;
}

/// A float32 trainer: the accuracy reference.
pub trait Reference: Trainer {
    /// Accuracy (classification) or mean squared error (regression) on a
    /// fixed-point data set.
    fn evaluate(&self, data: &Dataset) -> Result<f64, ParticipantError>;
}

/// Exact fixed-point SGD of the spec's model, whichever its architecture.
pub struct ExactTrainer(Box<dyn Exact>);

impl ExactTrainer {
    /// Starts from `model`, checked against the spec's architecture.
    pub fn new(layout: &Layout, model: &Model) -> Result<Self, ParticipantError> {
        model.validate(layout)?;
        Ok(Self(match model {
            Model::Linear(m) => Box::new(FixedTrainer::new(layout, m)?),
            Model::Mlp(m) => Box::new(FixedMlpTrainer::new(layout, m)?),
            Model::Softmax(m) => Box::new(FixedSoftmaxTrainer::new(layout, m)?),
        }))
    }

    /// One SGD step over a batch.
    pub fn step(&mut self, batch: &Batch) -> Result<(), ParticipantError> {
        self.0.step(batch)
    }

    /// The spec's epochs over one epoch of batches, in committed order.
    pub fn train(&mut self, layout: &Layout, epoch: &[Batch]) -> Result<(), ParticipantError> {
        self.0.train(layout.spec.epochs, epoch)
    }

    /// The current model.
    pub fn model(&self) -> Result<Model, ParticipantError> {
        self.0.model()
    }
}

/// Float32 SGD of the same architecture with exact activations.
pub struct ReferenceTrainer(Box<dyn Reference>);

impl ReferenceTrainer {
    /// Starts from a fixed-point model, dequantized.
    pub fn new(layout: &Layout, model: &Model) -> Result<Self, ParticipantError> {
        model.validate(layout)?;
        let (fmt, lr) = (layout.spec.format, layout.spec.learning_rate);
        Ok(Self(match model {
            Model::Linear(m) => Box::new(FloatTrainer::new(layout, m)?),
            Model::Mlp(m) => Box::new(FloatMlpTrainer::new(m, fmt, lr)?),
            Model::Softmax(m) => Box::new(FloatSoftmaxTrainer::new(m, fmt, lr)?),
        }))
    }

    /// `epochs` passes over fixed-point batches (their real rows).
    pub fn train_batches(&mut self, batches: &[Batch], epochs: u32) -> Result<(), ParticipantError> {
        self.0.train(epochs, batches)
    }

    /// Accuracy (classification) or mean squared error (regression).
    pub fn evaluate_dataset(&self, data: &Dataset) -> Result<f64, ParticipantError> {
        self.0.evaluate(data)
    }
}
