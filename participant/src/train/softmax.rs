//! Multinomial logistic regression on candle: [`FixedSoftmaxTrainer`]
//! reproduces `candor_core::model::softmax` bit for bit on f64 tensors
//! holding integers (the exactness argument of [`super::mlp`]: every
//! value below 2^53, which the layout checks, and the one division exact);
//! [`FloatSoftmaxTrainer`] is the float32 accuracy reference (exact softmax,
//! cross-entropy).

use super::activation::softmax2;
use super::mlp::BatchTensors;
use super::{Exact, Reference, Trainer};
use crate::ParticipantError;
use candle_core::{DType, Device, Tensor, D};
use candor_core::data::{Batch, Dataset};
use candor_core::model::mlp::class_of;
use candor_core::model::softmax::SoftmaxRegression;
use candor_core::{CoreError, FixedFormat, Layout, Model};

fn tensor(v: &[i64], rows: usize, cols: usize, dev: &Device) -> Result<Tensor, ParticipantError> {
    Ok(Tensor::from_vec(v.iter().map(|&x| x as f64).collect::<Vec<_>>(), (rows, cols), dev)?)
}

/// Exact fixed-point SGD of multinomial logistic regression on candle.
pub struct FixedSoftmaxTrainer {
    layout: Layout,
    w: Tensor,
    b: Tensor,
    dev: Device,
}

impl FixedSoftmaxTrainer {
    /// Starts from `model` (checked against the layout, whose widths keep
    /// every intermediate exact in f64).
    pub fn new(layout: &Layout, model: &SoftmaxRegression) -> Result<Self, ParticipantError> {
        model.validate(layout)?;
        let dev = Device::Cpu;
        let (d, k) = (model.features, model.classes);
        Ok(Self { layout: layout.clone(), w: tensor(&model.weights, d, k, &dev)?, b: tensor(&model.bias, 1, k, &dev)?, dev })
    }
}

impl Trainer for FixedSoftmaxTrainer {
    fn step(&mut self, batch: &Batch) -> Result<(), ParticipantError> {
        let l = &self.layout;
        let fmt = l.spec.format;
        let (d, k) = (l.features(), l.spec.model.outputs());
        let one = fmt.one() as f64;
        if batch.y.len() != l.batch() || batch.y.iter().any(|&y| !(0..k as i64).contains(&y)) {
            return Err(CoreError::InvalidData("batch size or labels do not match the model".into()).into());
        }
        let t = BatchTensors::new(batch, d, k, DType::F64, &self.dev)?;
        let z = t.x.matmul(&self.w)?.broadcast_add(&self.b.affine(one, 0.0)?)?.affine(1.0 / one, 0.0)?.floor()?;
        let err = (softmax2(&z, fmt)? - t.onehot.affine(one, 0.0)?)?.broadcast_mul(&t.mask)?;
        let g = t.x.t()?.matmul(&err)?;
        let gb = err.sum_keepdim(0)?.affine(one, 0.0)?;
        let dd = 2f64.powi(l.upd_shift as i32);
        let lr = l.lr_q as f64;
        // w' = floor((w D - lr G + D/2) / D): rounded to nearest
        let step = |w: &Tensor, g: &Tensor| (w.affine(dd, dd / 2.0)? - g.affine(lr, 0.0)?)?.affine(1.0 / dd, 0.0)?.floor();
        let (w, b) = (step(&self.w, &g)?, step(&self.b, &gb)?);
        for v in [&w, &b] {
            if let Some(bad) = v.flatten_all()?.to_vec1::<f64>()?.into_iter().find(|&v| !fmt.contains(v as i128)) {
                let (min, max) = (i128::from(fmt.min()), i128::from(fmt.max()));
                return Err(CoreError::Overflow { what: "updated weight", value: bad as i128, min, max }.into());
            }
        }
        (self.w, self.b) = (w, b);
        Ok(())
    }
}

impl FixedSoftmaxTrainer {
    /// The current model.
    pub fn model(&self) -> Result<SoftmaxRegression, ParticipantError> {
        let ints = |t: &Tensor| -> Result<Vec<i64>, ParticipantError> {
            Ok(t.flatten_all()?.to_vec1::<f64>()?.into_iter().map(|v| v as i64).collect())
        };
        let (d, k) = (self.layout.features(), self.layout.spec.model.outputs());
        Ok(SoftmaxRegression::from_params(d, k, &[ints(&self.w)?, ints(&self.b)?].concat())?)
    }
}

impl Exact for FixedSoftmaxTrainer {
    fn model(&self) -> Result<Model, ParticipantError> {
        Ok(Model::Softmax(FixedSoftmaxTrainer::model(self)?))
    }
}

/// Float32 multinomial logistic regression with the exact softmax: the
/// accuracy reference.
pub struct FloatSoftmaxTrainer {
    format: FixedFormat,
    lr: f64,
    w: Tensor,
    b: Tensor,
    dev: Device,
}

impl FloatSoftmaxTrainer {
    /// Starts from a fixed-point model, dequantized.
    pub fn new(model: &SoftmaxRegression, format: FixedFormat, learning_rate: f64) -> Result<Self, ParticipantError> {
        let dev = Device::Cpu;
        let t = |v: &[i64], r: usize, c: usize| -> Result<Tensor, ParticipantError> {
            Ok(Tensor::from_vec(v.iter().map(|&q| format.to_f64(q) as f32).collect::<Vec<_>>(), (r, c), &dev)?)
        };
        let (d, k) = (model.features, model.classes);
        Ok(Self { format, lr: learning_rate, w: t(&model.weights, d, k)?, b: t(&model.bias, 1, k)?, dev })
    }
}

impl Trainer for FloatSoftmaxTrainer {
    /// One step over the real rows of a fixed-point batch, the mean taken
    /// over the batch size as in the fixed-point step.
    fn step(&mut self, batch: &Batch) -> Result<(), ParticipantError> {
        let format = self.format;
        let (d, k) = self.w.dims2()?;
        let t = BatchTensors::new(batch, d, k, DType::F32, &self.dev)?;
        let x = t.x.affine(1.0 / format.one() as f64, 0.0)?;
        let z = x.matmul(&self.w)?.broadcast_add(&self.b)?;
        let e = z.broadcast_sub(&z.max_keepdim(D::Minus1)?)?.exp()?;
        let p = e.broadcast_div(&e.sum_keepdim(D::Minus1)?)?;
        let err = (p - t.onehot)?.broadcast_mul(&t.mask)?;
        let scale = self.lr / batch.y.len() as f64;
        self.w = (&self.w - x.t()?.matmul(&err)?.affine(scale, 0.0)?)?;
        self.b = (&self.b - err.sum_keepdim(0)?.affine(scale, 0.0)?)?;
        Ok(())
    }
}

impl Reference for FloatSoftmaxTrainer {
    /// Accuracy on a fixed-point data set.
    fn evaluate(&self, data: &Dataset) -> Result<f64, ParticipantError> {
        let format = self.format;
        let x =
            Tensor::from_vec(data.x.iter().map(|&v| format.to_f64(v) as f32).collect::<Vec<_>>(), (data.rows(), data.features), &self.dev)?;
        let z = x.matmul(&self.w)?.broadcast_add(&self.b)?.to_vec2::<f32>()?;
        let right = z.iter().zip(&data.y).filter(|(z, &y)| class_of(z) as i64 == y).count();
        Ok(right as f64 / data.rows().max(1) as f64)
    }
}
