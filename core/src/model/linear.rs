//! The integer reference of one fixed-point SGD step: the definition that the
//! candle trainer and the step circuit are both tested against.
//!
//! With `f` fractional bits, batch size `B`, learning rate `lr` (the integer
//! `lr * 2^f`) and `D = B * 2^(2f)`, one step over a batch computes, per row `b`:
//!
//! ```text
//! pre_b = sum_i w_i x_bi + bias * 2^f   (- y_b * 2^f for regression)
//! z_b   = floor(pre_b / 2^f)
//! e_b   = mask_b * (hard_sigmoid(z_b) - y_b * 2^f)   (logistic)
//!       = mask_b * z_b                               (regression: z_b - y_b)
//! ```
//!
//! and per parameter, with `G_i = sum_b e_b x_bi` (`x = 2^f` for the bias):
//!
//! ```text
//! upd_i = w_i * D - lr * G_i
//! w'_i  = floor(upd_i / D)      (must fit the format, else overflow)
//! ```
//!
//! which is `floor(w - lr * mean-gradient)` exactly, mean taken over the
//! batch size (padding rows included), every rounding a floor.

use crate::activation::hard_sigmoid;
use crate::fixed::floor_shift;
use crate::{data::Batch, CoreError, Layout, Task};
use serde::{Deserialize, Serialize};

/// One dense layer with a bias: logistic or linear regression.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearModel {
    /// One weight per feature, in the format.
    pub weights: Vec<i64>,
    /// Bias, in the format.
    pub bias: i64,
}

impl LinearModel {
    /// The all-zero model of `features` inputs.
    pub fn zeros(features: usize) -> Self {
        Self { weights: vec![0; features], bias: 0 }
    }

    /// Parameters in their canonical order: weights, then bias.
    pub fn params(&self) -> Vec<i64> {
        let mut p = self.weights.clone();
        p.push(self.bias);
        p
    }

    /// Inverse of [`params`](Self::params).
    pub fn from_params(params: &[i64]) -> Result<Self, CoreError> {
        match params.split_last() {
            Some((&bias, w)) => Ok(Self { weights: w.to_vec(), bias }),
            None => Err(CoreError::InvalidData("a model needs at least a bias".into())),
        }
    }

    /// Checks shape and that every parameter fits the format.
    pub fn validate(&self, layout: &Layout) -> Result<(), CoreError> {
        if layout.mlp.is_some() || layout.spec.model.task == Task::Softmax {
            return Err(CoreError::InvalidData("a one-output linear model for a spec with a hidden layer or classes".into()));
        }
        if self.weights.len() != layout.features() {
            return Err(CoreError::InvalidData(format!("model has {} weights, spec {} features", self.weights.len(), layout.features())));
        }
        let fmt = layout.spec.format;
        for p in self.params() {
            check(fmt.contains(p as i128), "model parameter", p as i128, fmt.min(), fmt.max())?;
        }
        Ok(())
    }
}

/// Intermediate values of a step; the circuit's witness is built from them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepTrace {
    /// Pre-activation per row (the forward slot value).
    pub pre: Vec<i128>,
    /// Masked output error per row.
    pub err: Vec<i128>,
    /// Update value `w D - lr G + D/2` per parameter (the backward slot value).
    pub upd: Vec<i128>,
}

fn check(ok: bool, what: &'static str, value: i128, min: i64, max: i64) -> Result<(), CoreError> {
    if ok {
        Ok(())
    } else {
        Err(CoreError::Overflow { what, value, min: min as i128, max: max as i128 })
    }
}

