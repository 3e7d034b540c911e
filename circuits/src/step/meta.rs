//! A batch's metadata (row masks, binary labels, one-hot classes): bits tied
//! to the packed metadata elements that the data chain binds to the
//! commitment.

use crate::field::pow2;
use crate::gadgets::{alloc_bit, enforce_eq, Lin};
use crate::packing::{element_slots, meta_elements, source_value, Source};
use crate::CircuitField;
use candor_core::data::Batch;
use candor_core::Layout;
use nova_snark::frontend::{num::AllocatedNum, ConstraintSystem, SynthesisError};

/// A batch's metadata bits, tied to its packed elements.
pub(crate) struct Meta<F: CircuitField> {
    /// Mask bit per row.
    pub mask: Vec<Lin<F>>,
    /// Label per row (binary classification).
    pub label: Vec<Lin<F>>,
    /// One-hot class bits per row (softmax).
    pub class: Vec<Vec<Lin<F>>>,
}

/// Allocates the metadata bits of a batch and ties them to its metadata
/// elements (which the data chain binds to the commitment).
pub(crate) fn metadata<F: CircuitField, CS: ConstraintSystem<F>>(
    cs: &mut CS,
    l: &Layout,
    batch: &Batch,
    elems: &[AllocatedNum<F>],
) -> Result<Meta<F>, SynthesisError> {
    let bs = l.batch();
    let classes = l.spec.model.classes;
    let mut meta = Meta { mask: vec![Lin::zero(); bs], label: vec![Lin::zero(); bs], class: vec![vec![Lin::zero(); classes]; bs] };
    for (m, slots) in element_slots(l).iter().take(meta_elements(l)).enumerate() {
        let mut packed = Lin::zero();
        for &(src, off) in slots {
            let bit = alloc_bit(cs.namespace(|| format!("meta{m}_{off}")), source_value(batch, src) == 1)?;
            packed = packed.add_scaled(pow2(off), &bit);
            match src {
                Source::Mask(b) => meta.mask[b] = bit,
                Source::Label(b) => meta.label[b] = bit,
                Source::Class(b, c) => meta.class[b][c] = bit,
                Source::X(..) => debug_assert!(false, "metadata elements hold masks and labels only"),
            }
        }
        enforce_eq(cs.namespace(|| format!("meta{m}")), &packed, &Lin::num(&elems[m]));
    }
    Ok(meta)
}
