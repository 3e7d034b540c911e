//! Setup shared by the linear and MLP circuit tests: the last fold of an
//! epoch on a test constraint system, and one honest end-to-end proof.
#![allow(dead_code)] // each test binary uses its part

use candor_circuits::commit_circuit::commit_native;
use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
use candor_circuits::hash::Hasher;
use candor_circuits::state::TrainState;
use candor_circuits::step::{advance, SgdFoldCircuit};
use candor_circuits::verifier::{verify_commitment, Statement, TrainingStatement, VerifiedCommitment};
use candor_circuits::CircuitError;
use candor_core::data::batches;
use candor_core::{Layout, Model, TrainSpec};
use candor_prover::fixtures;
use candor_prover::{prove_commitment, prove_training, PrivateData, ProvenUpdate};
use nova_snark::frontend::num::AllocatedNum;
use nova_snark::frontend::test_cs::TestConstraintSystem;
use nova_snark::frontend::ConstraintSystem;
use nova_snark::provider::PallasEngine;
use nova_snark::traits::{circuit::StepCircuit, Engine};
use std::sync::Arc;

pub mod mutate;

pub type F = <PallasEngine as Engine>::Scalar;

/// The last fold of an epoch (so that the commitment check is exercised)
/// and the state it starts from.
pub struct Fixture {
    pub layout: Arc<Layout>,
    pub hasher: Hasher<F>,
    pub circuit: SgdFoldCircuit<F>,
    pub input: TrainState<F>,
}

/// Commits `rows` fixture rows (data seed `seed`, blinds from `blind_base`),
/// starts `model` there and advances natively to the epoch's last fold.
pub fn last_fold(spec: &TrainSpec, rows: usize, seed: u64, blind_base: u64, model: Model) -> Fixture {
    let spf = spec.steps_per_fold;
    let layout = Arc::new(Layout::new(spec).unwrap());
    let hasher = Hasher::<F>::default();
    let data = fixtures::dataset(spec, rows, seed);
    let bs = batches(&layout, &data).unwrap();
    let blinds: Vec<F> = (0..bs.len()).map(|t| F::from(blind_base + t as u64)).collect();
    let c = commit_native(&hasher, &layout, &bs, &blinds);
    let input = TrainState::start(F::from(42u64), c, bs.len() as u64, model);
    let first = bs.len() - spf;
    let mut state = input;
    for t in 0..first {
        state = advance(&hasher, &layout, &state, &bs[t], blinds[t]).unwrap().0;
    }
    let circuit =
        SgdFoldCircuit::new(layout.clone(), hasher.clone(), state.clone(), bs[first..].to_vec(), blinds[first..].to_vec()).unwrap();
    Fixture { layout, hasher, circuit, input: state }
}

/// Synthesizes `circuit` from the fixture's input digest: the constraint
/// system and the output digest.
pub fn run(fx: &Fixture, circuit: &SgdFoldCircuit<F>) -> (TestConstraintSystem<F>, Option<F>) {
    let mut cs = TestConstraintSystem::<F>::new();
    let z0 = fx.input.digest(&fx.hasher, &fx.layout);
    let z = AllocatedNum::alloc(cs.namespace(|| "z0"), || Ok(z0)).unwrap();
    let out = circuit.synthesize(&mut cs, &[z]).unwrap();
    (cs, out[0].get_value())
}

/// One honest proof and what it was proven against.
pub struct Setup {
    pub keys: TrainKeys,
    pub dkeys: DataKeys,
    pub data: PrivateData,
    /// The commitment proof of `data`.
    pub commitment_proof: Vec<u8>,
    pub statement: TrainingStatement,
    pub proven: ProvenUpdate,
}

/// The federation every test proof is made for.
pub const FEDERATION: &[u8] = b"test-federation";

/// Proves and verifies the commitment of `data`.
pub fn commit(dkeys: &DataKeys, data: &PrivateData) -> (VerifiedCommitment, Vec<u8>) {
    let (c, proof) = prove_commitment(dkeys, data).unwrap();
    (verify_commitment(dkeys, &c, &proof).unwrap(), proof)
}

/// Commits `rows` fixture rows (data seed `seed`, private `secret`), proves
/// the commitment and training from `global` in `round` for `participant`.
pub fn prove(spec: &TrainSpec, rows: usize, seed: u64, secret: [u8; 32], round: u64, participant: &[u8], global: Model) -> Setup {
    let layout = Layout::new(spec).unwrap();
    let keys = TrainKeys::for_training(&layout, KeySource::derive()).unwrap();
    let dkeys = DataKeys::for_commitment(&layout, KeySource::derive()).unwrap();
    let data = PrivateData::new(&layout, &fixtures::dataset(spec, rows, seed), secret).unwrap();
    let (commitment, commitment_proof) = commit(&dkeys, &data);
    let statement = Statement { federation: FEDERATION.to_vec(), round, participant: participant.to_vec(), data: commitment, global };
    let proven = prove_training(&keys, &statement, &data, |_, _| {}).unwrap();
    Setup { keys, dkeys, data, commitment_proof, statement, proven }
}

/// Whether verification refused (not merely errored).
pub fn rejected(r: Result<impl std::fmt::Debug, CircuitError>) -> bool {
    matches!(r, Err(CircuitError::Rejected(_)))
}

/// The setup's statement over another hospital's verified commitment (same
/// spec and row count, other data and secret).
pub fn other_commitment(s: &Setup, spec: &TrainSpec, rows: usize, seed: u64) -> TrainingStatement {
    let layout = Layout::new(spec).unwrap();
    let other = PrivateData::new(&layout, &fixtures::dataset(spec, rows, seed), [0xee; 32]).unwrap();
    let (c, _) = commit(&s.dkeys, &other);
    assert_ne!(c, s.statement.data);
    Statement { data: c, ..s.statement.clone() }
}
