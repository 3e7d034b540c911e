//! The power of two each fold pads to decides what compression and
//! verification cost. Nova's part of a fold is the same at any steps per
//! fold, so sizes at other steps per fold are predicted from one set of
//! keys; the prediction is checked against real keys, and every shipped
//! config is pinned to its padded size and to the steps per fold that fill
//! it.

use candor_circuits::cost::{fill_steps_per_fold, padding_steps_per_fold};
use candor_circuits::engine::{KeySource, TrainKeys};
use candor_circuits::padding::{advice, step_size, Size};
use candor_core::{Layout, Task, TrainSpec};
use candor_prover::fixtures;

fn keys(spec: &TrainSpec) -> TrainKeys {
    TrainKeys::for_training(&Layout::new(spec).unwrap(), KeySource::derive()).unwrap()
}

#[test]
fn sizes_at_other_steps_per_fold_are_predicted_exactly() {
    let one = fixtures::spec(Task::Logistic, 5, 4, 1);
    let three = TrainSpec { steps_per_fold: 3, ..one.clone() };
    let (k1, k3) = (keys(&one), keys(&three));
    let (s1, s3) = (k1.sizes().0, k3.sizes().0);
    let nova = Size {
        constraints: s1.constraints - step_size(&one).unwrap().constraints,
        variables: s1.variables - step_size(&one).unwrap().variables,
    };
    let step3 = step_size(&three).unwrap();
    assert_eq!(s3, Size { constraints: nova.constraints + step3.constraints, variables: nova.variables + step3.variables });
    // the secondary circuit does not depend on the step circuit
    assert_eq!(k1.sizes().1, k3.sizes().1);
    let a = advice(&k1).unwrap();
    assert!(a.best >= 1 && a.best_pads_to == s1.pads_to(), "{a}");
    // the cost model's padding advice, which needs no keys, is the same
    assert_eq!(padding_steps_per_fold(&three).unwrap(), (a.best, a.best_pads_to));
    // and fills a spec that gives none, saying so
    let mut missing = TrainSpec { steps_per_fold: 0, ..one.clone() };
    let note = fill_steps_per_fold(&mut missing).unwrap().unwrap();
    assert_eq!(missing.steps_per_fold, a.best);
    assert!(note.contains(&format!("using {}", a.best)), "{note}");
    assert_eq!(fill_steps_per_fold(&mut missing).unwrap(), None, "a given value is kept");
}

/// The `[spec]` of a shipped config.
fn shipped(name: &str) -> TrainSpec {
    let path = format!("{}/../configs/{name}", env!("CARGO_MANIFEST_DIR"));
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    table["spec"].clone().try_into().unwrap()
}

#[test]
fn shipped_configs_fill_their_power_of_two() {
    // Nova's part of a fold, from the smallest keys
    let fixture = fixtures::spec(Task::Logistic, 5, 4, 1);
    let (s, step) = (keys(&fixture).sizes().0, step_size(&fixture).unwrap());
    let nova = |spec: &TrainSpec| {
        let st = step_size(spec).unwrap();
        Size { constraints: s.constraints - step.constraints + st.constraints, variables: s.variables - step.variables + st.variables }
    };
    // (config, steps per fold, the power of two its fold pads to)
    for (name, spf, pads_to) in PINNED {
        let spec = shipped(name);
        assert_eq!(spec.steps_per_fold, *spf, "{name}");
        assert_eq!(nova(&spec).pads_to(), *pads_to, "{name}: {}", nova(&spec));
        // one more step per fold would cross into the next power of two,
        // unless the layout's limit comes first
        let more = TrainSpec { steps_per_fold: spf + 1, ..spec.clone() };
        if Layout::new(&more).is_ok() {
            assert!(nova(&more).pads_to() > *pads_to, "{name}: {} steps per fold fit 2^{pads_to} too", spf + 1);
        }
        // and fewer would not pad smaller
        if *spf > 1 {
            let fewer = TrainSpec { steps_per_fold: spf - 1, ..spec };
            assert_eq!(nova(&fewer).pads_to(), *pads_to, "{name}");
        }
    }
}

