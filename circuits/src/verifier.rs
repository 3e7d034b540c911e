//! Verification: the only way to obtain a [`VerifiedUpdate`] or a
//! [`VerifiedCommitment`].

use crate::engine::{Compressed, DataCircuit, DataKeys, Scalar, TrainCircuit, TrainKeys};
use crate::hash::Hasher;
use crate::state::{context, data_iv, TrainState};
use crate::{field, CircuitError};
use candor_core::Model;
use candor_core::Layout;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Proofs larger than this are refused before decoding (honest ones are
/// about 10-20 KB).
pub const MAX_PROOF_BYTES: usize = 256 * 1024;

/// A field element's canonical 32 bytes: commitments and model digests.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// From a field element.
    pub fn of(x: &Scalar) -> Self {
        let mut d = [0u8; 32];
        d.copy_from_slice(&field::to_bytes(x));
        Self(d)
    }

    /// To a field element; `None` if not canonical.
    pub fn to_scalar(&self) -> Option<Scalar> {
        field::from_bytes(&self.0)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

/// Public facts of a data commitment, registered with the coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataCommitment {
    /// Hash-chain value over one epoch of batches.
    pub root: Digest,
    /// Real (unmasked) rows.
    pub rows: u64,
    /// Batches per epoch, padding included.
    pub batches: u64,
}

/// Everything a training proof is checked against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingStatement {
    /// Round the update belongs to.
    pub round: u64,
    /// Participant identity (e.g. its libp2p PeerId bytes).
    pub participant: Vec<u8>,
    /// The participant's registered data commitment.
    pub data: DataCommitment,
    /// The round's global model, where training starts.
    pub global: Model,
}

impl TrainingStatement {
    /// The initial state of the proof.
    pub fn start_state(&self, keys: &TrainKeys) -> Result<TrainState<Scalar>, CircuitError> {
        let root = self.data.root.to_scalar().ok_or_else(|| reject("data commitment is not a field element"))?;
        let ctx = context(&keys.hasher, &keys.layout, self.round, &self.participant, self.data.rows)?;
        Ok(TrainState::start(ctx, root, self.data.batches, self.global.clone()))
    }

    /// Number of Nova steps (folds) a proof of this statement has.
    pub fn folds(&self, layout: &Layout) -> Result<usize, CircuitError> {
        let spf = layout.spec.steps_per_fold as u64;
        if self.data.batches == 0 || !self.data.batches.is_multiple_of(spf) || self.data.batches > 1 << 20 {
            return Err(reject("batch count is not a positive multiple of steps_per_fold"));
        }
        Ok((self.data.batches * u64::from(layout.spec.epochs) / spf) as usize)
    }
}

/// An update whose proof verified. Only [`verify_training`] builds one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedUpdate {
    round: u64,
    participant: Vec<u8>,
    samples: u64,
    model: Model,
    model_digest: Digest,
}

impl VerifiedUpdate {
    /// Round of the update.
    pub fn round(&self) -> u64 {
        self.round
    }
    /// Participant that proved it.
    pub fn participant(&self) -> &[u8] {
        &self.participant
    }
    /// Proven number of samples consumed (the FedAvg weight).
    pub fn samples(&self) -> u64 {
        self.samples
    }
    /// The trained model.
    pub fn model(&self) -> &Model {
        &self.model
    }
    /// Poseidon digest of the trained model.
    pub fn model_digest(&self) -> Digest {
        self.model_digest
    }
}

/// A data commitment whose range proof verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedCommitment(DataCommitment);

impl VerifiedCommitment {
    /// The commitment.
    pub fn commitment(&self) -> &DataCommitment {
        &self.0
    }
}

fn reject(why: &str) -> CircuitError {
    CircuitError::Rejected(why.to_string())
}

fn decode<C: nova_snark::traits::circuit::StepCircuit<Scalar>>(bytes: &[u8]) -> Result<Compressed<C>, CircuitError> {
    if bytes.len() > MAX_PROOF_BYTES {
        return Err(CircuitError::Malformed { what: "proof", reason: format!("{} bytes exceeds the limit", bytes.len()) });
    }
    rmp_serde::from_slice(bytes).map_err(|e| CircuitError::Malformed { what: "proof", reason: e.to_string() })
}

/// Poseidon digest of a model (packed parameters, tagged).
pub fn model_digest(keys: &TrainKeys, model: &Model) -> Digest {
    model_digest_with(&keys.hasher, &keys.layout, model)
}

/// [`model_digest`] without circuit keys (for runs without proofs).
pub fn model_digest_with(hasher: &Hasher<Scalar>, layout: &Layout, model: &Model) -> Digest {
    let mut pre = vec![Scalar::from(0x6361_6e64_6f72_0003u64)];
    pre.extend(crate::state::packed_params::<Scalar>(layout, &model.params()));
    Digest::of(&hasher.hash(&pre))
}

/// Checks a compressed training proof: that `model` is exactly the result of
/// the spec's SGD from `statement.global` over every committed row for the
/// spec's epochs, for this round and participant, consuming `samples` rows.
pub fn verify_training(
    keys: &TrainKeys,
    statement: &TrainingStatement,
    model: &Model,
    samples: u64,
    proof: &[u8],
) -> Result<VerifiedUpdate, CircuitError> {
    let layout = &keys.layout;
    statement.global.validate(layout).map_err(|e| reject(&format!("global model: {e}")))?;
    model.validate(layout).map_err(|e| reject(&format!("updated model: {e}")))?;
    let folds = statement.folds(layout)?;
    let start = statement.start_state(keys)?;
    let end = TrainState { samples, model: model.clone(), ..start.clone() };
    let proof = decode::<TrainCircuit>(proof)?;
    let z0 = start.digest(&keys.hasher, layout);
    let zn = proof.verify(&keys.vk, folds, &[z0]).map_err(|e| reject(&format!("invalid proof: {e}")))?;
    if zn != [end.digest(&keys.hasher, layout)] {
        return Err(reject("proof does not attest this model and sample count"));
    }
    Ok(VerifiedUpdate {
        round: statement.round,
        participant: statement.participant.clone(),
        samples,
        model: model.clone(),
        model_digest: model_digest(keys, model),
    })
}

/// Checks a commitment proof: `commitment.root` commits to
/// `commitment.batches` batches of in-range values with valid labels, of
/// which `commitment.rows` rows are real.
pub fn verify_commitment(
    keys: &DataKeys,
    commitment: &DataCommitment,
    proof: &[u8],
) -> Result<VerifiedCommitment, CircuitError> {
    let root = commitment.root.to_scalar().ok_or_else(|| reject("commitment is not a field element"))?;
    if commitment.batches == 0 || commitment.batches > 1 << 20 {
        return Err(reject("batch count out of range"));
    }
    let proof = decode::<DataCircuit>(proof)?;
    let zn = proof
        .verify(&keys.vk, commitment.batches as usize, &[data_iv(), Scalar::from(0u64)])
        .map_err(|e| reject(&format!("invalid proof: {e}")))?;
    if zn != [root, Scalar::from(commitment.rows)] {
        return Err(reject("proof does not attest this commitment and row count"));
    }
    Ok(VerifiedCommitment(*commitment))
}
