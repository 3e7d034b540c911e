//! From a table ([`crate::table`]) to a quantized data set: column
//! selection, the consortium's feature normalization, quantization,
//! shuffling.
//!
//! Every error about a cell names the file, the line in the file (the header
//! is line 1) and the column, and is raised while rows are still in file
//! order: a shuffled row index never reaches a message about a file.

use crate::data::Dataset;
use crate::table::Table;
use crate::{CoreError, Task, TrainSpec};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Per-feature standardization `(v - mean) / std`, agreed by the consortium
/// so that every hospital scales features the same way; for regression,
/// optionally the target's too.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Mean per feature.
    pub mean: Vec<f64>,
    /// Standard deviation per feature (1 where a feature is constant).
    pub std: Vec<f64>,
    /// Standardization of a regression target (`[normalization.target]`);
    /// targets are used as they are when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetScale>,
}

/// Standardization of a regression target, `(y - mean) / std`: the model
/// learns standardized targets (which fit a narrow fixed-point format where
/// raw ones, in the hundreds, do not), and errors are reported back in the
/// target's own units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetScale {
    /// Mean of the target.
    pub mean: f64,
    /// Standard deviation of the target (1 when it is constant).
    pub std: f64,
}

impl TargetScale {
    /// Fits mean and standard deviation on targets.
    pub fn fit(y: &[f64]) -> Self {
        let n = y.len().max(1) as f64;
        let mean = y.iter().sum::<f64>() / n;
        let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        Self { mean, std: if var > 0.0 { var.sqrt() } else { 1.0 } }
    }

    /// A target in standardized units.
    pub fn apply(&self, y: f64) -> f64 {
        (y - self.mean) / self.std
    }

    /// A squared error in standardized units, in the target's squared units.
    pub fn squared_error(&self, standardized: f64) -> f64 {
        standardized * self.std * self.std
    }
}

impl Normalization {
    /// Fits feature means and standard deviations on rows, and for a
    /// regression spec the target's too.
    pub fn fit_for(x: &[Vec<f64>], y: &[f64], spec: &TrainSpec) -> Self {
        Self { target: (spec.model.task == Task::Linear).then(|| TargetScale::fit(y)), ..Self::fit(x) }
    }

