//! How a batch becomes the field elements that the data commitment hashes
//! and that the SGD step consumes (see `candor_core::layout`).
//!
//! Absorption order per batch: metadata (masks and labels), then column
//! packing (column-major: column 0 chunk 0, column 0 chunk 1, ...), then row
//! packing (row 0 chunk 0, row 0 chunk 1, ...).

use crate::field::pack;
use crate::CircuitField;
use candor_core::data::Batch;
use candor_core::layout::FIELD_PACK_BITS;
use candor_core::{Layout, Task};

/// Bits of metadata per row: the mask, and the label for classification.
pub fn meta_bits_per_row(layout: &Layout) -> usize {
    match layout.spec.model.task {
        Task::Logistic => 2,
        Task::Linear => 1,
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

/// Value of forward column `i` at row `b`: a feature, or for regression the
/// target in the extra last column.
pub fn column_value(layout: &Layout, batch: &Batch, i: usize, b: usize) -> i64 {
    if i < layout.features() {
        batch.x(b, i)
    } else {
        batch.y[b]
    }
}

/// Metadata bit values of row `b`, lowest first: mask, then label.
pub fn meta_row(layout: &Layout, batch: &Batch, b: usize) -> Vec<bool> {
    let mut v = vec![batch.mask[b]];
    if layout.spec.model.task == Task::Logistic {
        v.push(batch.y[b] == 1);
    }
    v
}

/// All elements of a batch in absorption order.
pub fn batch_elements<F: CircuitField>(layout: &Layout, batch: &Batch) -> Vec<F> {
    let mut out = Vec::with_capacity(layout.elements_per_batch());
    let per = meta_rows_per_element(layout);
    for m in 0..meta_elements(layout) {
        let bits = (m * per..((m + 1) * per).min(layout.batch()))
            .flat_map(|b| meta_row(layout, batch, b))
            .map(i128::from);
        out.push(pack_unsigned_bits(bits));
    }
    for i in 0..layout.fwd_columns() {
        for c in 0..layout.fwd_chunks() {
            let vals = col_chunk_rows(layout, c).map(|b| column_value(layout, batch, i, b) as i128);
            out.push(pack(vals, layout.fwd_bits));
        }
    }
    for b in 0..layout.batch() {
        for c in 0..layout.bwd_chunks() {
            let vals = row_chunk_features(layout, c).map(|i| batch.x(b, i) as i128);
            out.push(pack(vals, layout.bwd_bits));
        }
    }
    out
}

fn pack_unsigned_bits<F: CircuitField>(bits: impl Iterator<Item = i128>) -> F {
    pack(bits, 1)
}
