//! What malicious participants do: the attacks on federated learning that a
//! proof of training is meant to stop. Each malicious participant cycles
//! through them, one per round.

use candor_core::data::Dataset;
use candor_core::Model;
use candor_core::{FixedFormat, ModelSpec, Task};
use serde::Serialize;

/// One way of cheating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tamper {
    /// Model poisoning / boosting: train honestly, then push the update 8x
    /// further from the global model before submitting it.
    ScaledUpdate,
    /// Free riding: submit another participant's update of this round.
    StolenUpdate,
    /// Weight inflation: claim ten times the samples actually used.
    InflatedCount,
    /// Laziness: resubmit an earlier round's update as this round's.
    Replay,
    /// Data poisoning: train on flipped labels instead of the committed data.
    LabelFlip,
}

impl Tamper {
    /// The rotation.
    pub const ALL: [Tamper; 5] = [Tamper::ScaledUpdate, Tamper::StolenUpdate, Tamper::InflatedCount, Tamper::Replay, Tamper::LabelFlip];

    /// What the `m`-th malicious participant does in `round` (from 1).
    pub fn for_round(m: usize, round: u64) -> Tamper {
        Self::ALL[(m + (round.max(1) - 1) as usize) % Self::ALL.len()]
    }

    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Tamper::ScaledUpdate => "scaled update",
            Tamper::StolenUpdate => "stolen update",
            Tamper::InflatedCount => "inflated count",
            Tamper::Replay => "replayed update",
            Tamper::LabelFlip => "flipped labels",
        }
    }
}

/// `global + 8 (model - global)`, clipped to the format.
pub fn scaled(global: &Model, model: &Model, fmt: FixedFormat) -> Model {
    let push = |g: i64, m: i64| (g + 8 * (m - g)).clamp(fmt.min(), fmt.max());
    let p: Vec<i64> = global.params().into_iter().zip(model.params()).map(|(g, m)| push(g, m)).collect();
    // both are the announced architecture; a mismatch leaves the update as is
    model.with_params(&p).unwrap_or_else(|_| model.clone())
}

/// A label flipped (binary), moved to the next class (softmax) or negated
/// (regression, clipped to the format).
fn flip_label(v: i64, spec: &ModelSpec, fmt: FixedFormat) -> i64 {
    match spec.task {
        Task::Logistic => 1 - v,
        Task::Softmax => (v + 1) % spec.classes.max(1) as i64,
        Task::Linear => (-v).clamp(fmt.min(), fmt.max()),
    }
}

/// The data with every label flipped (classes) or negated (regression).
pub fn flipped(data: &Dataset, spec: &ModelSpec, fmt: FixedFormat) -> Dataset {
    let y = data.y.iter().map(|&v| flip_label(v, spec, fmt)).collect();
    Dataset { y, ..data.clone() }
}

/// Whether [`flipped`] changes the data at all (all-zero regression targets
/// stay as they are).
pub fn flips_some_label(data: &Dataset, spec: &ModelSpec, fmt: FixedFormat) -> bool {
    data.y.iter().any(|&v| flip_label(v, spec, fmt) != v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_core::model::linear::LinearModel;

    #[test]
    fn every_kind_comes_round_for_every_malicious_participant() {
        for m in 0..3 {
            let kinds: Vec<Tamper> = (1..=5).map(|r| Tamper::for_round(m, r)).collect();
            for k in Tamper::ALL {
                assert!(kinds.contains(&k), "participant {m} never does {k:?}");
            }
        }
        assert_eq!(Tamper::for_round(0, 1), Tamper::ScaledUpdate);
        assert_eq!(Tamper::for_round(0, 2), Tamper::StolenUpdate);
    }

    #[test]
    fn scaling_moves_away_from_the_global_model_and_stays_in_range() {
        let fmt = FixedFormat::default();
        let g = LinearModel { weights: vec![0, 100, fmt.max() - 1], bias: -3 }.into();
        let m = LinearModel { weights: vec![1, 90, fmt.max()], bias: -3 }.into();
        let s = scaled(&g, &m, fmt);
        assert_eq!(s, LinearModel { weights: vec![8, 20, fmt.max()], bias: -3 }.into());
    }

    #[test]
    fn flipping_labels_changes_every_label() {
        let d = Dataset { features: 1, x: vec![5, 6, 7], y: vec![0, 1, 1] };
        let fmt = FixedFormat::default();
        let f = flipped(&d, &ModelSpec::linear(1, Task::Logistic), fmt);
        assert_eq!((f.x, f.y), (vec![5, 6, 7], vec![1, 0, 0]));
        assert!(flips_some_label(&d, &ModelSpec::linear(1, Task::Logistic), fmt));
        let zeros = Dataset { features: 1, x: vec![5, 6], y: vec![0, 0] };
        assert!(!flips_some_label(&zeros, &ModelSpec::linear(1, Task::Linear), fmt));
        // softmax: every label moves to the next class, the last to the first
        let three = Dataset { features: 1, x: vec![1, 2, 3], y: vec![0, 1, 2] };
        let f = flipped(&three, &ModelSpec::mlp(1, 4, Task::Softmax, 3), fmt);
        assert_eq!(f.y, vec![1, 2, 0]);
    }
}