const PINNED: &[(&str, usize, u32)] = &[
    ("local-breast-cancer.toml", 3, 15),
    ("simulate-breast-cancer.toml", 3, 15),
    ("study-breast-cancer.toml", 3, 15),
    ("local-breast-cancer-mlp.toml", 1, 16),
    ("simulate-breast-cancer-mlp.toml", 1, 16),
    ("breast-cancer-mlp/study.toml", 1, 16),
    ("local-digits-mlp.toml", 1, 17),
    ("simulate-digits-mlp.toml", 1, 17),
    ("digits-mlp/study.toml", 1, 17),
];

/// The cost model counts a fold exactly: Nova's part is the pinned
/// constant, the step and per-fold parts come from counting synthesis.
#[test]
fn the_cost_model_counts_folds_exactly() {
    use candor_circuits::cost::{CircuitCost, NOVA_PRIMARY, NOVA_SECONDARY};
    for spec in [fixtures::spec(Task::Logistic, 5, 4, 1), fixtures::mlp_spec(4, 3, 3, 4, 2)] {
        let k = keys(&spec);
        let cost = CircuitCost::of(&spec).unwrap();
        assert_eq!(cost.fold(spec.steps_per_fold), k.sizes().0, "{spec:?}");
        assert_eq!(k.sizes().1, NOVA_SECONDARY);
        let s = step_size(&spec).unwrap();
        assert_eq!(k.sizes().0.constraints - s.constraints, NOVA_PRIMARY.constraints);
        assert_eq!(k.sizes().0.variables - s.variables, NOVA_PRIMARY.variables);
        // and at other steps per fold, against the shape the circuit has there
        let five = TrainSpec { steps_per_fold: 5, ..spec.clone() };
        let s5 = step_size(&five).unwrap();
        assert_eq!(
            cost.fold(5),
            Size { constraints: NOVA_PRIMARY.constraints + s5.constraints, variables: NOVA_PRIMARY.variables + s5.variables }
        );
    }
}

#[test]
fn the_cost_model_counts_empty_steps_and_picks_steps_per_fold_by_time_and_memory() {
    use candor_circuits::cost::{best_steps_per_fold, predict, CircuitCost, REFERENCE};
    let spec = shipped("local-breast-cancer.toml");
    let cost = CircuitCost::of(&spec).unwrap();
    // 150 rows are 10 batches of 16: at 3 steps per fold 12, two empty
    let three = predict(&cost, &REFERENCE, 150, 3).unwrap();
    assert_eq!((three.batches, three.empty_steps, three.folds), (12, 2 * spec.epochs as usize, 4 * spec.epochs as usize));
    let five = predict(&cost, &REFERENCE, 150, 5).unwrap();
    assert_eq!((five.batches, five.empty_steps), (10, 0));
    // more steps per fold: fewer folds, but a larger one
    assert!(five.fold.constraints > three.fold.constraints && five.fold_secs > three.fold_secs);
    let all: Vec<_> = (1..=64).map(|s| predict(&cost, &REFERENCE, 150, s).unwrap()).collect();
    let best = best_steps_per_fold(&cost, &REFERENCE, 150, f64::INFINITY).unwrap();
    assert!(all.iter().all(|r| best.round_secs() <= r.round_secs()), "{best}");
    // under a memory budget: the fastest that fits, or the smallest of all
    let budget = all.iter().map(|r| r.peak_rss_mb).fold(f64::INFINITY, f64::min);
    let small = best_steps_per_fold(&cost, &REFERENCE, 150, budget).unwrap();
    assert!(small.peak_rss_mb <= budget);
    let none = best_steps_per_fold(&cost, &REFERENCE, 150, 1.0).unwrap();
    assert_eq!(none.peak_rss_mb, budget);
}
