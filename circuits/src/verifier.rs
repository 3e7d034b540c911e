//! Verification: the only way to obtain a [`VerifiedUpdate`] or a
//! [`VerifiedCommitment`].

use crate::engine::{Compressed, DataCircuit, DataKeys, Scalar, TrainCircuit, TrainKeys};
use crate::hash::Hasher;
use crate::state::{context, data_iv, TrainState};
use crate::{field, CircuitError};
use candor_core::Layout;
use candor_core::Model;
use serde::Serialize;

pub use candor_core::statement::{ClaimedStatement, DataCommitment, Digest, Statement};

pub use crate::encoding::MAX_PROOF_BYTES;

/// A digest's field-element meaning.
pub trait FieldDigest: Sized {
    /// From a field element.
    fn of(x: &Scalar) -> Self;
    /// To a field element; `None` if not canonical.
    fn to_scalar(&self) -> Option<Scalar>;
}

impl FieldDigest for Digest {
    fn of(x: &Scalar) -> Self {
        let mut d = [0u8; 32];
        d.copy_from_slice(&field::to_bytes(x));
        Self(d)
    }

    fn to_scalar(&self) -> Option<Scalar> {
        field::from_bytes(&self.0)
    }
}

/// Everything a training proof is checked against; its commitment was
/// verified.
pub type TrainingStatement = Statement<VerifiedCommitment>;

/// A statement's meaning for the circuits: the proof's start state and its
/// number of folds.
pub trait ProvenStatement {
    /// The initial state of the proof.
    fn start_state(&self, keys: &TrainKeys) -> Result<TrainState<Scalar>, CircuitError>;
    /// Number of Nova steps (folds) a proof of this statement has.
    fn folds(&self, layout: &Layout) -> Result<usize, CircuitError>;
}

impl<D: AsRef<DataCommitment>> ProvenStatement for Statement<D> {
    fn start_state(&self, keys: &TrainKeys) -> Result<TrainState<Scalar>, CircuitError> {
        let data = self.data.as_ref();
        let root = data.root.to_scalar().ok_or_else(|| reject("data commitment is not a field element"))?;
        let ctx = context(&keys.hasher, &keys.layout, &self.federation, self.round, &self.participant, data.rows)?;
        Ok(TrainState::start(ctx, root, data.batches, self.global.clone()))
    }

    fn folds(&self, layout: &Layout) -> Result<usize, CircuitError> {
        let spf = layout.spec.steps_per_fold as u64;
        let batches = self.data.as_ref().batches;
        if batches == 0 || !batches.is_multiple_of(spf) || batches > MAX_BATCHES {
            return Err(reject("batch count is not a positive multiple of steps_per_fold"));
        }
        Ok((batches * u64::from(layout.spec.epochs) / spf) as usize)
    }
}

/// A claim made verifiable.
pub trait Claim {
    /// The statement over `verified`, which must be the claimed commitment.
    fn verified(self, verified: &VerifiedCommitment) -> Result<TrainingStatement, CircuitError>;
}

impl Claim for ClaimedStatement {
    fn verified(self, verified: &VerifiedCommitment) -> Result<TrainingStatement, CircuitError> {
        if verified.0 != self.data {
            return Err(reject("the verified commitment is not the one claimed"));
        }
        Ok(self.with_data(*verified))
    }
}

/// An update whose proof verified. Only [`verify_training`] and
/// [`crate::batch::verify_training_batch`] build one.
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

/// A data commitment whose range proof verified. Only
/// [`verify_commitment`] builds one; it is never deserialized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedCommitment(DataCommitment);

impl VerifiedCommitment {
    /// The commitment.
    pub fn commitment(&self) -> &DataCommitment {
        &self.0
    }
}

impl AsRef<DataCommitment> for VerifiedCommitment {
    fn as_ref(&self) -> &DataCommitment {
        &self.0
    }
}

