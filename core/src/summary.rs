//! Per-hospital column summaries that combine into a study's
//! [`Normalization`]: row count, per-feature mean and sum of squared
//! deviations (and the target's, for regression). A summary reveals
//! aggregates only, no row, so a consortium can standardize features on all
//! hospitals' data without pooling it. Summaries merge with Chan et al.'s
//! pairwise update, which stays accurate where sums of squares would cancel
//! (a large mean with a small spread), and give exactly what
//! [`Normalization::fit_for`] gives on the pooled rows, up to rounding.

use crate::dataset::{Normalization, TargetScale};
use crate::table::Table;
use crate::{CoreError, Task, TrainSpec};
use serde::{Deserialize, Serialize};

/// Moments of one column over some rows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moments {
    /// Mean.
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl Moments {
    fn of(values: impl Iterator<Item = f64> + Clone, n: f64) -> Self {
        let mean = values.clone().sum::<f64>() / n;
        Self { mean, m2: values.map(|v| (v - mean).powi(2)).sum() }
    }

    /// Merges `other` over `nb` rows into `self` over `na` rows.
    fn merge(self, na: f64, other: Self, nb: f64) -> Self {
        let n = na + nb;
        let delta = other.mean - self.mean;
        Self { mean: self.mean + delta * nb / n, m2: self.m2 + other.m2 + delta * delta * na * nb / n }
    }

    /// Mean and population standard deviation (1 for a constant column, as
    /// [`Normalization::fit`] has it).
    fn mean_std(self, n: f64) -> (f64, f64) {
        let var = self.m2 / n;
        (self.mean, if var > 0.0 { var.sqrt() } else { 1.0 })
    }

    fn is_finite(&self) -> bool {
        self.mean.is_finite() && self.m2.is_finite() && self.m2 >= 0.0
    }
}

/// Moments of one data file's columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Rows summarized.
    pub rows: u64,
    /// Feature names, in the study's order.
    pub features: Vec<String>,
    /// Moments per feature.
    pub columns: Vec<Moments>,
    /// Moments of a regression target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Moments>,
}

impl Summary {
    /// Summarizes a table's feature columns (named, or all but the label)
    /// and, for regression, its targets.
    pub fn of(table: &Table, features: Option<&[String]>, label: &str, spec: &TrainSpec) -> Result<Self, CoreError> {
        let (x, y) = table.select_for(features, label, spec)?;
        let names = table.feature_columns(features, label)?.into_iter().map(|c| table.columns[c].clone()).collect();
        let n = x.len().max(1) as f64;
        let columns = (0..spec.model.features).map(|i| Moments::of(x.iter().map(|r| r[i]), n)).collect();
        let target = (spec.model.task == Task::Linear).then(|| Moments::of(y.iter().copied(), n));
        Ok(Self { rows: x.len() as u64, features: names, columns, target })
    }

    /// The normalization of all the summarized rows together: means and
    /// (population) standard deviations. Summaries must name the same
    /// features in the same order, and hold finite numbers.
    pub fn combine(parts: &[Summary], spec: &TrainSpec) -> Result<Normalization, CoreError> {
        let bad = |m: String| Err(CoreError::InvalidData(m));
        let Some(first) = parts.first() else { return bad("no summaries to combine".into()) };
        let d = spec.model.features;
        let regression = spec.model.task == Task::Linear;
        for (k, p) in parts.iter().enumerate() {
            let k = k + 1;
            if p.features != first.features {
                return bad(format!("summary {k} has features {:?}, summary 1 {:?}", p.features, first.features));
            }
            if p.columns.len() != d || p.features.len() != d {
                return bad(format!("summary {k} has {} columns, the spec {d} features", p.columns.len()));
            }
            if p.target.is_some() != regression {
                let has = if p.target.is_some() { "has" } else { "lacks" };
                return bad(format!("summary {k} {has} target moments; a {:?} spec needs them exactly for regression", spec.model.task));
            }
            if !p.columns.iter().chain(&p.target).all(Moments::is_finite) {
                return bad(format!("summary {k} holds a number that is not finite (or a negative m2)"));
            }
        }
        let rows = parts.iter().try_fold(0u64, |acc, p| acc.checked_add(p.rows));
        let Some(total) = rows.filter(|&n| n > 0) else { return bad("the summaries cover no rows, or too many to count".into()) };
        let merge = |pick: &dyn Fn(&Summary) -> Moments| {
            let (_, m) = parts.iter().filter(|p| p.rows > 0).fold((0f64, None::<Moments>), |(na, acc), p| {
                let nb = p.rows as f64;
                (na + nb, Some(acc.map_or(pick(p), |a| a.merge(na, pick(p), nb))))
            });
            m.expect("some summary has rows").mean_std(total as f64)
        };
        let (mean, std) = (0..d).map(|i| merge(&|p| p.columns[i])).unzip();
        let target = regression.then(|| {
            let (mean, std) = merge(&|p| p.target.expect("checked above"));
            TargetScale { mean, std }
        });
        // finite parts can still merge to an overflow
        let norm = Normalization { mean, std, target };
        norm.validate(spec)?;
        Ok(norm)
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
        // a large mean with a small spread, where sums of squares cancel
        let c = table("a,b,y\n1e9,3,1\n1000000001,3,2\n");
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
        // split across two summaries, the tiny spread beside a huge mean
        // survives, and a constant column gets 1 as fit gives it
        let one = |t: &str| Summary::of(&table(t), Some(&names), "y", &s).unwrap();
        // sums of squares of 1e9 and 1e9 + 1 cancel in f64 (1e18 + 2e9 + 1
        // loses the 1); the pairwise merge gives the spread, 0.5
        let halves = [one("a,b,y\n1e9,3,1\n"), one("a,b,y\n1000000001,3,2\n")];
        let m = Summary::combine(&halves, &s).unwrap();
        let whole = Summary::combine(&[Summary::of(&c, Some(&names), "y", &s).unwrap()], &s).unwrap();
        assert_eq!((m.std[0], whole.std[0]), (0.5, 0.5), "{m:?}");
        assert_eq!((m.std[1], whole.std[1]), (1.0, 1.0), "a constant column gets 1");
    }

    #[test]
    fn mismatched_summaries_are_refused() {
        let s = spec(Task::Logistic);
        let a = Summary::of(&table("a,b,y\n1,2,0\n"), None, "y", &s).unwrap();
        let b = Summary::of(&table("b,a,y\n1,2,1\n"), None, "y", &s).unwrap();
        let e = Summary::combine(&[a.clone(), b], &s).unwrap_err().to_string();
        assert!(e.contains("summary 2 has features"), "{e}");
        assert!(Summary::combine(&[], &s).is_err());
        assert!(Summary::combine(std::slice::from_ref(&a), &spec(Task::Linear)).unwrap_err().to_string().contains("target moments"));
        let mut nan = a.clone();
        nan.columns[0].mean = f64::NAN;
        assert!(Summary::combine(&[nan], &s).unwrap_err().to_string().contains("not finite"));
        let mut huge = a.clone();
        huge.rows = u64::MAX;
        assert!(Summary::combine(&[huge, a], &s).is_err());
    }
}
