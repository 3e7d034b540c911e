//! What a simulation reports: per-round records, totals, the centralized
//! float reference; as a table, as JSON, and as an accuracy plot (SVG).

use crate::adversary::Tamper;
use crate::config::SimConfig;
use crate::SimError;
use candor_coordinator::status::page::render;
use candor_coordinator::status::view::{
    architecture, AcceptedView, FederationView, ParticipantView, RefusedView, RoundView, StatusView, TestMetrics,
};
use candor_core::eval::Metrics;
use candor_protocols::RejectCode;
use plotters::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A refused submission.
#[derive(Clone, Debug, Serialize)]
pub struct Refused {
    /// Who sent it.
    pub participant: String,
    /// What it tried, when the sender was malicious.
    pub tamper: Option<Tamper>,
    /// The coordinator's reason code.
    pub code: RejectCode,
    /// The coordinator's reason.
    pub reason: String,
}

/// An accepted update.
#[derive(Clone, Debug, Serialize)]
pub struct Accepted {
    /// Who sent it.
    pub participant: String,
    /// Its proven (or, unverified, claimed) sample count.
    pub samples: u64,
}

/// One round.
#[derive(Clone, Debug, Serialize)]
pub struct RoundRecord {
    /// Round id.
    pub round: u64,
    /// The new global model on the held-out split.
    pub test: Metrics,
    /// Updates accepted.
    pub accepted: usize,
    /// Updates refused.
    pub rejected: usize,
    /// The accepted updates.
    pub accepted_updates: Vec<Accepted>,
    /// Tampered updates that were accepted, by kind.
    pub tampered_accepted: Vec<Tamper>,
    /// The refusals with their reasons.
    pub refused: Vec<Refused>,
    /// Whether the new global model is exactly the aggregate of the honest
    /// participants' updates alone, i.e. nothing tampered got in (`None`:
    /// that aggregate could not be computed).
    pub honest_only: Option<bool>,
    /// Seconds of native candle training, summed over participants.
    pub train_secs: f64,
    /// Seconds proving (folding and compression), summed over participants.
    pub prove_secs: f64,
    /// Of `prove_secs`, seconds compressing.
    pub compress_secs: f64,
    /// Seconds verifying, summed over submissions.
    pub verify_secs: f64,
    /// Largest proof submitted, bytes.
    pub proof_bytes: usize,
    /// Digest of the new global model.
    pub global_digest: String,
}

/// A participant.
#[derive(Clone, Debug, Serialize)]
pub struct MemberInfo {
    /// Display name.
    pub name: String,
    /// Training rows.
    pub rows: usize,
    /// Rows per class label (empty for regression).
    pub classes: BTreeMap<String, usize>,
    /// Whether it submits tampered updates.
    pub malicious: bool,
}

/// Whole-run figures.
#[derive(Clone, Debug, Serialize)]
pub struct Totals {
    /// Wall-clock seconds of the whole run.
    pub wall_secs: f64,
    /// Seconds loading or generating public parameters.
    pub setup_secs: f64,
    /// Seconds committing (and proving commitments).
    pub commit_secs: f64,
    /// Seconds of native candle training, summed over rounds.
    pub train_secs: f64,
    /// See [`RoundRecord::prove_secs`].
    pub prove_secs: f64,
    /// See [`RoundRecord::compress_secs`].
    pub compress_secs: f64,
    /// See [`RoundRecord::verify_secs`].
    pub verify_secs: f64,
    /// Updates accepted over all rounds.
    pub accepted: usize,
    /// Updates refused over all rounds.
    pub rejected: usize,
    /// Tampered updates accepted over all rounds.
    pub tampered_accepted: usize,
}

impl Totals {
    /// Sums the rounds.
    pub fn of(rounds: &[RoundRecord], wall_secs: f64, setup_secs: f64, commit_secs: f64) -> Self {
        let sum = |f: fn(&RoundRecord) -> f64| rounds.iter().map(f).sum();
        let count = |f: fn(&RoundRecord) -> usize| rounds.iter().map(f).sum();
        Self {
            wall_secs,
            setup_secs,
            commit_secs,
            train_secs: sum(|r| r.train_secs),
            prove_secs: sum(|r| r.prove_secs),
            compress_secs: sum(|r| r.compress_secs),
            verify_secs: sum(|r| r.verify_secs),
            accepted: count(|r| r.accepted),
            rejected: count(|r| r.rejected),
            tampered_accepted: count(|r| r.tampered_accepted.len()),
        }
    }
}

/// The centralized float32 reference on the same split.
#[derive(Clone, Debug, Serialize)]
pub struct Reference {
    /// Epochs over all training rows (rounds x local epochs).
    pub epochs: u32,
    /// Test accuracy (classification) or MSE (regression).
    pub metric: f64,
}

