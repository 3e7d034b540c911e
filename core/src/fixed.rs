//! The one signed fixed-point format used by the trainer and the gadgets.
//!
//! A value `q` (an integer) stands for `q / 2^frac_bits`. Every rescaling
//! rounds toward negative infinity (floor), which is what an arithmetic right
//! shift does natively and what a quotient/remainder decomposition with a
//! non-negative remainder does in-circuit; a parameter update adds half the
//! divisor first, and so rounds to nearest (`Layout::update`), because its
//! error accumulates over every step of training.

use crate::CoreError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Signed fixed-point format: `1 + int_bits + frac_bits` bits in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedFormat {
    /// Fractional bits `f`: the integer `2^f` stands for 1.0.
    pub frac_bits: u32,
    /// Integer bits, not counting the sign: values lie in `[-2^int_bits, 2^int_bits)`.
    pub int_bits: u32,
}

impl Default for FixedFormat {
    fn default() -> Self {
        Self { frac_bits: 9, int_bits: 3 }
    }
}

impl fmt::Display for FixedFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Q{}.{}", self.int_bits, self.frac_bits)
    }
}

impl FixedFormat {
    /// Total width including the sign bit.
    pub fn total_bits(&self) -> u32 {
        1 + self.int_bits + self.frac_bits
    }

    /// The integer standing for 1.0.
    pub fn one(&self) -> i64 {
        1i64 << self.frac_bits
    }

    /// Smallest representable integer.
    pub fn min(&self) -> i64 {
        -(1i64 << (self.total_bits() - 1))
    }

    /// Largest representable integer.
    pub fn max(&self) -> i64 {
        (1i64 << (self.total_bits() - 1)) - 1
    }

    /// Whether an integer lies in the format's range.
    pub fn contains(&self, q: i128) -> bool {
        q >= self.min() as i128 && q <= self.max() as i128
    }

    /// `floor(v * 2^f)`, or an error when `v` is not finite or out of range.
    pub fn quantize(&self, v: f64) -> Result<i64, CoreError> {
        let scaled = (v * self.one() as f64).floor();
        if !scaled.is_finite() || scaled < self.min() as f64 || scaled > self.max() as f64 {
            return Err(CoreError::OutOfRange { value: v.to_string(), format: self.to_string() });
        }
        Ok(scaled as i64)
    }

    /// Like [`quantize`](Self::quantize) but clips finite values to the range
    /// first. Used for features, where winsorizing rare outliers is an
    /// explicit preprocessing choice; non-finite input is still an error.
    pub fn quantize_clipped(&self, v: f64) -> Result<i64, CoreError> {
        if !v.is_finite() {
            return Err(CoreError::OutOfRange { value: v.to_string(), format: self.to_string() });
        }
        let lo = self.min() as f64 / self.one() as f64;
        let hi = self.max() as f64 / self.one() as f64;
        self.quantize(v.clamp(lo, hi))
    }

    /// The real number an integer stands for.
    pub fn to_f64(&self, q: i64) -> f64 {
        q as f64 / self.one() as f64
    }
}

/// `floor(v / 2^k)`: an arithmetic shift, the floor rounding of the format.
pub fn floor_shift(v: i128, k: u32) -> i128 {
    v >> k
}

/// Number of bits of a signed range holding every value of magnitude at most
/// `bound`: the smallest `k` with `bound < 2^(k-1)`.
pub fn signed_bits_for(bound: u128) -> u32 {
    (128 - bound.leading_zeros()) + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn range_and_rounding() {
        let f = FixedFormat { frac_bits: 4, int_bits: 2 };
        assert_eq!((f.min(), f.max()), (-64, 63));
        assert_eq!(f.quantize(1.0).unwrap(), 16);
        // floor, not round-to-nearest, and floor toward -inf for negatives
        assert_eq!(f.quantize(0.99).unwrap(), 15);
        assert_eq!(f.quantize(-0.01).unwrap(), -1);
        assert!(f.quantize(4.0).is_err());
        assert!(f.quantize(f64::NAN).is_err());
        assert_eq!(f.quantize_clipped(100.0).unwrap(), 63);
        assert_eq!(f.quantize_clipped(-100.0).unwrap(), -64);
        assert!(f.quantize_clipped(f64::INFINITY).is_err());
    }

    #[test]
    fn signed_bits() {
        assert_eq!(signed_bits_for(0), 1);
        assert_eq!(signed_bits_for(1), 2);
        assert_eq!(signed_bits_for(127), 8);
        assert_eq!(signed_bits_for(128), 9);
    }

    proptest! {
        // floor_shift is floor division by 2^k for negative values too
        // (i128 `/` would truncate toward zero instead).
        #[test]
        fn floor_shift_is_floor(v in -(1i128 << 80)..(1i128 << 80), k in 0u32..40) {
            let d = 1i128 << k;
            prop_assert_eq!(floor_shift(v, k), v.div_euclid(d));
        }
    }
}
