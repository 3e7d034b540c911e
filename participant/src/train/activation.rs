//! The activations on candle tensors of integers held in f64: the integer
//! definitions of `candor_core::activation`, bit for bit (checked on every
//! input of the format by `participant/tests/activations.rs`). Inputs are
//! format values `z = floor(pre / 2^f)`.

use crate::ParticipantError;
use candle_core::{DType, Tensor, D};
use candor_core::FixedFormat;

/// `clamp(1/2 + floor(z / 4), 0, 1)` in the format.
pub fn hard_sigmoid(z: &Tensor, fmt: FixedFormat) -> Result<Tensor, ParticipantError> {
    let one = fmt.one() as f64;
    Ok(z.affine(0.25, 0.0)?.floor()?.affine(1.0, one / 2.0)?.clamp(0.0, one)?)
}

/// `clamp(z, 0, MAX)`: ReLU clipped at the format's largest value.
pub fn relu_clipped(z: &Tensor, fmt: FixedFormat) -> Result<Tensor, ParticipantError> {
    Ok(z.clamp(0.0, fmt.max() as f64)?)
}

/// 1 where ReLU passes its input through (`0 <= z <= MAX`), else 0.
pub fn relu_passes(z: &Tensor, fmt: FixedFormat) -> Result<Tensor, ParticipantError> {
    let dtype = z.dtype();
    Ok((z.ge(0.0)?.to_dtype(dtype)? * z.le(fmt.max() as f64)?.to_dtype(dtype)?)?)
}

/// `exp2_approx`: with `u = clamp(z) - MIN = n 2^f + r`, `(2^f + r) 2^n`,
/// `2^n` as a product over the bits of `n` (exact, unlike `exp`).
pub fn exp2_approx(z: &Tensor, fmt: FixedFormat) -> Result<Tensor, ParticipantError> {
    let one = fmt.one() as f64;
    let u = (z.clamp(fmt.min() as f64, fmt.max() as f64)? - fmt.min() as f64)?;
    let n = u.affine(1.0 / one, 0.0)?.floor()?;
    let r = (u - n.affine(one, 0.0)?)?;
    let mut pow = n.ones_like()?;
    for j in 0..=fmt.int_bits {
        let hi = n.affine(1.0 / f64::from(1u32 << j), 0.0)?.floor()?;
        let bit = (&hi - hi.affine(0.5, 0.0)?.floor()?.affine(2.0, 0.0)?)?;
        pow = (pow * bit.affine(2f64.powi(1 << j) - 1.0, 1.0)?)?;
    }
    Ok((r.affine(1.0, one)? * pow)?)
}

/// `softmax2` on a `B x k` tensor of logits: `floor((2 e_k 2^f + S) / 2S)`
/// (`e_k 2^f / S` rounded to nearest), `e = exp2_approx(z - max_k z_k)`,
/// `S = sum_k e_k`. The division is exact in f64 (see [`super::mlp`]).
pub fn softmax2(z: &Tensor, fmt: FixedFormat) -> Result<Tensor, ParticipantError> {
    debug_assert_eq!(z.dtype(), DType::F64, "softmax2 is exact on f64 only");
    // the row's maximum subtracted, as `candor_core::activation::softmax2` does
    let z = z.broadcast_sub(&z.max_keepdim(D::Minus1)?)?;
    let e = exp2_approx(&z, fmt)?;
    let s = e.sum_keepdim(D::Minus1)?;
    let num = e.affine(2.0 * fmt.one() as f64, 0.0)?.broadcast_add(&s)?;
    Ok(num.broadcast_div(&s.affine(2.0, 0.0)?)?.floor()?)
}