/// The centralized baseline: float32 trained to convergence on all training
/// rows (`crate::baseline::converged`).
#[derive(Clone, Debug, Serialize)]
pub struct Baseline {
    /// The learning rate of the grid that fit the training rows best.
    pub learning_rate: f64,
    /// Epochs it trained.
    pub epochs: u32,
    /// Test accuracy (classification) or MSE (regression, in the target's
    /// units).
    pub metric: f64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// "verified" when every update was proven and checked, "unverified"
    /// when updates were taken on trust.
    pub mode: &'static str,
    /// The configuration run.
    pub config: SimConfig,
    /// Participants and their shares.
    pub participants: Vec<MemberInfo>,
    /// The initial global model on the held-out split.
    pub initial: Metrics,
    /// Rounds.
    pub rounds: Vec<RoundRecord>,
    /// Totals.
    pub totals: Totals,
    /// Centralized float32 candle reference on the federation's schedule.
    pub centralized_float_reference: Reference,
    /// Centralized float32 baseline trained to convergence.
    pub centralized_baseline: Option<Baseline>,
    /// Digest of the training circuit's public parameters (proofs on).
    pub params_digest: Option<String>,
}

impl Report {
    /// Assembles a report.
    pub fn new(
        config: SimConfig,
        participants: Vec<MemberInfo>,
        initial: Metrics,
        rounds: Vec<RoundRecord>,
        totals: Totals,
        reference: Reference,
    ) -> Self {
        let mode = if config.federation.proofs { "verified" } else { "unverified" };
        Self {
            mode,
            config,
            participants,
            initial,
            rounds,
            totals,
            centralized_float_reference: reference,
            centralized_baseline: None,
            params_digest: None,
        }
    }

    /// The last round's test metrics.
    pub fn final_metrics(&self) -> Metrics {
        self.rounds.last().map_or(self.initial, |r| r.test)
    }

