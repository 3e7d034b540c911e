//! Bit widths and packing induced by a [`TrainSpec`].
//!
//! Steps never unpack data. The data commitment stores each batch twice, as
//! field elements that pack several values into *slots* of `2^k`:
//! column-packed (`X_i = sum_b x_bi 2^{K b}`, one element per feature and
//! chunk of rows) for the forward pass and row-packed (`R_b = sum_i x_bi
//! 2^{K' i}`) for the gradient. Then `sum_i w_i X_i` yields every row's
//! pre-activation in its own slot with one multiplication per feature, and
//! `sum_b e_b R_b` every feature's gradient. Each slot is extracted by the
//! range-checked decomposition that the floor rescaling needs anyway; that is
//! unique only if the true slot value can never overflow its slot, so the
//! widths below are worst-case bounds derived from the input ranges.

use crate::fixed::signed_bits_for;
use crate::spec::MlpShape;
use crate::{CoreError, Task, TrainSpec};

/// Bits of a field element we let a packing use: Pasta fields have 255-bit
/// moduli, and a signed packing of `n` bits must stay below `p / 2`.
pub const FIELD_PACK_BITS: u32 = 252;

/// Largest learning rate; it bounds the gradient slots' width.
pub const MAX_LEARNING_RATE: f64 = 1.0;

/// Native training runs on f64 tensors, exact for integers below 2^53.
const F64_EXACT_BITS: u32 = 53;

/// Derived, validated layout of one training spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// The spec it was derived from.
    pub spec: TrainSpec,
    /// Learning rate as an integer in the format (`lr * 2^f`).
    pub lr_q: i64,
    /// `log2 D` with `D = B 2^(2f)`: the update is
    /// `w' = floor((w D - lr_q G + D/2) / D)`, `w - lr G / D` rounded to
    /// nearest (see [`Layout::update`]).
    pub upd_shift: u32,
    /// Width of a data value and of a weight.
    pub value_bits: u32,
    /// Width of a pre-activation (forward slot and its decomposition).
    pub fwd_bits: u32,
    /// Rows per column-packed element.
    pub fwd_slots: usize,
    /// Largest magnitude of an output error `e`.
    pub err_max: i128,
    /// Width of a backward slot (holds `w D - lr G`).
    pub bwd_bits: u32,
    /// Features per row-packed element.
    pub bwd_slots: usize,
    /// Width of the update decomposition: remainder plus new weight.
    pub upd_bits: u32,
    /// Widths of an MLP's hidden-layer quantities (`None` without one).
    pub mlp: Option<MlpLayout>,
    /// Unsigned width of a softmax denominator of multinomial logistic
    /// regression (`None` for other models; an MLP's is in [`MlpLayout`]).
    pub softmax_sum_bits: Option<u32>,
}

/// Slot widths of the quantities an MLP step packs beyond the data (see
/// `candor_circuits::mlp_step`); each is a worst-case bound, as above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MlpLayout {
    /// Width of an output pre-activation `sum_j W2 a + b2 2^f`.
    pub pre2_bits: u32,
    /// Width of a back-propagated sum `sum_k e_k W2_jk`.
    pub back_bits: u32,
    /// Width of a hidden-to-output update slot `W2 D - lr G2`.
    pub g2_bits: u32,
    /// Unsigned width of a softmax denominator `sum_k exp2_approx(z_k)`.
    pub sum_bits: u32,
}

/// How many slots of `bits` one packed element holds, at most `count` (the
/// values there are to pack).
pub fn slots_per_element(bits: u32, count: usize) -> usize {
    ((FIELD_PACK_BITS / bits) as usize).min(count)
}

