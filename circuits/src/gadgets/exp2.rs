//! `exp2_approx`, the exponential inside `softmax2`; its integer definition
//! is `candor_core::activation::exp2_approx`.

use super::{constant, mul, saturation::saturation, Bits, Lin};
use crate::field::fe;
use crate::CircuitField;
use candor_core::activation::exp2_approx;
use candor_core::Layout;
use nova_snark::frontend::{ConstraintSystem, SynthesisError, Variable};

/// `exp2_approx(z)` from the bits of the format value `z` itself: with
/// `u = clamp(z) - MIN = n 2^f + r`, `(2^f + r) 2^n`. In range, `r` is bits
/// `0..f` of the decomposition and `n` bits `f..K-1` plus the sign bit on
/// top; out of range the saturated constants are selected. `softmax2`
/// decomposes its shifted logits `z - max` this way, `f` bits narrower than
/// a pre-activation's decomposition.
pub fn exp2<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    z: &Bits<F>,
    l: &Layout,
    one: Variable,
) -> Result<Lin<F>, SynthesisError> {
    let fmt = l.spec.format;
    let (f, kb) = (fmt.frac_bits, l.value_bits);
    let n = z.width();
    let (pos, neg) = saturation(cs, z, kb - 1, one)?;
    let r = z.field(0, f);
    let mut nbits: Vec<Lin<F>> = (f..kb - 1).map(|j| z.bit(j).clone()).collect();
    nbits.push(z.bit(n - 1).clone());
    let factor = |q: usize, b: &Lin<F>| Lin::constant(F::ONE, one).add_scaled(fe::<F>((1i128 << (1u32 << q)) - 1), b);
    let mut power = factor(0, &nbits[0]);
    for (q, b) in nbits.iter().enumerate().skip(1) {
        power = Lin::num(&mul(cs.namespace(|| format!("pow{q}")), &power, &factor(q, b))?);
    }
    let raw = Lin::num(&mul(cs.namespace(|| "raw"), &r.add(&constant(1 << f, one)), &power)?);
    let saturated = pos.clone().add(&neg);
    let sel = Lin::num(&mul(cs.namespace(|| "sel"), &saturated, &raw)?);
    let (e_max, e_min) = (exp2_approx(i128::from(fmt.max()), fmt), exp2_approx(i128::from(fmt.min()), fmt));
    Ok(raw.add_scaled(-F::ONE, &sel).add_scaled(fe(e_max), &pos).add_scaled(fe(e_min), &neg))
}
