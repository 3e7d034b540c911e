//! The candle trainer is bit-identical to the integer reference (which the
//! circuit tests tie to the proofs), on random shapes, models and batches
//! across the whole format range, and overflows exactly when it does.

use candor_core::data::Batch;
use candor_core::model::linear::{sgd_step, LinearModel};
use candor_core::{FixedFormat, Layout, ModelSpec, Task, TrainSpec};
use candor_participant::train::linear::FixedTrainer;
use candor_participant::train::Trainer;
use proptest::prelude::*;

fn layout(task: Task, d: usize, b: usize, lr: f64, frac: u32) -> Layout {
    Layout::new(&TrainSpec {
        model: ModelSpec::linear(d, task),
        format: FixedFormat { frac_bits: frac, int_bits: 3 },
        learning_rate: lr,
        batch_size: b,
        epochs: 1,
        steps_per_fold: 1,
    })
    .unwrap()
}

fn case() -> impl Strategy<Value = (Layout, LinearModel, Vec<Batch>)> {
    (
        prop_oneof![Just(Task::Logistic), Just(Task::Linear)],
        1usize..12,
        prop_oneof![Just(1usize), Just(2), Just(4), Just(16)],
        // the learning rate as a fraction of one: it must quantize to at
        // least one step of the format, or the spec is (rightly) refused
        0.0f64..1.0,
        6u32..12,
        // "small" keeps values near zero so that multi-step runs rarely
        // overflow; otherwise values span the whole format range
        any::<bool>(),
    )
        .prop_flat_map(|(task, d, b, lr_frac, frac, small)| {
            let quantum = 1.0 / f64::from(1u32 << frac);
            let lr = quantum + lr_frac * (1.0 - quantum);
            let l = layout(task, d, b, lr, frac);
            let fmt = l.spec.format;
            let (lo, hi) = if small { (-fmt.one(), fmt.one()) } else { (fmt.min(), fmt.max()) };
            let label = match task {
                // linear models only (softmax needs a hidden layer: mlp_parity.rs)
                Task::Logistic | Task::Softmax => (0i64..2).boxed(),
                Task::Linear => (lo..=hi).boxed(),
            };
            let batch = (prop::collection::vec(lo..=hi, b * d), prop::collection::vec(label, b), prop::collection::vec(any::<bool>(), b))
                .prop_map(|(x, y, mask)| Batch { x, y, mask });
            let model = (prop::collection::vec(lo..=hi, d), lo..=hi).prop_map(|(weights, bias)| LinearModel { weights, bias });
            (Just(l), model, prop::collection::vec(batch, 1..4))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn candle_matches_integer_reference((l, model, batches) in case()) {
        let mut trainer = FixedTrainer::new(&l, &model).unwrap();
        let mut reference = model.clone();
        for batch in &batches {
            let native = sgd_step(&l, &reference, batch);
            let candle = trainer.step(batch);
            match native {
                Ok((next, _)) => {
                    prop_assert!(candle.is_ok(), "candle failed: {:?}", candle.err());
                    prop_assert_eq!(trainer.model().unwrap(), next.clone());
                    reference = next;
                }
                Err(e) => {
                    prop_assert!(candle.is_err(), "reference overflowed ({e}) but candle did not");
                    break;
                }
            }
        }
    }
}