impl Layout {
    /// Validates a spec and derives its layout.
    pub fn new(spec: &TrainSpec) -> Result<Self, CoreError> {
        let bad = |m: String| Err(CoreError::InvalidSpec(m));
        spec.model.validate()?;
        let d = spec.model.features;
        let b = spec.batch_size;
        let f = spec.format.frac_bits;
        if d == 0 || d > 4096 {
            return bad(format!("model.features must be in 1..=4096, got {d}"));
        }
        if !b.is_power_of_two() || b > 1024 {
            return bad(format!("batch_size must be a power of two up to 1024, got {b}"));
        }
        if spec.epochs == 0 || spec.epochs > 1000 {
            return bad(format!("epochs must be in 1..=1000, got {}", spec.epochs));
        }
        if spec.steps_per_fold == 0 {
            return bad("steps_per_fold is missing (or 0): set it in [spec] (`candor-coordinator params` advises a value)".into());
        }
        if spec.steps_per_fold > 64 {
            return bad(format!("steps_per_fold must be in 1..=64, got {}", spec.steps_per_fold));
        }
        if !(2..=20).contains(&f) || spec.format.int_bits > 12 {
            return bad(format!("format must have 2..=20 frac_bits and at most 12 int_bits, got {}", spec.format));
        }
        if spec.format.int_bits < 1 {
            return bad("format.int_bits must be at least 1 so that 1.0 (the bias input) fits".into());
        }
        let lr_q = spec.learning_rate_q()?;
        if spec.learning_rate > MAX_LEARNING_RATE {
            return bad(format!("learning_rate must be at most {MAX_LEARNING_RATE}, got {}", spec.learning_rate));
        }
        let upd_shift = b.trailing_zeros() + 2 * f;

        let k = spec.format.total_bits();
        let half = 1u128 << (k - 1); // magnitude bound of a value or a weight
        let one = 1u128 << f;
        let mut fwd_bound = d as u128 * half * half + half * one;
        if spec.model.task == Task::Linear {
            fwd_bound += half * one; // the target is packed as one more column
        }
        let fwd_bits = signed_bits_for(fwd_bound);
        // the largest error that multiplies data in the gradient: the output
        // error, or for an MLP the hidden error floor(sum_k e_k W2_jk / 2^f)
        let outputs = spec.model.outputs() as u128;
        let err_max: u128 = match spec.model.task {
            _ if spec.model.is_mlp() => outputs * half,
            Task::Logistic | Task::Softmax => one,
            Task::Linear => 1u128 << (fwd_bits - f - 1),
        };
        if spec.model.task == Task::Logistic && !spec.model.is_mlp() && fwd_bits < 2 * f + 3 {
            return bad("format too narrow for the hard sigmoid".into());
        }
        let grad_bound = b as u128 * err_max * half.max(one);
        // sized for the largest learning rate, so that the data packing (and
        // so the data commitment) does not change with the learning rate
        // plus D/2, the offset that makes the update round to nearest
        let upd_bound = half * (1u128 << upd_shift) + one * grad_bound + (1u128 << (upd_shift - 1));
        let upd_bits = k + upd_shift;
        let bwd_bits = signed_bits_for(upd_bound).max(upd_bits);
        for (what, bits) in [("pre-activation", fwd_bits), ("update", bwd_bits)] {
            if bits > F64_EXACT_BITS {
                return bad(format!("{what} needs {bits} bits, more than f64 holds exactly; use fewer frac_bits or int_bits"));
            }
        }
        let mlp = if spec.model.is_mlp() { Some(mlp_layout(spec, lr_q, upd_shift, upd_bits)?) } else { None };
        let softmax_sum_bits =
            if spec.model.task == Task::Softmax && mlp.is_none() { Some(softmax_regression_layout(spec, lr_q, fwd_bits)?) } else { None };
        let fwd_slots = slots_per_element(fwd_bits, b);
        let bwd_slots = slots_per_element(bwd_bits, d);
        Ok(Self {
            spec: spec.clone(),
            lr_q,
            upd_shift,
            value_bits: k,
            fwd_bits,
            fwd_slots,
            err_max: err_max as i128,
            bwd_bits,
            bwd_slots,
            upd_bits,
            mlp,
            softmax_sum_bits,
        })
    }

    /// One parameter's SGD update from its gradient `g` (the batch's sum,
    /// scaled by `2^(2f)`): the value `v = w D - lr_q g + D/2` that the
    /// circuit decomposes, and the new parameter `floor(v / D)`, which is
    /// `w - lr g / D` rounded to nearest (ties up). Flooring instead biased
    /// every parameter down by half a unit in the last place per step, and
    /// softmax regression drifted until its weights overflowed (issue 24).
    /// The caller checks the new parameter's range.
    pub fn update(&self, w: i64, g: i128) -> (i128, i128) {
        let s = self.upd_shift;
        let v = (i128::from(w) << s) - i128::from(self.lr_q) * g + (1i128 << (s - 1));
        (v, v >> s)
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.spec.model.features
    }

