//! FedMedian (Yin et al., 2018): the coordinate-wise median, robust to a
//! minority of arbitrary updates.

use super::{coordinatewise, Strategy, Weighted};
use crate::CoordinatorError;
use candor_core::Model;

/// Coordinate-wise median; for an even count, the floor of the mean of the
/// two middle values.
#[derive(Clone, Copy, Debug, Default)]
pub struct FedMedian;

impl Strategy for FedMedian {
    fn name(&self) -> &'static str {
        "FedMedian"
    }

    fn aggregate(&self, updates: &[Weighted<'_>]) -> Result<Model, CoordinatorError> {
        coordinatewise(updates, |col| {
            col.sort_unstable();
            let n = col.len();
            if n % 2 == 1 {
                col[n / 2]
            } else {
                (i128::from(col[n / 2 - 1]) + i128::from(col[n / 2])).div_euclid(2) as i64
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_core::model::linear::LinearModel;

    #[test]
    fn median_ignores_an_outlier() {
        let ms: Vec<Model> = [5, 7, 1_000_000].iter().map(|&w| Model::from(LinearModel { weights: vec![w], bias: -w })).collect();
        let ws: Vec<Weighted> = ms.iter().map(|m| Weighted { samples: 1, model: m }).collect();
        assert_eq!(FedMedian.aggregate(&ws).unwrap(), Model::from(LinearModel { weights: vec![7], bias: -7 }));
        // even count: floor((5 + 7) / 2) = 6, floor((-7 - 5) / 2) = -6
        assert_eq!(FedMedian.aggregate(&ws[..2]).unwrap(), Model::from(LinearModel { weights: vec![6], bias: -6 }));
    }
}
