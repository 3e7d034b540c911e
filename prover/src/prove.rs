//! The proving pipeline. Each fold is proven as soon as its witness exists
//! and then dropped; the `RecursiveSNARK` (which carries the witness, i.e.
//! patient data) never leaves this module except as an owner-only
//! checkpoint on the prover's own disk ([`crate::checkpoint`]): only the
//! compressed, zero-knowledge proof is sent anywhere.

use crate::checkpoint::{Binding, Checkpoints, Loaded};
use candor_circuits::commit_circuit::commit_native;
use candor_circuits::engine::{Blinding, Compressed, DataCircuit, DataKeys, Keys, Scalar, TrainCircuit, TrainKeys};
use candor_circuits::hash::Hasher;
use candor_circuits::state::{data_iv, TrainState};
use candor_circuits::verifier::{DataCommitment, Digest, Statement};
use candor_circuits::verifier::{FieldDigest, ProvenStatement};
use candor_circuits::CircuitError;
use candor_core::data::{batches, Batch, Dataset};
use candor_core::Layout;
use candor_core::Model;
use ff::Field;
use nova_snark::nova::RecursiveSNARK;
use nova_snark::traits::circuit::StepCircuit;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::atomic::{AtomicBool, Ordering};

static UPSTREAM: AtomicBool = AtomicBool::new(false);

/// Benchmarks only: prove as unpatched nova-snark 0.76 does (IPA generators
/// folded with two constant-time multiplications each, the random instances
/// sampled inside compression) when `true`; the default is `false`. Proofs
/// verify the same either way.
pub fn use_upstream_prover(upstream: bool) {
    UPSTREAM.store(upstream, Ordering::Relaxed);
    nova_snark::provider::ipa_pc::set_upstream_fold(upstream);
}

/// A participant's committed data: one epoch of batches and their blinds.
pub struct PrivateData {
    batches: Vec<Batch>,
    blinds: Vec<Scalar>,
}

impl PrivateData {
    /// Lays out a data set (in committed order) and derives the blinding
    /// elements from the participant's secret `seed`.
    pub fn new(layout: &Layout, data: &Dataset, seed: [u8; 32]) -> Result<Self, CircuitError> {
        let batches = batches(layout, data)?;
        let mut rng = ChaCha20Rng::from_seed(seed);
        let blinds = (0..batches.len()).map(|_| Scalar::random(&mut rng)).collect();
        Ok(Self { batches, blinds })
    }

    /// Batches of one epoch.
    pub fn batches(&self) -> &[Batch] {
        &self.batches
    }

    /// The public commitment (computed natively).
    pub fn commitment(&self, keys: &TrainKeys) -> DataCommitment {
        self.commitment_with(&keys.hasher, &keys.layout)
    }

    /// The public commitment without circuit keys (for runs without proofs).
    pub fn commitment_with(&self, hasher: &Hasher<Scalar>, layout: &Layout) -> DataCommitment {
        let root = commit_native(hasher, layout, &self.batches, &self.blinds);
        DataCommitment { root: Digest::of(&root), rows: self.batches.iter().map(Batch::samples).sum(), batches: self.batches.len() as u64 }
    }
}

fn nova(e: nova_snark::errors::NovaError) -> CircuitError {
    CircuitError::Proving(e.to_string())
}

fn encode<C: StepCircuit<Scalar>>(p: &Compressed<C>) -> Result<Vec<u8>, CircuitError> {
    candor_circuits::encoding::to_bytes(p)
}

/// Runs `fold` (which builds the `RecursiveSNARK`) and compresses its
/// result. The random instances that make compression zero-knowledge depend
/// on the keys alone: they are sampled on a second thread while folding,
/// whose witness synthesis leaves a core idle, so compression need not wait
/// for them. They are moved into this one compression.
fn fold_and_compress<C: StepCircuit<Scalar>, T>(
    keys: &Keys<C>,
    fold: impl FnOnce() -> Result<(RecursiveSNARK<candor_circuits::engine::E1, candor_circuits::engine::E2, C>, T), CircuitError>,
) -> Result<(Vec<u8>, T), CircuitError> {
    let (folded, blinding) = if UPSTREAM.load(Ordering::Relaxed) {
        (fold(), None)
    } else {
        std::thread::scope(|s| {
            let sampler = s.spawn(|| Blinding::sample(&keys.pp));
            let folded = fold();
            let blinding = sampler.join().map_err(|_| CircuitError::Proving("sampling the blinding panicked".into()));
            (folded, Some(blinding))
        })
    };
    let (rs, out) = folded?;
    let proof = match blinding {
        Some(b) => Compressed::<C>::prove_with_blinding(&keys.pp, &keys.pk, &rs, b?.map_err(nova)?),
        None => Compressed::<C>::prove(&keys.pp, &keys.pk, &rs),
    }
    .map_err(nova)?;
    drop(rs);
    Ok((encode(&proof)?, out))
}

/// Proves the data commitment once: ranges, labels, row count.
pub fn prove_commitment(keys: &DataKeys, data: &PrivateData) -> Result<(DataCommitment, Vec<u8>), CircuitError> {
    let z0 = [data_iv::<Scalar>(), Scalar::ZERO];
    let (proof, zn) = fold_and_compress(keys, || {
        let mut rs: Option<RecursiveSNARK<_, _, DataCircuit>> = None;
        for (batch, blind) in data.batches.iter().zip(&data.blinds) {
            let c = DataCircuit::new(keys.layout.clone(), keys.hasher.clone(), batch.clone(), *blind);
            let r = match rs.as_mut() {
                Some(r) => r,
                None => rs.insert(RecursiveSNARK::new(&keys.pp, &c, &z0).map_err(nova)?),
            };
            r.prove_step(&keys.pp, &c).map_err(nova)?;
        }
        let rs = rs.ok_or_else(|| CircuitError::Proving("no batches".into()))?;
        let zn = rs.outputs().to_vec();
        Ok((rs, zn))
    })?;
    let rows: u64 = data.batches.iter().map(Batch::samples).sum();
    if zn[1] != Scalar::from(rows) {
        return Err(CircuitError::Proving("row count mismatch".into()));
    }
    let c = DataCommitment { root: Digest::of(&zn[0]), rows, batches: data.batches.len() as u64 };
    Ok((c, proof))
}

