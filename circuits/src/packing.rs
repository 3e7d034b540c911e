//! How a batch becomes the field elements that the data commitment hashes
//! and that the SGD step consumes (see `candor_core::layout`).
//!
//! Absorption order per batch: metadata (masks and labels), then column
//! packing (column-major: column 0 chunk 0, column 0 chunk 1, ...), then row
//! packing (row 0 chunk 0, row 0 chunk 1, ...). [`element_slots`] is the
//! single description of that layout.

use crate::field::{fe, pow2};
use crate::CircuitField;
use candor_core::data::Batch;
use candor_core::layout::FIELD_PACK_BITS;
use candor_core::{Layout, Task};

/// Bits of metadata per row: the mask, and the label for classification
/// (one-hot for softmax).
pub fn meta_bits_per_row(layout: &Layout) -> usize {
    match layout.spec.model.task {
        Task::Logistic => 2,
        Task::Linear => 1,
        Task::Softmax => 1 + layout.spec.model.classes,
    }
}

/// Rows whose metadata share one field element.
pub fn meta_rows_per_element(layout: &Layout) -> usize {
    FIELD_PACK_BITS as usize / meta_bits_per_row(layout)
}

/// Metadata elements per batch.
pub fn meta_elements(layout: &Layout) -> usize {
    layout.batch().div_ceil(meta_rows_per_element(layout))
}

/// The rows of column chunk `c`.
pub fn col_chunk_rows(layout: &Layout, c: usize) -> std::ops::Range<usize> {
    let s = layout.fwd_slots;
    c * s..((c + 1) * s).min(layout.batch())
}

/// The features of row chunk `c`.
pub fn row_chunk_features(layout: &Layout, c: usize) -> std::ops::Range<usize> {
    let s = layout.bwd_slots;
    c * s..((c + 1) * s).min(layout.features())
}

/// What one slot of a packed element holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The mask bit of a row.
    Mask(usize),
    /// The label of a row: a bit for binary classification, a value for
    /// regression.
    Label(usize),
    /// Whether row `b` has class `c`: the one-hot label of softmax.
    Class(usize, usize),
    /// Feature `i` of row `b`: `X(b, i)`.
    X(usize, usize),
}

/// The slots of every element of a batch, in absorption order, as
/// `(source, bit offset)`. Native packing, the commitment circuit and the
/// step circuit all read this one description, so they cannot drift apart.
pub fn element_slots(layout: &Layout) -> Vec<Vec<(Source, u32)>> {
    let mut out = Vec::with_capacity(layout.elements_per_batch());
    let per = meta_rows_per_element(layout);
    let task = layout.spec.model.task;
    for m in 0..meta_elements(layout) {
        let mut slots = vec![];
        for b in m * per..((m + 1) * per).min(layout.batch()) {
            slots.push((Source::Mask(b), slots.len() as u32));
            match task {
                Task::Logistic => slots.push((Source::Label(b), slots.len() as u32)),
                Task::Softmax => {
                    for c in 0..layout.spec.model.classes {
                        slots.push((Source::Class(b, c), slots.len() as u32));
                    }
                }
                Task::Linear => {}
            }
        }
        out.push(slots);
    }
    for i in 0..layout.fwd_columns() {
        for c in 0..layout.fwd_chunks() {
            let rows = col_chunk_rows(layout, c);
            out.push(
                rows.clone()
                    .map(|b| {
                        let src = if i < layout.features() { Source::X(b, i) } else { Source::Label(b) };
                        (src, layout.fwd_bits * (b - rows.start) as u32)
                    })
                    .collect(),
            );
        }
    }
    for b in 0..layout.batch() {
        for c in 0..layout.bwd_chunks() {
            let feats = row_chunk_features(layout, c);
            out.push(feats.clone().map(|i| (Source::X(b, i), layout.bwd_bits * (i - feats.start) as u32)).collect());
        }
    }
    out
}

/// The integer a slot source stands for in a batch.
pub fn source_value(batch: &Batch, src: Source) -> i128 {
    match src {
        Source::Mask(b) => i128::from(batch.mask[b]),
        Source::Label(b) => i128::from(batch.y[b]),
        Source::Class(b, c) => i128::from(batch.y[b] == c as i64),
        Source::X(b, i) => i128::from(batch.x(b, i)),
    }
}

/// All elements of a batch in absorption order.
pub fn batch_elements<F: CircuitField>(layout: &Layout, batch: &Batch) -> Vec<F> {
    element_slots(layout)
        .iter()
        .map(|slots| slots.iter().map(|&(src, off)| fe::<F>(source_value(batch, src)) * pow2::<F>(off)).sum())
        .collect()
}
