//! FedAvg (McMahan et al., 2017): the average of the updates weighted by
//! their sample counts, here the counts each proof attests rather than counts
//! clients report about themselves.

use super::{params, Strategy, Weighted};
use crate::CoordinatorError;
use candor_core::Model;

/// `floor(sum_k n_k w_k / sum_k n_k)` per parameter.
#[derive(Clone, Copy, Debug, Default)]
pub struct FedAvg;

impl Strategy for FedAvg {
    fn name(&self) -> &'static str {
        "FedAvg"
    }

    fn aggregate(&self, updates: &[Weighted<'_>]) -> Result<Model, CoordinatorError> {
        let ps = params(updates)?;
        let total: i128 = updates.iter().map(|u| i128::from(u.samples)).sum();
        if total == 0 {
            return Err(CoordinatorError::NothingToAggregate);
        }
        let out: Vec<i64> = (0..ps[0].len())
            .map(|j| {
                let s: i128 = ps.iter().zip(updates).map(|(p, u)| i128::from(p[j]) * i128::from(u.samples)).sum();
                s.div_euclid(total) as i64
            })
            .collect();
        Ok(updates[0].model.with_params(&out)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candor_core::model::linear::LinearModel;

    #[test]
    fn weights_by_samples_with_floor() {
        let a = Model::from(LinearModel { weights: vec![10, -10], bias: 0 });
        let b = Model::from(LinearModel { weights: vec![20, 0], bias: 1 });
        let m = FedAvg.aggregate(&[Weighted { samples: 1, model: &a }, Weighted { samples: 3, model: &b }]).unwrap();
        // (10 + 60) / 4 = 17.5 -> 17; (-10 + 0) / 4 = -2.5 -> -3; 3/4 -> 0
        assert_eq!(m, Model::from(LinearModel { weights: vec![17, -3], bias: 0 }));
    }

    #[test]
    fn rejects_empty_and_mismatched() {
        assert!(FedAvg.aggregate(&[]).is_err());
        let a = Model::from(LinearModel { weights: vec![1], bias: 0 });
        let b = Model::from(LinearModel { weights: vec![1, 2], bias: 0 });
        let r = FedAvg.aggregate(&[Weighted { samples: 1, model: &a }, Weighted { samples: 1, model: &b }]);
        assert!(matches!(r, Err(CoordinatorError::ShapeMismatch)));
    }

    #[test]
    fn averages_mlps_and_refuses_mixed_architectures() {
        use candor_core::{model::mlp::Mlp, MlpShape};
        let shape = MlpShape { features: 1, hidden: 1, outputs: 1 }; // 4 parameters
        let a = Model::from(Mlp::from_params(shape, &[4, 0, 8, -2]).unwrap());
        let b = Model::from(Mlp::from_params(shape, &[0, 4, 0, 2]).unwrap());
        let m = FedAvg.aggregate(&[Weighted { samples: 1, model: &a }, Weighted { samples: 1, model: &b }]).unwrap();
        assert_eq!(m, Model::from(Mlp::from_params(shape, &[2, 2, 4, 0]).unwrap()));
        // a linear model with as many parameters is still another architecture
        let l = Model::from(LinearModel { weights: vec![1, 2, 3], bias: 0 });
        let r = FedAvg.aggregate(&[Weighted { samples: 1, model: &a }, Weighted { samples: 1, model: &l }]);
        assert!(matches!(r, Err(CoordinatorError::ShapeMismatch)));
    }
}
