//! The integer reference of one fixed-point SGD step of multinomial
//! (softmax) logistic regression: one dense layer from the features to one
//! logit per class, `softmax2` on top, cross-entropy. The definition that
//! its candle trainer and step circuit reproduce bit for bit.
//!
//! With `f` fractional bits, per row `b` and class `k`:
//!
//! ```text
//! pre_bk = sum_i W_ik x_bi + b_k 2^f
//! z_bk   = floor(pre_bk / 2^f)
//! e_bk   = mask_b (softmax2(z_b)_k - [k = y_b] 2^f)
//! G_ik   = sum_b e_bk x_bi         G_b_k = sum_b e_bk 2^f
//! w'     = floor((w D - lr G + D/2) / D)     D = B 2^(2f): rounded to nearest, overflow: error
//! ```
//!
//! It is the MLP's output layer ([`super::mlp`]) applied to the features
//! directly, and the linear model's update rule ([`super::linear`]) once per
//! class: every rounding a floor, every value in the format.

use super::mlp::class_of;
use crate::activation::softmax2;
use crate::data::Batch;
use crate::fixed::floor_shift;
use crate::{CoreError, FixedFormat, Layout};
use serde::{Deserialize, Serialize};

/// Weights `features x classes` (row-major, `w[i * classes + k]`) and one
/// bias per class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftmaxRegression {
    /// Input features.
    pub features: usize,
    /// Classes (logits).
    pub classes: usize,
    /// Weights, `features x classes`, in the format.
    pub weights: Vec<i64>,
    /// Biases, one per class, in the format.
    pub bias: Vec<i64>,
}

/// Intermediate values of a step, the step circuit's witness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoftmaxTrace {
    /// Pre-activations before the floor, `[b * classes + k]`.
    pub pre: Vec<i128>,
    /// `w D - lr G + D/2` per parameter, in canonical order.
    pub upd: Vec<i128>,
}

impl SoftmaxRegression {
    /// The all-zero model (the loss is convex: zeros are a fine start, and
    /// every class starts equally likely).
    pub fn zeros(features: usize, classes: usize) -> Self {
        Self { features, classes, weights: vec![0; features * classes], bias: vec![0; classes] }
    }

    /// Parameters in canonical order: weights (row-major), then biases.
    pub fn params(&self) -> Vec<i64> {
        [&self.weights[..], &self.bias].concat()
    }

    /// Inverse of [`params`](Self::params).
    pub fn from_params(features: usize, classes: usize, p: &[i64]) -> Result<Self, CoreError> {
        if p.len() != (features + 1) * classes {
            return Err(CoreError::InvalidData(format!("{} parameters for {features} features and {classes} classes", p.len())));
        }
        let (w, b) = p.split_at(features * classes);
        Ok(Self { features, classes, weights: w.to_vec(), bias: b.to_vec() })
    }

    /// Checks the shape against the layout and every parameter against the
    /// format.
    pub fn validate(&self, layout: &Layout) -> Result<(), CoreError> {
        let spec = &layout.spec.model;
        // the task too: a one-class "softmax" model carries exactly a linear
        // model's numbers, and must not pass for one
        if spec.is_mlp() || spec.task != crate::Task::Softmax || self.features != spec.features || self.classes != spec.outputs() {
            return Err(CoreError::InvalidData(format!(
                "model is a {}-feature {}-class softmax regression, the spec a {}-feature {}-class {}",
                self.features,
                self.classes,
                spec.features,
                spec.outputs(),
                if spec.is_mlp() { "MLP" } else { "model" }
            )));
        }
        if self.weights.len() != self.features * self.classes || self.bias.len() != self.classes {
            return Err(CoreError::InvalidData("parameter arrays do not match the shape".into()));
        }
        let fmt = layout.spec.format;
        match self.params().into_iter().find(|&p| !fmt.contains(i128::from(p))) {
            Some(p) => Err(overflow("model parameter", i128::from(p), fmt)),
            None => Ok(()),
        }
    }

    /// Pre-activations of one row before the floor.
    pub fn pre_activations(&self, format: FixedFormat, x: &[i64]) -> Vec<i128> {
        let (k, one) = (self.classes, i128::from(format.one()));
        (0..k)
            .map(|c| {
                let n: i128 = x.iter().enumerate().map(|(i, &v)| i128::from(self.weights[i * k + c]) * i128::from(v)).sum();
                n + i128::from(self.bias[c]) * one
            })
            .collect()
    }

    /// Logits `z` of one row (in the format, floored).
    pub fn logits(&self, format: FixedFormat, x: &[i64]) -> Vec<i128> {
        self.pre_activations(format, x).into_iter().map(|p| floor_shift(p, format.frac_bits)).collect()
    }

    /// Predicted class of a row.
    pub fn predict(&self, format: FixedFormat, x: &[i64]) -> usize {
        class_of(&self.logits(format, x))
    }
}

fn overflow(what: &'static str, value: i128, format: FixedFormat) -> CoreError {
    CoreError::Overflow { what, value, min: i128::from(format.min()), max: i128::from(format.max()) }
}

