//! Evaluating a fixed-point model on quantized data.

use crate::data::Dataset;
use crate::sgd::LinearModel;
use crate::{Layout, Task};
use serde::{Deserialize, Serialize};

/// Test metrics of a model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Fraction classified correctly (classification only).
    pub accuracy: Option<f64>,
    /// Mean log-loss (classification, with the exact logistic function) or
    /// mean squared error (regression), in real units.
    pub loss: f64,
}

/// Metrics of `model` on `data` (rows with any label).
pub fn evaluate(layout: &Layout, model: &LinearModel, data: &Dataset) -> Metrics {
    let fmt = layout.spec.format;
    let d = data.features;
    let scale = (fmt.one() as f64).powi(2);
    let (mut correct, mut loss) = (0usize, 0f64);
    for r in 0..data.rows() {
        let mut n: i128 = (0..d).map(|i| model.weights[i] as i128 * data.x[r * d + i] as i128).sum();
        n += model.bias as i128 * fmt.one() as i128;
        let z = n as f64 / scale;
        match layout.spec.model.task {
            Task::Logistic => {
                let y = data.y[r];
                correct += usize::from((n >= 0) == (y == 1));
                // log(1 + e^-t) computed stably, t = z for y = 1 and -z for y = 0
                let t = if y == 1 { z } else { -z };
                loss += (-t).max(0.0) + (1.0 + (-t.abs()).exp()).ln();
            }
            Task::Linear => loss += (z - fmt.to_f64(data.y[r])).powi(2),
        }
    }
    let rows = data.rows().max(1) as f64;
    Metrics {
        accuracy: (layout.spec.model.task == Task::Logistic).then(|| correct as f64 / rows),
        loss: loss / rows,
    }
}
