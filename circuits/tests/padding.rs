//! The power of two each fold pads to decides what compression and
//! verification cost. Nova's part of a fold is the same at any steps per
//! fold, so sizes at other steps per fold are predicted from one set of
//! keys; the prediction is checked against real keys, and every shipped
//! config is pinned to its padded size and to the steps per fold that fill
//! it.

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