    /// Writes `path` (JSON), and beside it (same name) the plot (`.svg`)
    /// and the status page of the run (`.html`, the coordinator's page);
    /// returns the plot's and the page's paths.
    pub fn write(&self, path: &Path) -> Result<(PathBuf, PathBuf), SimError> {
        if path.extension().is_some_and(|e| e == "svg") {
            return Err(SimError::Report(format!("{}: the report is JSON; the plot goes beside it as .svg", path.display())));
        }
        let json = serde_json::to_string_pretty(self).map_err(|e| SimError::Report(e.to_string()))?;
        if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d).map_err(|e| SimError::Report(format!("{}: {e}", d.display())))?;
        }
        std::fs::write(path, json).map_err(|e| SimError::Report(format!("{}: {e}", path.display())))?;
        let svg = path.with_extension("svg");
        self.plot(&svg)?;
        let html_path = path.with_extension("html");
        let view = self.status_view(now_ms());
        let html = render(&view, false, view.generated_ms).map_err(|e| SimError::Report(e.to_string()))?;
        std::fs::write(&html_path, html).map_err(|e| SimError::Report(format!("{}: {e}", html_path.display())))?;
        Ok((svg, html_path))
    }

    /// The run as the coordinator's status page shows a federation, as of
    /// `now_ms`.
    pub fn status_view(&self, now_ms: u64) -> StatusView {
        let cfg = &self.config;
        let study = cfg.data.path.file_stem().map_or_else(|| "simulation".into(), |s| s.to_string_lossy().into_owned());
        let strategy = cfg.federation.strategy.build().map_or_else(|_| format!("{:?}", cfg.federation.strategy), |s| s.name().to_string());
        let rounds = self
            .rounds
            .iter()
            .map(|r| {
                let mut view = RoundView {
                    round: r.round,
                    closed: true,
                    accepted: r
                        .accepted_updates
                        .iter()
                        .map(|a| AcceptedView {
                            participant: a.participant.clone(),
                            samples: a.samples,
                            verify_secs: None,
                            aggregated: true,
                        })
                        .collect(),
                    test: Some(TestMetrics { accuracy: r.test.accuracy, loss: r.test.loss }),
                    model_digest: Some(r.global_digest.clone()),
                    ..Default::default()
                };
                for f in &r.refused {
                    let tamper = f.tamper.map(|t| format!(" (the sender tampered: {t:?})")).unwrap_or_default();
                    view.refuse(RefusedView {
                        participant: f.participant.clone(),
                        code: format!("{:?}", f.code),
                        reason: format!("{}{tamper}", f.reason),
                    });
                }
                Arc::new(view)
            })
            .collect();
        StatusView {
            source: "simulation".into(),
            generated_ms: now_ms,
            federation: FederationView {
                study,
                id: String::from_utf8_lossy(crate::sim::SIM_FEDERATION).into_owned(),
                architecture: architecture(&cfg.spec.model),
                format: cfg.spec.format.to_string(),
                spec: Some(cfg.spec.clone()),
                params_digest: self.params_digest.clone().unwrap_or_default(),
                strategy,
                rounds: cfg.federation.rounds,
                quorum: cfg.federation.participants as u32,
                proofs: cfg.federation.proofs,
            },
            current: None,
            completed_rounds: self.rounds.len() as u64,
            finished: self.rounds.len() as u64 >= cfg.federation.rounds,
            participants: self
                .participants
                .iter()
                .map(|m| ParticipantView { name: m.name.clone(), rows: m.rows as u64, ..Default::default() })
                .collect(),
            rounds,
            refusals_outside_rounds: vec![],
            audit: None,
            // a simulation keeps every refusal it reports
            kept_refusals: 0,
        }
    }

    /// The metric per round (accuracy, or MSE for regression).
    fn series(&self) -> (&'static str, Vec<(f64, f64)>) {
        let classify = self.initial.accuracy.is_some();
        let m = |x: &Metrics| if classify { x.accuracy.unwrap_or(0.0) } else { x.loss };
        let mut pts = vec![(0.0, m(&self.initial))];
        pts.extend(self.rounds.iter().map(|r| (r.round as f64, m(&r.test))));
        (if classify { "test accuracy" } else { "test MSE" }, pts)
    }

    /// Accuracy per round beside the centralized reference, as SVG.
    pub fn plot(&self, path: &Path) -> Result<(), SimError> {
        let err = |e: &dyn std::fmt::Display| SimError::Report(format!("plot {}: {e}", path.display()));
        let (label, pts) = self.series();
        let reference = self.centralized_float_reference.metric;
        let baseline = self.centralized_baseline.as_ref().map(|b| b.metric).filter(|m| m.is_finite());
        let last = pts.last().map_or(1.0, |p| p.0).max(1.0);
        // a diverged same-schedule reference is left off the scale
        let lines = [Some(reference).filter(|m| m.is_finite()), baseline];
        let lo = pts.iter().map(|p| p.1).chain(lines.iter().flatten().copied()).fold(f64::INFINITY, f64::min);
        let hi = pts.iter().map(|p| p.1).chain(lines.iter().flatten().copied()).fold(f64::NEG_INFINITY, f64::max);
        let pad = ((hi - lo) * 0.1).max(0.01);
        let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let title = format!("Candor simulation ({}): {label} per round", self.mode);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..last, (lo - pad)..(hi + pad))
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_labels(last as usize + 1)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("round")
            .y_desc(label)
            .draw()
            .map_err(|e| err(&e))?;
        let fed = if self.mode == "verified" { "federated, every update proven" } else { "federated, UNVERIFIED updates" };
        chart
            .draw_series(LineSeries::new(pts.clone(), BLUE.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(fed)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, BLUE.filled()))).map_err(|e| err(&e))?;
        if lines[0].is_some() {
            chart
                .draw_series(LineSeries::new(vec![(0.0, reference), (last, reference)], RED.stroke_width(1)))
                .map_err(|e| err(&e))?
                .label("centralized float32, same schedule")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(1)));
        }
        if let (Some(b), Some(m)) = (&self.centralized_baseline, baseline) {
            let green = RGBColor(0, 140, 60);
            chart
                .draw_series(LineSeries::new(vec![(0.0, m), (last, m)], green.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(format!("centralized baseline: float32, {} epochs at lr {}", b.epochs, b.learning_rate))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], green.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))
    }
}

/// The per-round table's header.
pub fn table_header(verified: bool) -> String {
    let mode = if verified { "" } else { "   [UNVERIFIED: updates taken on trust]" };
    format!(
        "{:>5} {:>9} {:>8} {:>8} {:>8} {:>11} {:>9} {:>9}{mode}\n{}",
        "round",
        "accuracy",
        "loss",
        "accepted",
        "refused",
        "honest only",
        "prove s",
        "verify s",
        "-".repeat(74)
    )
}

/// One round as a table row, followed by its refusals.
pub fn table_row(r: &RoundRecord) -> String {
    let acc = r.test.accuracy.map_or_else(|| "-".into(), |a| format!("{a:.4}"));
    let mut s = format!(
        "{:>5} {:>9} {:>8.4} {:>8} {:>8} {:>11} {:>9.1} {:>9.2}",
        r.round,
        acc,
        r.test.loss,
        r.accepted,
        r.rejected,
        match r.honest_only {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        },
        r.prove_secs,
        r.verify_secs
    );
    for f in &r.refused {
        let what = f.tamper.map_or("", Tamper::name);
        s.push_str(&format!("\n      refused {} ({what}): {:?}: {}", f.participant, f.code, f.reason));
    }
    for t in &r.tampered_accepted {
        s.push_str(&format!("\n      ACCEPTED a tampered update ({})", t.name()));
    }
    s
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
