//! Deterministic small specs and data sets for tests and benchmarks.

use candor_core::data::Dataset;
use candor_core::{FixedFormat, ModelSpec, Task, TrainSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// A spec with the given shape and the default format, lr 0.5, one epoch.
pub fn spec(task: Task, features: usize, batch_size: usize, steps_per_fold: usize) -> TrainSpec {
    TrainSpec {
        model: ModelSpec::linear(features, task),
        format: FixedFormat::default(),
        learning_rate: 0.5,
        batch_size,
        epochs: 1,
        steps_per_fold,
    }
}

/// An MLP spec `features -> hidden -> outputs` (sigmoid for `classes` 0,
/// softmax otherwise), default format, lr 0.5, one epoch.
pub fn mlp_spec(features: usize, hidden: usize, classes: usize, batch_size: usize, steps_per_fold: usize) -> TrainSpec {
    let task = if classes == 0 { Task::Logistic } else { Task::Softmax };
    TrainSpec { model: ModelSpec::mlp(features, hidden, task, classes), ..spec(task, features, batch_size, steps_per_fold) }
}

/// A multinomial logistic regression spec (no hidden layer), default
/// format, lr 0.5, one epoch.
pub fn softmax_spec(features: usize, classes: usize, batch_size: usize, steps_per_fold: usize) -> TrainSpec {
    TrainSpec { model: ModelSpec::softmax_regression(features, classes), ..spec(Task::Softmax, features, batch_size, steps_per_fold) }
}

/// Random rows: features in [-2, 2), labels from a hidden linear rule so
/// that training has something to learn.
pub fn dataset(spec: &TrainSpec, rows: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let d = spec.model.features;
    let one = spec.format.one();
    let x: Vec<i64> = (0..rows * d).map(|_| rng.gen_range(-2 * one..2 * one)).collect();
    let y = (0..rows)
        .map(|r| {
            let s: i64 = (0..d).map(|i| x[r * d + i] * if i % 2 == 0 { 1 } else { -1 }).sum();
            match spec.model.task {
                Task::Logistic => i64::from(s > 0),
                Task::Linear => (s / d as i64).clamp(spec.format.min(), spec.format.max()),
                // the class whose feature (cyclically) is largest
                Task::Softmax => {
                    let k = spec.model.classes;
                    (0..k).fold(0, |best, c| if x[r * d + c % d] > x[r * d + best % d] { c } else { best }) as i64
                }
            }
        })
        .collect();
    Dataset { features: d, x, y }
}
