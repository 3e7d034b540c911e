//! Fixed-point gadgets. Each value carries its witness alongside its linear
//! combination ([`Lin`]), so gadgets never re-derive witnesses.
//!
//! The one range check is [`Bits`]: a signed value proven to lie in
//! `[-2^(n-1), 2^(n-1))` by the `n` booleans of `value + 2^(n-1)`. Floor
//! rescaling, sign (for ReLU and the sigmoid's saturation) and overflow checks
//! all read that one decomposition.

use crate::field::{fe, pow2};
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

/// A signed value in `[-2^(n-1), 2^(n-1))`, held as the `n` bits of
/// `value + 2^(n-1)` (one booleanity constraint per bit). The caller ties
/// [`Bits::signed`] to the value with an equality; the bits are what make the
/// quotient and remainder of a floor division unique.
pub struct Bits<F: CircuitField> {
    bits: Vec<Lin<F>>,
}

impl<F: CircuitField> Bits<F> {
    /// Allocates the bits of `value + 2^(n-1)`. A value outside the range
    /// gets the bits of its residue, which cannot satisfy the caller's
    /// equality: the proof fails rather than proving a wrapped value.
    pub fn alloc<CS: ConstraintSystem<F>>(mut cs: CS, value: i128, n: u32) -> Result<Self, SynthesisError> {
        let u = value.wrapping_add(1i128 << (n - 1));
        let bits = (0..n)
            .map(|j| {
                let b = AllocatedBit::alloc(cs.namespace(|| format!("b{j}")), Some((u >> j) & 1 == 1))?;
                Ok(Lin::bit(&b))
            })
            .collect::<Result<Vec<_>, SynthesisError>>()?;
        Ok(Self { bits })
    }

    /// Width `n`.
    pub fn width(&self) -> u32 {
        self.bits.len() as u32
    }

    /// Bit `j` of `value + 2^(n-1)`.
    pub fn bit(&self, j: u32) -> &Lin<F> {
        &self.bits[j as usize]
    }

    /// `sum_{lo <= j < hi} bit_j 2^(j - lo)`: an unsigned bit field.
    pub fn field(&self, lo: u32, hi: u32) -> Lin<F> {
        (lo..hi).fold(Lin::zero(), |acc, j| acc.add_scaled(pow2(j - lo), self.bit(j)))
    }

    /// The signed value, `sum_j bit_j 2^j - 2^(n-1)`.
    pub fn signed(&self, one: Variable) -> Lin<F> {
        self.field(0, self.width()).add(&Lin::constant(-pow2::<F>(self.width() - 1), one))
    }

    /// `floor(value / 2^k)` as a signed value: the high bits, re-centred.
    pub fn floor_shift(&self, k: u32, one: Variable) -> Lin<F> {
        self.field(k, self.width()).add(&Lin::constant(-pow2::<F>(self.width() - 1 - k), one))
    }

    /// Sum of bits `lo..hi` (a count, for saturation tests).
    pub fn count(&self, lo: u32, hi: u32) -> Lin<F> {
        (lo..hi).fold(Lin::zero(), |acc, j| acc.add(self.bit(j)))
    }
}

/// A value proven to lie in `[0, 2^n)`: the combination of its `n` bits
/// (one booleanity constraint each), with the integer it stands for.
pub struct Unsigned<F: CircuitField> {
    /// `sum_j bit_j 2^j`.
    pub lin: Lin<F>,
    /// The witness integer (its residue mod `2^n` if out of range, which
    /// then fails the caller's equality).
    pub value: i128,
}

/// Allocates the `n` bits of an unsigned value.
pub fn alloc_unsigned<F: CircuitField, CS: ConstraintSystem<F>>(cs: CS, value: i128, n: u32) -> Result<Unsigned<F>, SynthesisError> {
    let bits = Bits::alloc(cs, value.wrapping_sub(1i128 << (n - 1)), n)?;
    Ok(Unsigned { lin: bits.field(0, n), value: value.rem_euclid(1i128 << n) })
}

/// Constant helper: the field element of an integer as a [`Lin`].
pub fn constant<F: CircuitField>(v: i128, one: Variable) -> Lin<F> {
    Lin::constant(fe(v), one)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ff::Field;
    use nova_snark::frontend::test_cs::TestConstraintSystem;
    use nova_snark::provider::PallasEngine;
    use nova_snark::traits::Engine;
    type F = <PallasEngine as Engine>::Scalar;

    /// Floor-divides `value` by 2^k with a decomposition whose witness is the
    /// given `value_claim`, then checks the quotient against `q`.
    fn floor_div_cs(value: i128, value_claim: i128, k: u32, n: u32) -> (TestConstraintSystem<F>, i128) {
        let mut cs = TestConstraintSystem::<F>::new();
        let one = TestConstraintSystem::<F>::one();
        let v = AllocatedNum::alloc(cs.namespace(|| "v"), || Ok(fe::<F>(value))).unwrap();
        let bits = Bits::alloc(cs.namespace(|| "bits"), value_claim, n).unwrap();
        enforce_eq(cs.namespace(|| "tie"), &Lin::num(&v), &bits.signed(one));
        let q = bits.floor_shift(k, one);
        let q_int = (0..n).fold(0i128, |acc, j| acc + (((value_claim + (1 << (n - 1))) >> j) & 1) * (1 << j)) - (1 << (n - 1));
        assert_eq!(q.val, fe::<F>(q_int >> k));
        (cs, q_int >> k)
    }

    #[test]
    fn floor_division_matches_native() {
        for v in [-1000i128, -17, -16, -1, 0, 1, 15, 16, 999] {
            let (cs, q) = floor_div_cs(v, v, 4, 12);
            assert!(cs.is_satisfied(), "{v}");
            assert_eq!(q, candor_core::fixed::floor_shift(v, 4));
            assert_eq!(cs.num_constraints(), 12 + 1);
        }
    }

    #[test]
    fn out_of_range_value_is_unsatisfiable() {
        // 2048 does not fit 12 signed bits: its residue cannot equal it
        let (cs, _) = floor_div_cs(2048, 2048, 4, 12);
        assert!(!cs.is_satisfied());
    }

    #[test]
    fn forged_quotient_is_unsatisfiable() {
        // claim another quotient/remainder split of the same value
        let (cs, _) = floor_div_cs(100, 100 + 16, 4, 12);
        assert!(!cs.is_satisfied());
    }

    #[test]
    fn is_zero_flags() {
        for (v, expect) in [(0i128, F::ONE), (5, F::ZERO), (-3, F::ZERO)] {
            let mut cs = TestConstraintSystem::<F>::new();
            let a = AllocatedNum::alloc(cs.namespace(|| "a"), || Ok(fe::<F>(v))).unwrap();
            let z = is_zero(cs.namespace(|| "z"), &Lin::num(&a)).unwrap();
            assert_eq!(z.val, expect);
            assert!(cs.is_satisfied());
        }
    }
}
