//! The model a federation trains, whichever architecture its spec names: the
//! one type that travels in messages, is stored, aggregated and proven.

pub mod linear;
pub mod mlp;
pub mod softmax;

use crate::data::Batch;
use crate::{CoreError, Layout, Task, TrainSpec};
use linear::{sgd_step, LinearModel, StepTrace};
use mlp::{mlp_step_traced, Mlp, MlpTrace};
use serde::{Deserialize, Serialize};
use softmax::{softmax_step, SoftmaxRegression, SoftmaxTrace};

/// Intermediate values of one step, per architecture.
#[derive(Clone, Debug)]
pub enum Trace {
    /// Logistic or linear regression.
    Linear(StepTrace),
    /// One-hidden-layer MLP.
    Mlp(MlpTrace),
    /// Multinomial logistic regression.
    Softmax(SoftmaxTrace),
}

/// A fixed-point model: logistic/linear regression, a one-hidden-layer MLP
/// or multinomial logistic regression.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Model {
    /// One dense layer with a bias.
    Linear(LinearModel),
    /// One hidden clipped-ReLU layer, sigmoid or softmax output.
    Mlp(Mlp),
    /// One dense layer, one logit per class, softmax output. (Appended, so
    /// the wire encoding of the other variants is unchanged.)
    Softmax(SoftmaxRegression),
}

impl From<LinearModel> for Model {
    fn from(m: LinearModel) -> Self {
        Model::Linear(m)
    }
}

impl From<Mlp> for Model {
    fn from(m: Mlp) -> Self {
        Model::Mlp(m)
    }
}

impl From<SoftmaxRegression> for Model {
    fn from(m: SoftmaxRegression) -> Self {
        Model::Softmax(m)
    }
}

impl Model {
    /// The federation's first global model: zeros for a model without a
    /// hidden layer, seeded Glorot-uniform weights (`model.init_seed`) for an
    /// MLP.
    pub fn initial(spec: &TrainSpec) -> Self {
        match spec.model.mlp_shape() {
            Some(shape) => Model::Mlp(Mlp::init(shape, spec.format, spec.model.init_seed)),
            None if spec.model.task == Task::Softmax => Model::Softmax(SoftmaxRegression::zeros(spec.model.features, spec.model.classes)),
            None => Model::Linear(LinearModel::zeros(spec.model.features)),
        }
    }

    /// Parameters in canonical order (the order proofs hash them in).
    pub fn params(&self) -> Vec<i64> {
        match self {
            Model::Linear(m) => m.params(),
            Model::Mlp(m) => m.params(),
            Model::Softmax(m) => m.params(),
        }
    }

    /// Whether two models have the same architecture (and so parameters
    /// that correspond one to one).
    pub fn same_architecture(&self, other: &Model) -> bool {
        match (self, other) {
            (Model::Linear(a), Model::Linear(b)) => a.weights.len() == b.weights.len(),
            (Model::Mlp(a), Model::Mlp(b)) => a.shape == b.shape,
            (Model::Softmax(a), Model::Softmax(b)) => (a.features, a.classes) == (b.features, b.classes),
            _ => false,
        }
    }

    /// A model of the same architecture with other parameters.
    pub fn with_params(&self, params: &[i64]) -> Result<Self, CoreError> {
        if params.len() != self.params().len() {
            return Err(CoreError::InvalidData(format!("{} parameters for a model of {}", params.len(), self.params().len())));
        }
        Ok(match self {
            Model::Linear(_) => Model::Linear(LinearModel::from_params(params)?),
            Model::Mlp(m) => Model::Mlp(Mlp::from_params(m.shape, params)?),
            Model::Softmax(m) => Model::Softmax(SoftmaxRegression::from_params(m.features, m.classes, params)?),
        })
    }

    /// Checks that the architecture is the spec's and every parameter fits
    /// the format.
    pub fn validate(&self, layout: &Layout) -> Result<(), CoreError> {
        match (self, layout.mlp_shape()) {
            (Model::Softmax(m), _) => m.validate(layout),
            (Model::Linear(m), None) => m.validate(layout),
            (Model::Mlp(m), Some(shape)) if m.shape == shape => m.validate(layout.spec.format),
            (Model::Mlp(m), Some(shape)) => Err(CoreError::InvalidData(format!(
                "model is a {}-{}-{} MLP, the spec a {}-{}-{} one",
                m.shape.features, m.shape.hidden, m.shape.outputs, shape.features, shape.hidden, shape.outputs
            ))),
            (Model::Linear(_), Some(_)) => Err(CoreError::InvalidData("a linear model for an MLP spec".into())),
            (Model::Mlp(_), None) => Err(CoreError::InvalidData("an MLP for a linear spec".into())),
        }
    }

    /// One SGD step of the integer reference.
    pub fn step(&self, layout: &Layout, batch: &Batch) -> Result<Self, CoreError> {
        Ok(self.step_traced(layout, batch)?.0)
    }

