//! Saturation tests from a decomposition's high bits, shared by the hard
//! sigmoid and `exp2`.

use super::{constant, is_zero, mul, Bits, Lin};
use crate::CircuitField;
use nova_snark::frontend::{ConstraintSystem, SynthesisError, Variable};

/// `[pre >= 2^t]` and `[pre < -2^t]` from the bits of `pre` (`t < n - 1`):
/// above zero, some bit from `t` up is set; below, not all of them are.
pub(crate) fn saturation<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    pre: &Bits<F>,
    t: u32,
    one: Variable,
) -> Result<(Lin<F>, Lin<F>), SynthesisError> {
    let n = pre.width();
    let sign = pre.bit(n - 1).clone();
    let high = pre.count(t, n - 1);
    let none_high = is_zero(cs.namespace(|| "none_high"), &high)?;
    let all_high = is_zero(cs.namespace(|| "all_high"), &high.clone().add(&constant(-i128::from(n - 1 - t), one)))?;
    let not = |x: &Lin<F>| Lin::constant(F::ONE, one).add_scaled(-F::ONE, x);
    let pos = mul(cs.namespace(|| "pos"), &sign, &not(&none_high))?;
    let neg = mul(cs.namespace(|| "neg"), &not(&sign), &not(&all_high))?;
    Ok((Lin::num(&pos), Lin::num(&neg)))
}
