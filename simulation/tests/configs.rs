//! Every config the repository ships loads and is consistent: a broken
//! example is a defect users hit first. (No proofs: milliseconds.)

use candor_coordinator::config::CoordinatorConfig;
use candor_core::{Layout, Model, Task};
use candor_participant::config::HospitalConfig;
use candor_participant::local::{load_data, LocalConfig};
use candor_sim::config::SimConfig;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn daemon_federations_load_with_their_data() {
    // (directory, hidden units, classes: none for regression) of each shipped federation
    for (dir, hidden, classes) in [
        ("configs", 0, Some(2)),
        ("configs/digits-mlp", 16, Some(10)),
        ("configs/breast-cancer-mlp", 16, Some(2)),
        ("configs/breast-cancer-regression", 0, None),
    ] {
        let dir = root().join(dir);
        let coord = CoordinatorConfig::load(&dir.join("coordinator.toml")).unwrap();
        let study = coord.study().unwrap();
        let layout = Layout::new(&study.spec).unwrap();
        assert_eq!(study.spec.model.hidden, hidden, "{}", dir.display());
        assert_eq!(study.spec.model.label_classes(), classes);
        Model::initial(&study.spec).validate(&layout).unwrap();
        let test = study.load_csv(coord.eval_csv.as_ref().unwrap()).unwrap();
        assert!(test.rows() > 50);
        let mut labels = std::collections::BTreeSet::new();
        for h in ["a", "b", "c"] {
            let hosp = HospitalConfig::load(&dir.join(format!("hospital-{h}.toml"))).unwrap();
            assert_eq!(hosp.study().unwrap(), study, "hospital {h} of {} uses another study", dir.display());
            let data = study.load_csv(&hosp.data).unwrap();
            data.validate(&layout).unwrap();
            labels.extend(data.y.iter().copied());
        }
        match classes {
            Some(k) => assert_eq!(labels.len(), k, "{}: every class occurs", dir.display()),
            // standardized targets, spread across the format
            None => assert!(labels.len() > 100 && study.normalization.target.is_some(), "{}", dir.display()),
        }
    }
}

#[test]
fn simulation_and_local_configs_load() {
    for name in ["simulate-breast-cancer", "simulate-digits-mlp", "simulate-digits-softmax", "simulate-breast-cancer-mlp"] {
        let cfg = SimConfig::load(&root().join(format!("configs/{name}.toml"))).unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.spec.model.task == Task::Softmax, name.contains("digits"));
    }
    // relative data paths are read from the config's directory, wherever
    // the command runs
    std::env::set_current_dir(std::env::temp_dir()).unwrap();
    for name in ["local-breast-cancer", "local-digits-mlp", "local-digits-softmax", "local-breast-cancer-mlp"] {
        let cfg = LocalConfig::load(&root().join(format!("configs/{name}.toml"))).unwrap();
        assert!(cfg.notes.is_empty(), "{name} sets its steps per fold: {:?}", cfg.notes);
        let layout = Layout::new(&cfg.spec).unwrap();
        let (train, test, _) = load_data(&cfg.data, &cfg.spec).unwrap();
        train.validate(&layout).unwrap();
        assert!(test.rows() > 0);
    }
}

#[test]
fn shipped_configs_pin_what_their_specs_derive() {
    use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
    // every shipped config carries a pin, and configs sharing a spec share it
    let mut pins = std::collections::BTreeMap::new();
    let files = [
        "configs/study-breast-cancer.toml",
        "configs/breast-cancer-mlp/study.toml",
        "configs/digits-mlp/study.toml",
        "configs/breast-cancer-regression/study.toml",
        "configs/simulate-breast-cancer.toml",
        "configs/simulate-breast-cancer-mlp.toml",
        "configs/simulate-digits-mlp.toml",
        "configs/simulate-digits-softmax.toml",
        "configs/local-breast-cancer.toml",
        "configs/local-breast-cancer-mlp.toml",
        "configs/local-digits-mlp.toml",
        "configs/local-digits-softmax.toml",
    ];
    for f in files {
        let t: toml::Table = toml::from_str(&std::fs::read_to_string(root().join(f)).unwrap()).unwrap();
        let spec: candor_core::TrainSpec = t["spec"].clone().try_into().unwrap();
        let pin: candor_core::ParamsPin = t.get("params").unwrap_or_else(|| panic!("{f} pins no parameters")).clone().try_into().unwrap();
        let words = (spec.model, spec.batch_size, spec.steps_per_fold, spec.learning_rate.to_bits());
        let known = pins.entry(format!("{words:?}")).or_insert_with(|| (spec.clone(), pin.clone()));
        assert_eq!(known.1, pin, "{f}: another pin for the same circuit");
    }
    // deriving them takes seconds each: the linear breast-cancer circuits
    // here (the MLP daemons refuse to start on a stale pin, naming it)
    let study = candor_core::dataset::Study::load(&root().join("configs/study-breast-cancer.toml")).unwrap();
    let layout = Layout::new(&study.spec).unwrap();
    let train = TrainKeys::for_training(&layout, KeySource::train(None, &study.params).unwrap());
    assert!(train.is_ok(), "stale train pin: {:?}", train.err());
    let data = DataKeys::for_commitment(&layout, KeySource::data(None, &study.params).unwrap());
    assert!(data.is_ok(), "stale data pin: {:?}", data.err());
}

#[test]
fn a_split_resolves_against_its_config_and_a_missing_steps_per_fold_takes_the_padding_advice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for f in ["hospital-a.csv", "hospital-b.csv", "hospital-c.csv", "breast_cancer_test.csv"] {
        std::fs::copy(root().join("examples/data").join(f), data.join(f)).unwrap();
    }
    // the shipped breast-cancer federation, given as files, without steps_per_fold
    let shipped = std::fs::read_to_string(root().join("configs/simulate-breast-cancer.toml")).unwrap();
    let mut table: toml::Table = toml::from_str(&shipped).unwrap();
    table["data"].as_table_mut().unwrap().remove("path");
    let given = spec_of(&table).steps_per_fold;
    table["spec"].as_table_mut().unwrap().remove("steps_per_fold");
    let split = r#"hospitals = ["data/hospital-a.csv", "data/hospital-b.csv", "data/hospital-c.csv"]
test = "data/breast_cancer_test.csv""#;
    table.insert("split".into(), toml::Value::Table(toml::from_str(split).unwrap()));
    let path = dir.path().join("sim.toml");
    std::fs::write(&path, toml::to_string(&table).unwrap()).unwrap();

    let mut cfg = SimConfig::load(&path).unwrap();
    assert_eq!(cfg.split.as_ref().unwrap().test, dir.path().join("data/breast_cancer_test.csv"));
    assert_eq!(cfg.spec.steps_per_fold, 0, "absent");
    let note = candor_circuits::cost::fill_steps_per_fold(&mut cfg.spec).unwrap().unwrap();
    assert_eq!(cfg.spec.steps_per_fold, given, "the shipped config's choice is the padding advice: {note}");
    cfg.validate().unwrap();

    // a file that is not there is named before the run starts
    std::fs::remove_file(data.join("hospital-b.csv")).unwrap();
    let e = SimConfig::load(&path).unwrap().validate().unwrap_err().to_string();
    assert!(e.contains("hospital-b.csv: no such data file") && e.contains("config file's directory"), "{e}");
}

fn spec_of(table: &toml::Table) -> candor_core::TrainSpec {
    table["spec"].clone().try_into().unwrap()
}
