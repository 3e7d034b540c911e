//! One participant's honest work for a round: train on candle and, when
//! proving, prove the same steps and check that the proof attests exactly
//! candle's model (bit-exactness, checked on every run, not only in tests).

use crate::train::ExactTrainer;
use crate::ParticipantError;
use candor_circuits::engine::TrainKeys;
use candor_circuits::verifier::{DataCommitment, Statement};
use candor_core::data::Batch;
use candor_core::{CoreError, Layout, Model};
use candor_prover::{prove_training, PrivateData};
use std::time::Instant;

/// The result of a round's training.
pub struct Trained {
    /// The trained model (candle's, equal to the proof's).
    pub model: Model,
    /// Real rows consumed over all epochs.
    pub samples: u64,
    /// Compressed proof, when proving.
    pub proof: Option<Vec<u8>>,
    /// Seconds of candle training.
    pub train_secs: f64,
    /// Seconds proving (folding and compression).
    pub prove_secs: f64,
    /// Of `prove_secs`, seconds compressing (after the last fold).
    pub compress_secs: f64,
}

/// Trains from `statement.global` over `data` for the spec's epochs; with
/// `keys`, also proves it. `progress(done, total)` sees each proven fold.
pub fn train_round<D: AsRef<DataCommitment>>(
    layout: &Layout,
    keys: Option<&TrainKeys>,
    statement: &Statement<D>,
    data: &PrivateData,
    mut progress: impl FnMut(usize, usize),
) -> Result<Trained, ParticipantError> {
    let t = Instant::now();
    let mut trainer = ExactTrainer::new(layout, &statement.global)?;
    trainer.train(layout, data.batches())?;
    let model = trainer.model()?;
    let samples = data.batches().iter().map(Batch::samples).sum::<u64>() * u64::from(layout.spec.epochs);
    let train_secs = t.elapsed().as_secs_f64();
    let Some(keys) = keys else {
        return Ok(Trained { model, samples, proof: None, train_secs, prove_secs: 0.0, compress_secs: 0.0 });
    };
    let t = Instant::now();
    let mut folded = None;
    let proven = prove_training(keys, statement, data, |done, total| {
        if done == total {
            folded = Some(Instant::now());
        }
        progress(done, total);
    })?;
    let compress_secs = folded.map_or(0.0, |f| f.elapsed().as_secs_f64());
    if (&proven.model, proven.samples) != (&model, samples) {
        return Err(CoreError::InvalidData("candle trainer and proof disagree (bit-exactness violated)".into()).into());
    }
    Ok(Trained { model, samples, proof: Some(proven.proof), train_secs, prove_secs: t.elapsed().as_secs_f64(), compress_secs })
}