    /// Rows per batch.
    pub fn batch(&self) -> usize {
        self.spec.batch_size
    }

    /// Columns packed for the forward pass: the features, plus the target
    /// for regression.
    pub fn fwd_columns(&self) -> usize {
        self.features() + usize::from(self.spec.model.task == Task::Linear)
    }

    /// Column-packed elements per column and batch.
    pub fn fwd_chunks(&self) -> usize {
        self.batch().div_ceil(self.fwd_slots)
    }

    /// Row-packed elements per row.
    pub fn bwd_chunks(&self) -> usize {
        self.features().div_ceil(self.bwd_slots)
    }

    /// Field elements a batch contributes to the data hash: one for labels
    /// and masks, the column packing, the row packing.
    pub fn elements_per_batch(&self) -> usize {
        1 + self.fwd_columns() * self.fwd_chunks() + self.batch() * self.bwd_chunks()
    }

    /// Batches per epoch for `rows` rows: padded with masked rows to a
    /// multiple of `steps_per_fold` so that an epoch is whole folds.
    pub fn batches_per_epoch(&self, rows: usize) -> usize {
        let spf = self.spec.steps_per_fold;
        rows.div_ceil(self.batch()).div_ceil(spf).max(1) * spf
    }

    /// Multiply-accumulates of one SGD step (forward and gradient).
    pub fn macs_per_step(&self) -> usize {
        match self.mlp_shape() {
            Some(shape) => shape.macs_per_step(self.batch()),
            None => 2 * self.batch() * self.features() * self.spec.model.outputs(),
        }
    }

    /// The MLP's shape, if the model has a hidden layer.
    pub fn mlp_shape(&self) -> Option<MlpShape> {
        self.spec.model.mlp_shape()
    }
}

/// Checks the learning rate (in `(0, 1]`) and that the format keeps every
/// intermediate of `softmax2` over `outputs` classes inside `i128` (it shifts
/// by up to `2^(int_bits+1)`).
fn check_softmax2(spec: &TrainSpec, lr_q: i64, outputs: usize) -> Result<(), CoreError> {
    let fmt = spec.format;
    if lr_q <= 0 || lr_q > fmt.one() {
        return Err(CoreError::InvalidSpec("the learning rate must be in (0, 1]".into()));
    }
    let classes_bits = usize::BITS - outputs.max(1).leading_zeros();
    if fmt.int_bits > 5 || 2 * fmt.frac_bits + 2 + (1 << (fmt.int_bits + 1)) + classes_bits >= 120 {
        return Err(CoreError::InvalidSpec(format!("{fmt} is too wide for softmax2")));
    }
    Ok(())
}

/// Checks that `softmax2` over the logits of multinomial logistic regression
/// fits (the format, the saturation test on the pre-activation's bits, f64's
/// exact range for the candle trainer's division) and returns the width of
/// its denominator.
fn softmax_regression_layout(spec: &TrainSpec, lr_q: i64, fwd_bits: u32) -> Result<u32, CoreError> {
    let (fmt, k) = (spec.format, spec.model.outputs());
    check_softmax2(spec, lr_q, k)?;
    // exp2's saturation reads the bits from f + K - 1 below the sign bit
    if fwd_bits <= fmt.frac_bits + fmt.total_bits() {
        return Err(CoreError::InvalidSpec(format!("{fmt} is too narrow for softmax regression's logits")));
    }
    // softmax2 subtracts the row's maximum: every exponent is of a value <= 0
    let exp_max = crate::activation::exp2_approx(0, fmt) as u128;
    let sum_bits = 128 - (k as u128 * exp_max).leading_zeros();
    // the rounded quotient's numerator 2 e 2^f + S
    if sum_bits + fmt.frac_bits + 2 > F64_EXACT_BITS {
        return Err(CoreError::InvalidSpec(format!("{fmt} is too wide for an exact softmax in f64")));
    }
    Ok(sum_bits)
}

