//! The MLP step circuit on a test constraint system: honest folds satisfy it
//! and reproduce the integer reference (`candor_core::model::mlp`) exactly, through
//! ReLU and softmax saturation; forged witnesses (hidden pre-activation,
//! ReLU sign, softmax quotient, hidden-weight update) do not.

use candor_circuits::commit_circuit::{commit_native, CommitCircuit};
use candor_circuits::hash::Hasher;
use candor_circuits::step::MlpForgery;
use candor_circuits::step::{advance, Forgery};
use candor_core::data::{batches, Batch};
use candor_core::fixed::floor_shift;
use candor_core::model::Trace;
use candor_core::{Layout, Model, TrainSpec};
use candor_prover::fixtures;
use nova_snark::frontend::num::AllocatedNum;
use nova_snark::frontend::test_cs::TestConstraintSystem;
use nova_snark::frontend::ConstraintSystem;
use nova_snark::traits::circuit::StepCircuit;
use std::sync::Arc;

mod common;
use common::{last_fold, run, Fixture, F};

/// A fold at the end of the epoch, from the seeded initial MLP with a few
/// large weights so that hidden units and logits saturate.
fn fixture(spec: TrainSpec, saturate: bool) -> Fixture {
    let (b, spf) = (spec.batch_size, spec.steps_per_fold);
    let Model::Mlp(mut mlp) = Model::initial(&spec) else { panic!("an MLP spec") };
    if saturate {
        let (h, k) = (mlp.shape.hidden, mlp.shape.outputs);
        mlp.w1[0] = 3000; // feature 0 -> unit 0
        mlp.w1[h] = 3000; // feature 1 -> unit 0
        mlp.w2[0] = 3000; // unit 0 -> output 0
        if k > 1 {
            mlp.w2[1] = -3000; // unit 0 -> output 1
        }
    }
    last_fold(&spec, 3 * b * spf - 1, 11, 500, Model::Mlp(mlp))
}

/// The traces of the fold's steps, natively.
fn traces(fx: &Fixture) -> Vec<candor_core::model::mlp::MlpTrace> {
    let mut st = fx.input.clone();
    let mut out = vec![];
    for (batch, blind) in fx.circuit.batches().iter().zip(fx.circuit.blinds()) {
        let (next, trace) = advance(&fx.hasher, &fx.layout, &st, batch, *blind).unwrap();
        let Trace::Mlp(t) = trace else { panic!("an MLP trace") };
        out.push(t);
        st = next;
    }
    out
}

#[test]
fn honest_mlp_folds_satisfy_and_match_the_reference() {
    for classes in [3, 0] {
        let fx = fixture(fixtures::mlp_spec(5, 4, classes, 4, 2), true);
        let (cs, out) = run(&fx, &fx.circuit);
        assert!(cs.is_satisfied(), "classes {classes}: {:?}", cs.which_is_unsatisfied());
        let native = fx.circuit.output().unwrap();
        assert_eq!(native.counter, 0, "the fold ends the epoch");
        assert_ne!(native.model, fx.input.model, "training moved the model");
        assert_eq!(out, Some(native.digest(&fx.hasher, &fx.layout)));
        // the fold exercised every branch of ReLU and of the softmax clamp
        let fmt = fx.layout.spec.format;
        let f = fmt.frac_bits;
        let ts = traces(&fx);
        let z1: Vec<i128> = ts.iter().flat_map(|t| t.pre1.iter().map(|&p| floor_shift(p, f))).collect();
        assert!(z1.iter().any(|&z| z < 0) && z1.iter().any(|&z| z > i128::from(fmt.max())));
        assert!(z1.iter().any(|&z| (0..=i128::from(fmt.max())).contains(&z)));
        if classes > 0 {
            let z2: Vec<i128> = ts.iter().flat_map(|t| t.pre2.iter().map(|&p| floor_shift(p, f))).collect();
            assert!(z2.iter().any(|&z| z > i128::from(fmt.max())), "{z2:?}");
            assert!(z2.iter().any(|&z| z < i128::from(fmt.min())), "{z2:?}");
        }
        eprintln!("MLP 5-4-{classes} B=4 spf=2: {} constraints", cs.num_constraints());
    }
}

