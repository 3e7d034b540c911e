//! Multinomial logistic regression in-circuit: honest folds satisfy the step
//! circuit and reproduce the integer reference
//! (`candor_core::model::softmax`) exactly, through the softmax clamp on
//! both sides; forged witnesses (logit, softmax quotient, weight and bias
//! updates) do not; an end-to-end Nova proof verifies and attests the
//! reference model, and its tampered twins are rejected.

use candor_circuits::engine::{KeySource, TrainKeys};
use candor_circuits::step::{advance, Forgery};
use candor_circuits::verifier::{verify_training, TrainingStatement};
use candor_core::fixed::floor_shift;
use candor_core::model::linear::LinearModel;
use candor_core::model::Trace;
use candor_core::{CoreError, Layout, Model, Task, TrainSpec};
use candor_prover::fixtures;
use std::sync::OnceLock;

mod common;
use common::{last_fold, other_commitment, prove, rejected, run, Fixture, Setup};

/// 5 features, 3 classes, batch 4, two steps per fold.
fn small() -> TrainSpec {
    fixtures::softmax_spec(5, 3, 4, 2)
}

/// The epoch's last fold, from zeros or from a model with large weights on
/// the first two features so that logits leave the format on both sides.
fn fixture(spec: TrainSpec, saturate: bool) -> Fixture {
    let (b, spf) = (spec.batch_size, spec.steps_per_fold);
    let Model::Softmax(mut m) = Model::initial(&spec) else { panic!("a softmax regression spec") };
    if saturate {
        let k = m.classes;
        m.weights[0] = 3000; // feature 0 -> class 0
        m.weights[k] = 3000; // feature 1 -> class 0
        m.weights[1] = -3000; // feature 0 -> class 1
    }
    last_fold(&spec, 3 * b * spf - 1, 11, 500, Model::Softmax(m))
}

#[test]
fn honest_folds_satisfy_and_match_the_reference() {
    let fx = fixture(small(), true);
    let (cs, out) = run(&fx, &fx.circuit);
    assert!(cs.is_satisfied(), "{:?}", cs.which_is_unsatisfied());
    let native = fx.circuit.output().unwrap();
    assert_eq!(native.counter, 0, "the fold ends the epoch");
    assert_ne!(native.model, fx.input.model, "training moved the model");
    assert_eq!(out, Some(native.digest(&fx.hasher, &fx.layout)));
    // the fold exercised the softmax clamp above and below the format
    let fmt = fx.layout.spec.format;
    let mut st = fx.input.clone();
    let mut z = vec![];
    for (batch, blind) in fx.circuit.batches().iter().zip(fx.circuit.blinds()) {
        let (next, trace) = advance(&fx.hasher, &fx.layout, &st, batch, *blind).unwrap();
        let Trace::Softmax(t) = trace else { panic!("a softmax regression trace") };
        z.extend(t.pre.iter().map(|&p| floor_shift(p, fmt.frac_bits)));
        st = next;
    }
    assert!(z.iter().any(|&v| v > i128::from(fmt.max())) && z.iter().any(|&v| v < i128::from(fmt.min())), "{z:?}");
    assert!(z.iter().any(|&v| fmt.contains(v)));
}

/// Step-circuit constraints per fold (without Nova's verifier circuit): a
/// change to any gadget shows here.
#[test]
fn constraint_counts_are_pinned() {
    let mut got = vec![];
    for (d, k, b, expect) in [(5, 3, 4, 4723usize), (64, 10, 16, 72474)] {
        let fx = fixture(fixtures::softmax_spec(d, k, b, 1), false);
        let (cs, _) = run(&fx, &fx.circuit);
        assert!(cs.is_satisfied(), "{d}-{k}: {:?}", cs.which_is_unsatisfied());
        eprintln!("softmax regression {d}-{k} B={b}: {} constraints, {} MACs", cs.num_constraints(), fx.layout.macs_per_step());
        got.push((cs.num_constraints(), expect));
    }
    for (g, e) in got {
        assert_eq!(g, e);
    }
}

