//! FedTrimmedAvg (Yin et al., 2018): per coordinate, drop the `beta` fraction
//! of largest and smallest values and average the rest.

use super::{coordinatewise, Strategy, Weighted};
use crate::CoordinatorError;
use candor_core::Model;

/// Coordinate-wise trimmed mean (unweighted, floor).
#[derive(Clone, Copy, Debug)]
pub struct FedTrimmedAvg {
    beta: f64,
}

impl FedTrimmedAvg {
    /// Trims `beta` in `[0, 0.5)` at each end.
    pub fn new(beta: f64) -> Result<Self, CoordinatorError> {
        if !(0.0..0.5).contains(&beta) {
            return Err(CoordinatorError::Config(format!("strategy.beta must be in [0, 0.5), got {beta}")));
        }
        Ok(Self { beta })
    }
}

impl Strategy for FedTrimmedAvg {
    fn name(&self) -> &'static str {
        "FedTrimmedAvg"
    }

    fn aggregate(&self, updates: &[Weighted<'_>]) -> Result<Model, CoordinatorError> {
        let k = (self.beta * updates.len() as f64).floor() as usize;
        coordinatewise(updates, |col| {
            col.sort_unstable();
            let kept = &col[k..col.len() - k];
            let s: i128 = kept.iter().map(|&v| i128::from(v)).sum();
            s.div_euclid(kept.len() as i128) as i64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_core::model::linear::LinearModel;

    #[test]
    fn trims_both_ends() {
        let ms: Vec<Model> = [-1000, 2, 3, 4, 5000].iter().map(|&w| Model::from(LinearModel { weights: vec![w], bias: 0 })).collect();
        let ws: Vec<Weighted> = ms.iter().map(|m| Weighted { samples: 9, model: m }).collect();
        let m = FedTrimmedAvg::new(0.2).unwrap().aggregate(&ws).unwrap();
        assert_eq!(m.params()[0], 3);
        // beta 0 is the plain mean: floor(4009 / 5) = 801
        assert_eq!(FedTrimmedAvg::new(0.0).unwrap().aggregate(&ws).unwrap().params()[0], 801);
        assert!(FedTrimmedAvg::new(0.5).is_err());
    }
}
