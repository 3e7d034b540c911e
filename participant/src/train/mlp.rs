//! MLP training on candle: [`FixedMlpTrainer`] reproduces
//! `candor_core::model::mlp` bit for bit on f64 tensors holding integers (as
//! [`super::linear::FixedTrainer`] does for logistic regression);
//! [`FloatMlpTrainer`] is the float32 accuracy reference (ReLU, exact
//! sigmoid or softmax, cross-entropy).
//!
//! Exactness: every tensor holds integers below 2^53 (checked bounds below),
//! products and sums of such integers are exact in f64 whatever the order,
//! scaling by powers of two is exact, and `floor` is the format's rounding.
//! The one true division, `floor((2 e 2^f + S) / 2S)` in `softmax2`, is
//! exact too: the numerator is an integer below 2^53 (checked), and for
//! `n < 2^53` and an integer divisor, the correctly rounded quotient never
//! crosses an integer, so its floor is the integer quotient.

use super::activation::{hard_sigmoid, relu_clipped, relu_passes, softmax2};
use super::{Exact, Reference, Trainer};
use crate::ParticipantError;
use candle_core::{DType, Device, Tensor};
use candor_core::data::{Batch, Dataset};
use candor_core::model::mlp::{class_of, Mlp};
use candor_core::{CoreError, FixedFormat, Layout, MlpShape, Model};

/// Tensors of one batch: `x` is `B x d`, `onehot` `B x k` (k = 1: the label
/// itself), `mask` a column.
pub(crate) struct BatchTensors {
    pub(crate) x: Tensor,
    pub(crate) onehot: Tensor,
    pub(crate) mask: Tensor,
}

impl BatchTensors {
    pub(crate) fn new(batch: &Batch, features: usize, k: usize, dtype: DType, dev: &Device) -> Result<Self, ParticipantError> {
        let rows = batch.y.len();
        let onehot: Vec<f64> = if k == 1 {
            batch.y.iter().map(|&y| y as f64).collect()
        } else {
            batch.y.iter().flat_map(|&y| (0..k).map(move |c| f64::from(u8::from(c as i64 == y)))).collect()
        };
        let t = |v: Vec<f64>, s: (usize, usize)| Tensor::from_vec(v, s, dev)?.to_dtype(dtype);
        Ok(Self {
            x: t(batch.x.iter().map(|&v| v as f64).collect(), (rows, features))?,
            onehot: t(onehot, (rows, k))?,
            mask: t(batch.mask.iter().map(|&m| f64::from(u8::from(m))).collect(), (rows, 1))?,
        })
    }
}

/// Exact fixed-point MLP SGD on candle.
pub struct FixedMlpTrainer {
    fmt: FixedFormat,
    lr_q: i64,
    batch: usize,
    upd_shift: u32,
    shape: MlpShape,
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
    dev: Device,
}

fn column(v: &[i64], rows: usize, cols: usize, dev: &Device) -> Result<Tensor, ParticipantError> {
    Ok(Tensor::from_vec(v.iter().map(|&x| x as f64).collect::<Vec<_>>(), (rows, cols), dev)?)
}

impl FixedMlpTrainer {
    /// Starts from `model`; refuses formats whose intermediates could leave
    /// f64's exact range.
    pub fn new(layout: &Layout, model: &Mlp) -> Result<Self, ParticipantError> {
        if layout.mlp_shape() != Some(model.shape) {
            return Err(CoreError::InvalidData("the model is not the spec's MLP".into()).into());
        }
        let fmt = layout.spec.format;
        model.validate(fmt)?;
        let s = model.shape;
        let (f, v) = (fmt.frac_bits, fmt.total_bits());
        let lg = |n: usize| usize::BITS - (n.max(1) - 1).leading_zeros(); // ceil(log2 n)
                                                                          // magnitudes (values below 2^(v-1), errors at most 2^f, lr at most
                                                                          // 2^f): lr G1 below 2^f B k 2^(2v); pre-activations below
                                                                          // (d + 1) 2^(2v); softmax
                                                                          // numerators below 2^(2f + 1) 2^(2^(int+1)) k; updates w 2^shift
        let widest = [
            f + lg(layout.batch()) + lg(s.outputs.max(2)) + 2 * v,
            lg(s.features.max(s.hidden) + 1) + 2 * v,
            2 * f + 1 + (1 << (fmt.int_bits + 1)) + lg(s.outputs),
            layout.upd_shift + v,
        ];
        if widest.iter().any(|&b| b >= 52) {
            return Err(CoreError::InvalidSpec(format!("{fmt} is too wide for exact f64 MLP training")).into());
        }
        let dev = Device::Cpu;
        Ok(Self {
            fmt,
            lr_q: layout.lr_q,
            batch: layout.batch(),
            upd_shift: layout.upd_shift,
            shape: s,
            w1: column(&model.w1, s.features, s.hidden, &dev)?,
            b1: column(&model.b1, 1, s.hidden, &dev)?,
            w2: column(&model.w2, s.hidden, s.outputs, &dev)?,
            b2: column(&model.b2, 1, s.outputs, &dev)?,
            dev,
        })
    }
}

