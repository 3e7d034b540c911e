//! `candor-participant check`: whether a hospital's data and the study's
//! spec fit together, before anything is committed or proven. It reads the
//! data as `commit` would (every bad cell or label named by file, line and
//! column), counts feature values the format clips, dry-runs one round of
//! the integer reference from the initial model (an update leaving the
//! format fails a round), advises a learning rate or format that passes,
//! and states the proving cost. `commit` runs it first.

use crate::config::HospitalConfig;
use crate::local::{load, Loaded, LocalConfig};
use crate::ParticipantError;
use candor_circuits::cost::{best_steps_per_fold, predict, CircuitCost, REFERENCE};
use candor_circuits::profile::Category;
use candor_core::check::{clipped, dry_run, passing_format, passing_learning_rate};
use candor_core::data::Dataset;
use candor_core::dataset::{quantize, shuffled, Normalization};
use candor_core::file::read_toml;
use candor_core::table::Table;
use candor_core::{FixedFormat, Layout, TrainSpec};
use std::path::Path;

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
    let clips = named_clips(&table, study.features.as_deref(), &study.label, &x, &study.normalization, spec.format)?;
    let rows = if order.is_some() { "the commit order" } else { "file order: `commit` checks again in the commit order" };
    let mut out = Findings::default();
    out.notes.push(format!("{}: {} rows of {} features read under {}", cfg.data.display(), data.rows(), data.features, spec.format));
    fit(&mut out, &layout, &data, clips, rows, |spec, _| passing_format(spec, &x, &y, &study.normalization))?;
    out.notes.extend(cost_notes(spec, data.rows())?);
    Ok(out)
}

/// Checks a `local` run's config (or a simulation's, whose training rows
/// `participants` hospitals share): its training rows (after the held-out
/// split, in the run's order) under its spec, as [`check`] does a
/// hospital's; the cost is predicted for one hospital's share.
pub fn check_local(cfg: &LocalConfig, participants: usize) -> Result<Findings, ParticipantError> {
    let layout = Layout::new(&cfg.spec)?;
    let Loaded { table, x, y, train, norm, .. } = load(&cfg.data, &cfg.spec)?;
    let clips = named_clips(&table, cfg.data.features.as_deref(), &cfg.data.label, &x, &norm, cfg.spec.format)?;
    let mut out = Findings::default();
    out.notes.push(format!(
        "{}: {} training rows of {} features under {} ({} held out)",
        cfg.data.path.display(),
        train.rows(),
        train.features,
        cfg.spec.format,
        x.len() - train.rows()
    ));
    let share = train.rows().div_ceil(participants.max(1));
    if participants > 1 {
        out.notes.push(format!("{participants} participants share them: the cost below is for {share} rows, an even share"));
    }
    fit(&mut out, &layout, &train, clips, "the run's order", |spec, _| passing_format(spec, &x, &y, &norm))?;
    out.notes.extend(cost_notes(&cfg.spec, share)?);
    Ok(out)
}

/// A `local` run's or a simulation's config (a `[spec]` of its own rather
/// than a study's) as a local run's, with how many participants share its
/// rows; `None` for a hospital's config.
pub fn run_config(path: &Path) -> Result<Option<(LocalConfig, usize)>, ParticipantError> {
    let table: toml::Table = read_toml(path)?;
    if !table.contains_key("spec") || table.contains_key("study") {
        return Ok(None);
    }
    let part = |name: &str| -> Result<toml::Value, ParticipantError> {
        table.get(name).cloned().ok_or_else(|| ParticipantError::config(format!("{}: no [{name}] table", path.display())))
    };
    let bad = |what: &str, e: toml::de::Error| ParticipantError::config(format!("{}: [{what}]: {e}", path.display()));
    // as `local` and the simulation read it
    let cfg = LocalConfig {
        data: part("data")?.try_into().map_err(|e| bad("data", e))?,
        spec: part("spec")?.try_into().map_err(|e| bad("spec", e))?,
        params: Default::default(),
        notes: Vec::new(),
    }
    .read_from(path)?;
    let participants = table.get("federation").and_then(|f| f.get("participants")).and_then(toml::Value::as_integer).unwrap_or(1);
    Ok(Some((cfg, usize::try_from(participants).unwrap_or(1).max(1))))
}

/// The columns whose standardized values the format clips, by name, with
/// how many values each.
fn named_clips(
    table: &Table,
    features: Option<&[String]>,
    label: &str,
    x: &[Vec<f64>],
    norm: &Normalization,
    format: FixedFormat,
) -> Result<Vec<(String, usize)>, ParticipantError> {
    let names = table.feature_columns(features, label)?;
    Ok(clipped(x, norm, format).into_iter().map(|(i, n)| (table.columns[names[i]].clone(), n)).collect())
}

