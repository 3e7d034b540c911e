//! Aggregation strategies: how verified updates become the next global
//! model. All work on the fixed-point integers with floor rounding, so that
//! an audit recomputes every aggregate exactly.

mod fedavg;
mod fedmedian;
mod fedtrimmedavg;

pub use fedavg::FedAvg;
pub use fedmedian::FedMedian;
pub use fedtrimmedavg::FedTrimmedAvg;

use crate::CoordinatorError;
use candor_core::Model;
use serde::{Deserialize, Serialize};

/// One verified update: its proven sample count and model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weighted<'a> {
    /// Proven samples.
    pub samples: u64,
    /// The update's model.
    pub model: &'a Model,
}

/// An aggregation rule.
pub trait Strategy: Send + Sync {
    /// Name as in the literature.
    fn name(&self) -> &'static str;
    /// Aggregates at least one update (all of the same shape).
    fn aggregate(&self, updates: &[Weighted<'_>]) -> Result<Model, CoordinatorError>;
}

/// Strategy choice in configuration. Parsed through [`RawStrategy`], so that
/// a field that does not belong to the named strategy (`beta` under
/// `fed_avg`) is refused instead of ignored.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", try_from = "RawStrategy")]
pub enum StrategyConfig {
    /// [`FedAvg`].
    FedAvg,
    /// [`FedMedian`].
    FedMedian,
    /// [`FedTrimmedAvg`] trimming `beta` of the updates at each end.
    FedTrimmedAvg {
        /// Fraction trimmed from each end, in [0, 0.5).
        beta: f64,
    },
}

/// A strategy as written: its name and any parameters.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    name: StrategyName,
    beta: Option<f64>,
}

// the names of StrategyConfig's variants, as written in configs
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StrategyName {
    FedAvg,
    FedMedian,
    FedTrimmedAvg,
}

impl TryFrom<RawStrategy> for StrategyConfig {
    type Error = String;

    fn try_from(raw: RawStrategy) -> Result<Self, String> {
        match (raw.name, raw.beta) {
            (StrategyName::FedAvg, None) => Ok(Self::FedAvg),
            (StrategyName::FedMedian, None) => Ok(Self::FedMedian),
            (StrategyName::FedTrimmedAvg, Some(beta)) if (0.0..0.5).contains(&beta) => Ok(Self::FedTrimmedAvg { beta }),
            (StrategyName::FedTrimmedAvg, Some(beta)) => Err(format!("strategy.beta must be in [0, 0.5), got {beta}")),
            (StrategyName::FedTrimmedAvg, None) => Err("strategy fed_trimmed_avg needs beta in [0, 0.5)".into()),
            (name, Some(_)) => Err(format!("strategy.beta is only for fed_trimmed_avg, not {name:?}")),
        }
    }
}

impl StrategyConfig {
    /// Builds the strategy.
    pub fn build(self) -> Result<Box<dyn Strategy>, CoordinatorError> {
        Ok(match self {
            StrategyConfig::FedAvg => Box::new(FedAvg),
            StrategyConfig::FedMedian => Box::new(FedMedian),
            StrategyConfig::FedTrimmedAvg { beta } => Box::new(FedTrimmedAvg::new(beta)?),
        })
    }
}

/// Parameters of every update, checked to share one shape: `[update][param]`.
pub(crate) fn params(updates: &[Weighted<'_>]) -> Result<Vec<Vec<i64>>, CoordinatorError> {
    let first = updates.first().ok_or(CoordinatorError::NothingToAggregate)?;
    updates
        .iter()
        .map(|u| {
            let p = u.model.params();
            if u.model.same_architecture(first.model) {
                Ok(p)
            } else {
                Err(CoordinatorError::ShapeMismatch)
            }
        })
        .collect()
}

/// Per-coordinate reduction of the updates' parameters.
pub(crate) fn coordinatewise(updates: &[Weighted<'_>], mut f: impl FnMut(&mut Vec<i64>) -> i64) -> Result<Model, CoordinatorError> {
    let ps = params(updates)?;
    let out: Vec<i64> = (0..ps[0].len())
        .map(|j| {
            let mut col: Vec<i64> = ps.iter().map(|p| p[j]).collect();
            f(&mut col)
        })
        .collect();
    Ok(updates[0].model.with_params(&out)?)
}
