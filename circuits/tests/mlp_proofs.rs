//! End-to-end Nova proofs of MLP training (softmax output) on a small shape:
//! the honest proof verifies and attests exactly the integer reference;
//! tampered twins, and the proof checked against another architecture, are
//! rejected.

use candor_circuits::engine::{KeySource, TrainKeys};
use candor_circuits::verifier::{verify_training, TrainingStatement};
use candor_circuits::CircuitError;
use candor_core::{model::mlp::Mlp, MlpShape};
use candor_core::{Layout, Model, TrainSpec};
use candor_prover::fixtures;
use std::sync::OnceLock;

mod common;
use common::{other_commitment, prove, rejected, Setup};

/// 4 features, 3 hidden units, 3 classes: 27 parameters.
fn spec() -> TrainSpec {
    fixtures::mlp_spec(4, 3, 3, 4, 2)
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| prove(&spec(), 13, 2, [9; 32], 2, b"hospital-b", Model::initial(&spec())))
}

#[test]
fn honest_mlp_proof_verifies_and_attests_the_reference_model() {
    let s = setup();
    let v = verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &s.proven.proof).unwrap();
    let layout = Layout::new(&spec()).unwrap();
    let mut m = s.statement.global.clone();
    for b in s.data.batches() {
        m = m.step(&layout, b).unwrap();
    }
    assert_eq!(v.model(), &m);
    assert_ne!(v.model(), &s.statement.global);
    assert_eq!(v.samples(), 13);
    assert!(s.proven.proof.len() < 32 * 1024, "{} bytes", s.proven.proof.len());
}

#[test]
fn mlp_parameter_digest_and_constraint_counts_are_pinned() {
    let s = setup();
    assert_eq!(s.keys.pp.num_constraints(), (19586, 10349));
    assert_eq!(s.keys.digest_hex(), "00dc47ad54b5e6a96b2ae61bd4cb4a252c7db834067ccd2cfee4df482f897a00");
}

#[test]
fn changed_hidden_weight_is_rejected() {
    let s = setup();
    let mut p = s.proven.model.params();
    p[5] += 1; // W1[1][2]
    let m = s.proven.model.with_params(&p).unwrap();
    assert!(rejected(verify_training(&s.keys, &s.statement, &m, s.proven.samples, &s.proven.proof)));
}

#[test]
fn mlp_twins_inflated_count_replayed_round_wrong_commitment_are_rejected() {
    let s = setup();
    let (m, n, proof) = (&s.proven.model, s.proven.samples, &s.proven.proof);
    assert!(rejected(verify_training(&s.keys, &s.statement, m, n + 1, proof)));
    let mut st = s.statement.clone();
    st.round += 1;
    assert!(rejected(verify_training(&s.keys, &st, m, n, proof)));
    let st = other_commitment(s, &spec(), 13, 77);
    assert!(rejected(verify_training(&s.keys, &st, m, n, proof)));
}

#[test]
fn proof_checked_against_another_architecture_is_rejected() {
    let s = setup();
    // 2 features, 5 hidden units, 2 classes: also 27 parameters, so the very
    // same numbers are a valid model of it
    let mut other = spec();
    other.model = candor_core::ModelSpec::mlp(2, 5, candor_core::Task::Softmax, 2);
    let layout = Layout::new(&other).unwrap();
    let keys = TrainKeys::for_training(&layout, KeySource::derive()).unwrap();
    assert_ne!(keys.digest_hex(), s.keys.digest_hex());
    let shape = MlpShape { features: 2, hidden: 5, outputs: 2 };
    let reshape = |m: &Model| Model::Mlp(Mlp::from_params(shape, &m.params()).unwrap());
    let st = TrainingStatement { global: reshape(&s.statement.global), ..s.statement.clone() };
    let r = verify_training(&keys, &st, &reshape(&s.proven.model), s.proven.samples, &s.proven.proof);
    assert!(matches!(r, Err(CircuitError::Rejected(_))), "{r:?}");
    // and the original statement does not even fit the other architecture
    assert!(rejected(verify_training(&keys, &s.statement, &s.proven.model, s.proven.samples, &s.proven.proof)));
}