fn mlp_layout(spec: &TrainSpec, lr_q: i64, upd_shift: u32, upd_bits: u32) -> Result<MlpLayout, CoreError> {
    let (h, k) = (spec.model.hidden, spec.model.outputs());
    let fmt = spec.format;
    let f = fmt.frac_bits;
    check_softmax2(spec, lr_q, k)?;
    let half = 1u128 << (fmt.total_bits() - 1);
    let (one, max) = (1u128 << f, half - 1);
    let pre2_bits = signed_bits_for(h as u128 * half * max + half * one);
    // the sigmoid's and softmax clamp's saturation tests read bits above
    // 2f + 1 and f + K - 1 of an output pre-activation
    if pre2_bits < (2 * f + 3).max(f + fmt.total_bits() + 1) {
        return Err(CoreError::InvalidSpec(format!("{fmt} is too narrow for the MLP's output layer")));
    }
    let back_bits = signed_bits_for(k as u128 * one * half);
    // the W2 gradient sums e a over the batch; its bias e 2^f, and a <= MAX
    let g2_bound = half * (1u128 << upd_shift) + one * (spec.batch_size as u128 * one * half) + (1u128 << (upd_shift - 1));
    let g2_bits = signed_bits_for(g2_bound).max(upd_bits);
    // softmax2 subtracts the row's maximum: every exponent is of a value <= 0
    let exp_max = crate::activation::exp2_approx(0, fmt) as u128;
    let sum_bits = 128 - (k as u128 * exp_max).leading_zeros();
    // the candle trainer divides 2 exp 2^f + S exactly in f64
    if sum_bits + f + 2 > F64_EXACT_BITS || g2_bits > F64_EXACT_BITS {
        return Err(CoreError::InvalidSpec(format!("{fmt} is too wide for an exact MLP step in f64")));
    }
    Ok(MlpLayout { pre2_bits, back_bits, g2_bits, sum_bits })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FixedFormat, ModelSpec};

    pub(crate) fn spec(task: Task) -> TrainSpec {
        TrainSpec {
            model: ModelSpec::linear(30, task),
            format: FixedFormat::default(),
            learning_rate: 0.5,
            batch_size: 16,
            epochs: 1,
            steps_per_fold: 4,
        }
    }

    #[test]
    fn logistic_layout_is_pinned() {
        let l = Layout::new(&spec(Task::Logistic)).unwrap();
        // Q3.9, lr 0.5 = 256 / 2^9; D = 16 * 2^18
        assert_eq!((l.lr_q, l.upd_shift), (256, 22));
        assert_eq!((l.value_bits, l.fwd_bits, l.fwd_slots, l.fwd_chunks()), (13, 30, 8, 2));
        assert_eq!((l.bwd_bits, l.bwd_slots, l.bwd_chunks(), l.upd_bits), (37, 6, 5, 35));
        assert_eq!(l.elements_per_batch(), 1 + 30 * 2 + 16 * 5);
        assert_eq!(l.batches_per_epoch(150), 12);
    }

    #[test]
    fn rejects_bad_specs() {
        let mut s = spec(Task::Logistic);
        s.batch_size = 12;
        assert!(matches!(Layout::new(&s), Err(CoreError::InvalidSpec(m)) if m.contains("batch_size")));
        let mut s = spec(Task::Logistic);
        s.learning_rate = 0.0001;
        assert!(matches!(Layout::new(&s), Err(CoreError::InvalidSpec(m)) if m.contains("learning_rate")));
        let mut s = spec(Task::Linear);
        s.format = FixedFormat { frac_bits: 20, int_bits: 12 };
        assert!(matches!(Layout::new(&s), Err(CoreError::InvalidSpec(m)) if m.contains("f64")));
        let mut s = spec(Task::Linear);
        s.learning_rate = 1.5;
        assert!(matches!(Layout::new(&s), Err(CoreError::InvalidSpec(m)) if m.contains("at most")));
        let mut s = spec(Task::Linear);
        s.format = FixedFormat { frac_bits: 20, int_bits: 12 };
        assert!(matches!(Layout::new(&s), Err(CoreError::InvalidSpec(m)) if m.contains("f64")));
    }
}