    /// Fits feature means and standard deviations on rows.
    pub fn fit(x: &[Vec<f64>]) -> Self {
        let d = x.first().map_or(0, Vec::len);
        let n = x.len().max(1) as f64;
        let mean: Vec<f64> = (0..d).map(|i| x.iter().map(|r| r[i]).sum::<f64>() / n).collect();
        let std = (0..d)
            .map(|i| {
                let v = x.iter().map(|r| (r[i] - mean[i]).powi(2)).sum::<f64>() / n;
                if v > 0.0 {
                    v.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        Self { mean, std, target: None }
    }

    /// Checks the table's shape against the spec, naming what to fix.
    pub fn validate(&self, spec: &TrainSpec) -> Result<(), CoreError> {
        let d = spec.model.features;
        if self.mean.is_empty() && self.std.is_empty() {
            return Err(CoreError::InvalidData(
                "the study has no [normalization]: `candor-coordinator normalize --study STUDY --data FILE` computes one \
                 from data files, or `--summary FILE` from the hospitals' `candor-participant summarize` outputs"
                    .into(),
            ));
        }
        if self.mean.len() != d || self.std.len() != d {
            return Err(CoreError::InvalidData(format!(
                "the study's [normalization] has {} means and {} standard deviations, but its spec's model.features is {d}: \
                 one of each per feature",
                self.mean.len(),
                self.std.len()
            )));
        }
        if let Some(i) = self.mean.iter().position(|m| !m.is_finite()) {
            return Err(CoreError::InvalidData(format!("[normalization] mean of feature {i} is {}: it must be finite", self.mean[i])));
        }
        if let Some(i) = self.std.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(CoreError::InvalidData(format!("[normalization] std of feature {i} is {}: it must be positive", self.std[i])));
        }
        match self.target {
            Some(t) if !(t.mean.is_finite() && t.std.is_finite() && t.std > 0.0) => {
                Err(CoreError::InvalidData(format!("[normalization.target] needs a finite mean and a positive std, got {t:?}")))
            }
            Some(_) if spec.model.task != Task::Linear => {
                Err(CoreError::InvalidData("[normalization.target] applies to regression (task \"linear\") only".into()))
            }
            _ => Ok(()),
        }
    }
}

/// A label as the task wants it (a regression target standardized by
/// `target` first), or why not.
pub(crate) fn label_value(v: f64, spec: &TrainSpec, target: Option<&TargetScale>) -> Result<i64, String> {
    match spec.model.task {
        Task::Logistic if v == 0.0 || v == 1.0 => Ok(v as i64),
        Task::Logistic => Err(format!("label {v} is not 0 or 1")),
        Task::Softmax if v.fract() == 0.0 && v >= 0.0 && (v as usize) < spec.model.classes => Ok(v as i64),
        Task::Softmax => Err(format!("label {v} is not a class in 0..{}", spec.model.classes)),
        Task::Linear => {
            let fmt = spec.format;
            let (lo, hi) = (fmt.to_f64(fmt.min()), fmt.to_f64(fmt.max()));
            match target {
                Some(t) => fmt.quantize(t.apply(v)).map_err(|_| {
                    format!(
                        "target {v} is {:.2} standard deviations from the mean {}, outside {fmt}'s [{lo}, {hi}]; \
                         remove the outlier or use more int_bits",
                        t.apply(v),
                        t.mean
                    )
                }),
                None => fmt.quantize(v).map_err(|_| {
                    format!(
                        "target {v} is outside {fmt}'s [{lo}, {hi}]; standardize targets with a [normalization.target] table \
                         (`candor-coordinator normalize` writes one) or use more int_bits"
                    )
                }),
            }
        }
    }
}

/// Standardizes and quantizes rows. Features are clipped to the format's
/// range (winsorizing rare outliers); classification labels must be exactly
/// 0 or 1, regression targets must fit the format. Rows are numbered from 0
/// in the order given: check a [`Table`] first ([`Table::read`],
/// [`Table::check_labels`]) for errors that name lines in its file.
pub fn quantize(x: &[Vec<f64>], y: &[f64], norm: &Normalization, spec: &TrainSpec) -> Result<Dataset, CoreError> {
    let d = spec.model.features;
    norm.validate(spec)?;
    let fmt = spec.format;
    let mut q = Vec::with_capacity(x.len() * d);
    for (r, row) in x.iter().enumerate() {
        if row.len() != d {
            return Err(CoreError::InvalidData(format!("row index {r} has {} features, spec {d}", row.len())));
        }
        for (i, x) in row.iter().enumerate() {
            let v = (x - norm.mean[i]) / norm.std[i];
            q.push(fmt.quantize_clipped(v).map_err(|e| CoreError::InvalidData(format!("row index {r}, feature {i}: {e}")))?);
        }
    }
    let labels = y
        .iter()
        .enumerate()
        .map(|(r, &v)| label_value(v, spec, norm.target.as_ref()).map_err(|why| CoreError::InvalidData(format!("row index {r}: {why}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Dataset { features: d, x: q, y: labels })
}

/// The rows of `data` in a seeded random order (the order to commit).
pub fn shuffled(data: &Dataset, seed: u64) -> Dataset {
    let mut idx: Vec<usize> = (0..data.rows()).collect();
    idx.shuffle(&mut ChaCha20Rng::seed_from_u64(seed));
    select_rows(data, &idx)
}

/// The given rows of `data`, in that order.
pub fn select_rows(data: &Dataset, idx: &[usize]) -> Dataset {
    let d = data.features;
    Dataset {
        features: d,
        x: idx.iter().flat_map(|&r| data.x[r * d..(r + 1) * d].iter().copied()).collect(),
        y: idx.iter().map(|&r| data.y[r]).collect(),
    }
}

/// What a consortium agrees on for a study: the training spec, which columns
/// are features and label, and the feature normalization every hospital
/// applies, so that all hospitals scale features the same way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// Label column.
    pub label: String,
    /// Feature columns; all but the label when absent.
    #[serde(default)]
    pub features: Option<Vec<String>>,
    /// Training spec.
    pub spec: TrainSpec,
    /// Feature normalization (`candor-coordinator normalize` computes one);
    /// a study without it cannot load data.
    #[serde(default)]
    pub normalization: Normalization,
    /// Pinned parameter digests (`candor-coordinator params` prints them).
    #[serde(default)]
    pub params: crate::ParamsPin,
    /// How the data files' fields are separated (see
    /// [`Delimiter::parse`]); sniffed from each file's header line when
    /// absent.
    #[serde(default)]
    pub delimiter: Option<String>,
}

impl Study {
    /// Reads a study file (TOML).
    pub fn load(path: &Path) -> Result<Self, CoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| CoreError::Csv(format!("{}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| CoreError::InvalidSpec(format!("{}: {e}", path.display())))
    }

    /// Loads a data file under this study: selected columns, normalized,
    /// quantized. Bad cells and labels are reported with their file, line
    /// and column.
    pub fn load_csv(&self, path: &Path) -> Result<Dataset, CoreError> {
        self.normalization.validate(&self.spec)?;
        let table = Table::read_labelled(path, self.delimiter.as_deref(), &self.label, &self.spec, self.normalization.target.as_ref())?;
        let (x, y) = table.select_for(self.features.as_deref(), &self.label, &self.spec)?;
        quantize(&x, &y, &self.normalization, &self.spec)
    }

    /// Sums a data file's columns under this study (its label, features and
    /// delimiter; classification labels checked), for
    /// [`Summary::combine`](crate::summary::Summary::combine). Needs no
    /// normalization: it is how one is made.
    pub fn summarize(&self, path: &Path) -> Result<crate::summary::Summary, CoreError> {
        let table = Table::read_configured(path, self.delimiter.as_deref())?;
        if self.spec.model.task != Task::Linear {
            table.check_labels(&self.label, &self.spec, None)?;
        }
        crate::summary::Summary::of(&table, self.features.as_deref(), &self.label, &self.spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FixedFormat, ModelSpec};

    /// A CSV file holding `body` under a header `a,b,y`, removed when dropped.
    struct Csv(std::path::PathBuf);

    impl Csv {
        fn new(body: &str) -> Self {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let p = std::env::temp_dir().join(format!("candor-dataset-{}-{n}.csv", std::process::id()));
            std::fs::write(&p, format!("a,b,y\n{body}")).unwrap();
            Self(p)
        }
    }

    impl Drop for Csv {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn study(task: Task) -> Study {
        let mut model = ModelSpec::linear(2, task);
        if task == Task::Softmax {
            model.classes = 3;
        }
        Study {
            label: "y".into(),
            features: None,
            spec: TrainSpec { model, format: FixedFormat::default(), learning_rate: 0.5, batch_size: 4, epochs: 1, steps_per_fold: 1 },
            normalization: Normalization { mean: vec![0.0, 0.0], std: vec![1.0, 1.0], target: None },
            params: Default::default(),
            delimiter: None,
        }
    }

    /// The error of loading `body` (rows after the header) under `task`.
    fn error(task: Task, body: &str) -> String {
        let csv = Csv::new(body);
        let e = study(task).load_csv(&csv.0).unwrap_err().to_string();
        assert!(e.contains(&csv.0.display().to_string()), "names the file: {e}");
        e
    }

    #[test]
    fn every_bad_cell_names_its_file_line_and_column() {
        // the header is line 1: the third row is line 4
        let good = "1,2,0\n3,4,1\n";
        for (bad_row, column, what) in [
            ("NaN,2,1", "column a", "\"NaN\" is not a finite number"),
            ("1,inf,1", "column b", "\"inf\" is not a finite number"),
            ("1,-infinity,1", "column b", "is not a finite number"),
            ("1,1e999,1", "column b", "\"1e999\" is not a finite number"),
            ("1,abc,1", "column b", "\"abc\" is not a number"),
            ("1,2,nan", "column y", "not a finite number"),
            ("1,2,", "column y", "\"\" is not a number"),
        ] {
            let e = error(Task::Logistic, &format!("{good}{bad_row}\n"));
            assert!(e.contains(&format!("line 4, {column}")) && e.contains(what), "{bad_row}: {e}");
        }
    }

    #[test]
    fn every_bad_label_names_its_file_line_and_column() {
        for (task, label) in
            [(Task::Logistic, "2"), (Task::Logistic, "0.5"), (Task::Softmax, "3"), (Task::Softmax, "-1"), (Task::Linear, "1e9")]
        {
            let e = error(task, &format!("1,2,0\n1,2,1\n1,2,{label}\n1,2,0\n"));
            assert!(e.contains("line 4, column y"), "{task:?} {label}: {e}");
        }
    }

    #[test]
    fn regression_targets_are_standardized_by_the_study_or_refused_with_advice() {
        let csv = Csv::new("1,2,150\n3,4,250\n");
        let mut s = study(Task::Linear);
        let e = s.load_csv(&csv.0).unwrap_err().to_string();
        assert!(e.contains("line 2, column y") && e.contains("[normalization.target]") && e.contains("normalize"), "{e}");
        s.normalization.target = Some(TargetScale { mean: 200.0, std: 50.0 });
        let d = s.load_csv(&csv.0).unwrap();
        let one = s.spec.format.one();
        assert_eq!(d.y, vec![-one, one]);
        s.normalization.target = Some(TargetScale { mean: 200.0, std: 5.0 }); // 250 is 10 sd out
        let e = s.load_csv(&csv.0).unwrap_err().to_string();
        assert!(e.contains("line 2, column y") && e.contains("-10.00 standard deviations"), "{e}");
        s.normalization.target = Some(TargetScale { mean: 200.0, std: 0.0 });
        assert!(s.load_csv(&csv.0).unwrap_err().to_string().contains("positive std"));
        let mut c = study(Task::Logistic);
        c.normalization.target = Some(TargetScale { mean: 0.0, std: 1.0 });
        assert!(c.load_csv(&csv.0).unwrap_err().to_string().contains("regression"));
    }

    #[test]
    fn a_study_without_normalization_says_how_to_make_one() {
        let text = "label = \"y\"\n[spec]\nlearning_rate = 0.5\nbatch_size = 4\nepochs = 1\nsteps_per_fold = 1\n\
                    [spec.model]\nfeatures = 2\ntask = \"logistic\"\n";
        let s: Study = toml::from_str(text).unwrap();
        let csv = Csv::new("1,2,0\n");
        let e = s.load_csv(&csv.0).unwrap_err().to_string();
        assert!(e.contains("no [normalization]") && e.contains("candor-coordinator normalize"), "{e}");
        // the summary of a file needs none
        let sum = s.summarize(&csv.0).unwrap();
        assert_eq!((sum.rows, sum.features.clone()), (1, vec!["a".to_string(), "b".to_string()]));
    }

    #[test]
    fn a_quoted_cell_spanning_lines_does_not_shift_later_line_numbers() {
        let e = error(Task::Logistic, "\"1\n\",2,0\n1,x,1\n");
        assert!(e.contains("line 4, column b"), "{e}");
    }

    #[test]
    fn a_long_bad_cell_is_quoted_in_part() {
        let e = error(Task::Logistic, &format!("1,{},0\n", "z".repeat(10_000)));
        assert!(e.len() < 400, "{e}");
    }

    #[test]
    fn a_feature_count_other_than_the_specs_names_the_columns() {
        let csv = Csv::new("1,2,0\n3,4,1\n");
        let mut s = study(Task::Logistic);
        s.spec.model.features = 3;
        s.normalization = Normalization { mean: vec![0.0; 3], std: vec![1.0; 3], target: None };
        let e = s.load_csv(&csv.0).unwrap_err().to_string();
        assert!(e.contains("2 feature columns (every column but the label): a, b") && e.contains("model.features is 3"), "{e}");
        s.features = Some(vec!["a".into()]);
        let e = s.load_csv(&csv.0).unwrap_err().to_string();
        assert!(e.contains("1 feature columns named in `features`: a"), "{e}");
    }
}
