//! `softmax2`, the softmax head of the MLP and of softmax regression; its
//! integer definition is `candor_core::activation::softmax2`.

use super::{alloc_lin, alloc_unsigned, constant, enforce_eq, exp2, mul, Bits, Lin};
use crate::field::pow2;
use crate::CircuitField;
use candor_core::activation::exp2_approx;
use candor_core::fixed::floor_shift;
use candor_core::Layout;
use nova_snark::frontend::{ConstraintSystem, SynthesisError, Variable};

/// `softmax2` of one row's logits `z_k = floor(pre_k / 2^f)`: with `m` the
/// row's largest logit and `e_k = exp2(z_k - m)`,
/// `q_k = floor((2 e_k 2^f + S) / 2S)` (`e_k 2^f / S` rounded to nearest),
/// `S = sum e`.
///
/// The maximum: `m` is a range-checked integer; each shifted logit
/// `z_k - m` gets its own decomposition (which `exp2` reads), each is
/// proven at most 0 (one constraint: it is negative or all its bits below
/// the top are zero), and the product of the
/// `z_k - m` is zero (`k - 1` products), so one of them is 0: `m` can only
/// be the maximum. The quotient: `q_k 2S + rem_k = 2 e_k 2^f + S` with
/// `0 <= rem_k < 2S` (two unsigned decompositions) and `q_k` range-checked
/// so that nothing wraps: as integers, that equation with that range has one
/// solution.
pub fn softmax2<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    sum_bits: u32,
    pre2: &[Bits<F>],
    pre2_native: &[i128],
    forged: Option<usize>,
    one: Variable,
) -> Result<Vec<Lin<F>>, SynthesisError> {
    let f = l.spec.format.frac_bits;
    let max = pre2_native.iter().map(|&p| floor_shift(p, f)).max().unwrap_or(0);
    softmax2_shifted(cs, l, sum_bits, (pre2, pre2_native), max, forged, one)
}

/// [`softmax2`] with the row's maximum given: anything but the maximum is
/// unsatisfiable (the tampered twins call it with another).
fn softmax2_shifted<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    sum_bits: u32,
    (pre2, pre2_native): (&[Bits<F>], &[i128]),
    max: i128,
    forged: Option<usize>,
    one: Variable,
) -> Result<Vec<Lin<F>>, SynthesisError> {
    let fmt = l.spec.format;
    let f = fmt.frac_bits;
    let Some(width) = pre2.first().map(|b| b.width()) else {
        return Ok(vec![]);
    };
    // |z| < 2^(width - 1 - f): m fits width - f bits, z - m one more
    let zw = width - f;
    let m = Bits::alloc(cs.namespace(|| "max"), max, zw)?.signed(one);
    let mut shifted = Vec::with_capacity(pre2.len());
    let mut product: Option<Lin<F>> = None;
    for (c, bits) in pre2.iter().enumerate() {
        let mut cs = cs.namespace(|| format!("shift{c}"));
        let v = Bits::alloc(cs.namespace(|| "bits"), floor_shift(pre2_native[c], f) - max, zw + 1)?;
        enforce_eq(cs.namespace(|| "eq"), &v.signed(one), &bits.floor_shift(f, one).add_scaled(-F::ONE, &m));
        // z - m <= 0: the top bit (set for values >= 0) times the bits
        // below it is zero
        let (top, low) = (v.bit(zw), v.field(0, zw));
        cs.enforce(|| "nonpositive", |_| top.lc.clone(), |_| low.lc.clone(), |lc| lc);
        let z = v.signed(one);
        product = Some(match product {
            None => z,
            Some(p) if c + 1 < pre2.len() => Lin::num(&mul(cs.namespace(|| "prod"), &p, &z)?),
            Some(p) => {
                // the last factor: the product of all of them is zero
                cs.enforce(|| "max_attained", |_| p.lc.clone(), |_| z.lc.clone(), |lc| lc);
                Lin::zero()
            }
        });
        shifted.push(v);
    }
    if pre2.len() == 1 {
        // one class: its logit is the maximum
        let z = product.expect("one class");
        enforce_eq(cs.namespace(|| "max_attained"), &z, &Lin::zero());
    }
    let shifted_native: Vec<i128> = pre2_native.iter().map(|&p| floor_shift(p, f) - max).collect();
    quotients(cs, l, sum_bits, (&shifted, &shifted_native), forged, one)
}

