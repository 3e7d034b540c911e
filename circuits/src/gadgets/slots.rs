//! Packed slots: values packed for free by powers of two, and their claims
//! (one decomposition per slot, equated with a product sum).

use super::{enforce_eq, Bits, Lin};
use crate::field::pow2;
use crate::CircuitField;
use nova_snark::frontend::{ConstraintSystem, SynthesisError, Variable};

/// `sum_{b in rows} 2^(width (b - start)) v_b`: free packing of values.
pub(crate) fn pack_lin<F: CircuitField>(values: impl Iterator<Item = (usize, Lin<F>)>, width: u32) -> Lin<F> {
    values.fold(Lin::zero(), |acc, (slot, v)| acc.add_scaled(pow2(width * slot as u32), &v))
}

/// Allocates one decomposition of `width` bits per slot value and returns
/// them with their sum packed in slots of `slot_bits`, to be equated with the
/// product sum. (Update values are decomposed narrower than their slots: the
/// decomposition's high bits are the new weight, range-checked to the format.)
pub(crate) fn claim_slots<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    name: &str,
    values: &[i128],
    (slot_bits, width): (u32, u32),
    one: Variable,
) -> Result<(Vec<Bits<F>>, Lin<F>), SynthesisError> {
    let mut claimed = Lin::zero();
    let mut bits = Vec::with_capacity(values.len());
    for (s, &v) in values.iter().enumerate() {
        let b = Bits::alloc(cs.namespace(|| format!("{name}{s}")), v, width)?;
        claimed = claimed.add_scaled(pow2(slot_bits * s as u32), &b.signed(one));
        bits.push(b);
    }
    Ok((bits, claimed))
}

/// One decomposition of `width` bits of `value`, equated with `expect`.
pub(crate) fn claim_one<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    name: &str,
    value: i128,
    width: u32,
    expect: &Lin<F>,
    one: Variable,
) -> Result<Bits<F>, SynthesisError> {
    let bits = Bits::alloc(cs.namespace(|| name.to_string()), value, width)?;
    enforce_eq(cs.namespace(|| format!("{name}_eq")), &bits.signed(one), expect);
    Ok(bits)
}
