//! The integer reference of one fixed-point SGD step of a one-hidden-layer
//! MLP: the definition that an MLP candle trainer and step circuit must
//! reproduce bit for bit (as [`super::linear`] is for logistic regression).
//!
//! Every operation is chosen so that a circuit gets it from decompositions
//! it needs anyway. With `f` fractional bits, per row `b`:
//!
//! ```text
//! z1_j = floor((sum_i W1_ij x_i + b1_j 2^f) / 2^f)      hidden pre-activation
//! a_j  = clamp(z1_j, 0, MAX)                              clipped ReLU
//! z2_k = floor((sum_j W2_jk a_j + b2_k 2^f) / 2^f)      logits
//! ```
//!
//! `clamp(z, 0, MAX)` keeps activations in the format. Its sign comes from
//! the top bit of the decomposition that proves the floor division, and its
//! upper saturation from the same bits (the hard sigmoid's trick), so the
//! activation costs no second decomposition.
//!
//! Output error `e_bk` (scale `2^f`), masked rows zero:
//! one output: `hard_sigmoid(z2) - y 2^f`; several: `p_k - [k = y] 2^f` with
//! `p = softmax2(z2)` below. Backward, with `D = B 2^(2f)` and the learning
//! rate `lr` as in [`super::linear`]:
//!
//! ```text
//! G2_jk = sum_b e_bk a_bj            G_b2_k = sum_b e_bk 2^f
//! d_bj  = floor(sum_k e_bk W2_jk / 2^f) * [0 <= z1_bj <= MAX]
//! G1_ij = sum_b d_bj x_bi            G_b1_j = sum_b d_bj 2^f
//! w'    = floor((w D - lr G + D/2) / D)  for every parameter: rounded to nearest (overflow: error)
//! ```
//!
//! `W2` in the hidden error is the step's starting `W2`, as in textbook
//! backpropagation.

use crate::activation::{hard_sigmoid, relu_clipped, relu_passes, softmax2};
use crate::data::Batch;
use crate::fixed::floor_shift;
use crate::spec::MlpShape;
use crate::{CoreError, FixedFormat, Layout};
use serde::{Deserialize, Serialize};

/// MLP parameters in the format, row-major: `w1[i * hidden + j]`,
/// `w2[j * outputs + k]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mlp {
    /// Architecture.
    pub shape: MlpShape,
    /// Input-to-hidden weights, `features x hidden`.
    pub w1: Vec<i64>,
    /// Hidden biases.
    pub b1: Vec<i64>,
    /// Hidden-to-output weights, `hidden x outputs`.
    pub w2: Vec<i64>,
    /// Output biases.
    pub b2: Vec<i64>,
}

impl Mlp {
    /// Seeded Glorot-uniform weights, zero biases. An all-zero MLP cannot
    /// learn (every hidden unit gets the same, zero, gradient), so a
    /// federation starts from this, derived from an agreed seed.
    pub fn init(shape: MlpShape, format: FixedFormat, seed: u64) -> Self {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let mut draw = |fan_in: usize, fan_out: usize, n: usize| -> Vec<i64> {
            let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
            (0..n).map(|_| format.quantize_clipped(rng.gen_range(-limit..limit)).unwrap_or(0)).collect()
        };
        let (d, h, k) = (shape.features, shape.hidden, shape.outputs);
        let w1 = draw(d, h, d * h);
        let w2 = draw(h, k, h * k);
        Self { shape, w1, b1: vec![0; h], w2, b2: vec![0; k] }
    }

    /// Parameters in canonical order: `w1`, `b1`, `w2`, `b2`.
    pub fn params(&self) -> Vec<i64> {
        [&self.w1[..], &self.b1, &self.w2, &self.b2].concat()
    }

