//! The hard sigmoid of logistic regression and of a one-output MLP; its
//! integer definition is `candor_core::activation::hard_sigmoid`.

use super::{constant, saturation::saturation, Bits, Lin};
use crate::field::pow2;
use crate::CircuitField;
use nova_snark::frontend::{num::AllocatedNum, ConstraintSystem, SynthesisError, Variable};

/// `clamp(1/2 + floor(z/4), 0, 1)` of `z = floor(pre / 2^f)`, from the bits
/// of `pre`; seven constraints (four for the saturation tests).
///
/// `z >= 2` iff `pre >= 2^(2f+1)`, `z < -2` iff `pre < -2^(2f+1)`: the
/// [`saturation`] tests at `2f + 1`. The value inside is a bit field of `z`,
/// free.
pub fn hard_sigmoid<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    pre: &Bits<F>,
    f: u32,
    one: Variable,
) -> Result<Lin<F>, SynthesisError> {
    let inside = pre.floor_shift(f + 2, one).add(&constant(1 << (f - 1), one));
    let (pos, neg) = saturation(cs, pre, 2 * f + 1, one)?;
    // (pos + neg) * inside = inside + pos * 2^f - s
    let sat = pos.clone().add(&neg);
    let s_val = inside.val + pos.val * pow2::<F>(f) - sat.val * inside.val;
    let s = AllocatedNum::alloc(cs.namespace(|| "sigma"), || Ok(s_val))?;
    let rhs = inside.clone().add_scaled(pow2(f), &pos).add_scaled(-F::ONE, &Lin::num(&s));
    cs.enforce(|| "select", |_| sat.lc.clone(), |_| inside.lc.clone(), |_| rhs.lc.clone());
    Ok(Lin::num(&s))
}
