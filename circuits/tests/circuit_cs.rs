//! Step circuits checked directly on a test constraint system: honest
//! witnesses satisfy them and reproduce the native state, forged ones don't.

use candor_circuits::commit_circuit::{commit_native, CommitCircuit};
use candor_circuits::hash::Hasher;
use candor_circuits::step::{Forgery, SgdFoldCircuit};
use candor_core::data::batches;
use candor_core::model::linear::LinearModel;
use candor_core::{Layout, Task};
use candor_prover::fixtures;
use ff::Field;
use nova_snark::frontend::num::AllocatedNum;
use nova_snark::frontend::test_cs::TestConstraintSystem;
use nova_snark::frontend::ConstraintSystem;
use nova_snark::traits::circuit::StepCircuit;
use std::sync::Arc;

mod common;
use common::{last_fold, run, Fixture, F};

fn fixture(task: Task, d: usize, b: usize, spf: usize) -> Fixture {
    let mut model = LinearModel::zeros(d);
    model.weights[0] = 300;
    model.bias = -100;
    last_fold(&fixtures::spec(task, d, b, spf), 3 * b * spf - 3, 7, 1000, model.into())
}

#[test]
fn honest_fold_satisfies_and_matches_native() {
    for task in [Task::Logistic, Task::Linear] {
        let fx = fixture(task, 5, 4, 2);
        let (cs, out) = run(&fx, &fx.circuit);
        assert!(cs.is_satisfied(), "{task:?}: {:?}", cs.which_is_unsatisfied());
        let native = fx.circuit.output().unwrap();
        assert_eq!(native.counter, 0, "the fold ends the epoch");
        assert_eq!(out, Some(native.digest(&fx.hasher, &fx.layout)));
        eprintln!("{task:?} d=5 B=4 spf=2: {} constraints", cs.num_constraints());
    }
}

/// Step-circuit constraints (without Nova's verifier circuit) per fold, for
/// the small test shape and the breast-cancer shape (30 features, batch 16).
#[test]
fn step_constraint_counts_are_pinned() {
    let mut got = vec![];
    for (task, d, b, spf, expect) in [
        (Task::Logistic, 5, 4, 2, 3947usize),
        (Task::Logistic, 30, 16, 1, 8543),
        (Task::Logistic, 30, 16, 4, 28262),
        (Task::Linear, 30, 16, 1, 9209),
    ] {
        let fx = fixture(task, d, b, spf);
        let (cs, _) = run(&fx, &fx.circuit);
        assert!(cs.is_satisfied());
        got.push((cs.num_constraints(), expect));
    }
    for (g, e) in got {
        assert_eq!(g, e);
    }
}

#[test]
fn forged_update_split_is_unsatisfiable() {
    let fx = fixture(Task::Logistic, 5, 4, 2);
    for param in [0, 5] {
        let (cs, _) = run(&fx, &fx.circuit.clone().forged(Forgery::UpdateSplit { step: 1, param }));
        assert!(!cs.is_satisfied(), "param {param}");
    }
}

#[test]
fn forged_pre_activation_is_unsatisfiable() {
    let fx = fixture(Task::Logistic, 5, 4, 2);
    let (cs, _) = run(&fx, &fx.circuit.clone().forged(Forgery::PreActivation { step: 0, row: 2 }));
    assert!(!cs.is_satisfied());
}

#[test]
fn data_not_matching_commitment_is_unsatisfiable() {
    let fx = fixture(Task::Logistic, 5, 4, 2);
    // one changed value in the last fold's data: the chain misses the commitment
    let mut circuit = fx.circuit.clone();
    let mut input = fx.input.clone();
    input.commitment += F::ONE;
    circuit = SgdFoldCircuit::new(fx.layout.clone(), fx.hasher.clone(), input.clone(), circuit_batches(&circuit), blinds(&circuit))
        .unwrap()
        .forged(Forgery::IgnoreCommitment);
    let mut cs = TestConstraintSystem::<F>::new();
    let z0 = input.digest(&fx.hasher, &fx.layout);
    let z = AllocatedNum::alloc(cs.namespace(|| "z0"), || Ok(z0)).unwrap();
    circuit.synthesize(&mut cs, &[z]).unwrap();
    assert_eq!(cs.which_is_unsatisfied(), Some("step1/epoch end hits commitment"));
    // and natively the prover refuses before proving
    assert!(fx.circuit.clone().output().is_ok());
    assert!(SgdFoldCircuit::new(fx.layout.clone(), fx.hasher.clone(), input, circuit_batches(&fx.circuit), blinds(&fx.circuit))
        .unwrap()
        .output()
        .is_err());
}