    /// [`step`](Self::step) with its trace (the step circuit's witness).
    pub fn step_traced(&self, layout: &Layout, batch: &Batch) -> Result<(Self, Trace), CoreError> {
        self.validate(layout)?;
        Ok(match self {
            Model::Linear(m) => {
                let (next, t) = sgd_step(layout, m, batch)?;
                (Model::Linear(next), Trace::Linear(t))
            }
            Model::Mlp(m) => {
                let (next, t) = mlp_step_traced(layout, m, batch)?;
                (Model::Mlp(next), Trace::Mlp(t))
            }
            Model::Softmax(m) => {
                let (next, t) = softmax_step(layout, m, batch)?;
                (Model::Softmax(next), Trace::Softmax(t))
            }
        })
    }

    /// Output logits of one row, in real units.
    pub fn logits(&self, layout: &Layout, x: &[i64]) -> Vec<f64> {
        let fmt = layout.spec.format;
        match self {
            Model::Linear(m) => {
                let n: i128 = m.weights.iter().zip(x).map(|(&w, &v)| i128::from(w) * i128::from(v)).sum::<i128>()
                    + i128::from(m.bias) * i128::from(fmt.one());
                vec![n as f64 / (fmt.one() as f64).powi(2)]
            }
            Model::Mlp(m) => m.forward(fmt, x).2.iter().map(|&z| fmt.to_f64(z as i64)).collect(),
            Model::Softmax(m) => m.logits(fmt, x).iter().map(|&z| fmt.to_f64(z as i64)).collect(),
        }
    }

    /// Named tensors (name, shape, row-major values), for export.
    pub fn tensors(&self) -> Vec<(&'static str, Vec<usize>, Vec<i64>)> {
        match self {
            Model::Linear(m) => vec![("weight", vec![m.weights.len()], m.weights.clone()), ("bias", vec![1], vec![m.bias])],
            Model::Mlp(m) => {
                let s = m.shape;
                vec![
                    ("hidden.weight", vec![s.features, s.hidden], m.w1.clone()),
                    ("hidden.bias", vec![s.hidden], m.b1.clone()),
                    ("output.weight", vec![s.hidden, s.outputs], m.w2.clone()),
                    ("output.bias", vec![s.outputs], m.b2.clone()),
                ]
            }
            Model::Softmax(m) => {
                vec![("weight", vec![m.features, m.classes], m.weights.clone()), ("bias", vec![m.classes], m.bias.clone())]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FixedFormat, ModelSpec, Task};

    fn spec(model: ModelSpec) -> TrainSpec {
        TrainSpec { model, format: FixedFormat::default(), learning_rate: 0.5, batch_size: 4, epochs: 1, steps_per_fold: 1 }
    }

    #[test]
    fn architecture_is_checked_against_the_spec() {
        let mlp = Layout::new(&spec(ModelSpec::mlp(3, 4, Task::Softmax, 3))).unwrap();
        let lin = Layout::new(&spec(ModelSpec::linear(3, Task::Logistic))).unwrap();
        let m = Model::initial(&mlp.spec);
        assert!(m.validate(&mlp).is_ok());
        assert!(m.validate(&lin).is_err());
        assert!(Model::initial(&lin.spec).validate(&mlp).is_err());
        let other = Layout::new(&spec(ModelSpec::mlp(3, 5, Task::Softmax, 3))).unwrap();
        assert!(m.validate(&other).is_err());
        let soft = Layout::new(&spec(ModelSpec::softmax_regression(3, 3))).unwrap();
        let s = Model::initial(&soft.spec);
        assert!(matches!(s, Model::Softmax(_)) && s.validate(&soft).is_ok());
        for (model, layout) in [(&s, &mlp), (&s, &lin), (&m, &soft), (&Model::initial(&lin.spec), &soft)] {
            assert!(model.validate(layout).is_err(), "{model:?}");
        }
        // the numbers of a linear model relabelled as a one-class softmax
        let relabelled = Model::Softmax(SoftmaxRegression::from_params(3, 1, &Model::initial(&lin.spec).params()).unwrap());
        assert!(relabelled.validate(&lin).is_err());
        let four = Layout::new(&spec(ModelSpec::softmax_regression(3, 4))).unwrap();
        assert!(s.validate(&four).is_err());
        assert_eq!(s.with_params(&s.params()).unwrap(), s);
        let p = m.params();
        assert_eq!(m.with_params(&p).unwrap(), m);
        assert!(m.with_params(&p[1..]).is_err());
    }

    #[test]
    fn invalid_architectures_are_refused() {
        for bad in [
            ModelSpec::softmax_regression(3, 1),
            ModelSpec::linear(3, Task::Softmax),
            ModelSpec::mlp(3, 4, Task::Softmax, 1),
            ModelSpec::mlp(3, 4, Task::Linear, 0),
            ModelSpec::mlp(3, 4, Task::Logistic, 3),
        ] {
            assert!(matches!(Layout::new(&spec(bad)), Err(CoreError::InvalidSpec(_))), "{bad:?}");
        }
    }
}
