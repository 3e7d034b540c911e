//! Whether a study's data and spec fit together, checked before anything is
//! committed or proven: how many feature values the format clips, and a dry
//! run of one local epoch of the integer reference (what a round trains),
//! with learning rates and formats that would pass when it overflows.

use crate::data::{batches, Dataset};
use crate::dataset::{quantize, Normalization};
use crate::{CoreError, FixedFormat, Layout, Model, TrainSpec};

/// Per feature, how many standardized values fall outside the format and are
/// clipped to its edge: `(feature index, count)`, features with none left
/// out.
pub fn clipped(x: &[Vec<f64>], norm: &Normalization, format: FixedFormat) -> Vec<(usize, usize)> {
    let (lo, hi) = (format.to_f64(format.min()), format.to_f64(format.max()));
    let d = norm.mean.len();
    (0..d)
        .map(|i| {
            let n = x.iter().filter(|r| r.get(i).is_some_and(|v| !(lo..=hi).contains(&((v - norm.mean[i]) / norm.std[i])))).count();
            (i, n)
        })
        .filter(|&(_, n)| n > 0)
        .collect()
}

/// Trains the spec's epochs of the integer reference from the spec's
/// initial model over `data` (in its order): `Ok` with the steps taken, or
/// the step that failed and why (an update leaving the format).
pub fn dry_run(layout: &Layout, data: &Dataset) -> Result<usize, (usize, CoreError)> {
    let epoch = batches(layout, data).map_err(|e| (0, e))?;
    let mut model = Model::initial(&layout.spec);
    let mut step = 0;
    for _ in 0..layout.spec.epochs {
        for b in &epoch {
            model = model.step(layout, b).map_err(|e| (step, e))?;
            step += 1;
        }
    }
    Ok(step)
}

/// The largest learning rate, halving from the spec's down to one quantum of
/// the format, whose dry run passes on `data`; `None` if none does.
pub fn passing_learning_rate(spec: &TrainSpec, data: &Dataset) -> Option<f64> {
    let quantum = spec.format.to_f64(1);
    let mut lr = spec.learning_rate / 2.0;
    while lr >= quantum {
        let s = TrainSpec { learning_rate: lr, ..spec.clone() };
        if Layout::new(&s).is_ok_and(|l| dry_run(&l, data).is_ok()) {
            return Some(lr);
        }
        lr /= 2.0;
    }
    None
}

/// The narrowest wider format (one to three more integer bits, the same
/// fractional bits) whose layout is valid and whose dry run passes on the
/// raw rows quantized under it; `None` if none does.
pub fn passing_format(spec: &TrainSpec, x: &[Vec<f64>], y: &[f64], norm: &Normalization) -> Option<FixedFormat> {
    (1..=3).map(|more| FixedFormat { int_bits: spec.format.int_bits + more, ..spec.format }).find(|&format| {
        let s = TrainSpec { format, ..spec.clone() };
        let Ok(layout) = Layout::new(&s) else { return false };
        quantize(x, y, norm, &s).is_ok_and(|data| dry_run(&layout, &data).is_ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ModelSpec, Task};

    fn spec(lr: f64) -> TrainSpec {
        TrainSpec {
            model: ModelSpec::linear(1, Task::Linear),
            format: FixedFormat { frac_bits: 4, int_bits: 3 },
            learning_rate: lr,
            batch_size: 2,
            epochs: 1,
            steps_per_fold: 1,
        }
    }

    #[test]
    fn an_overflowing_epoch_is_found_with_a_rate_and_a_format_that_pass() {
        // y = 3.5 x on x = +-2: from zero, lr 1.0 jumps the weight to 14,
        // past Q3.4's 7.94; lr 0.5 lands on 7, and Q4.4 holds 14
        let x = vec![vec![2.0], vec![-2.0]];
        let y = vec![7.0, -7.0];
        let norm = Normalization { mean: vec![0.0], std: vec![1.0], target: None };
        let s = spec(1.0);
        let data = quantize(&x, &y, &norm, &s).unwrap();
        let (step, e) = dry_run(&Layout::new(&s).unwrap(), &data).unwrap_err();
        assert!(step == 0 && matches!(e, CoreError::Overflow { what: "updated weight", .. }), "step {step}: {e}");
        assert_eq!(passing_learning_rate(&s, &data), Some(0.5));
        assert_eq!(passing_format(&s, &x, &y, &norm), Some(FixedFormat { frac_bits: 4, int_bits: 4 }));
        assert_eq!(dry_run(&Layout::new(&spec(0.5)).unwrap(), &data), Ok(1));
        assert!(clipped(&x, &norm, s.format).is_empty());
        assert_eq!(clipped(&[vec![9.0], vec![-9.0], vec![1.0]], &norm, s.format), vec![(0, 2)]);
    }
}