fn circuit_batches(c: &SgdFoldCircuit<F>) -> Vec<candor_core::data::Batch> {
    c.batches().to_vec()
}

fn blinds(c: &SgdFoldCircuit<F>) -> Vec<F> {
    c.blinds().to_vec()
}

#[test]
fn wrong_input_digest_is_unsatisfiable() {
    let fx = fixture(Task::Logistic, 5, 4, 2);
    let mut cs = TestConstraintSystem::<F>::new();
    let z = AllocatedNum::alloc(cs.namespace(|| "z0"), || Ok(F::from(5u64))).unwrap();
    fx.circuit.synthesize(&mut cs, &[z]).unwrap();
    assert!(!cs.is_satisfied());
}

#[test]
fn commit_circuit_matches_native_commitment() {
    let spec = fixtures::spec(Task::Logistic, 5, 4, 1);
    let layout = Arc::new(Layout::new(&spec).unwrap());
    let hasher = Hasher::<F>::default();
    let data = fixtures::dataset(&spec, 7, 3);
    let bs = batches(&layout, &data).unwrap();
    let blinds = [F::from(9u64), F::from(10u64)];
    let mut cs = TestConstraintSystem::<F>::new();
    let mut z = vec![
        AllocatedNum::alloc(cs.namespace(|| "h"), || Ok(candor_circuits::state::data_iv::<F>())).unwrap(),
        AllocatedNum::alloc(cs.namespace(|| "n"), || Ok(F::ZERO)).unwrap(),
    ];
    for (t, b) in bs.iter().enumerate() {
        let c = CommitCircuit::new(layout.clone(), hasher.clone(), b.clone(), blinds[t]);
        z = c.synthesize(&mut cs.namespace(|| format!("t{t}")), &z).unwrap();
    }
    assert!(cs.is_satisfied());
    assert_eq!(z[0].get_value(), Some(commit_native(&hasher, &layout, &bs, &blinds)));
    assert_eq!(z[1].get_value(), Some(F::from(7u64)));
}

#[test]
fn out_of_range_value_cannot_be_committed() {
    let spec = fixtures::spec(Task::Logistic, 5, 4, 1);
    let layout = Arc::new(Layout::new(&spec).unwrap());
    let mut data = fixtures::dataset(&spec, 4, 3);
    data.x[3] = spec.format.max() + 1;
    // natively: rejected with a clear error
    assert!(batches(&layout, &data).is_err());
    // in-circuit, the witness of a value is its bits, so an out-of-range
    // value cannot even be expressed: whatever a prover that skips the native
    // check proves is a commitment to other (in-range) values, never to the
    // packing of the raw out-of-range one.
    let hasher = Hasher::<F>::default();
    let batch = candor_core::data::Batch { x: data.x.clone(), y: data.y.clone(), mask: vec![true; 4] };
    let raw = commit_native(&hasher, &layout, std::slice::from_ref(&batch), &[F::ONE]);
    let c = CommitCircuit::new(layout, hasher, batch, F::ONE);
    let mut cs = TestConstraintSystem::<F>::new();
    let z = vec![
        AllocatedNum::alloc(cs.namespace(|| "h"), || Ok(candor_circuits::state::data_iv::<F>())).unwrap(),
        AllocatedNum::alloc(cs.namespace(|| "n"), || Ok(F::ZERO)).unwrap(),
    ];
    let out = c.synthesize(&mut cs, &z).unwrap();
    assert!(cs.is_satisfied());
    assert_ne!(out[0].get_value(), Some(raw));
}