/// Step-circuit constraints per fold (without Nova's verifier circuit),
/// pinned per architecture: a change to any gadget shows here.
#[test]
fn mlp_constraint_counts_are_pinned() {
    let mut got = vec![];
    for (d, h, classes, b, expect) in [
        (5, 4, 3, 4, 6692usize),
        (5, 4, 0, 4, 4844),
        (30, 16, 0, 16, 51204),   // breast cancer 30-16-1
        (64, 16, 10, 16, 120526), // digits 64-16-10
    ] {
        let fx = fixture(fixtures::mlp_spec(d, h, classes, b, 1), false);
        let (cs, _) = run(&fx, &fx.circuit);
        assert!(cs.is_satisfied(), "{d}-{h}-{classes}: {:?}", cs.which_is_unsatisfied());
        eprintln!("MLP {d}-{h}-{classes} B={b}: {} constraints, {} MACs", cs.num_constraints(), fx.layout.macs_per_step());
        got.push((cs.num_constraints(), expect));
    }
    for (g, e) in got {
        assert_eq!(g, e);
    }
}

fn forged_fails(forgery: Forgery, classes: usize) {
    let fx = fixture(fixtures::mlp_spec(5, 4, classes, 4, 2), true);
    let (cs, _) = run(&fx, &fx.circuit.clone().forged(forgery));
    assert!(!cs.is_satisfied(), "{forgery:?} satisfied the circuit");
}

#[test]
fn forged_hidden_pre_activation_is_unsatisfiable() {
    forged_fails(Forgery::Mlp { step: 0, forgery: MlpForgery::HiddenPre { row: 1, unit: 2 } }, 3);
}

#[test]
fn forged_relu_sign_is_unsatisfiable() {
    for unit in [0, 3] {
        forged_fails(Forgery::Mlp { step: 1, forgery: MlpForgery::ReluSign { row: 2, unit } }, 3);
    }
}

#[test]
fn forged_softmax_quotient_is_unsatisfiable() {
    forged_fails(Forgery::Mlp { step: 0, forgery: MlpForgery::SoftmaxQuotient { row: 0, class: 1 } }, 3);
}

#[test]
fn forged_hidden_weight_update_is_unsatisfiable() {
    // W1[1][2] (a hidden weight), b1[0], W2[0][0] and the last output bias
    let n = Model::initial(&fixtures::mlp_spec(5, 4, 3, 4, 2)).params().len();
    for param in [4 + 2, 5 * 4, 5 * 4 + 4, n - 1] {
        forged_fails(Forgery::UpdateSplit { step: 1, param }, 3);
        forged_fails(Forgery::UpdateSplit { step: 0, param: param.min(5 * 4 + 4 + 3) }, 0);
    }
}

#[test]
fn one_hot_labels_are_committed_and_checked() {
    let spec = fixtures::mlp_spec(3, 2, 4, 4, 1);
    let layout = Arc::new(Layout::new(&spec).unwrap());
    let hasher = Hasher::<F>::default();
    let data = fixtures::dataset(&spec, 4, 5);
    let bs = batches(&layout, &data).unwrap();
    let synth = |batch: Batch| {
        let mut cs = TestConstraintSystem::<F>::new();
        let z = vec![
            AllocatedNum::alloc(cs.namespace(|| "h"), || Ok(candor_circuits::state::data_iv::<F>())).unwrap(),
            AllocatedNum::alloc(cs.namespace(|| "n"), || Ok(F::from(0u64))).unwrap(),
        ];
        let out = CommitCircuit::new(layout.clone(), hasher.clone(), batch, F::from(3u64)).synthesize(&mut cs, &z).unwrap();
        (cs.is_satisfied(), out[0].get_value())
    };
    let (ok, root) = synth(bs[0].clone());
    assert!(ok);
    assert_eq!(root, Some(commit_native(&hasher, &layout, &bs[..1], &[F::from(3u64)])));
    // a label outside the classes has no one-hot encoding: unsatisfiable
    let mut bad = bs[0].clone();
    bad.y[1] = 4;
    assert!(!synth(bad).0);
}
