//! Centralized float32 comparisons for a simulation: all training rows in
//! one place, trained with candle's float32 twin of the spec's model.
//!
//! - [`same_schedule`] reruns the federation's schedule (its learning rate,
//!   rounds x local epochs): what federating and fixed point cost against
//!   the same training in one place. With a learning rate that diverges it
//!   diverges too, so it is no baseline.
//! - [`converged`] is the baseline: each learning rate of a grid trained for
//!   [`BASELINE_EPOCHS`] epochs, the one that fits the training rows best
//!   kept, then evaluated on the held-out rows. It depends on neither the
//!   federation's learning rate nor its rounds.

use crate::report::{Baseline, Reference};
use crate::SimError;
use candor_core::data::{batches, Dataset};
use candor_core::dataset::TargetScale;
use candor_core::eval::Metrics;
use candor_core::{Layout, Model, Task, TrainSpec};
use candor_participant::train::ReferenceTrainer;

/// Learning rates the baseline tries.
pub const BASELINE_RATES: [f64; 6] = [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125];

/// Epochs per learning rate: enough for these convex or small models to
/// settle on the bundled data (more changes the third decimal).
pub const BASELINE_EPOCHS: u32 = 100;

/// The federation's schedule in one place.
pub fn same_schedule(
    layout: &Layout,
    train: &Dataset,
    test: &Dataset,
    rounds: u64,
    target: Option<&TargetScale>,
) -> Result<Reference, SimError> {
    let epochs = u32::try_from(rounds).unwrap_or(u32::MAX).saturating_mul(layout.spec.epochs);
    let (_, metric) = train_and_score(layout, train, test, epochs)?;
    Ok(Reference { epochs, metric: Metrics::metric_in_units(metric, layout, target) })
}

/// The converged centralized baseline.
pub fn converged(layout: &Layout, train: &Dataset, test: &Dataset, target: Option<&TargetScale>) -> Result<Baseline, SimError> {
    let classify = layout.spec.model.task != Task::Linear;
    let mut best: Option<(f64, Baseline)> = None;
    for learning_rate in BASELINE_RATES {
        let spec = TrainSpec { learning_rate, ..layout.spec.clone() };
        // a rate the format cannot hold is not tried
        let Ok(l) = Layout::new(&spec) else { continue };
        let (fit, metric) = train_and_score(&l, train, test, BASELINE_EPOCHS)?;
        // higher accuracy or lower squared error; a diverged run (NaN) loses
        let score = if classify { fit } else { -fit };
        if score.is_nan() || best.as_ref().is_some_and(|(b, _)| score <= *b) {
            continue;
        }
        let metric = Metrics::metric_in_units(metric, layout, target);
        best = Some((score, Baseline { learning_rate, epochs: BASELINE_EPOCHS, metric }));
    }
    best.map(|(_, b)| b).ok_or_else(|| SimError::Config("the centralized baseline diverged at every learning rate".into()))
}

/// Trains from the spec's initial model for `epochs` epochs; returns the
/// metric on the training rows and on the held-out rows.
fn train_and_score(layout: &Layout, train: &Dataset, test: &Dataset, epochs: u32) -> Result<(f64, f64), SimError> {
    let mut float = ReferenceTrainer::new(layout, &Model::initial(&layout.spec))?;
    float.train_batches(&batches(layout, train)?, epochs)?;
    Ok((float.evaluate_dataset(train)?, float.evaluate_dataset(test)?))
}
