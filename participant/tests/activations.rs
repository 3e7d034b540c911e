//! Every activation has three definitions: the integer function in
//! `candor_core::activation`, the candle function in
//! `candor_participant::train::activation` and the gadget in
//! `candor_circuits::gadgets`. They agree on every input of the Q3.9 format
//! and a band beyond it on each side (where the activations saturate); the
//! gadgets' constraint systems are satisfied by the honest witness.
//! `softmax2` takes rows of logits, so it is checked on every value of the
//! format in the first position, with the others varying.

use candle_core::{Device, Tensor};
use candor_circuits::engine::Scalar;
use candor_circuits::field::fe;
use candor_circuits::gadgets::{self, enforce_eq, Bits, Lin};
use candor_core::{activation, FixedFormat, Layout, Task};
use candor_participant::train::activation as candle;
use candor_prover::fixtures;
use nova_snark::frontend::num::AllocatedNum;
use nova_snark::frontend::test_cs::TestConstraintSystem;
use nova_snark::frontend::{ConstraintSystem, Variable};

type Cs = TestConstraintSystem<Scalar>;

const FMT: FixedFormat = FixedFormat { frac_bits: 9, int_bits: 3 };

/// Every format value, and as many again beyond each end.
fn inputs() -> Vec<i128> {
    let span = i128::from(FMT.max()) - i128::from(FMT.min()) + 1;
    (i128::from(FMT.min()) - span..=i128::from(FMT.max()) + span).collect()
}

/// A pre-activation whose floor by `2^f` is `z`, with a remainder that
/// varies with `z` (the gadgets must ignore it).
fn pre_of(z: i128) -> i128 {
    (z << FMT.frac_bits) + (z * 7919).rem_euclid(1 << FMT.frac_bits)
}

/// Runs a gadget on the decomposition of `pre` (`width` bits) in a fresh
/// constraint system; the system must be satisfied.
fn gadget<T>(pre: i128, width: u32, f: impl FnOnce(&mut Cs, &Bits<Scalar>, Variable) -> T) -> T {
    let mut cs = Cs::new();
    let one = Cs::one();
    let num = AllocatedNum::alloc(cs.namespace(|| "pre"), || Ok(fe::<Scalar>(pre))).unwrap();
    let bits = Bits::alloc(cs.namespace(|| "bits"), pre, width).unwrap();
    enforce_eq(cs.namespace(|| "tie"), &Lin::num(&num), &bits.signed(one));
    let out = f(&mut cs, &bits, one);
    assert!(cs.is_satisfied(), "unsatisfied at pre = {pre}: {:?}", cs.which_is_unsatisfied());
    out
}

/// The candle function applied to all `z` at once, as integers.
fn on_candle(zs: &[i128], f: impl Fn(&Tensor) -> Result<Tensor, candor_participant::ParticipantError>) -> Vec<i128> {
    let t = Tensor::from_vec(zs.iter().map(|&z| z as f64).collect::<Vec<_>>(), zs.len(), &Device::Cpu).unwrap();
    f(&t).unwrap().to_vec1::<f64>().unwrap().into_iter().map(|v| v as i128).collect()
}

fn logistic_layout() -> Layout {
    Layout::new(&fixtures::spec(Task::Logistic, 4, 4, 1)).unwrap()
}

fn mlp_layout(classes: usize) -> Layout {
    Layout::new(&fixtures::mlp_spec(4, 3, classes, 4, 1)).unwrap()
}

#[test]
fn hard_sigmoid_three_ways() {
    let l = logistic_layout();
    assert_eq!(l.spec.format, FMT);
    let zs = inputs();
    let by_candle = on_candle(&zs, |t| candle::hard_sigmoid(t, FMT));
    for (&z, &c) in zs.iter().zip(&by_candle) {
        let native = activation::hard_sigmoid(z, FMT.frac_bits);
        assert_eq!(c, native, "candle at z = {z}");
        let g = gadget(pre_of(z), l.fwd_bits, |cs, bits, one| gadgets::hard_sigmoid(cs, bits, FMT.frac_bits, one).unwrap());
        assert_eq!(g.val, fe(native), "gadget at z = {z}");
    }
}

#[test]
fn relu_three_ways() {
    let l = mlp_layout(2);
    let zs = inputs();
    let clipped = on_candle(&zs, |t| candle::relu_clipped(t, FMT));
    let passes = on_candle(&zs, |t| candle::relu_passes(t, FMT));
    for (i, &z) in zs.iter().enumerate() {
        let (a, p) = (activation::relu_clipped(z, FMT), i128::from(activation::relu_passes(z, FMT)));
        assert_eq!((clipped[i], passes[i]), (a, p), "candle at z = {z}");
        let (ga, gp) = gadget(pre_of(z), l.fwd_bits, |cs, bits, _| gadgets::relu(cs, bits, &l).unwrap());
        assert_eq!((ga.val, gp.val), (fe(a), fe(p)), "gadget at z = {z}");
    }
}

#[test]
fn exp2_three_ways() {
    let l = mlp_layout(3);
    let width = l.mlp.unwrap().pre2_bits;
    let zs = inputs();
    let by_candle = on_candle(&zs, |t| candle::exp2_approx(t, FMT));
    for (&z, &c) in zs.iter().zip(&by_candle) {
        let native = activation::exp2_approx(z, FMT);
        assert_eq!(c, native, "candle at z = {z}");
        // exp2 reads the bits of z itself (softmax2 decomposes z - max)
        let g = gadget(z, width - FMT.frac_bits, |cs, bits, one| gadgets::exp2(cs, bits, &l, one).unwrap());
        assert_eq!(g.val, fe(native), "gadget at z = {z}");
    }
}

#[test]
fn softmax2_three_ways() {
    let l = mlp_layout(3);
    let (width, sum_bits) = (l.mlp.unwrap().pre2_bits, l.mlp.unwrap().sum_bits);
    let span = i128::from(FMT.max()) - i128::from(FMT.min()) + 1;
    let wrap = |v: i128| (v - i128::from(FMT.min())).rem_euclid(span) + i128::from(FMT.min());
    let rows: Vec<[i128; 3]> = (FMT.min()..=FMT.max()).map(i128::from).map(|z| [z, wrap(z * 37 + 11), wrap(-z / 3)]).collect();
    let flat: Vec<f64> = rows.iter().flatten().map(|&z| z as f64).collect();
    let t = Tensor::from_vec(flat, (rows.len(), 3), &Device::Cpu).unwrap();
    let by_candle = candle::softmax2(&t, FMT).unwrap().to_vec2::<f64>().unwrap();
    for (row, c) in rows.iter().zip(&by_candle) {
        let native = activation::softmax2(row, FMT);
        assert_eq!(c.iter().map(|&v| v as i128).collect::<Vec<_>>(), native, "candle at {row:?}");
        let pres: Vec<i128> = row.iter().map(|&z| pre_of(z)).collect();
        let mut cs = Cs::new();
        let one = Cs::one();
        let bits: Vec<Bits<Scalar>> =
            pres.iter().enumerate().map(|(k, &p)| Bits::alloc(cs.namespace(|| format!("z{k}")), p, width).unwrap()).collect();
        let q = gadgets::softmax2(&mut cs, &l, sum_bits, &bits, &pres, None, one).unwrap();
        assert!(cs.is_satisfied(), "unsatisfied at {row:?}");
        assert_eq!(q.iter().map(|v| v.val).collect::<Vec<_>>(), native.iter().map(|&v| fe(v)).collect::<Vec<_>>(), "gadget at {row:?}");
    }
}