/// One SGD step of the reference; returns the new model and the trace.
/// Labels outside `0..classes` are an error.
pub fn softmax_step(layout: &Layout, model: &SoftmaxRegression, batch: &Batch) -> Result<(SoftmaxRegression, SoftmaxTrace), CoreError> {
    model.validate(layout)?;
    let fmt = layout.spec.format;
    let (bs, d, k, f) = (layout.batch(), model.features, model.classes, fmt.frac_bits);
    let one = 1i128 << f;
    if batch.y.len() != bs || batch.mask.len() != bs || batch.x.len() != bs * d {
        return Err(CoreError::InvalidData("batch shape does not match the spec".into()));
    }
    if let Some(&y) = batch.y.iter().find(|&&y| !(0..k as i64).contains(&y)) {
        return Err(CoreError::InvalidData(format!("label {y} is not one of {k} classes")));
    }
    let mut pre = Vec::with_capacity(bs * k);
    let (mut g, mut gb) = (vec![0i128; d * k], vec![0i128; k]);
    for b in 0..bs {
        let x = &batch.x[b * d..(b + 1) * d];
        let p = model.pre_activations(fmt, x);
        if batch.mask[b] {
            let z: Vec<i128> = p.iter().map(|&v| floor_shift(v, f)).collect();
            for (c, q) in softmax2(&z, fmt).into_iter().enumerate() {
                let e = q - if c as i64 == batch.y[b] { one } else { 0 };
                for (i, &v) in x.iter().enumerate() {
                    g[i * k + c] += e * i128::from(v);
                }
                gb[c] += e * one;
            }
        }
        pre.extend(p);
    }
    let mut upd = Vec::with_capacity(g.len() + k);
    let mut next = Vec::with_capacity(g.len() + k);
    for (w, g) in model.params().into_iter().zip(g.into_iter().chain(gb)) {
        let (u, w2) = layout.update(w, g);
        if !fmt.contains(w2) {
            return Err(overflow("updated weight", w2, fmt));
        }
        upd.push(u);
        next.push(w2 as i64);
    }
    Ok((SoftmaxRegression::from_params(d, k, &next)?, SoftmaxTrace { pre, upd }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ModelSpec, TrainSpec};

    fn layout(lr: f64) -> Layout {
        Layout::new(&TrainSpec {
            model: ModelSpec::softmax_regression(2, 3),
            format: FixedFormat { frac_bits: 4, int_bits: 3 },
            learning_rate: lr,
            batch_size: 2,
            epochs: 1,
            steps_per_fold: 1,
        })
        .unwrap()
    }

    #[test]
    fn step_by_hand() {
        let l = layout(0.5);
        // f = 4, B = 2, lr = 8/16: D = 2 * 2^8 = 512
        let m = SoftmaxRegression::zeros(2, 3);
        let batch = Batch { x: vec![16, 0, 0, -16], y: vec![0, 2], mask: vec![true, true] };
        let (next, t) = softmax_step(&l, &m, &batch).unwrap();
        assert_eq!(t.pre, vec![0; 6]);
        // zero logits: softmax2 = 16 / 3 rounded = 5 for every class;
        // row 0 (x = (1, 0), y = 0): e = (-11, 5, 5); row 1 (x = (0, -1), y = 2): e = (5, 5, -11)
        // G_0k = 16 e_0k = (-176, 80, 80); G_1k = -16 e_1k = (-80, -80, 176)
        // G_bk = 16 (e_0k + e_1k) = (-96, 160, -96)
        let g = [-176, 80, 80, -80, -80, 176, -96, 160, -96];
        assert_eq!(t.upd, g.iter().map(|&v| -8 * v + 256).collect::<Vec<i128>>());
        // -8 G / 512 rounded to nearest (ties up): 2.75 -> 3, -1.25 -> -1,
        // 1.5 -> 2, -2.5 -> -2, ...
        assert_eq!(next.params(), vec![3, -1, -1, 1, 1, -3, 2, -2, 2]);
    }

    #[test]
    fn learns_three_separable_classes() {
        let l = layout(0.5);
        let mut m = SoftmaxRegression::zeros(2, 3);
        // class 0 at (1, 0), 1 at (-1, 0), 2 at (0, 1)
        let batch = Batch { x: vec![16, 0, -16, 0], y: vec![0, 1], mask: vec![true, true] };
        let batch2 = Batch { x: vec![0, 16, 16, 0], y: vec![2, 0], mask: vec![true, true] };
        // separable data: the weights grow each step, and Q3.4 is narrow
        for _ in 0..10 {
            m = softmax_step(&l, &m, &batch).unwrap().0;
            m = softmax_step(&l, &m, &batch2).unwrap().0;
        }
        let f = l.spec.format;
        assert_eq!([m.predict(f, &[16, 0]), m.predict(f, &[-16, 0]), m.predict(f, &[0, 16])], [0, 1, 2]);
    }

    #[test]
    fn masked_rows_bad_labels_and_overflow() {
        let l = layout(1.0);
        let m = SoftmaxRegression::zeros(2, 3);
        let masked = Batch { x: vec![16, 0, 0, -16], y: vec![0, 2], mask: vec![false, false] };
        assert_eq!(softmax_step(&l, &m, &masked).unwrap().0, m);
        let bad = Batch { y: vec![0, 3], ..masked.clone() };
        assert!(matches!(softmax_step(&l, &m, &bad), Err(CoreError::InvalidData(_))));
        let top = SoftmaxRegression::from_params(2, 3, &[127; 9]).unwrap();
        let push = Batch { x: vec![-128, -128, -128, -128], y: vec![1, 1], mask: vec![true, true] };
        assert!(matches!(softmax_step(&l, &top, &push), Err(CoreError::Overflow { .. })));
        assert!(SoftmaxRegression::from_params(2, 3, &[0; 8]).is_err());
    }
}