/// `exp2` of each shifted logit (its bits and value) and the rounded
/// quotients.
fn quotients<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    sum_bits: u32,
    (zs, zs_native): (&[Bits<F>], &[i128]),
    forged: Option<usize>,
    one: Variable,
) -> Result<Vec<Lin<F>>, SynthesisError> {
    let fmt = l.spec.format;
    let f = fmt.frac_bits;
    let mut exps = Vec::with_capacity(zs.len());
    let mut native = Vec::with_capacity(zs.len());
    for (c, bits) in zs.iter().enumerate() {
        let e = exp2(&mut cs.namespace(|| format!("exp{c}")), bits, l, one)?;
        native.push(exp2_approx(zs_native[c], fmt));
        exps.push(Lin::num(&alloc_lin(cs.namespace(|| format!("e{c}")), &e)?));
    }
    let s = exps.iter().fold(Lin::zero(), |acc, e| acc.add(e));
    let two_s = 2 * native.iter().sum::<i128>();
    let s2 = s.clone().scale(F::from(2));
    let mut out = Vec::with_capacity(exps.len());
    for (c, e) in exps.iter().enumerate() {
        let mut cs = cs.namespace(|| format!("div{c}"));
        let num = (native[c] << (f + 1)) + two_s / 2;
        let (mut q, mut rem) = (num.div_euclid(two_s), num.rem_euclid(two_s));
        if forged == Some(c) {
            (q, rem) = (q + 1, rem - two_s);
        }
        let q = Bits::alloc(cs.namespace(|| "q"), q, f + 2)?.signed(one);
        let rem = alloc_unsigned(cs.namespace(|| "rem"), rem, sum_bits + 1)?;
        let gap = alloc_unsigned(cs.namespace(|| "gap"), two_s - 1 - rem.value, sum_bits + 1)?;
        // gap = 2S - 1 - rem: with both non-negative, rem < 2S
        let expect = s2.clone().add(&constant(-1, one)).add_scaled(-F::ONE, &rem.lin);
        enforce_eq(cs.namespace(|| "gap_eq"), &gap.lin, &expect);
        // q 2S = 2 e 2^f + S - rem
        let rhs = e.clone().scale(pow2(f + 1)).add(&s).add_scaled(-F::ONE, &rem.lin);
        cs.enforce(|| "q*2S", |_| q.lc.clone(), |_| s2.lc.clone(), |_| rhs.lc.clone());
        out.push(q);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::fe;
    use candor_core::activation::softmax2 as reference;
    use candor_core::{FixedFormat, ModelSpec, Task, TrainSpec};
    use nova_snark::frontend::test_cs::TestConstraintSystem;
    use nova_snark::provider::PallasEngine;
    use nova_snark::traits::Engine;
    type F = <PallasEngine as Engine>::Scalar;

    fn layout() -> Layout {
        let mut model = ModelSpec::linear(4, Task::Softmax);
        model.classes = 3;
        let spec = TrainSpec { model, format: FixedFormat::default(), learning_rate: 0.5, batch_size: 4, epochs: 1, steps_per_fold: 1 };
        Layout::new(&spec).unwrap()
    }

    /// Synthesizes one row's softmax2 with `max` as the claimed maximum.
    fn row(pre: &[i128], max: i128) -> (TestConstraintSystem<F>, Vec<F>) {
        let l = layout();
        let mut cs = TestConstraintSystem::<F>::new();
        let one = TestConstraintSystem::<F>::one();
        let bits: Vec<Bits<F>> =
            pre.iter().enumerate().map(|(c, &p)| Bits::alloc(cs.namespace(|| format!("pre{c}")), p, l.fwd_bits).unwrap()).collect();
        let sum_bits = l.softmax_sum_bits.unwrap();
        let q = softmax2_shifted(&mut cs, &l, sum_bits, (&bits, pre), max, None, one).unwrap();
        (cs, q.iter().map(|q| q.val).collect())
    }

    #[test]
    fn honest_rows_match_the_reference_and_saturated_logits_do_not_distort_it() {
        let f = FixedFormat::default();
        // in range, tied, far beyond the format's top (z up to 40.0), far below
        for pre in [[0, 0, 0], [300 << 9, -5 << 9, 7], [40 << 18, 39 << 18, -(30 << 18)], [-(50 << 18), -(50 << 18) + 1, -(60 << 18)]] {
            let max = pre.iter().map(|&p| p >> 9).max().unwrap();
            let (cs, q) = row(&pre, max);
            assert!(cs.is_satisfied(), "{pre:?}: {:?}", cs.which_is_unsatisfied());
            let z: Vec<i128> = pre.iter().map(|&p| p >> 9).collect();
            assert_eq!(q, reference(&z, f).into_iter().map(fe::<F>).collect::<Vec<_>>(), "{pre:?}");
        }
        // two logits of 39.0 and 40.0 are told apart, as in float (a clamp
        // at 8.0 made them equal)
        let p = reference(&[40 << 9, 39 << 9, -(30 << 9)], f);
        assert!(p[0] > p[1] && p[1] > p[2], "{p:?}");
    }

    #[test]
    fn a_claimed_maximum_other_than_the_maximum_is_unsatisfiable() {
        let pre = [300 << 9, -(5 << 9), 7];
        let max = 300;
        for wrong in [max - 1, max + 1, 0, -5] {
            let (cs, _) = row(&pre, wrong);
            assert!(!cs.is_satisfied(), "claimed maximum {wrong}");
        }
    }
}
