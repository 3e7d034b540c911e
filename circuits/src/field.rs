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

/// `2^k` in the field. (Built from integers rather than by exponentiation:
/// witness generation calls it for every bit of every decomposition.)
pub fn pow2<F: PrimeField>(k: u32) -> F {
    let mut acc = F::ONE;
    let mut left = k;
    while left > 127 {
        acc *= F::from_u128(1 << 127);
        left -= 127;
    }
    acc * F::from_u128(1 << left)
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

#[cfg(test)]
mod tests {
    use super::*;
    use ff::Field;
    use nova_snark::provider::PallasEngine;
    use nova_snark::traits::Engine;
    type F = <PallasEngine as Engine>::Scalar;

    #[test]
    fn powers_of_two_are_exponentiations() {
        for k in 0..=600 {
            assert_eq!(pow2::<F>(k), F::from(2u64).pow_vartime([u64::from(k)]), "2^{k}");
        }
    }
}