/// Most batches per epoch a statement may name (2^20 batches is far beyond
/// any hospital's data; the bound keeps fold counts small integers).
const MAX_BATCHES: u64 = 1 << 20;

pub(crate) fn reject(why: &str) -> CircuitError {
    CircuitError::Rejected(why.to_string())
}

fn malformed(reason: String) -> CircuitError {
    CircuitError::Malformed { what: "proof", reason }
}

/// Decodes a proof that must be exactly `bytes` ([`crate::encoding`]).
pub(crate) fn decode<C: nova_snark::traits::circuit::StepCircuit<Scalar>>(bytes: &[u8]) -> Result<Compressed<C>, CircuitError> {
    crate::encoding::from_bytes(bytes)
}

/// Runs nova-snark's decoding and verification of untrusted bytes, turning
/// a panic into an error. nova-snark 0.76 indexes and asserts on lengths
/// taken from the proof: an emptied sum-check polynomial panics with an
/// index out of bounds (`spartan/polys/univariate.rs`), an emptied batch of
/// evaluations fails an `assert_eq!` (`spartan/mod.rs`). A proof's shape is
/// fixed by the keys but its fields are private, so the boundary is guarded
/// here rather than checked field by field.
///
/// The process's panic hook would still print each contained panic (with a
/// ~29 KB backtrace where `RUST_BACKTRACE` is set), so a peer sending such
/// proofs could fill a daemon's log: while `run` runs, the hook is quiet on
/// this thread, and the returned error (logged once by the caller) says
/// what panicked.
pub(crate) fn guarded<T>(run: impl FnOnce() -> Result<T, CircuitError>) -> Result<T, CircuitError> {
    quiet_hook();
    CONTAINING.with(|c| c.set(c.get() + 1));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    CONTAINING.with(|c| c.set(c.get() - 1));
    outcome.unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let msg: String = msg.chars().take(200).collect();
        Err(malformed(format!("the verifier panicked on it: {msg}")))
    })
}

thread_local! {
    /// How many [`guarded`] calls this thread is inside.
    static CONTAINING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Installs, once per process, a panic hook that says nothing for panics
/// [`guarded`] contains and hands every other panic to the hook it replaced.
fn quiet_hook() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CONTAINING.with(|c| c.get()) == 0 {
                previous(info);
            }
        }));
    });
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
///
/// The statement's commitment must have been verified: the way to get one
/// is [`verify_commitment`], then [`Claim::verified`].
/// ```no_run
/// use candor_circuits::engine::{DataKeys, TrainKeys};
/// use candor_circuits::verifier::{verify_commitment, verify_training, Claim, ClaimedStatement};
/// # fn check(keys: &TrainKeys, dkeys: &DataKeys, claim: ClaimedStatement, commitment_proof: &[u8],
/// #          model: &candor_core::Model, proof: &[u8]) -> Result<(), candor_circuits::CircuitError> {
/// let commitment = verify_commitment(dkeys, &claim.data, commitment_proof)?;
/// verify_training(keys, &claim.verified(&commitment)?, model, 1, proof)?;
/// # Ok(()) }
/// ```
/// A claim over an unverified commitment does not type-check:
/// ```compile_fail,E0308
/// use candor_circuits::engine::TrainKeys;
/// use candor_circuits::verifier::{verify_training, ClaimedStatement};
/// fn check(keys: &TrainKeys, claim: &ClaimedStatement, model: &candor_core::Model, proof: &[u8]) {
///     let _ = verify_training(keys, claim, model, 1, proof);
/// }
/// ```
/// nor can a verified commitment be made up, or read from bytes:
/// ```compile_fail,E0423
/// use candor_circuits::verifier::{DataCommitment, VerifiedCommitment};
/// fn forge(c: DataCommitment) -> VerifiedCommitment { VerifiedCommitment(c) }
/// ```
/// ```compile_fail,E0277
/// let st: candor_circuits::verifier::TrainingStatement = rmp_serde::from_slice(&[]).unwrap();
/// ```
pub fn verify_training(
    keys: &TrainKeys,
    statement: &TrainingStatement,
    model: &Model,
    samples: u64,
    proof: &[u8],
) -> Result<VerifiedUpdate, CircuitError> {
    let expected = Expected::of(keys, statement, model, samples)?;
    let zn = guarded(|| {
        let proof = decode::<TrainCircuit>(proof)?;
        proof.verify(&keys.vk, expected.folds, &[expected.z0]).map_err(|e| reject(&format!("invalid proof: {e}")))
    })?;
    expected.attested_by(&zn)
}