impl Trainer for FixedMlpTrainer {
    fn step(&mut self, batch: &Batch) -> Result<(), ParticipantError> {
        let fmt = self.fmt;
        let one = fmt.one() as f64;
        let (min, max) = (fmt.min() as f64, fmt.max() as f64);
        let classes = if self.shape.outputs == 1 { 2 } else { self.shape.outputs as i64 };
        if batch.y.len() != self.batch || batch.y.iter().any(|&y| !(0..classes).contains(&y)) {
            return Err(CoreError::InvalidData("batch size or labels do not match the model".into()).into());
        }
        let t = BatchTensors::new(batch, self.shape.features, self.shape.outputs, DType::F64, &self.dev)?;
        let floor_div = |v: &Tensor, d: f64| v.affine(1.0 / d, 0.0)?.floor();
        let z1 = floor_div(&t.x.matmul(&self.w1)?.broadcast_add(&self.b1.affine(one, 0.0)?)?, one)?;
        let a = relu_clipped(&z1, fmt)?;
        let z2 = floor_div(&a.matmul(&self.w2)?.broadcast_add(&self.b2.affine(one, 0.0)?)?, one)?;
        let err = if self.shape.outputs == 1 {
            (hard_sigmoid(&z2, fmt)? - t.onehot.affine(one, 0.0)?)?
        } else {
            (softmax2(&z2, fmt)? - t.onehot.affine(one, 0.0)?)?
        };
        let err = err.broadcast_mul(&t.mask)?;
        let g2 = a.t()?.matmul(&err)?;
        let gb2 = err.sum_keepdim(0)?.affine(one, 0.0)?;
        let passes = relu_passes(&z1, fmt)?;
        let delta = (floor_div(&err.matmul(&self.w2.t()?)?, one)? * passes)?;
        let g1 = t.x.t()?.matmul(&delta)?;
        let gb1 = delta.sum_keepdim(0)?.affine(one, 0.0)?;
        let d = 2f64.powi(self.upd_shift as i32);
        let lr = self.lr_q as f64;
        let step = |w: &Tensor, g: &Tensor| -> Result<Tensor, ParticipantError> {
            // w' = floor((w D - lr G + D/2) / D): rounded to nearest
            let w = floor_div(&(w.affine(d, d / 2.0)? - g.affine(lr, 0.0)?)?, d)?;
            let (lo, hi) = (w.min_keepdim(0)?.min_keepdim(1)?, w.max_keepdim(0)?.max_keepdim(1)?);
            let (lo, hi) = (lo.flatten_all()?.to_vec1::<f64>()?[0], hi.flatten_all()?.to_vec1::<f64>()?[0]);
            for v in [lo, hi] {
                if v < min || v > max {
                    return Err(CoreError::Overflow { what: "updated weight", value: v as i128, min: min as i128, max: max as i128 }.into());
                }
            }
            Ok(w)
        };
        let next = (step(&self.w1, &g1)?, step(&self.b1, &gb1)?, step(&self.w2, &g2)?, step(&self.b2, &gb2)?);
        (self.w1, self.b1, self.w2, self.b2) = next;
        Ok(())
    }
}

impl FixedMlpTrainer {
    /// The current model.
    pub fn model(&self) -> Result<Mlp, ParticipantError> {
        let ints = |t: &Tensor| -> Result<Vec<i64>, ParticipantError> {
            Ok(t.flatten_all()?.to_vec1::<f64>()?.into_iter().map(|v| v as i64).collect())
        };
        let p = [ints(&self.w1)?, ints(&self.b1)?, ints(&self.w2)?, ints(&self.b2)?].concat();
        Ok(Mlp::from_params(self.shape, &p)?)
    }
}

