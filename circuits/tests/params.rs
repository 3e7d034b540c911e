//! Public parameters decide what verification accepts, so they are trusted
//! only against a pinned digest: a cache file is read only under a pin and
//! used only if its parameters hash to it; derived parameters must match a
//! pin too; without a pin the cache is never read.

use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
use candor_circuits::CircuitError;
use candor_core::{Layout, ParamsPin, Task, TrainSpec};
use candor_prover::fixtures;
use std::path::{Path, PathBuf};

fn spec(learning_rate: f64) -> TrainSpec {
    TrainSpec { learning_rate, ..fixtures::spec(Task::Logistic, 3, 4, 1) }
}

fn layout(learning_rate: f64) -> Layout {
    Layout::new(&spec(learning_rate)).unwrap()
}

/// The one training-parameter file in a cache directory.
fn cache_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().contains("train-")).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn params_error(r: Result<TrainKeys, CircuitError>) -> String {
    match r {
        Err(CircuitError::Params(m)) => m,
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("parameters accepted"),
    }
}

#[test]
fn cached_parameters_are_used_only_when_they_hash_to_the_pin() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // unpinned: derived, then written to the cache
    let keys_a = TrainKeys::for_training(&layout(0.5), KeySource::new(Some(a.path()), None)).unwrap();
    let pin_a = keys_a.digest();
    let file_a = cache_file(a.path());
    let keys_b = TrainKeys::for_training(&layout(0.25), KeySource::new(Some(b.path()), None)).unwrap();
    let pin_b = keys_b.digest();
    assert_ne!(pin_a, pin_b);

    // pinned: loaded from the cache (a wrong header proves the file is read)
    assert_eq!(TrainKeys::for_training(&layout(0.5), KeySource::new(Some(a.path()), Some(pin_a))).unwrap().digest(), pin_a);
    let honest = std::fs::read(&file_a).unwrap();
    let mut bad_header = honest.clone();
    bad_header[0] ^= 1;
    std::fs::write(&file_a, &bad_header).unwrap();
    let r = TrainKeys::for_training(&layout(0.5), KeySource::new(Some(a.path()), Some(pin_a)));
    assert!(matches!(r, Err(CircuitError::Malformed { .. })), "the cache file was not read");

    // another spec's parameters in A's file, with their own valid header:
    // a self-consistent file of the wrong circuit is refused at start-up
    std::fs::copy(cache_file(b.path()), &file_a).unwrap();
    let m = params_error(TrainKeys::for_training(&layout(0.5), KeySource::new(Some(a.path()), Some(pin_a))));
    assert!(m.contains(&pin_b.to_string()) && m.contains(&pin_a.to_string()), "{m}");

    // without a pin the (tampered) cache is not read: derived afresh
    assert_eq!(TrainKeys::for_training(&layout(0.5), KeySource::new(Some(a.path()), None)).unwrap().digest(), pin_a);
}

#[test]
fn a_pin_this_build_does_not_derive_is_refused() {
    let pin_b = TrainKeys::for_training(&layout(0.25), KeySource::derive()).unwrap().digest();
    let m = params_error(TrainKeys::for_training(&layout(0.5), KeySource::new(None, Some(pin_b))));
    assert!(m.contains("this build derives"), "{m}");
    // and a commitment circuit's digest is not a training circuit's
    let data = DataKeys::for_commitment(&layout(0.5), KeySource::derive()).unwrap().digest();
    params_error(TrainKeys::for_training(&layout(0.5), KeySource::new(None, Some(data))));
}

#[test]
fn a_malformed_pin_names_its_field() {
    let pins = |hex: &str| ParamsPin { train: Some(hex.to_string()), data: Some(hex.to_string()) };
    for bad in ["", "00", "zz".repeat(32).as_str(), &"0".repeat(65)] {
        match KeySource::train(None, &pins(bad)) {
            Err(CircuitError::Params(m)) => assert!(m.contains("params.train"), "{m}"),
            other => panic!("{bad:?}: {other:?}"),
        }
        match KeySource::data(None, &pins(bad)) {
            Err(CircuitError::Params(m)) => assert!(m.contains("params.data"), "{m}"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    assert!(KeySource::train(None, &pins(&"ab".repeat(32))).unwrap().pin.is_some());
    assert!(KeySource::train(None, &ParamsPin::default()).unwrap().pin.is_none());
}
