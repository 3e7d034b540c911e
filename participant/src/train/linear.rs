//! Logistic and linear regression on candle.
//!
//! [`FixedTrainer`] is the trainer whose result is proven: the reference SGD
//! of `candor_core::model::linear`, on f64 tensors holding integers. f64 is exact for
//! integers below 2^53 (the layout checks every intermediate stays below),
//! scaling by a power of two is exact, and `floor` is the format's rounding;
//! candle's CPU matmul supports only float types, and i64 division would
//! truncate toward zero instead of flooring. [`FloatTrainer`] is plain f32
//! logistic/linear regression, the accuracy reference.

use super::activation::hard_sigmoid;
use super::{Exact, Reference, Trainer};
use crate::ParticipantError;
use candle_core::{DType, Device, Tensor};
use candor_core::data::{Batch, Dataset};
use candor_core::model::linear::LinearModel;
use candor_core::{CoreError, FixedFormat, Layout, Model, Task};

/// A dense layer `pre = x w + b` (weights as a `features x 1` column).
struct Dense {
    w: Tensor,
    b: Tensor,
}

/// Batch tensors: features `B x d`, labels and masks `B x 1`.
struct BatchTensors {
    x: Tensor,
    y: Tensor,
    mask: Tensor,
}

impl BatchTensors {
    fn new(batch: &Batch, features: usize, dtype: DType, dev: &Device) -> Result<Self, ParticipantError> {
        let rows = batch.y.len();
        let f = |v: Vec<f64>, shape: (usize, usize)| Tensor::from_vec(v, shape, dev)?.to_dtype(dtype);
        Ok(Self {
            x: f(batch.x.iter().map(|&v| v as f64).collect(), (rows, features))?,
            y: f(batch.y.iter().map(|&v| v as f64).collect(), (rows, 1))?,
            mask: f(batch.mask.iter().map(|&m| f64::from(u8::from(m))).collect(), (rows, 1))?,
        })
    }
}

/// Exact fixed-point SGD on candle: bit-identical to the reference and the
/// circuit.
pub struct FixedTrainer {
    layout: Layout,
    dense: Dense,
    dev: Device,
}

impl FixedTrainer {
    /// Starts from `model` (checked against the layout).
    pub fn new(layout: &Layout, model: &LinearModel) -> Result<Self, ParticipantError> {
        model.validate(layout)?;
        let dev = Device::Cpu;
        let w = Tensor::from_vec(model.weights.iter().map(|&v| v as f64).collect::<Vec<_>>(), (layout.features(), 1), &dev)?;
        let b = Tensor::from_vec(vec![model.bias as f64], (1, 1), &dev)?;
        Ok(Self { layout: layout.clone(), dense: Dense { w, b }, dev })
    }
}

impl Trainer for FixedTrainer {
    fn step(&mut self, batch: &Batch) -> Result<(), ParticipantError> {
        let l = &self.layout;
        let one = l.spec.format.one() as f64;
        let t = BatchTensors::new(batch, l.features(), DType::F64, &self.dev)?;
        // pre = x w + b 2^f (- y 2^f for regression); z = floor(pre / 2^f)
        let mut pre = t.x.matmul(&self.dense.w)?.broadcast_add(&self.dense.b.affine(one, 0.0)?)?;
        if l.spec.model.task == Task::Linear {
            pre = (pre - t.y.affine(one, 0.0)?)?;
        }
        let z = pre.affine(1.0 / one, 0.0)?.floor()?;
        // a softmax spec has its own model (LinearModel::validate refuses
        // it), so it never reaches this trainer
        let err = match l.spec.model.task {
            // clamp(1/2 + floor(z/4), 0, 1) - y
            Task::Logistic | Task::Softmax => (hard_sigmoid(&z, l.spec.format)? - t.y.affine(one, 0.0)?)?,
            Task::Linear => z,
        };
        let err = (err * t.mask)?;
        // w' = floor((w D - lr G + D/2) / D), G = x^T e (rounded to nearest);
        // the bias input is 1.0 = 2^f
        let d = 2f64.powi(l.upd_shift as i32);
        let lr = l.lr_q as f64;
        let g = t.x.t()?.matmul(&err)?;
        let gb = err.sum_keepdim(0)?.affine(one, 0.0)?;
        let step = |w: &Tensor, g: &Tensor| -> candle_core::Result<Tensor> {
            (w.affine(d, d / 2.0)? - g.affine(lr, 0.0)?)?.affine(1.0 / d, 0.0)?.floor()
        };
        let w = step(&self.dense.w, &g)?;
        let b = step(&self.dense.b, &gb)?;
        check_range(&w, l.spec.format)?;
        check_range(&b, l.spec.format)?;
        self.dense = Dense { w, b };
        Ok(())
    }
}

impl FixedTrainer {
    /// The current model.
    pub fn model(&self) -> Result<LinearModel, ParticipantError> {
        let w: Vec<f64> = self.dense.w.flatten_all()?.to_vec1()?;
        let b: Vec<f64> = self.dense.b.flatten_all()?.to_vec1()?;
        Ok(LinearModel { weights: w.into_iter().map(|v| v as i64).collect(), bias: b[0] as i64 })
    }
}

