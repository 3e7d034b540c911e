//! Fixed-point gadgets. Each value carries its witness alongside its linear
//! combination ([`Lin`]), so gadgets never re-derive witnesses.
//!
//! The one range check is [`Bits`]: a signed value proven to lie in
//! `[-2^(n-1), 2^(n-1))` by the `n` booleans of `value + 2^(n-1)`. Floor
//! rescaling, sign (for ReLU and the sigmoid's saturation) and overflow checks
//! all read that one decomposition.

mod bits;
mod exp2;
mod hard_sigmoid;
mod relu;
mod saturation;
mod slots;
mod softmax;

pub use bits::{alloc_unsigned, Bits, Unsigned};
pub use exp2::exp2;
pub use hard_sigmoid::hard_sigmoid;
pub use relu::relu;
pub(crate) use slots::{claim_one, claim_slots, pack_lin};
pub use softmax::softmax2;

use crate::field::fe;
use crate::CircuitField;
use nova_snark::frontend::{num::AllocatedNum, AllocatedBit, ConstraintSystem, LinearCombination, SynthesisError, Variable};

/// A linear combination together with its value.
#[derive(Clone, Debug)]
pub struct Lin<F: CircuitField> {
    /// The combination of circuit variables.
    pub lc: LinearCombination<F>,
    /// Its value under the witness.
    pub val: F,
}

impl<F: CircuitField> Lin<F> {
    /// Zero.
    pub fn zero() -> Self {
        Self { lc: LinearCombination::zero(), val: F::ZERO }
    }

    /// The constant `c` (`one` is the constraint system's one-variable).
    pub fn constant(c: F, one: Variable) -> Self {
        Self { lc: LinearCombination::zero() + (c, one), val: c }
    }

    /// An allocated number.
    pub fn num(n: &AllocatedNum<F>) -> Self {
        Self { lc: LinearCombination::from_variable(n.get_variable()), val: n.get_value().unwrap_or(F::ZERO) }
    }

    /// An allocated bit.
    pub fn bit(b: &AllocatedBit) -> Self {
        let val = if b.get_value().unwrap_or(false) { F::ONE } else { F::ZERO };
        Self { lc: LinearCombination::from_variable(b.get_variable()), val }
    }

    /// `self + c * other`.
    pub fn add_scaled(mut self, c: F, other: &Lin<F>) -> Self {
        for (var, coeff) in other.lc.iter() {
            self.lc = self.lc + (c * coeff, var);
        }
        self.val += c * other.val;
        self
    }

    /// `self + other`.
    // a method beside `add_scaled` rather than an `Add` impl, so that both
    // read alike where terms are accumulated
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, other: &Lin<F>) -> Self {
        self.add_scaled(F::ONE, other)
    }

    /// `c * self`.
    pub fn scale(self, c: F) -> Self {
        Lin::zero().add_scaled(c, &self)
    }
}

/// Allocates a boolean (one constraint).
pub fn alloc_bit<F: CircuitField, CS: ConstraintSystem<F>>(cs: CS, value: bool) -> Result<Lin<F>, SynthesisError> {
    Ok(Lin::bit(&AllocatedBit::alloc(cs, Some(value))?))
}

/// Allocates `a * b` (one constraint).
pub fn mul<F: CircuitField, CS: ConstraintSystem<F>>(mut cs: CS, a: &Lin<F>, b: &Lin<F>) -> Result<AllocatedNum<F>, SynthesisError> {
    let prod = AllocatedNum::alloc(cs.namespace(|| "prod"), || Ok(a.val * b.val))?;
    cs.enforce(|| "a*b", |_| a.lc.clone(), |_| b.lc.clone(), |lc| lc + prod.get_variable());
    Ok(prod)
}

/// Allocates a number equal to `a` (one constraint), e.g. to absorb it.
pub fn alloc_lin<F: CircuitField, CS: ConstraintSystem<F>>(mut cs: CS, a: &Lin<F>) -> Result<AllocatedNum<F>, SynthesisError> {
    let n = AllocatedNum::alloc(cs.namespace(|| "num"), || Ok(a.val))?;
    enforce_eq(cs, &a.clone(), &Lin::num(&n));
    Ok(n)
}

/// Enforces `a == b` (one constraint).
pub fn enforce_eq<F: CircuitField, CS: ConstraintSystem<F>>(mut cs: CS, a: &Lin<F>, b: &Lin<F>) {
    cs.enforce(|| "eq", |_| a.lc.clone(), |lc| lc + CS::one(), |_| b.lc.clone());
}

/// Returns a bit that is 1 exactly when `a == 0` (two constraints).
pub fn is_zero<F: CircuitField, CS: ConstraintSystem<F>>(mut cs: CS, a: &Lin<F>) -> Result<Lin<F>, SynthesisError> {
    let zero = bool::from(a.val.is_zero());
    let flag = AllocatedNum::alloc(cs.namespace(|| "flag"), || Ok(if zero { F::ONE } else { F::ZERO }))?;
    let inv = AllocatedNum::alloc(cs.namespace(|| "inv"), || Ok(a.val.invert().unwrap_or(F::ZERO)))?;
    // a * inv = 1 - flag: flag is 1 if a = 0, and 0 if a has an inverse
    cs.enforce(|| "a*inv = 1-flag", |_| a.lc.clone(), |lc| lc + inv.get_variable(), |lc| lc + CS::one() - flag.get_variable());
    // a * flag = 0: flag must be 0 when a != 0
    cs.enforce(|| "a*flag = 0", |_| a.lc.clone(), |lc| lc + flag.get_variable(), |lc| lc);
    Ok(Lin::num(&flag))
}

/// Constant helper: the field element of an integer as a [`Lin`].
pub fn constant<F: CircuitField>(v: i128, one: Variable) -> Lin<F> {
    Lin::constant(fe(v), one)
}