impl Exact for FixedMlpTrainer {
    fn model(&self) -> Result<Model, ParticipantError> {
        Ok(Model::Mlp(FixedMlpTrainer::model(self)?))
    }
}

/// Float32 MLP with ReLU and exact sigmoid/softmax cross-entropy: the
/// accuracy reference.
pub struct FloatMlpTrainer {
    shape: MlpShape,
    format: FixedFormat,
    lr: f64,
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
    dev: Device,
}

impl FloatMlpTrainer {
    /// Starts from a fixed-point model, dequantized.
    pub fn new(model: &Mlp, format: FixedFormat, learning_rate: f64) -> Result<Self, ParticipantError> {
        let dev = Device::Cpu;
        let s = model.shape;
        let t = |v: &[i64], r: usize, c: usize| -> Result<Tensor, ParticipantError> {
            Ok(Tensor::from_vec(v.iter().map(|&q| format.to_f64(q) as f32).collect::<Vec<_>>(), (r, c), &dev)?)
        };
        Ok(Self {
            shape: s,
            format,
            lr: learning_rate,
            w1: t(&model.w1, s.features, s.hidden)?,
            b1: t(&model.b1, 1, s.hidden)?,
            w2: t(&model.w2, s.hidden, s.outputs)?,
            b2: t(&model.b2, 1, s.outputs)?,
            dev,
        })
    }

    fn logits(&self, x: &Tensor) -> Result<(Tensor, Tensor), ParticipantError> {
        let z1 = x.matmul(&self.w1)?.broadcast_add(&self.b1)?;
        let a = z1.relu()?;
        Ok((a.matmul(&self.w2)?.broadcast_add(&self.b2)?, z1))
    }
}

impl Trainer for FloatMlpTrainer {
    /// One step over the real rows of a fixed-point batch.
    fn step(&mut self, batch: &Batch) -> Result<(), ParticipantError> {
        let format = self.format;
        let rows: Vec<usize> = (0..batch.y.len()).filter(|&b| batch.mask[b]).collect();
        if rows.is_empty() {
            return Ok(());
        }
        let d = self.shape.features;
        let sub = Batch {
            x: rows.iter().flat_map(|&b| batch.x[b * d..(b + 1) * d].iter().copied()).collect(),
            y: rows.iter().map(|&b| batch.y[b]).collect(),
            mask: vec![true; rows.len()],
        };
        let t = BatchTensors::new(&sub, self.shape.features, self.shape.outputs, DType::F32, &self.dev)?;
        let x = t.x.affine(1.0 / format.one() as f64, 0.0)?;
        let (z2, z1) = self.logits(&x)?;
        let p = if self.shape.outputs == 1 {
            (z2.neg()?.exp()? + 1.0)?.recip()?
        } else {
            candle_core::Tensor::exp(&z2.broadcast_sub(&z2.max_keepdim(1)?)?).and_then(|e| e.broadcast_div(&e.sum_keepdim(1)?))?
        };
        // the batch mean, over the batch size, as the fixed-point step
        let scale = self.lr / batch.y.len() as f64;
        let err = (p - t.onehot)?;
        let g2 = z1.relu()?.t()?.matmul(&err)?;
        let gb2 = err.sum_keepdim(0)?;
        let delta = (err.matmul(&self.w2.t()?)? * z1.ge(0f32)?.to_dtype(DType::F32)?)?;
        let g1 = x.t()?.matmul(&delta)?;
        let gb1 = delta.sum_keepdim(0)?;
        self.w1 = (&self.w1 - g1.affine(scale, 0.0)?)?;
        self.b1 = (&self.b1 - gb1.affine(scale, 0.0)?)?;
        self.w2 = (&self.w2 - g2.affine(scale, 0.0)?)?;
        self.b2 = (&self.b2 - gb2.affine(scale, 0.0)?)?;
        Ok(())
    }
}

impl Reference for FloatMlpTrainer {
    /// Accuracy on a fixed-point data set.
    fn evaluate(&self, data: &Dataset) -> Result<f64, ParticipantError> {
        let format = self.format;
        let x =
            Tensor::from_vec(data.x.iter().map(|&v| format.to_f64(v) as f32).collect::<Vec<_>>(), (data.rows(), data.features), &self.dev)?;
        let z2 = self.logits(&x)?.0.to_vec2::<f32>()?;
        let right = z2.iter().zip(&data.y).filter(|(z, &y)| class_of(z) as i64 == y).count();
        Ok(right as f64 / data.rows().max(1) as f64)
    }
}
