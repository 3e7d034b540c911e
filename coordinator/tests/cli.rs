//! The operator's study tooling from the command line: `normalize` turns a
//! regression study without a [normalization] into one whose data loads,
//! from data files or from hospitals' summaries (the same table either way).

use candor_core::dataset::Study;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data").join(name)
}

const STUDY: &str = r#"
label = "mean_area"
features = ["mean_texture", "mean_smoothness", "mean_compactness", "se_radius"]

[spec]
learning_rate = 0.125
batch_size = 16
epochs = 1
steps_per_fold = 4

[spec.model]
features = 4
task = "linear"
"#;

fn normalize(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_candor-coordinator")).arg("normalize").args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn normalize_from_files_or_from_summaries_makes_a_regression_study_loadable() {
    let dir = tempfile::tempdir().unwrap();
    let study_path = dir.path().join("study.toml");
    std::fs::write(&study_path, STUDY).unwrap();
    let bare = Study::load(&study_path).unwrap();
    let e = bare.load_csv(&data("hospital-a.csv")).unwrap_err().to_string();
    assert!(e.contains("no [normalization]"), "{e}");

    let hospitals = ["hospital-a.csv", "hospital-b.csv", "hospital-c.csv"].map(data);
    let study = study_path.to_str().unwrap();
    let mut args = vec!["--study", study];
    for h in &hospitals {
        args.extend(["--data", h.to_str().unwrap()]);
    }
    let from_files = normalize(&args);
    assert!(from_files.contains("[normalization.target]") && from_files.contains("455 rows in 3 file(s)"), "{from_files}");

    // each hospital's summary (what `candor-participant summarize` prints)
    let mut args = vec!["--study".to_string(), study.to_string()];
    for (i, h) in hospitals.iter().enumerate() {
        let p = dir.path().join(format!("summary-{i}.toml"));
        std::fs::write(&p, toml::to_string(&bare.summarize(h).unwrap()).unwrap()).unwrap();
        args.extend(["--summary".to_string(), p.to_str().unwrap().to_string()]);
    }
    let from_summaries = normalize(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let load = |table: &str| {
        std::fs::write(&study_path, format!("{STUDY}\n{table}")).unwrap();
        Study::load(&study_path).unwrap()
    };
    let (a, b) = (load(&from_files), load(&from_summaries));
    let close = |u: &[f64], v: &[f64]| u.iter().zip(v).all(|(x, y)| (x - y).abs() <= 1e-9 * x.abs().max(1.0));
    assert!(close(&a.normalization.mean, &b.normalization.mean) && close(&a.normalization.std, &b.normalization.std));
    let (ta, tb) = (a.normalization.target.unwrap(), b.normalization.target.unwrap());
    assert!(close(&[ta.mean, ta.std], &[tb.mean, tb.std]));
    // mean_area of the 455 training rows: hundreds of square pixels
    assert!((500.0..800.0).contains(&ta.mean) && (250.0..450.0).contains(&ta.std), "{ta:?}");
    // and the targets now load, standardized into Q3.9
    let d = a.load_csv(&data("breast_cancer_test.csv")).unwrap();
    assert_eq!(d.rows(), 114);
    assert!(d.y.iter().all(|&y| (-4096..4096).contains(&y)));
}

#[test]
fn params_takes_the_padding_advice_for_a_spec_without_steps_per_fold() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study.toml");
    std::fs::write(&study, STUDY.replace("steps_per_fold = 4\n", "")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_candor-coordinator")).args(["params", "--study"]).arg(&study).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("# steps_per_fold is not set: using "), "{text}");
    assert!(text.contains("[params]\ntrain = \""), "{text}");
}
