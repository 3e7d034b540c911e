//! Integers to field elements, and the slot packing shared by the native
//! side and the circuits.

use ff::PrimeField;

/// The field element of a signed integer (negatives wrap to `p - |v|`).
pub fn fe<F: PrimeField>(v: i128) -> F {
    let m = F::from_u128(v.unsigned_abs());
    if v < 0 {
        -m
    } else {
        m
    }
}

/// `2^k` in the field.
pub fn pow2<F: PrimeField>(k: u32) -> F {
    F::from(2u64).pow_vartime([u64::from(k)])
}

/// `sum_j v_j 2^(width j)`: signed values packed into slots of `width` bits.
/// Injective on values of magnitude below `2^(width-1)` as long as the
/// slots use at most [`candor_core::layout::FIELD_PACK_BITS`] bits.
pub fn pack<F: PrimeField>(values: impl IntoIterator<Item = i128>, width: u32) -> F {
    let step = pow2::<F>(width);
    let mut acc = F::ZERO;
    let mut coeff = F::ONE;
    for v in values {
        acc += coeff * fe::<F>(v);
        coeff *= step;
    }
    acc
}

/// A canonical byte encoding of a field element (little-endian repr).
pub fn to_bytes<F: PrimeField>(x: &F) -> Vec<u8> {
    x.to_repr().as_ref().to_vec()
}

/// Parses [`to_bytes`]; `None` if not canonical.
pub fn from_bytes<F: PrimeField>(bytes: &[u8]) -> Option<F> {
    let mut repr = F::Repr::default();
    if repr.as_ref().len() != bytes.len() {
        return None;
    }
    repr.as_mut().copy_from_slice(bytes);
    F::from_repr(repr).into()
}
