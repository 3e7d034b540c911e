//! The candle MLP and multinomial logistic regression trainers are
//! bit-identical to their integer references (`candor_core::model::mlp`,
//! `candor_core::model::softmax`) on random shapes, models and batches
//! across the format range, and overflow exactly when the reference does.

use candor_core::data::Batch;
use candor_core::model::mlp::Mlp;
use candor_core::model::softmax::SoftmaxRegression;
use candor_core::{FixedFormat, Layout, MlpShape, Model, ModelSpec, Task, TrainSpec};
use candor_participant::train::ExactTrainer;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn case() -> impl Strategy<Value = (Layout, Mlp, Vec<Batch>)> {
    (
        1usize..8,
        1usize..6,
        prop_oneof![Just(1usize), Just(2), Just(3), Just(5)],
        prop_oneof![Just(1usize), Just(2), Just(4), Just(8)],
        6u32..11,
        0.0f64..1.0,
        any::<bool>(),
    )
        .prop_flat_map(|(d, h, k, b, frac, lr, small)| {
            let format = FixedFormat { frac_bits: frac, int_bits: 3 };
            // at least one quantum, at most 1.0
            let learning_rate = (1 + (lr * (format.one() - 1) as f64) as i64) as f64 / format.one() as f64;
            let (task, classes) = if k == 1 { (Task::Logistic, 0) } else { (Task::Softmax, k) };
            let spec = TrainSpec {
                model: ModelSpec::mlp(d, h, task, classes),
                format,
                learning_rate,
                batch_size: b,
                epochs: 1,
                steps_per_fold: 1,
            };
            let layout = Layout::new(&spec).unwrap();
            let shape = MlpShape { features: d, hidden: h, outputs: k };
            let (lo, hi) = if small { (-format.one(), format.one()) } else { (format.min(), format.max()) };
            let classes = if k == 1 { 2 } else { k as i64 };
            let batch =
                (prop::collection::vec(lo..=hi, b * d), prop::collection::vec(0..classes, b), prop::collection::vec(any::<bool>(), b))
                    .prop_map(|(x, y, mask)| Batch { x, y, mask });
            let model = prop::collection::vec(lo..=hi, shape.params()).prop_map(move |p| Mlp::from_params(shape, &p).unwrap());
            (Just(layout), model, prop::collection::vec(batch, 1..4))
        })
}

fn softmax_case() -> impl Strategy<Value = (Layout, SoftmaxRegression, Vec<Batch>)> {
    (1usize..8, 2usize..7, prop_oneof![Just(1usize), Just(2), Just(4), Just(8)], 6u32..11, 0.0f64..1.0, any::<bool>()).prop_flat_map(
        |(d, k, b, frac, lr, small)| {
            let format = FixedFormat { frac_bits: frac, int_bits: 3 };
            // at least one quantum, at most 1.0
            let learning_rate = (1 + (lr * (format.one() - 1) as f64) as i64) as f64 / format.one() as f64;
            let spec = TrainSpec {
                model: ModelSpec::softmax_regression(d, k),
                format,
                learning_rate,
                batch_size: b,
                epochs: 1,
                steps_per_fold: 1,
            };
            let layout = Layout::new(&spec).unwrap();
            let (lo, hi) = if small { (-format.one(), format.one()) } else { (format.min(), format.max()) };
            let batch =
                (prop::collection::vec(lo..=hi, b * d), prop::collection::vec(0..k as i64, b), prop::collection::vec(any::<bool>(), b))
                    .prop_map(|(x, y, mask)| Batch { x, y, mask });
            let model = prop::collection::vec(lo..=hi, (d + 1) * k).prop_map(move |p| SoftmaxRegression::from_params(d, k, &p).unwrap());
            (Just(layout), model, prop::collection::vec(batch, 1..4))
        },
    )
}

/// Steps the candle trainer and the integer reference side by side: equal
/// models after every step, or both failing (overflow) at the same step.
fn compare(layout: &Layout, model: Model, batches: &[Batch]) -> Result<(), TestCaseError> {
    let mut trainer = ExactTrainer::new(layout, &model).unwrap();
    let mut reference = model;
    for batch in batches {
        let candle = trainer.step(batch);
        match reference.step(layout, batch) {
            Ok(next) => {
                prop_assert!(candle.is_ok(), "candle failed: {:?}", candle.err());
                prop_assert_eq!(trainer.model().unwrap(), next.clone());
                reference = next;
            }
            Err(e) => {
                prop_assert!(candle.is_err(), "reference failed ({e}) but candle did not");
                break;
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn candle_mlp_matches_integer_reference((layout, model, batches) in case()) {
        compare(&layout, Model::Mlp(model), &batches)?;
    }

    #[test]
    fn candle_softmax_regression_matches_integer_reference((layout, model, batches) in softmax_case()) {
        compare(&layout, Model::Softmax(model), &batches)?;
    }
}