    /// Inverse of [`params`](Self::params).
    pub fn from_params(shape: MlpShape, p: &[i64]) -> Result<Self, CoreError> {
        if p.len() != shape.params() {
            return Err(CoreError::InvalidData(format!("{} parameters for a shape of {}", p.len(), shape.params())));
        }
        let (d, h, k) = (shape.features, shape.hidden, shape.outputs);
        let (w1, rest) = p.split_at(d * h);
        let (b1, rest) = rest.split_at(h);
        let (w2, b2) = rest.split_at(h * k);
        Ok(Self { shape, w1: w1.to_vec(), b1: b1.to_vec(), w2: w2.to_vec(), b2: b2.to_vec() })
    }

    /// Checks shape and that every parameter fits the format.
    pub fn validate(&self, format: FixedFormat) -> Result<(), CoreError> {
        let s = self.shape;
        if s.features == 0 || s.hidden == 0 || s.outputs == 0 {
            return Err(CoreError::InvalidSpec("an MLP needs features, hidden units and outputs".into()));
        }
        let lens = [self.w1.len(), self.b1.len(), self.w2.len(), self.b2.len()];
        if lens != [s.features * s.hidden, s.hidden, s.hidden * s.outputs, s.outputs] {
            return Err(CoreError::InvalidData("parameter arrays do not match the shape".into()));
        }
        for p in self.params() {
            if !format.contains(i128::from(p)) {
                return Err(overflow("model parameter", i128::from(p), format));
            }
        }
        Ok(())
    }

    /// Pre-activations of one row before the floor: hidden
    /// `sum_i W1_ij x_i + b1_j 2^f` and output `sum_j W2_jk a_j + b2_k 2^f`.
    pub fn pre_activations(&self, format: FixedFormat, x: &[i64]) -> (Vec<i128>, Vec<i128>) {
        let (h, k, f) = (self.shape.hidden, self.shape.outputs, format.frac_bits);
        let one = 1i128 << f;
        let pre1: Vec<i128> = (0..h)
            .map(|j| {
                let n: i128 = x.iter().enumerate().map(|(i, &v)| i128::from(self.w1[i * h + j]) * i128::from(v)).sum();
                n + i128::from(self.b1[j]) * one
            })
            .collect();
        let a: Vec<i128> = pre1.iter().map(|&p| relu_clipped(floor_shift(p, f), format)).collect();
        let pre2 = (0..k)
            .map(|c| {
                let n: i128 = a.iter().enumerate().map(|(j, &v)| i128::from(self.w2[j * k + c]) * v).sum();
                n + i128::from(self.b2[c]) * one
            })
            .collect();
        (pre1, pre2)
    }

    /// Forward pass of one row: `(z1, a, z2)`.
    pub fn forward(&self, format: FixedFormat, x: &[i64]) -> (Vec<i128>, Vec<i128>, Vec<i128>) {
        let f = format.frac_bits;
        let (pre1, pre2) = self.pre_activations(format, x);
        let z1: Vec<i128> = pre1.iter().map(|&p| floor_shift(p, f)).collect();
        let a = z1.iter().map(|&z| relu_clipped(z, format)).collect();
        (z1, a, pre2.iter().map(|&p| floor_shift(p, f)).collect())
    }

    /// Predicted class of a row (see [`class_of`]).
    pub fn predict(&self, format: FixedFormat, x: &[i64]) -> usize {
        class_of(&self.forward(format, x).2)
    }
}

/// The class logits stand for: one logit is binary (1 when non-negative),
/// several pick the first maximum, so ties are deterministic. Shared by the
/// fixed-point model and the float reference.
pub fn class_of<T: PartialOrd + Default>(z: &[T]) -> usize {
    if z.len() == 1 {
        usize::from(z[0] >= T::default())
    } else {
        (0..z.len()).fold(0, |best, c| if z[c] > z[best] { c } else { best })
    }
}

fn overflow(what: &'static str, value: i128, format: FixedFormat) -> CoreError {
    CoreError::Overflow { what, value, min: i128::from(format.min()), max: i128::from(format.max()) }
}

