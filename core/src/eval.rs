//! Evaluating a fixed-point model on quantized data.

use crate::data::Dataset;
use crate::dataset::TargetScale;
use crate::model::mlp::class_of;
use crate::{Layout, Model, Task};
use serde::{Deserialize, Serialize};

/// Test metrics of a model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Fraction classified correctly (classification only).
    pub accuracy: Option<f64>,
    /// Mean log-loss (classification: the exact logistic function, or for
    /// softmax the exact softmax of `z ln 2`, the base-2 softmax that
    /// `softmax2` approximates) or mean squared error (regression), in real
    /// units.
    pub loss: f64,
}

impl Metrics {
    /// These metrics with a regression's squared error in the target's own
    /// units (unchanged without a target standardization).
    pub fn in_units(self, target: Option<&TargetScale>) -> Self {
        match target {
            Some(t) if self.accuracy.is_none() => Metrics { loss: t.squared_error(self.loss), ..self },
            _ => self,
        }
    }

    /// A headline metric (accuracy, or a regression's squared error) in the
    /// target's own units.
    pub fn metric_in_units(metric: f64, layout: &Layout, target: Option<&TargetScale>) -> f64 {
        match target {
            Some(t) if layout.spec.model.task == Task::Linear => t.squared_error(metric),
            _ => metric,
        }
    }
}

/// A held-out set and the target standardization (regression) its metrics
/// are reported back in.
#[derive(Clone, Debug, PartialEq)]
pub struct TestSet {
    /// Quantized rows.
    pub data: Dataset,
    /// How the targets were standardized, if they were.
    pub target: Option<TargetScale>,
}

impl From<Dataset> for TestSet {
    fn from(data: Dataset) -> Self {
        Self { data, target: None }
    }
}

impl TestSet {
    /// Metrics of `model`, a regression's squared error in the target's
    /// units.
    pub fn evaluate(&self, layout: &Layout, model: &Model) -> Metrics {
        evaluate(layout, model, &self.data).in_units(self.target.as_ref())
    }
}

/// Metrics of `model` on `data` (rows with any label), a regression's
/// squared error in the model's (standardized) units: see
/// [`Metrics::in_units`].
pub fn evaluate(layout: &Layout, model: &Model, data: &Dataset) -> Metrics {
    let fmt = layout.spec.format;
    let d = data.features;
    let task = layout.spec.model.task;
    let (mut correct, mut loss) = (0usize, 0f64);
    for r in 0..data.rows() {
        let z = model.logits(layout, &data.x[r * d..(r + 1) * d]);
        let y = data.y[r];
        correct += usize::from(class_of(&z) as i64 == y);
        loss += match task {
            Task::Logistic => {
                // log(1 + e^-t) computed stably, t = z for y = 1 and -z for y = 0
                let t = if y == 1 { z[0] } else { -z[0] };
                (-t).max(0.0) + (1.0 + (-t.abs()).exp()).ln()
            }
            Task::Softmax => {
                // -log softmax(z ln 2)_y, with the maximum subtracted first
                let s: Vec<f64> = z.iter().map(|v| v * std::f64::consts::LN_2).collect();
                let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lse = m + s.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                s.get(y as usize).map_or(f64::INFINITY, |sy| lse - sy)
            }
            Task::Linear => (z[0] - fmt.to_f64(y)).powi(2),
        };
    }
    let rows = data.rows().max(1) as f64;
    Metrics { accuracy: (task != Task::Linear).then(|| correct as f64 / rows), loss: loss / rows }
}
