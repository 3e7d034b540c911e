//! `softmax2`, the softmax head of the MLP and of softmax regression; its
//! integer definition is `candor_core::activation::softmax2`.

use super::{alloc_lin, alloc_unsigned, constant, enforce_eq, exp2, Bits, Lin};
use crate::field::pow2;
use crate::CircuitField;
use candor_core::activation::exp2_approx;
use candor_core::fixed::floor_shift;
use candor_core::Layout;
use nova_snark::frontend::{ConstraintSystem, SynthesisError, Variable};

/// `softmax2` of one row's logits: `q_k = floor(e_k 2^f / S)`, `S = sum e`,
/// proven by `q_k S + rem_k = e_k 2^f` with `0 <= rem_k < S` (two unsigned
/// decompositions) and `q_k` range-checked so that nothing wraps.
pub fn softmax2<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    sum_bits: u32,
    pre2: &[Bits<F>],
    pre2_native: &[i128],
    forged: Option<usize>,
    one: Variable,
) -> Result<Vec<Lin<F>>, SynthesisError> {
    let fmt = l.spec.format;
    let f = fmt.frac_bits;
    let mut exps = Vec::with_capacity(pre2.len());
    let mut native = Vec::with_capacity(pre2.len());
    for (c, bits) in pre2.iter().enumerate() {
        let e = exp2(&mut cs.namespace(|| format!("exp{c}")), bits, l, one)?;
        native.push(exp2_approx(floor_shift(pre2_native[c], f), fmt));
        exps.push(Lin::num(&alloc_lin(cs.namespace(|| format!("e{c}")), &e)?));
    }
    let s = exps.iter().fold(Lin::zero(), |acc, e| acc.add(e));
    let s_int: i128 = native.iter().sum();
    let mut out = Vec::with_capacity(exps.len());
    for (c, e) in exps.iter().enumerate() {
        let mut cs = cs.namespace(|| format!("div{c}"));
        let (mut q, mut rem) = ((native[c] << f).div_euclid(s_int), (native[c] << f).rem_euclid(s_int));
        if forged == Some(c) {
            (q, rem) = (q + 1, rem - s_int);
        }
        let q = Bits::alloc(cs.namespace(|| "q"), q, f + 2)?.signed(one);
        let rem = alloc_unsigned(cs.namespace(|| "rem"), rem, sum_bits)?;
        let gap = alloc_unsigned(cs.namespace(|| "gap"), s_int - 1 - rem.value, sum_bits)?;
        // gap = S - 1 - rem: with both non-negative, rem < S
        let expect = s.clone().add(&constant(-1, one)).add_scaled(-F::ONE, &rem.lin);
        enforce_eq(cs.namespace(|| "gap_eq"), &gap.lin, &expect);
        let rhs = e.clone().scale(pow2(f)).add_scaled(-F::ONE, &rem.lin);
        cs.enforce(|| "q*S", |_| q.lc.clone(), |_| s.lc.clone(), |_| rhs.lc.clone());
        out.push(q);
    }
    Ok(out)
}