impl Exact for FixedTrainer {
    fn model(&self) -> Result<Model, ParticipantError> {
        Ok(Model::Linear(FixedTrainer::model(self)?))
    }
}

/// A label as a real number: classes stay integers, regression targets are
/// dequantized.
fn real_label(layout: &Layout, v: i64) -> f32 {
    match layout.spec.model.task {
        Task::Logistic | Task::Softmax => v as f32,
        Task::Linear => layout.spec.format.to_f64(v) as f32,
    }
}

fn check_range(t: &Tensor, fmt: FixedFormat) -> Result<(), ParticipantError> {
    for v in t.flatten_all()?.to_vec1::<f64>()? {
        if !fmt.contains(v as i128) {
            return Err(
                CoreError::Overflow { what: "updated weight", value: v as i128, min: fmt.min() as i128, max: fmt.max() as i128 }.into()
            );
        }
    }
    Ok(())
}

/// Float32 SGD with the exact logistic function: the accuracy reference.
pub struct FloatTrainer {
    layout: Layout,
    w: Tensor,
    b: Tensor,
    dev: Device,
}

impl FloatTrainer {
    /// Starts from a fixed-point model, dequantized.
    pub fn new(layout: &Layout, model: &LinearModel) -> Result<Self, ParticipantError> {
        let dev = Device::Cpu;
        let fmt = layout.spec.format;
        let w: Vec<f32> = model.weights.iter().map(|&v| fmt.to_f64(v) as f32).collect();
        Ok(Self {
            layout: layout.clone(),
            w: Tensor::from_vec(w, (layout.features(), 1), &dev)?,
            b: Tensor::from_vec(vec![fmt.to_f64(model.bias) as f32], (1, 1), &dev)?,
            dev,
        })
    }

    /// One step on a batch given as real numbers (`rows x features`).
    pub fn step_rows(&mut self, x: &[Vec<f32>], y: &[f32]) -> Result<(), ParticipantError> {
        let (n, d) = (x.len(), self.w.dims()[0]);
        let xt = Tensor::from_vec(x.concat(), (n, d), &self.dev)?;
        let yt = Tensor::from_vec(y.to_vec(), (n, 1), &self.dev)?;
        let z = xt.matmul(&self.w)?.broadcast_add(&self.b)?;
        let out = match self.layout.spec.model.task {
            Task::Logistic | Task::Softmax => (z.neg()?.exp()? + 1.0)?.recip()?,
            Task::Linear => z,
        };
        let err = (out - yt)?;
        let scale = self.layout.spec.learning_rate / self.layout.batch() as f64;
        let g = xt.t()?.matmul(&err)?.affine(scale, 0.0)?;
        let gb = err.sum_keepdim(0)?.affine(scale, 0.0)?;
        self.w = (&self.w - g)?;
        self.b = (&self.b - gb)?;
        Ok(())
    }

    /// Weights and bias.
    pub fn params(&self) -> Result<(Vec<f32>, f32), ParticipantError> {
        Ok((self.w.flatten_all()?.to_vec1()?, self.b.flatten_all()?.to_vec1::<f32>()?[0]))
    }

    /// Accuracy (classification) or MSE (regression) on real-valued rows.
    pub fn evaluate(&self, x: &[Vec<f32>], y: &[f32]) -> Result<f64, ParticipantError> {
        let (w, b) = self.params()?;
        let mut acc = 0f64;
        for (row, &t) in x.iter().zip(y) {
            let z: f32 = row.iter().zip(&w).map(|(a, b)| a * b).sum::<f32>() + b;
            acc += match self.layout.spec.model.task {
                Task::Logistic | Task::Softmax => f64::from(u8::from((z >= 0.0) == (t == 1.0))),
                Task::Linear => f64::from((z - t).powi(2)),
            };
        }
        Ok(acc / x.len().max(1) as f64)
    }
}

impl Trainer for FloatTrainer {
    /// One step over the real rows of a fixed-point batch, dequantized.
    fn step(&mut self, b: &Batch) -> Result<(), ParticipantError> {
        let (fmt, d) = (self.layout.spec.format, self.layout.features());
        let rows: Vec<usize> = (0..b.y.len()).filter(|&i| b.mask[i]).collect();
        if rows.is_empty() {
            return Ok(());
        }
        let x: Vec<Vec<f32>> = rows.iter().map(|&i| b.x[i * d..(i + 1) * d].iter().map(|&v| fmt.to_f64(v) as f32).collect()).collect();
        let y: Vec<f32> = rows.iter().map(|&i| real_label(&self.layout, b.y[i])).collect();
        self.step_rows(&x, &y)
    }
}

impl Reference for FloatTrainer {
    /// [`FloatTrainer::evaluate`] on a fixed-point data set.
    fn evaluate(&self, data: &Dataset) -> Result<f64, ParticipantError> {
        let layout = &self.layout;
        let (fmt, d) = (layout.spec.format, data.features);
        let x: Vec<Vec<f32>> =
            (0..data.rows()).map(|r| data.x[r * d..(r + 1) * d].iter().map(|&v| fmt.to_f64(v) as f32).collect()).collect();
        let y: Vec<f32> = data.y.iter().map(|&v| real_label(layout, v)).collect();
        FloatTrainer::evaluate(self, &x, &y)
    }
}