/// Output error per row and output (scale `2^f`), zero for masked rows.
pub fn output_error(shape: MlpShape, format: FixedFormat, z2: &[i128], label: i64, mask: bool) -> Vec<i128> {
    let f = format.frac_bits;
    let one = 1i128 << f;
    if !mask {
        return vec![0; shape.outputs];
    }
    if shape.outputs == 1 {
        return vec![hard_sigmoid(z2[0], f) - i128::from(label) * one];
    }
    softmax2(z2, format).into_iter().enumerate().map(|(c, p)| p - if c as i64 == label { one } else { 0 }).collect()
}

/// Intermediate values of an MLP step, per row `b`: the step circuit's
/// witness is built from them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlpTrace {
    /// Hidden pre-activations before the floor, `[b * hidden + j]`.
    pub pre1: Vec<i128>,
    /// Output pre-activations before the floor, `[b * outputs + k]`.
    pub pre2: Vec<i128>,
    /// Back-propagated sums `sum_k e_k W2_jk` before the floor, `[b * hidden + j]`.
    pub back: Vec<i128>,
    /// `w D - lr G + D/2` per parameter, in canonical order.
    pub upd: Vec<i128>,
}

/// One SGD step of the reference over a batch (`y`: 0/1 for one output,
/// the class index otherwise). Labels out of range are an error.
pub fn mlp_step(layout: &Layout, model: &Mlp, batch: &Batch) -> Result<Mlp, CoreError> {
    Ok(mlp_step_traced(layout, model, batch)?.0)
}

