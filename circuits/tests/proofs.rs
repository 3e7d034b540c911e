//! End-to-end Nova proofs on a small spec: an honest proof verifies, and
//! each tampered twin is rejected.

use candor_circuits::engine::{DataKeys, TrainKeys};
use candor_circuits::fixtures;
use candor_circuits::prover::{prove_commitment, prove_training, PrivateData};
use candor_circuits::verifier::{verify_commitment, verify_training, DataCommitment};
use candor_circuits::CircuitError;
use candor_core::sgd::LinearModel;
use candor_core::{Layout, Task, TrainSpec};
use std::sync::OnceLock;

mod common;
use common::{prove, rejected, Setup};

fn spec() -> TrainSpec {
    fixtures::spec(Task::Logistic, 5, 4, 2)
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let mut global = LinearModel::zeros(5);
        global.weights[1] = -200;
        prove(&spec(), 13, 1, [7; 32], 3, b"hospital-a", global.into())
    })
}

#[test]
fn honest_proof_verifies_and_attests_the_reference_model() {
    let s = setup();
    let v = verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &s.proven.proof).unwrap();
    // the integer reference over the same batches gives the same model
    let layout = Layout::new(&spec()).unwrap();
    let mut m = s.statement.global.clone();
    for b in s.data.batches() {
        m = m.step(&layout, b).unwrap();
    }
    assert_eq!(v.model(), &m);
    assert_eq!(v.samples(), 13);
    assert_eq!((v.round(), v.participant()), (3, &b"hospital-a"[..]));
    assert!(s.proven.proof.len() < 32 * 1024, "{} bytes", s.proven.proof.len());
}

/// Any change to the circuit changes these, and breaks every deployed
/// verifier: it must be deliberate.
#[test]
fn parameter_digest_and_constraint_counts_are_pinned() {
    let s = setup();
    assert_eq!(s.keys.pp.num_constraints(), (13763, 10349));
    assert_eq!(s.keys.digest_hex(), "0431a2d33c39975aed0ffa13a8b54cd87d39880227ec2a604e05c85f929cf903");
}

#[test]
fn changed_weight_is_rejected() {
    let s = setup();
    let mut p = s.proven.model.params();
    p[2] += 1;
    let m = s.proven.model.with_params(&p).unwrap();
    assert!(rejected(verify_training(&s.keys, &s.statement, &m, s.proven.samples, &s.proven.proof)));
}

#[test]
fn inflated_sample_count_is_rejected() {
    let s = setup();
    assert!(rejected(verify_training(&s.keys, &s.statement, &s.proven.model, 14, &s.proven.proof)));
}

#[test]
fn different_starting_model_is_rejected() {
    let s = setup();
    let mut st = s.statement.clone();
    let mut p = st.global.params();
    *p.last_mut().unwrap() += 1;
    st.global = st.global.with_params(&p).unwrap();
    assert!(rejected(verify_training(&s.keys, &st, &s.proven.model, s.proven.samples, &s.proven.proof)));
}

#[test]
fn replayed_round_or_other_participant_is_rejected() {
    let s = setup();
    let mut st = s.statement.clone();
    st.round = 4;
    assert!(rejected(verify_training(&s.keys, &st, &s.proven.model, s.proven.samples, &s.proven.proof)));
    let mut st = s.statement.clone();
    st.participant = b"hospital-b".to_vec();
    assert!(rejected(verify_training(&s.keys, &st, &s.proven.model, s.proven.samples, &s.proven.proof)));
}

#[test]
fn wrong_commitment_is_rejected() {
    let s = setup();
    let mut st = s.statement.clone();
    st.data.root.0[0] ^= 1;
    assert!(rejected(verify_training(&s.keys, &st, &s.proven.model, s.proven.samples, &s.proven.proof)));
}

#[test]
fn changed_data_row_cannot_be_proven() {
    let s = setup();
    let layout = Layout::new(&spec()).unwrap();
    let mut data = fixtures::dataset(&spec(), 13, 1);
    data.x[7] += 1;
    let changed = PrivateData::new(&layout, &data, [7; 32]).unwrap();
    // against the registered commitment the prover refuses, and the circuit
    // itself cannot close an epoch on other data (see circuit_cs tests)
    let r = prove_training(&s.keys, &s.statement, &changed, |_, _| {});
    assert!(matches!(r, Err(CircuitError::Core(_))));
}

#[test]
fn different_learning_rate_is_rejected() {
    let s = setup();
    let mut other = spec();
    other.learning_rate = 0.25;
    let keys = TrainKeys::for_training(&Layout::new(&other).unwrap(), None).unwrap();
    assert_ne!(keys.digest_hex(), s.keys.digest_hex());
    assert!(rejected(verify_training(&keys, &s.statement, &s.proven.model, s.proven.samples, &s.proven.proof)));
}

#[test]
fn corrupted_proof_bytes_are_an_error_not_a_panic() {
    let s = setup();
    let p = &s.proven.proof;
    for pos in (0..p.len()).step_by(p.len() / 24 + 1).chain([p.len() - 1]) {
        let mut bad = p.clone();
        bad[pos] ^= 0x5a;
        let r = verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &bad);
        assert!(r.is_err(), "flipped byte {pos} accepted");
    }
    assert!(verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &p[..p.len() / 2]).is_err());
    assert!(verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &[]).is_err());
}

#[test]
fn commitment_proof_verifies_and_binds_row_count() {
    let s = setup();
    let layout = Layout::new(&spec()).unwrap();
    let keys = DataKeys::for_commitment(&layout, None).unwrap();
    let (c, proof) = prove_commitment(&keys, &s.data).unwrap();
    assert_eq!(c, s.statement.data);
    verify_commitment(&keys, &c, &proof).unwrap();
    let inflated = DataCommitment { rows: c.rows + 1, ..c };
    assert!(rejected(verify_commitment(&keys, &inflated, &proof)));
    let mut other = c;
    other.root.0[1] ^= 1;
    assert!(verify_commitment(&keys, &other, &proof).is_err());
}
