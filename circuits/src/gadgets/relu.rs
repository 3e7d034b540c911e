//! The clipped ReLU of the MLP's hidden layer; its integer definition is
//! `candor_core::activation::relu_clipped` (and `relu_passes`).

use super::{is_zero, mul, Bits, Lin};
use crate::field::fe;
use crate::CircuitField;
use candor_core::Layout;
use nova_snark::frontend::{ConstraintSystem, SynthesisError};

/// Clipped ReLU `clamp(z, 0, MAX)` of `z = floor(pre / 2^f)` and the flag
/// `0 <= z <= MAX` (where the hidden error passes), from the bits of `pre`:
/// the top bit is the sign, and `z <= MAX` iff the bits from `f + K - 1` up
/// are clear; four constraints.
pub fn relu<F: CircuitField, CS: ConstraintSystem<F>>(cs: &mut CS, pre: &Bits<F>, l: &Layout) -> Result<(Lin<F>, Lin<F>), SynthesisError> {
    let (f, kb) = (l.spec.format.frac_bits, l.value_bits);
    let n = pre.width();
    let sign = pre.bit(n - 1).clone();
    let top = (f + kb - 1).min(n - 1);
    let none_high = is_zero(cs.namespace(|| "none_high"), &pre.count(top, n - 1))?;
    let pass = Lin::num(&mul(cs.namespace(|| "pass"), &sign, &none_high)?);
    let low = pre.field(f, top);
    let max = fe::<F>(i128::from(l.spec.format.max()));
    // a = pass z + (sign - pass) MAX
    let a = Lin::num(&mul(cs.namespace(|| "a"), &pass, &low)?).add_scaled(max, &sign).add_scaled(-max, &pass);
    Ok((a, pass))
}
