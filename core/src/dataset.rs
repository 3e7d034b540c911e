//! From a CSV file to a quantized data set: column selection, the
//! consortium's feature normalization, quantization, shuffling.

use crate::data::Dataset;
use crate::{CoreError, Task, TrainSpec};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A numeric CSV table with a header row.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows of values.
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    /// Reads a CSV file with a header row; every cell must be a number.
    pub fn read(path: &Path) -> Result<Self, CoreError> {
        let err = |m: String| CoreError::Csv(format!("{}: {m}", path.display()));
        let mut rdr = csv::Reader::from_path(path).map_err(|e| err(e.to_string()))?;
        let columns: Vec<String> = rdr.headers().map_err(|e| err(e.to_string()))?.iter().map(str::to_string).collect();
        let mut rows = Vec::new();
        for (r, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| err(e.to_string()))?;
            let row = rec
                .iter()
                .enumerate()
                .map(|(c, v)| {
                    v.trim().parse::<f64>().map_err(|_| err(format!("row {} column {}: {v:?} is not a number", r + 1, columns[c])))
                })
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(row);
        }
        Ok(Self { columns, rows })
    }

    /// Index of a named column.
    pub fn column(&self, name: &str) -> Result<usize, CoreError> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| CoreError::Csv(format!("no column named {name:?} (columns: {})", self.columns.join(", "))))
    }

    /// Features (the named columns, or all but the label) and labels.
    pub fn select(&self, features: Option<&[String]>, label: &str) -> Result<(Vec<Vec<f64>>, Vec<f64>), CoreError> {
        let l = self.column(label)?;
        let cols: Vec<usize> = match features {
            Some(names) => names.iter().map(|n| self.column(n)).collect::<Result<_, _>>()?,
            None => (0..self.columns.len()).filter(|&c| c != l).collect(),
        };
        let x = self.rows.iter().map(|r| cols.iter().map(|&c| r[c]).collect()).collect();
        let y = self.rows.iter().map(|r| r[l]).collect();
        Ok((x, y))
    }
}

/// Per-feature standardization `(v - mean) / std`, agreed by the consortium
/// so that every hospital scales features the same way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Mean per feature.
    pub mean: Vec<f64>,
    /// Standard deviation per feature (1 where a feature is constant).
    pub std: Vec<f64>,
}

impl Normalization {
    /// Fits mean and standard deviation on rows.
    pub fn fit(x: &[Vec<f64>]) -> Self {
        let d = x.first().map_or(0, Vec::len);
        let n = x.len().max(1) as f64;
        let mean: Vec<f64> = (0..d).map(|i| x.iter().map(|r| r[i]).sum::<f64>() / n).collect();
        let std = (0..d)
            .map(|i| {
                let v = x.iter().map(|r| (r[i] - mean[i]).powi(2)).sum::<f64>() / n;
                if v > 0.0 { v.sqrt() } else { 1.0 }
            })
            .collect();
        Self { mean, std }
    }
}

/// Standardizes and quantizes rows. Features are clipped to the format's
/// range (winsorizing rare outliers); classification labels must be exactly
/// 0 or 1, regression targets must fit the format.
pub fn quantize(x: &[Vec<f64>], y: &[f64], norm: &Normalization, spec: &TrainSpec) -> Result<Dataset, CoreError> {
    let d = spec.model.features;
    if norm.mean.len() != d || norm.std.len() != d {
        return Err(CoreError::InvalidData(format!("normalization has {} features, spec {d}", norm.mean.len())));
    }
    let fmt = spec.format;
    let mut q = Vec::with_capacity(x.len() * d);
    for (r, row) in x.iter().enumerate() {
        if row.len() != d {
            return Err(CoreError::InvalidData(format!("row {r} has {} features, spec {d}", row.len())));
        }
        for i in 0..d {
            q.push(fmt.quantize_clipped((row[i] - norm.mean[i]) / norm.std[i])?);
        }
    }
    let labels = y
        .iter()
        .enumerate()
        .map(|(r, &v)| match spec.model.task {
            Task::Logistic if v == 0.0 || v == 1.0 => Ok(v as i64),
            Task::Logistic => Err(CoreError::InvalidData(format!("row {r}: label {v} is not 0 or 1"))),
            Task::Softmax if v.fract() == 0.0 && v >= 0.0 && (v as usize) < spec.model.classes => Ok(v as i64),
            Task::Softmax => Err(CoreError::InvalidData(format!(
                "row {r}: label {v} is not a class in 0..{}",
                spec.model.classes
            ))),
            Task::Linear => fmt.quantize(v),
        })
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
    /// Feature normalization.
    pub normalization: Normalization,
    /// Pinned parameter digests (`candor-coordinator params` prints them).
    #[serde(default)]
    pub params: crate::ParamsPin,
}

impl Study {
    /// Reads a study file (TOML).
    pub fn load(path: &Path) -> Result<Self, CoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| CoreError::Csv(format!("{}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| CoreError::InvalidSpec(format!("{}: {e}", path.display())))
    }

    /// Loads a CSV under this study: selected columns, normalized, quantized.
    pub fn load_csv(&self, path: &Path) -> Result<Dataset, CoreError> {
        let table = Table::read(path)?;
        let (x, y) = table.select(self.features.as_deref(), &self.label)?;
        quantize(&x, &y, &self.normalization, &self.spec)
    }
}