/// [`mlp_step`] with its trace.
pub fn mlp_step_traced(layout: &Layout, model: &Mlp, batch: &Batch) -> Result<(Mlp, MlpTrace), CoreError> {
    if layout.mlp_shape() != Some(model.shape) {
        return Err(CoreError::InvalidData("the model is not the spec's MLP".into()));
    }
    let fmt = layout.spec.format;
    model.validate(fmt)?;
    let MlpShape { features: d, hidden: h, outputs: k } = model.shape;
    let (bs, f) = (layout.batch(), fmt.frac_bits);
    let one = 1i128 << f;
    if batch.y.len() != bs || batch.mask.len() != bs || batch.x.len() != bs * d {
        return Err(CoreError::InvalidData("batch shape does not match the spec".into()));
    }
    let classes = if k == 1 { 2 } else { k as i64 };
    if let Some(&y) = batch.y.iter().find(|&&y| !(0..classes).contains(&y)) {
        return Err(CoreError::InvalidData(format!("label {y} is not one of {classes} classes")));
    }
    let mut t = MlpTrace { pre1: vec![], pre2: vec![], back: vec![], upd: vec![] };
    let (mut g1, mut gb1) = (vec![0i128; d * h], vec![0i128; h]);
    let (mut g2, mut gb2) = (vec![0i128; h * k], vec![0i128; k]);
    for b in 0..bs {
        let x = &batch.x[b * d..(b + 1) * d];
        let (pre1, pre2) = model.pre_activations(fmt, x);
        let z1: Vec<i128> = pre1.iter().map(|&p| floor_shift(p, f)).collect();
        let a: Vec<i128> = z1.iter().map(|&z| relu_clipped(z, fmt)).collect();
        let z2: Vec<i128> = pre2.iter().map(|&p| floor_shift(p, f)).collect();
        let e = output_error(model.shape, fmt, &z2, batch.y[b], batch.mask[b]);
        for j in 0..h {
            for c in 0..k {
                g2[j * k + c] += e[c] * a[j];
            }
            let back: i128 = (0..k).map(|c| e[c] * i128::from(model.w2[j * k + c])).sum();
            let delta = if relu_passes(z1[j], fmt) { floor_shift(back, f) } else { 0 };
            for i in 0..d {
                g1[i * h + j] += delta * i128::from(x[i]);
            }
            gb1[j] += delta * one;
            t.back.push(back);
        }
        for c in 0..k {
            gb2[c] += e[c] * one;
        }
        t.pre1.extend(pre1);
        t.pre2.extend(pre2);
    }
    let grads = [g1, gb1, g2, gb2].concat();
    let mut next = Vec::with_capacity(grads.len());
    for (w, g) in model.params().into_iter().zip(grads) {
        let (u, w2) = layout.update(w, g);
        if !fmt.contains(w2) {
            return Err(overflow("updated weight", w2, fmt));
        }
        t.upd.push(u);
        next.push(w2 as i64);
    }
    Ok((Mlp::from_params(model.shape, &next)?, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::{ModelSpec, Task, TrainSpec};

    const FMT: FixedFormat = FixedFormat { frac_bits: 9, int_bits: 3 };

    /// The layout of `shape` at learning rate `lr_q / 2^9`, batches of 4.
    fn layout(shape: MlpShape, lr_q: i64) -> Layout {
        let task = if shape.outputs == 1 { Task::Logistic } else { Task::Softmax };
        let classes = if shape.outputs == 1 { 0 } else { shape.outputs };
        Layout::new(&TrainSpec {
            model: ModelSpec::mlp(shape.features, shape.hidden, task, classes),
            format: FMT,
            learning_rate: lr_q as f64 / 512.0,
            batch_size: 4,
            epochs: 1,
            steps_per_fold: 1,
        })
        .unwrap()
    }

    fn xor_batch() -> Batch {
        // XOR of two features (+-1): no linear model separates it
        let x = vec![512, 512, 512, -512, -512, 512, -512, -512];
        Batch { x, y: vec![0, 1, 1, 0], mask: vec![true; 4] }
    }

    #[test]
    fn learns_xor_which_a_linear_model_cannot() {
        for outputs in [1, 2] {
            let shape = MlpShape { features: 2, hidden: 8, outputs };
            let hyper = layout(shape, 256);
            let mut m = Mlp::init(shape, FMT, 7);
            let batch = xor_batch();
            for _ in 0..400 {
                m = mlp_step(&hyper, &m, &batch).unwrap();
            }
            let right = (0..4).filter(|&b| m.predict(FMT, &batch.x[2 * b..2 * b + 2]) == batch.y[b] as usize).count();
            assert_eq!(right, 4, "outputs {outputs}: {m:?}");
        }
    }

    #[test]
    fn masked_rows_do_not_train_and_zero_init_is_stuck() {
        let shape = MlpShape { features: 2, hidden: 3, outputs: 3 };
        let hyper = layout(shape, 256);
        let m = Mlp::init(shape, FMT, 1);
        let masked = Batch { mask: vec![false; 4], y: vec![0, 1, 2, 0], ..xor_batch() };
        assert_eq!(mlp_step(&hyper, &m, &masked).unwrap(), m);
        // all-zero weights: the hidden layer never gets a gradient
        let zero = Mlp::from_params(shape, &vec![0; shape.params()]).unwrap();
        let batch = Batch { y: vec![0, 1, 2, 0], ..xor_batch() };
        let next = mlp_step(&hyper, &zero, &batch).unwrap();
        assert!(next.w1.iter().all(|&w| w == 0));
    }

    #[test]
    fn bad_labels_shapes_and_overflow_are_errors() {
        let shape = MlpShape { features: 2, hidden: 2, outputs: 3 };
        let hyper = layout(shape, 512);
        let m = Mlp::init(shape, FMT, 3);
        let bad = Batch { y: vec![0, 1, 3, 0], ..xor_batch() };
        assert!(matches!(mlp_step(&hyper, &m, &bad), Err(CoreError::InvalidData(_))));
        assert!(Mlp::from_params(shape, &[0; 5]).is_err());
        let top = Mlp::from_params(shape, &vec![FMT.max(); shape.params()]).unwrap();
        let batch = Batch { y: vec![0, 0, 0, 0], ..xor_batch() };
        assert!(matches!(mlp_step(&hyper, &top, &batch), Err(CoreError::Overflow { .. })));
    }

    #[test]
    fn params_roundtrip() {
        let shape = MlpShape { features: 3, hidden: 4, outputs: 5 };
        let m = Mlp::init(shape, FMT, 9);
        assert_eq!(m.params().len(), 3 * 4 + 4 + 4 * 5 + 5);
        assert_eq!(Mlp::from_params(shape, &m.params()).unwrap(), m);
        assert_ne!(m, Mlp::init(shape, FMT, 10));
    }
}
