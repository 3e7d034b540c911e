//! Per-hospital column summaries that combine into a study's
//! [`Normalization`]: row count, per-feature sums and sums of squares (and
//! the target's, for regression). A summary reveals aggregates only, no row,
//! so a consortium can standardize features on all hospitals' data without
//! pooling it.

use crate::dataset::{Normalization, TargetScale};
use crate::table::Table;
use crate::{CoreError, Task, TrainSpec};
use serde::{Deserialize, Serialize};

/// Sums over one data file's rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Rows summed.
    pub rows: u64,
    /// Feature names, in the study's order.
    pub features: Vec<String>,
    /// Sum per feature.
    pub sum: Vec<f64>,
    /// Sum of squares per feature.
    pub sum_sq: Vec<f64>,
    /// Sum and sum of squares of a regression target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<[f64; 2]>,
}

impl Summary {
    /// Sums a table's feature columns (named, or all but the label) and, for
    /// regression, its targets.
    pub fn of(table: &Table, features: Option<&[String]>, label: &str, spec: &TrainSpec) -> Result<Self, CoreError> {
        let (x, y) = table.select_for(features, label, spec)?;
        let names = match features {
            Some(f) => f.iter().map(|s| s.trim().to_string()).collect(),
            None => table.columns.iter().filter(|c| **c != label.trim()).cloned().collect(),
        };
        let d = spec.model.features;
        let (mut sum, mut sum_sq) = (vec![0.0; d], vec![0.0; d]);
        for row in &x {
            for (i, v) in row.iter().enumerate() {
                sum[i] += v;
                sum_sq[i] += v * v;
            }
        }
        let target = (spec.model.task == Task::Linear).then(|| [y.iter().sum(), y.iter().map(|v| v * v).sum()]);
        Ok(Self { rows: x.len() as u64, features: names, sum, sum_sq, target })
    }

    /// The normalization of all the summarized rows together: means and
    /// (population) standard deviations, 1 where a column is constant.
    /// Summaries must name the same features in the same order.
    pub fn combine(parts: &[Summary], spec: &TrainSpec) -> Result<Normalization, CoreError> {
        let bad = |m: String| Err(CoreError::InvalidData(m));
        let Some(first) = parts.first() else { return bad("no summaries to combine".into()) };
        let d = spec.model.features;
        for (k, p) in parts.iter().enumerate() {
            if p.features != first.features {
                return bad(format!("summary {} has features {:?}, summary 1 {:?}", k + 1, p.features, first.features));
            }
            if p.sum.len() != d || p.sum_sq.len() != d {
                return bad(format!("summary {} sums {} features, the spec has {d}", k + 1, p.sum.len()));
            }
            if p.target.is_some() != (spec.model.task == Task::Linear) {
                return bad(format!(
                    "summary {} has {} target sums; a {:?} spec needs them exactly for regression",
                    k + 1,
                    if p.target.is_some() { "" } else { "no" },
                    spec.model.task
                ));
            }
        }
        let n: u64 = parts.iter().map(|p| p.rows).sum();
        if n == 0 {
            return bad("the summaries cover no rows".into());
        }
        let n = n as f64;
        let moments = |s: f64, ss: f64| {
            let mean = s / n;
            // population variance; rounding can push a constant column a
            // hair below zero
            let var = (ss / n - mean * mean).max(0.0);
            let std = if var > 1e-12 * (1.0 + mean * mean) { var.sqrt() } else { 1.0 };
            (mean, std)
        };
        let (mut mean, mut std) = (Vec::with_capacity(d), Vec::with_capacity(d));
        for i in 0..d {
            let (m, s) = moments(parts.iter().map(|p| p.sum[i]).sum(), parts.iter().map(|p| p.sum_sq[i]).sum());
            mean.push(m);
            std.push(s);
        }
        // every summary has target sums exactly when the task is regression
        let target = (spec.model.task == Task::Linear).then(|| {
            let [s, ss] = parts.iter().filter_map(|p| p.target).fold([0.0; 2], |a, b| [a[0] + b[0], a[1] + b[1]]);
            let (mean, std) = moments(s, ss);
            TargetScale { mean, std }
        });
        Ok(Normalization { mean, std, target })
    }
}

/// `[normalization]` (and `[normalization.target]`) as TOML, ready to paste
/// into a study file.
pub fn normalization_toml(n: &Normalization) -> Result<String, CoreError> {
    #[derive(Serialize)]
    struct Wrapper<'a> {
        normalization: &'a Normalization,
    }
    toml::to_string(&Wrapper { normalization: n }).map_err(|e| CoreError::InvalidData(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Study;
    use crate::ModelSpec;

    fn table(text: &str) -> Table {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("candor-summary-{}-{n}.csv", std::process::id()));
        std::fs::write(&p, text).unwrap();
        let t = Table::read(&p).unwrap();
        let _ = std::fs::remove_file(&p);
        t
    }

    fn spec(task: Task) -> TrainSpec {
        TrainSpec {
            model: ModelSpec::linear(2, task),
            format: Default::default(),
            learning_rate: 0.5,
            batch_size: 4,
            epochs: 1,
            steps_per_fold: 1,
        }
    }

    #[test]
    fn hospitals_summaries_combine_to_the_pooled_fit() {
        let a = table("a,b,y\n1,10,100\n2,10,300\n");
        let b = table("b,a,y\n10,6,200\n10,3,150\n5,1,250\n");
        let names = vec!["a".to_string(), "b".to_string()];
        let s = spec(Task::Linear);
        let parts = [Summary::of(&a, Some(&names), "y", &s).unwrap(), Summary::of(&b, Some(&names), "y", &s).unwrap()];
        let n = Summary::combine(&parts, &s).unwrap();
        let x = vec![vec![1.0, 10.0], vec![2.0, 10.0], vec![6.0, 10.0], vec![3.0, 10.0], vec![1.0, 5.0]];
        let y = [100.0, 300.0, 200.0, 150.0, 250.0];
        let pooled = Normalization::fit_for(&x, &y, &s);
        for (u, v) in n.mean.iter().chain(&n.std).zip(pooled.mean.iter().chain(&pooled.std)) {
            assert!((u - v).abs() < 1e-9, "{n:?} vs {pooled:?}");
        }
        let (t, p) = (n.target.unwrap(), pooled.target.unwrap());
        assert!((t.mean - 200.0).abs() < 1e-9 && (t.std - p.std).abs() < 1e-9);
        // the TOML loads back as a study's normalization
        let text = format!("label = \"y\"\n{}\n[spec]\nlearning_rate = 0.5\nbatch_size = 4\nepochs = 1\nsteps_per_fold = 1\n[spec.model]\nfeatures = 2\ntask = \"linear\"\n", normalization_toml(&n).unwrap());
        let study: Study = toml::from_str(&text).unwrap();
        assert_eq!(study.normalization, n);
    }

    #[test]
    fn mismatched_summaries_are_refused() {
        let s = spec(Task::Logistic);
        let a = Summary::of(&table("a,b,y\n1,2,0\n"), None, "y", &s).unwrap();
        let b = Summary::of(&table("b,a,y\n1,2,1\n"), None, "y", &s).unwrap();
        let e = Summary::combine(&[a.clone(), b], &s).unwrap_err().to_string();
        assert!(e.contains("summary 2 has features"), "{e}");
        assert!(Summary::combine(&[], &s).is_err());
        assert!(Summary::combine(&[a], &spec(Task::Linear)).unwrap_err().to_string().contains("target sums"));
    }
}