fn forged_fails(forgery: Forgery) {
    let fx = fixture(small(), true);
    let (cs, _) = run(&fx, &fx.circuit.clone().forged(forgery));
    assert!(!cs.is_satisfied(), "{forgery:?} satisfied the circuit");
}

#[test]
fn forged_logit_quotient_and_updates_are_unsatisfiable() {
    forged_fails(Forgery::PreActivation { step: 0, row: 2 });
    for (row, class) in [(0, 0), (3, 2)] {
        forged_fails(Forgery::SoftmaxQuotient { step: 1, row, class });
    }
    // W[0][0], W[4][2] and the last bias
    for param in [0, 4 * 3 + 2, 5 * 3 + 2] {
        forged_fails(Forgery::UpdateSplit { step: 1, param });
    }
}

#[test]
fn labels_outside_the_classes_are_refused() {
    let l = Layout::new(&small()).unwrap();
    let mut data = fixtures::dataset(&small(), 4, 1);
    data.y[2] = 3;
    assert!(matches!(data.validate(&l), Err(CoreError::InvalidData(_))));
}

/// 4 features, 3 classes: 15 parameters.
fn proof_spec() -> TrainSpec {
    fixtures::softmax_spec(4, 3, 4, 2)
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| prove(&proof_spec(), 13, 2, [9; 32], 2, b"hospital-b", Model::initial(&proof_spec())))
}

#[test]
fn honest_proof_verifies_and_attests_the_reference_model() {
    let s = setup();
    let v = verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &s.proven.proof).unwrap();
    let layout = Layout::new(&proof_spec()).unwrap();
    let mut m = s.statement.global.clone();
    for b in s.data.batches() {
        m = m.step(&layout, b).unwrap();
    }
    assert_eq!(v.model(), &m);
    assert_ne!(v.model(), &s.statement.global);
    assert_eq!(v.samples(), 13);
    assert_eq!(s.keys.pp.num_constraints(), (17216, 10349));
    assert_eq!(s.keys.digest_hex(), "35c966659e2c38015f3fa59e18082df0d99adb71612976ffe6b63815a63e8902");
}

#[test]
fn tampered_twins_are_rejected() {
    let s = setup();
    let (m, n, proof) = (&s.proven.model, s.proven.samples, &s.proven.proof);
    for i in [0, 7, 14] {
        // a weight of class 0, one of class 1, the last bias
        let mut p = m.params();
        p[i] += 1;
        assert!(rejected(verify_training(&s.keys, &s.statement, &m.with_params(&p).unwrap(), n, proof)), "param {i}");
    }
    assert!(rejected(verify_training(&s.keys, &s.statement, m, n + 1, proof)));
    let mut st = s.statement.clone();
    st.round += 1;
    assert!(rejected(verify_training(&s.keys, &st, m, n, proof)));
    let st = other_commitment(s, &proof_spec(), 13, 77);
    assert!(rejected(verify_training(&s.keys, &st, m, n, proof)));
    let mut st = s.statement.clone();
    st.global = m.clone(); // another starting model
    assert!(rejected(verify_training(&s.keys, &st, m, n, proof)));
}

#[test]
fn proof_checked_as_another_architecture_is_rejected() {
    let s = setup();
    // logistic regression on 14 features also has 15 parameters
    let other = TrainSpec { model: candor_core::ModelSpec::linear(14, Task::Logistic), ..proof_spec() };
    let keys = TrainKeys::for_training(&Layout::new(&other).unwrap(), KeySource::derive()).unwrap();
    let linear = |m: &Model| Model::Linear(LinearModel::from_params(&m.params()).unwrap());
    let st = TrainingStatement { global: linear(&s.statement.global), ..s.statement.clone() };
    assert!(rejected(verify_training(&keys, &st, &linear(&s.proven.model), s.proven.samples, &s.proven.proof)));
}
