//! `candor-participant check`: whether a hospital's data and the study's
//! spec fit together, before anything is committed or proven. It reads the
//! data as `commit` would (every bad cell or label named by file, line and
//! column), counts feature values the format clips, dry-runs one round of
//! the integer reference from the initial model (an update leaving the
//! format fails a round), advises a learning rate or format that passes,
//! and states the proving cost. `commit` runs it first.

use crate::config::HospitalConfig;
use crate::ParticipantError;
use candor_circuits::padding::step_size;
use candor_core::check::{clipped, dry_run, passing_format, passing_learning_rate};
use candor_core::dataset::{quantize, shuffled};
use candor_core::table::Table;
use candor_core::Layout;

/// What the check found, one line each.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// Lines that need no action.
    pub notes: Vec<String>,
    /// Lines worth a look (clipped values).
    pub warnings: Vec<String>,
    /// Lines that make a round fail.
    pub errors: Vec<String>,
}

impl std::fmt::Display for Findings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (tag, lines) in [("ok", &self.notes), ("warning", &self.warnings), ("error", &self.errors)] {
            for l in lines {
                writeln!(f, "{tag}: {l}")?;
            }
        }
        Ok(())
    }
}

/// Checks the hospital's data under its study, the dry run in the commit
/// order `order` (a seed, as `commit` shuffles with it) or, without one, in
/// file order. Errors reading the study or the data (a bad cell, label or
/// target, a column count) are returned as errors; findings about training
/// are in [`Findings`].
pub fn check(cfg: &HospitalConfig, order: Option<u64>) -> Result<Findings, ParticipantError> {
    let study = cfg.study()?;
    let spec = &study.spec;
    let layout = Layout::new(spec)?;
    study.normalization.validate(spec)?;
    let table = Table::read_labelled(&cfg.data, study.delimiter.as_deref(), &study.label, spec, study.normalization.target.as_ref())?;
    let (x, y) = table.select_for(study.features.as_deref(), &study.label, spec)?;
    let data = quantize(&x, &y, &study.normalization, spec)?;
    let data = match order {
        Some(seed) => shuffled(&data, seed),
        None => data,
    };
    let names = table.feature_columns(study.features.as_deref(), &study.label)?;
    let mut out = Findings::default();
    out.notes.push(format!("{}: {} rows of {} features read under {}", cfg.data.display(), data.rows(), data.features, spec.format));

    for (i, n) in clipped(&x, &study.normalization, spec.format) {
        out.warnings.push(format!(
            "column {}: {n} of {} standardized values lie outside {} and are clipped to its edge",
            table.columns[names[i]],
            data.rows(),
            spec.format
        ));
    }

    match dry_run(&layout, &data) {
        Ok(steps) => {
            let rows = if order.is_some() { "the commit order" } else { "file order: `commit` checks again in the commit order" };
            out.notes.push(format!(
                "a round ({} epoch(s), {steps} SGD steps, rows in {rows}) trains from the initial model without overflow",
                spec.epochs
            ))
        }
        Err((step, e)) => {
            let mut advice = vec![];
            if let Some(lr) = passing_learning_rate(spec, &data) {
                advice.push(format!("learning_rate = {lr} passes"));
            }
            if let Some(f) = passing_format(spec, &x, &y, &study.normalization) {
                advice.push(format!("format {f} (int_bits = {}) passes", f.int_bits));
            }
            let advice = if advice.is_empty() { "no smaller learning rate or wider format passes".into() } else { advice.join("; ") };
            out.errors.push(format!("a round fails at SGD step {step} of the first: {e}; {advice}"));
        }
    }

    let per_fold = step_size(spec)?.constraints;
    let steps = layout.batches_per_epoch(data.rows()) * spec.epochs as usize;
    out.notes.push(format!(
        "proving cost: {} folds per round of {} SGD step(s) each, {per_fold} step-circuit constraints per fold \
         (Nova adds ~10k per fold; BENCHMARKS.md has measured seconds per step)",
        steps / spec.steps_per_fold,
        spec.steps_per_fold
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_hospital_passes_and_clipped_columns_are_named() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        let f = check(&HospitalConfig::load(&root.join("hospital-a.toml")).unwrap(), None).unwrap();
        assert!(f.errors.is_empty(), "{f}");
        assert!(f.notes.iter().any(|n| n.contains("152 rows of 30 features")), "{f}");
        assert!(f.notes.iter().any(|n| n.contains("trains from the initial model without overflow")), "{f}");
        assert!(f.notes.iter().any(|n| n.contains("4 folds per round of 3 SGD step(s)")), "{f}");
        // the sample's outliers beyond 8 standard deviations, by column name
        assert!(f.warnings.iter().any(|w| w.starts_with("column se_area: 1 of 152")), "{f}");
    }

    #[test]
    fn every_shipped_hospital_commits_in_several_orders() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        for dir in ["", "digits-mlp", "breast-cancer-mlp", "breast-cancer-regression"] {
            for h in ["a", "b", "c"] {
                let cfg = HospitalConfig::load(&root.join(dir).join(format!("hospital-{h}.toml"))).unwrap();
                for order in [None, Some(7)] {
                    let f = check(&cfg, order).unwrap();
                    assert!(f.errors.is_empty(), "{dir}/hospital-{h} in order {order:?}: {f}");
                }
            }
        }
    }
}
