//! The one range check: a signed value's bits, which also give its floor
//! rescaling, its sign and its saturation tests.

use super::Lin;
use crate::field::pow2;
use crate::CircuitField;
use nova_snark::frontend::{AllocatedBit, ConstraintSystem, SynthesisError, Variable};

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
        let mut coeff = F::ONE;
        (lo..hi).fold(Lin::zero(), |acc, j| {
            let next = acc.add_scaled(coeff, self.bit(j));
            coeff = coeff.double();
            next
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::fe;
    use crate::gadgets::enforce_eq;
    use crate::gadgets::is_zero;
    use ff::Field;
    use nova_snark::frontend::num::AllocatedNum;
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