/// Clipped columns, and the dry run with its advice.
fn fit(
    out: &mut Findings,
    layout: &Layout,
    data: &Dataset,
    clips: Vec<(String, usize)>,
    order: &str,
    format_advice: impl Fn(&TrainSpec, &Dataset) -> Option<FixedFormat>,
) -> Result<(), ParticipantError> {
    let spec = &layout.spec;
    for (name, n) in clips {
        out.warnings.push(format!(
            "column {name}: {n} of {} standardized values lie outside {} and are clipped to its edge",
            data.rows(),
            spec.format
        ));
    }
    match dry_run(layout, data) {
        Ok(steps) => out.notes.push(format!(
            "a round ({} epoch(s), {steps} SGD steps, rows in {order}) trains from the initial model without overflow",
            spec.epochs
        )),
        Err((step, e)) => {
            let mut advice = vec![];
            if let Some(lr) = passing_learning_rate(spec, data) {
                advice.push(format!("learning_rate = {lr} passes"));
            }
            if let Some(f) = format_advice(spec, data) {
                advice.push(format!("format {f} (int_bits = {}) passes", f.int_bits));
            }
            let advice = if advice.is_empty() { "no smaller learning rate or wider format passes".into() } else { advice.join("; ") };
            out.errors.push(format!("a round fails at SGD step {step} of the first: {e}; {advice}"));
        }
    }
    Ok(())
}

/// What proving costs at the spec's steps per fold, predicted for the
/// reference machine, and the steps per fold that would prove a round
/// soonest within half of this machine's memory.
pub fn cost_notes(spec: &TrainSpec, rows: usize) -> Result<Vec<String>, ParticipantError> {
    let cost = CircuitCost::of(spec)?;
    let now = predict(&cost, &REFERENCE, rows, spec.steps_per_fold)?;
    let values = cost.values_per_step() as f64;
    let mut notes = vec![
        format!(
            "one SGD step: {} constraints, {} of them binding the batch to the commitment ({:.1} per data value); {} per fold for the state",
            cost.step.total(),
            cost.step.get(Category::DataBinding),
            cost.step.get(Category::DataBinding) as f64 / values,
            cost.fold_fixed.total()
        ),
        format!("predicted on {}: {now}", REFERENCE.name),
    ];
    let budget = memory_mb().map_or(4096.0, |m| m / 2.0);
    let best = best_steps_per_fold(&cost, &REFERENCE, rows, budget)?;
    // worth a new spec (and new parameters) only if it saves a tenth
    if best.steps_per_fold != spec.steps_per_fold && best.round_secs() < 0.9 * now.round_secs() {
        notes.push(format!(
            "steps_per_fold = {} would prove a round in {:.1} s instead of {:.1} s within half this machine's memory ({best})",
            best.steps_per_fold,
            best.round_secs(),
            now.round_secs()
        ));
    }
    Ok(notes)
}

/// This machine's memory in MB, as the kernel reports it.
fn memory_mb() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: f64 = info.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
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
        assert!(f.notes.iter().any(|n| n.contains("steps_per_fold = 3: 4 folds of")), "{f}");
        // the sample's outliers beyond 8 standard deviations, by column name
        assert!(f.warnings.iter().any(|w| w.starts_with("column se_area: 1 of 152")), "{f}");
    }

    #[test]
    fn a_local_config_is_checked_and_its_cost_predicted() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let cfg = LocalConfig::load(&root.join("configs/local-breast-cancer.toml")).unwrap();
        let f = check_local(&cfg, 1).unwrap();
        assert!(f.errors.is_empty(), "{f}");
        assert!(f.notes.iter().any(|n| n.contains("455 training rows of 30 features under Q3.9 (114 held out)")), "{f}");
        // 455 rows are 29 batches, 30 at 3 steps per fold: 10 folds an epoch, 2 epochs
        assert!(f.notes.iter().any(|n| n.contains("predicted on the 2-core reference VM: steps_per_fold = 3: 20 folds of")), "{f}");
        assert!(f.notes.iter().any(|n| n.starts_with("one SGD step: 6573 constraints")), "{f}");
    }

    #[test]
    fn a_simulation_config_is_checked_for_one_participant_share() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let (cfg, n) = run_config(&root.join("configs/simulate-breast-cancer.toml")).unwrap().unwrap();
        assert_eq!(n, 3);
        let f = check_local(&cfg, n).unwrap();
        assert!(f.errors.is_empty(), "{f}");
        assert!(f.notes.iter().any(|n| n.contains("3 participants share them: the cost below is for 152 rows")), "{f}");
        // 152 rows are 10 batches, 12 at 3 steps per fold
        assert!(f.notes.iter().any(|n| n.contains("steps_per_fold = 3: 4 folds of")), "{f}");
        // a hospital's config is not a run's
        assert!(run_config(&root.join("configs/hospital-a.toml")).unwrap().is_none());
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