/// One SGD step of the reference; returns the new model and the trace.
pub fn sgd_step(layout: &Layout, model: &LinearModel, batch: &Batch) -> Result<(LinearModel, StepTrace), CoreError> {
    model.validate(layout)?;
    let (bs, d) = (layout.batch(), layout.features());
    let f = layout.spec.format.frac_bits;
    let one = 1i128 << f;
    if batch.y.len() != bs || batch.mask.len() != bs || batch.x.len() != bs * d {
        return Err(CoreError::InvalidData("batch shape does not match the spec".into()));
    }
    let mut pre = Vec::with_capacity(bs);
    let mut err = Vec::with_capacity(bs);
    for b in 0..bs {
        let mut n: i128 = (0..d).map(|i| model.weights[i] as i128 * batch.x(b, i) as i128).sum();
        n += model.bias as i128 * one;
        if layout.spec.model.task == Task::Linear {
            n -= batch.y[b] as i128 * one;
        }
        let z = floor_shift(n, f);
        let e = match layout.spec.model.task {
            Task::Logistic => hard_sigmoid(z, f) - batch.y[b] as i128 * one,
            Task::Linear => z,
            Task::Softmax => return Err(CoreError::InvalidSpec("softmax has its own model".into())),
        };
        pre.push(n);
        err.push(if batch.mask[b] { e } else { 0 });
    }
    let fmt = layout.spec.format;
    let mut upd = Vec::with_capacity(d + 1);
    let mut next = Vec::with_capacity(d + 1);
    for (i, w) in model.params().into_iter().enumerate() {
        let g: i128 = (0..bs).map(|b| err[b] * if i < d { batch.x(b, i) as i128 } else { one }).sum();
        let (u, w2) = layout.update(w, g);
        check(fmt.contains(w2), "updated weight", w2, fmt.min(), fmt.max())?;
        upd.push(u);
        next.push(w2 as i64);
    }
    Ok((LinearModel::from_params(&next)?, StepTrace { pre, err, upd }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FixedFormat, ModelSpec, TrainSpec};

    fn layout(task: Task) -> Layout {
        Layout::new(&TrainSpec {
            model: ModelSpec::linear(2, task),
            format: FixedFormat { frac_bits: 4, int_bits: 3 },
            learning_rate: 0.5,
            batch_size: 2,
            epochs: 1,
            steps_per_fold: 1,
        })
        .unwrap()
    }

    #[test]
    fn hard_sigmoid_shape() {
        // f = 4: one = 16
        assert_eq!(hard_sigmoid(0, 4), 8);
        assert_eq!(hard_sigmoid(32, 4), 16); // z = 2.0 saturates
        assert_eq!(hard_sigmoid(31, 4), 15);
        assert_eq!(hard_sigmoid(-32, 4), 0);
        assert_eq!(hard_sigmoid(-31, 4), 0); // floor(-31/4) = -8
        assert_eq!(hard_sigmoid(-29, 4), 0);
        assert_eq!(hard_sigmoid(-28, 4), 1);
        assert_eq!(hard_sigmoid(1000, 4), 16);
    }

    #[test]
    fn logistic_step_by_hand() {
        let l = layout(Task::Logistic);
        // f = 4, B = 2, lr = 1/2 = 8/16: D = 2 * 2^8 = 512
        assert_eq!((l.lr_q, l.upd_shift), (8, 9));
        let model = LinearModel { weights: vec![16, -8], bias: 4 };
        let batch = Batch { x: vec![16, 16, -16, 8], y: vec![1, 0], mask: vec![true, true] };
        let (next, t) = sgd_step(&l, &model, &batch).unwrap();
        // row 0: 16*16 - 8*16 + 4*16 = 192, z = 12, sigma = 8 + 3 = 11, e = 11 - 16 = -5
        // row 1: -256 - 64 + 64 = -256, z = -16, sigma = 8 - 4 = 4, e = 4
        assert_eq!(t.pre, vec![192, -256]);
        assert_eq!(t.err, vec![-5, 4]);
        // G = (-5*16 + 4*-16, -5*16 + 4*8, -5*16 + 4*16) = (-144, -48, -16)
        // upd = w*512 - 8G + 256 = (8192+1152, -4096+384, 2048+128) + 256
        assert_eq!(t.upd, vec![9600, -3456, 2432]);
        // floor(/512), i.e. (w*512 - 8G) / 512 rounded to nearest:
        // 18 (18.25), -7 (-7.25), 4 (4.25)
        assert_eq!(next, LinearModel { weights: vec![18, -7], bias: 4 });
    }

    #[test]
    fn masked_rows_do_not_train() {
        let l = layout(Task::Linear);
        let model = LinearModel { weights: vec![3, -5], bias: 7 };
        let batch = Batch { x: vec![10, -20, 30, 40], y: vec![5, 9], mask: vec![false, false] };
        let (next, t) = sgd_step(&l, &model, &batch).unwrap();
        assert_eq!(t.err, vec![0, 0]);
        assert_eq!(next, model);
    }

    #[test]
    fn overflow_is_an_error() {
        let l = layout(Task::Linear);
        // weights at the top of Q3.4 pushed further up by a large error
        let model = LinearModel { weights: vec![127, 127], bias: 127 };
        let batch = Batch { x: vec![-128, -128, -128, -128], y: vec![127, 127], mask: vec![true, true] };
        assert!(matches!(sgd_step(&l, &model, &batch), Err(CoreError::Overflow { what: "updated weight", .. })));
    }
}
