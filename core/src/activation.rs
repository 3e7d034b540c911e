//! The activations, as integer functions on fixed-point values: the
//! definitions that the candle trainers (`candor_participant::train::activation`)
//! and the gadgets (`candor_circuits::gadgets::{hard_sigmoid, relu, exp2,
//! softmax}`) reproduce bit for bit, checked on every input of the format by
//! `participant/tests/activations.rs`.

use crate::fixed::floor_shift;
use crate::FixedFormat;

/// Piecewise-linear sigmoid on a format value `z`:
/// `clamp(1/2 + floor(z / 4), 0, 1)`. It equals the logistic function at 0
/// and is within 0.12 of it everywhere; as a gradient `sigma(z) - y` it
/// stops pushing rows classified with margin `|z| >= 2`.
pub fn hard_sigmoid(z: i128, frac_bits: u32) -> i128 {
    let one = 1i128 << frac_bits;
    (one / 2 + floor_shift(z, 2)).clamp(0, one)
}

/// `clamp(z, 0, MAX)`: ReLU clipped at the format's largest value.
pub fn relu_clipped(z: i128, format: FixedFormat) -> i128 {
    z.clamp(0, i128::from(format.max()))
}

/// Where ReLU passes its input through: `0 <= z <= MAX`.
pub fn relu_passes(z: i128, format: FixedFormat) -> bool {
    (0..=i128::from(format.max())).contains(&z)
}

/// `2^z` interpolated linearly between integers, on `z` clamped to the
/// format, offset by `2^(2^int_bits)` so that it is an integer: with
/// `u = clamp(z) - MIN = n 2^f + r` (`0 <= r < 2^f`), it is `(2^f + r) 2^n`.
/// In a circuit `n` and `r` are bit fields of `u` and `2^n` a product over
/// the bits of `n`. Relative error against `2^z`: below 6.2%.
pub fn exp2_approx(z: i128, format: FixedFormat) -> i128 {
    let f = format.frac_bits;
    let u = z.clamp(i128::from(format.min()), i128::from(format.max())) - i128::from(format.min());
    let (n, r) = (u >> f, u & ((1 << f) - 1));
    ((1i128 << f) + r) << n
}

/// Probabilities in the format: `p_k = e_k 2^f / S` rounded to nearest
/// (ties up), i.e. `floor((2 e_k 2^f + S) / 2S)`, with
/// `e_k = exp2_approx(z_k - max_j z_j)` and `S = sum_k e_k` (at least
/// `2^(f + 2^int_bits)`, never zero), a constrained division in a circuit
/// (quotient and remainder, the remainder range-checked below `2S`). This is
/// the softmax of `z ln 2`, up to the interpolation and the rounding; it
/// sums to `2^f` within half a unit per class.
///
/// Why the maximum is subtracted (issue 24): `exp2_approx` clamps at the
/// format's top, and a row whose true logit was clamped kept a constant
/// error, pushing the same weights every step until one overflowed; after
/// the shift every argument is at most 0, so nothing saturates at the top
/// and the softmax is invariant to a common shift, as in float. Why the
/// quotient is rounded: a row classified with a wide margin gets exactly
/// `1.0` and zeros, so its gradient vanishes (with a floor it stayed a unit
/// short of `1.0`).
pub fn softmax2(z: &[i128], format: FixedFormat) -> Vec<i128> {
    let m = z.iter().copied().max().unwrap_or(0);
    let e: Vec<i128> = z.iter().map(|&v| exp2_approx(v - m, format)).collect();
    let s: i128 = e.iter().sum();
    e.iter().map(|&v| ((v << (format.frac_bits + 1)) + s).div_euclid(2 * s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FMT: FixedFormat = FixedFormat { frac_bits: 9, int_bits: 3 };

    #[test]
    fn exp2_is_exact_at_integers_and_close_between() {
        let one = 512i128;
        // z = 0: u = 8.0, (2^f + 0) 2^8
        assert_eq!(exp2_approx(0, FMT), 512 << 8);
        assert_eq!(exp2_approx(one, FMT), 512 << 9);
        assert_eq!(exp2_approx(-3 * one, FMT), 512 << 5);
        // clamped outside the format
        assert_eq!(exp2_approx(100 * one, FMT), exp2_approx(i128::from(FMT.max()), FMT));
        assert_eq!(exp2_approx(-100 * one, FMT), 512);
        let mut worst = 0f64;
        for z in FMT.min()..=FMT.max() {
            let exact = 2f64.powf(FMT.to_f64(z) + 8.0) * 512.0;
            worst = worst.max((exp2_approx(i128::from(z), FMT) as f64 / exact - 1.0).abs());
        }
        assert!(worst < 0.062, "relative error {worst}");
    }

    #[test]
    fn softmax2_tracks_float_softmax_of_z_ln2() {
        let mut worst = 0f64;
        let logits: [[f64; 3]; 5] = [[0.0, 0.0, 0.0], [1.0, 0.0, -1.0], [3.5, -2.25, 0.5], [-7.0, 7.5, 0.0], [20.0, -20.0, 0.0]];
        for z in logits {
            let q: Vec<i128> = z.iter().map(|&v| i128::from(FMT.quantize_clipped(v).unwrap())).collect();
            let p = softmax2(&q, FMT);
            let total: i128 = p.iter().sum();
            // each of the 3 rounded to nearest: within 1.5 units of 1.0
            assert!((512 - 1..=512 + 1).contains(&total), "{z:?}: sums to {total}");
            // float softmax of the clamped logits in base 2
            let zc: Vec<f64> = q.iter().map(|&v| FMT.to_f64(v as i64)).collect();
            let s: f64 = zc.iter().map(|v| v.exp2()).sum();
            for (pk, zk) in p.iter().zip(&zc) {
                worst = worst.max((*pk as f64 / 512.0 - zk.exp2() / s).abs());
            }
        }
        assert!(worst < 0.05, "max abs error {worst}");
        // ordering is kept
        let p = softmax2(&[300, 100, -100], FMT);
        assert!(p[0] > p[1] && p[1] > p[2]);
    }
}
