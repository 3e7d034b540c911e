//! Quantized data sets and the batches training consumes.
//!
//! Row order is fixed by the data commitment: the participant shuffles its
//! rows once (with a private seed) before committing, and every epoch walks
//! the committed order from the first batch to the last. Deriving the order
//! from public round randomness instead would need a membership proof per row
//! (a Merkle path: several permutations per row per step) where a fixed order
//! lets each step extend a hash chain with its batch; the shuffle before
//! committing gives SGD its randomness.

use crate::{CoreError, Layout, Task};
use serde::{Deserialize, Serialize};

/// A quantized data set in committed order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    /// Features per row.
    pub features: usize,
    /// Row-major feature values, `rows * features` integers in the format.
    pub x: Vec<i64>,
    /// One label per row: 0 or 1 for classification, a format value for
    /// regression.
    pub y: Vec<i64>,
}

impl Dataset {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Checks shape, value ranges and labels against a layout: everything the
    /// commitment proof re-checks in-circuit.
    pub fn validate(&self, layout: &Layout) -> Result<(), CoreError> {
        let bad = |m: String| Err(CoreError::InvalidData(m));
        let fmt = layout.spec.format;
        if self.features != layout.features() {
            return bad(format!("data has {} features, the model {}", self.features, layout.features()));
        }
        if self.x.len() != self.rows() * self.features {
            return bad(format!("{} values for {} rows of {} features", self.x.len(), self.rows(), self.features));
        }
        if self.rows() == 0 {
            return bad("data set is empty".into());
        }
        if let Some(i) = self.x.iter().position(|&v| !fmt.contains(v as i128)) {
            // rows here are in committed (shuffled) order, not file lines
            return bad(format!("committed row {} feature {} = {} is outside {fmt}", i / self.features, i % self.features, self.x[i]));
        }
        for (r, &y) in self.y.iter().enumerate() {
            let ok = match layout.spec.model.task {
                Task::Logistic => y == 0 || y == 1,
                Task::Softmax => (0..layout.spec.model.classes as i64).contains(&y),
                Task::Linear => fmt.contains(y as i128),
            };
            if !ok {
                return bad(format!("committed row {r} has invalid label {y}"));
            }
        }
        Ok(())
    }
}

/// One batch: `batch_size` rows, the padding rows masked out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Row-major features, `batch_size * features`.
    pub x: Vec<i64>,
    /// Labels.
    pub y: Vec<i64>,
    /// Whether each row is real (true) or padding (false).
    pub mask: Vec<bool>,
}

impl Batch {
    /// Real rows in this batch.
    pub fn samples(&self) -> u64 {
        self.mask.iter().filter(|m| **m).count() as u64
    }

    /// Feature `i` of row `b`.
    pub fn x(&self, b: usize, i: usize) -> i64 {
        let d = self.x.len() / self.y.len();
        self.x[b * d + i]
    }
}

/// Splits a validated data set into one epoch of batches in committed order,
/// padded with zero rows (masked out) to whole folds.
pub fn batches(layout: &Layout, data: &Dataset) -> Result<Vec<Batch>, CoreError> {
    data.validate(layout)?;
    let (bs, d) = (layout.batch(), layout.features());
    let nb = layout.batches_per_epoch(data.rows());
    Ok((0..nb)
        .map(|t| {
            let mut batch = Batch { x: vec![0; bs * d], y: vec![0; bs], mask: vec![false; bs] };
            for b in 0..bs {
                let r = t * bs + b;
                if r < data.rows() {
                    batch.x[b * d..(b + 1) * d].copy_from_slice(&data.x[r * d..(r + 1) * d]);
                    batch.y[b] = data.y[r];
                    batch.mask[b] = true;
                }
            }
            batch
        })
        .collect())
}