/// The result of proving local training.
pub struct ProvenUpdate {
    /// The trained model the proof attests.
    pub model: Model,
    /// Proven number of real rows consumed.
    pub samples: u64,
    /// Compressed, zero-knowledge proof ([`candor_circuits::encoding`]).
    pub proof: Vec<u8>,
    /// Folds taken from a checkpoint rather than proven in this run.
    pub resumed_from: usize,
}

/// Trains and proves: every SGD step of `epochs` epochs over the committed
/// data, from the statement's global model. `progress(done, total)` is
/// called after each fold. The statement may be a claim: proving one's own
/// data needs no verified commitment (verifying the proof will).
pub fn prove_training<D: AsRef<DataCommitment>>(
    keys: &TrainKeys,
    statement: &Statement<D>,
    data: &PrivateData,
    progress: impl FnMut(usize, usize),
) -> Result<ProvenUpdate, CircuitError> {
    prove_training_with(keys, statement, data, None, progress)
}

/// [`prove_training`] that writes its folding state to `checkpoints` every
/// few folds, resumes from a checkpoint of this very proof when one exists
/// (refusing and deleting any other), and deletes it once the proof is
/// compressed. See [`crate::checkpoint`].
pub fn prove_training_resumable<D: AsRef<DataCommitment>>(
    keys: &TrainKeys,
    statement: &Statement<D>,
    data: &PrivateData,
    checkpoints: &Checkpoints,
    progress: impl FnMut(usize, usize),
) -> Result<ProvenUpdate, CircuitError> {
    let update = prove_training_with(keys, statement, data, Some(checkpoints), progress)?;
    checkpoints.discard()?;
    Ok(update)
}

fn prove_training_with<D: AsRef<DataCommitment>>(
    keys: &TrainKeys,
    statement: &Statement<D>,
    data: &PrivateData,
    checkpoints: Option<&Checkpoints>,
    mut progress: impl FnMut(usize, usize),
) -> Result<ProvenUpdate, CircuitError> {
    let layout = &keys.layout;
    if &data.commitment(keys) != statement.data.as_ref() {
        return Err(CircuitError::Core(candor_core::CoreError::InvalidData(
            "private data does not match the registered commitment".into(),
        )));
    }
    let folds = statement.folds(layout)?;
    let spf = layout.spec.steps_per_fold;
    let per_epoch = data.batches.len() / spf;
    let start = statement.start_state(keys)?;
    let z0 = [start.digest(&keys.hasher, layout)];
    let binding = Binding { params: keys.digest(), start: z0[0], round: statement.round, folds };
    let circuit = |k: usize, state: &TrainState<Scalar>| {
        let at = (k % per_epoch) * spf;
        TrainCircuit::new(
            layout.clone(),
            keys.hasher.clone(),
            state.clone(),
            data.batches[at..at + spf].to_vec(),
            data.blinds[at..at + spf].to_vec(),
        )
    };
    let (proof, (state, resumed_from)) = fold_and_compress(keys, || {
        let mut state = start;
        let (mut rs, from) = match checkpoints.map(|c| c.load(&binding, &keys.pp)).transpose()? {
            Some(Loaded::Resume(rs, done)) => {
                // the native steps are cheap: replay them to the checkpoint
                for k in 0..done {
                    state = circuit(k, &state)?.output()?;
                }
                if rs.outputs() != [state.digest(&keys.hasher, layout)] {
                    return Err(CircuitError::Proving("checkpoint and native state diverged".into()));
                }
                tracing::info!(round = statement.round, done, folds, "resuming proving from a checkpoint");
                (Some(*rs), done)
            }
            Some(Loaded::Refused(why)) => {
                tracing::warn!(round = statement.round, why, "checkpoint refused and deleted; proving from the start");
                (None, 0)
            }
            Some(Loaded::None) | None => (None, 0),
        };
        for k in from..folds {
            let c = circuit(k, &state)?;
            let next = c.output()?;
            let r = match rs.as_mut() {
                Some(r) => r,
                None => rs.insert(RecursiveSNARK::new(&keys.pp, &c, &z0).map_err(nova)?),
            };
            r.prove_step(&keys.pp, &c).map_err(nova)?;
            state = next;
            progress(k + 1, folds);
            if let Some(ck) = checkpoints.filter(|ck| ck.due(k + 1, folds)) {
                // losing a checkpoint costs time after a crash, not the proof
                if let Err(e) = ck.save(&binding, k + 1, r) {
                    tracing::warn!(error = %e, path = %ck.path().display(), "could not write a checkpoint");
                }
            }
        }
        let rs = rs.ok_or_else(|| CircuitError::Proving("no folds".into()))?;
        if rs.outputs() != [state.digest(&keys.hasher, layout)] {
            return Err(CircuitError::Proving("circuit and native state diverged".into()));
        }
        Ok((rs, (state, from)))
    })?;
    Ok(ProvenUpdate { model: state.model, samples: state.samples, proof, resumed_from })
}
