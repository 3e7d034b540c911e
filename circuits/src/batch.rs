//! Verifying a round's training proofs together.
//!
//! Most of a proof's verification is one multi-scalar multiplication of the
//! size of the padded circuit in each of its two IPA openings (one per
//! curve). nova-snark's `verify_batch` (Candor patch 3,
//! vendor/nova-snark/CANDOR-PATCHES.md) checks everything else proof by
//! proof and those last equations in one random linear combination: a round
//! of k proofs costs about one multiplication per curve instead of k. When
//! the combined check fails, every proof is verified alone, so that each
//! honest proof is still accepted and each bad one named.

use crate::engine::{Compressed, Scalar, TrainCircuit, TrainKeys};
use crate::verifier::{decode, guarded, reject, verify_training, Expected, TrainingStatement, VerifiedUpdate};
use crate::CircuitError;
use candor_core::Model;

/// One submitted update: what [`verify_training`] takes.
#[derive(Clone, Copy)]
pub struct Submitted<'a> {
    /// The statement it is about, over a verified commitment.
    pub statement: &'a TrainingStatement,
    /// The updated model.
    pub model: &'a Model,
    /// The sample count it claims.
    pub samples: u64,
    /// The compressed proof.
    pub proof: &'a [u8],
}

/// Verifies `submitted` together; each result is the one [`verify_training`]
/// gives for that submission (the same errors, in the same order).
pub fn verify_training_batch(keys: &TrainKeys, submitted: &[Submitted<'_>]) -> Vec<Result<VerifiedUpdate, CircuitError>> {
    let prepared: Vec<Result<(Expected, Compressed<TrainCircuit>), CircuitError>> = submitted
        .iter()
        .map(|s| Ok((Expected::of(keys, s.statement, s.model, s.samples)?, guarded(|| decode::<TrainCircuit>(s.proof))?)))
        .collect();
    let ready: Vec<(&Compressed<TrainCircuit>, usize, [Scalar; 1])> =
        prepared.iter().flatten().map(|(e, proof)| (proof, e.folds, [e.z0])).collect();
    if ready.len() < 2 {
        return submitted.iter().map(|s| verify_training(keys, s.statement, s.model, s.samples, s.proof)).collect();
    }
    let list: Vec<(&Compressed<TrainCircuit>, usize, &[Scalar])> = ready.iter().map(|(p, folds, z0)| (*p, *folds, &z0[..])).collect();
    let outputs = guarded(|| Compressed::<TrainCircuit>::verify_batch(&keys.vk, &list).map_err(|e| reject(&e.to_string())));
    let mut outputs = match outputs {
        Ok(zns) => Some(zns.into_iter()),
        Err(e) => {
            tracing::info!(proofs = list.len(), "the combined check failed ({e}); verifying each proof alone");
            None
        }
    };
    prepared
        .into_iter()
        .map(|p| {
            let (expected, proof) = p?;
            let zn = match outputs.as_mut() {
                Some(zns) => zns.next().ok_or_else(|| reject("a batch output is missing"))?,
                None => {
                    guarded(|| proof.verify(&keys.vk, expected.folds, &[expected.z0]).map_err(|e| reject(&format!("invalid proof: {e}"))))?
                }
            };
            expected.attested_by(&zn)
        })
        .collect()
}

/// [`verify_training_batch`] for submissions some of which could not even be
/// stated (no verified commitment, say): those stay `Err` in their place,
/// the others are verified together and their errors mapped by `error`.
pub fn verify_training_batch_where<E>(
    keys: &TrainKeys,
    submitted: Vec<Result<Submitted<'_>, E>>,
    error: impl Fn(CircuitError) -> E,
) -> Vec<Result<VerifiedUpdate, E>> {
    let stated: Vec<Submitted<'_>> = submitted.iter().filter_map(|s| s.as_ref().ok().copied()).collect();
    let mut verified = verify_training_batch(keys, &stated).into_iter();
    submitted.into_iter().map(|s| s.and_then(|_| verified.next().expect("one result per stated submission").map_err(&error))).collect()
}