/// What a training proof must show for a statement, a model and a sample
/// count: its number of folds, its input and its output.
pub(crate) struct Expected {
    pub(crate) folds: usize,
    pub(crate) z0: Scalar,
    zn: Scalar,
    update: VerifiedUpdate,
}

impl Expected {
    pub(crate) fn of(keys: &TrainKeys, statement: &TrainingStatement, model: &Model, samples: u64) -> Result<Self, CircuitError> {
        let layout = &keys.layout;
        statement.global.validate(layout).map_err(|e| reject(&format!("global model: {e}")))?;
        model.validate(layout).map_err(|e| reject(&format!("updated model: {e}")))?;
        let folds = statement.folds(layout)?;
        let start = statement.start_state(keys)?;
        let end = TrainState { samples, model: model.clone(), ..start.clone() };
        Ok(Self {
            folds,
            z0: start.digest(&keys.hasher, layout),
            zn: end.digest(&keys.hasher, layout),
            update: VerifiedUpdate {
                round: statement.round,
                participant: statement.participant.clone(),
                samples,
                model: model.clone(),
                model_digest: model_digest(keys, model),
            },
        })
    }

    /// The update, if a valid proof's output `zn` is the expected one.
    pub(crate) fn attested_by(self, zn: &[Scalar]) -> Result<VerifiedUpdate, CircuitError> {
        if zn != [self.zn] {
            return Err(reject("proof does not attest this model and sample count"));
        }
        Ok(self.update)
    }
}

/// Checks a commitment proof: `commitment.root` commits to
/// `commitment.batches` batches of in-range values with valid labels, of
/// which `commitment.rows` rows are real.
pub fn verify_commitment(keys: &DataKeys, commitment: &DataCommitment, proof: &[u8]) -> Result<VerifiedCommitment, CircuitError> {
    let root = commitment.root.to_scalar().ok_or_else(|| reject("commitment is not a field element"))?;
    if commitment.batches == 0 || commitment.batches > MAX_BATCHES {
        return Err(reject("batch count out of range"));
    }
    let zn = guarded(|| {
        decode::<DataCircuit>(proof)?
            .verify(&keys.vk, commitment.batches as usize, &[data_iv(), Scalar::from(0u64)])
            .map_err(|e| reject(&format!("invalid proof: {e}")))
    })?;
    if zn != [root, Scalar::from(commitment.rows)] {
        return Err(reject("proof does not attest this commitment and row count"));
    }
    Ok(VerifiedCommitment(*commitment))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "run in a child process by contained_panics_print_nothing"]
    fn child_contains_a_panic_then_panics_outside() {
        let got = guarded::<()>(|| panic!("boom inside"));
        assert!(matches!(&got, Err(e) if e.to_string().contains("boom inside")), "{got:?}");
        eprintln!("contained");
        panic!("boom outside");
    }

    #[test]
    fn contained_panics_print_nothing_and_others_still_do() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "verifier::tests::child_contains_a_panic_then_panics_outside",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("contained"), "the child ran: {err}");
        assert!(!err.contains("boom inside"), "a contained panic is not printed: {err}");
        assert!(err.contains("boom outside"), "other panics still are: {err}");
    }
}
