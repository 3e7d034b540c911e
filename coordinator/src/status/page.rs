//! The status page: one template (`page.html`, HTML escaped by minijinja)
//! for the live coordinator and the simulation's static report. The chart
//! is an SVG laid out here, so the page needs no script library and no
//! network; its one small script counts the deadline down and reloads a
//! live page.

use super::view::StatusView;
use crate::CoordinatorError;
use candor_core::Task;
use minijinja::{Environment, Value};
use serde::Serialize;
use std::sync::OnceLock;

const TEMPLATE: &str = include_str!("page.html");

/// One closed round's point on the chart.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Point {
    /// Round id.
    pub round: u64,
    /// x in pixels.
    pub x: f64,
    /// Accuracy, and its y in pixels (classification only).
    pub accuracy: Option<f64>,
    /// y of the accuracy.
    pub accuracy_y: Option<f64>,
    /// Loss (or MSE).
    pub loss: f64,
    /// y of the loss.
    pub loss_y: f64,
}

/// A horizontal grid line with both axes' labels.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Tick {
    /// y in pixels.
    pub y: f64,
    /// Accuracy label (empty without accuracy).
    pub left: String,
    /// Loss label.
    pub right: String,
}

/// The accuracy and loss chart, laid out.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Chart {
    /// Width in pixels.
    pub width: f64,
    /// Height in pixels.
    pub height: f64,
    /// Left edge of the plot area.
    pub left: f64,
    /// Right edge of the plot area.
    pub right: f64,
    /// One per closed round with held-out metrics, in round order.
    pub points: Vec<Point>,
    /// Grid lines.
    pub ticks: Vec<Tick>,
    /// Whether accuracy is plotted (classification).
    pub has_accuracy: bool,
    /// "Loss" or "MSE".
    pub loss_name: &'static str,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = WIDTH - 56.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = HEIGHT - 24.0;

impl Chart {
    /// Lays out the closed rounds of `view` that have held-out metrics:
    /// accuracy on [0, 1] (left axis), loss on [0, the largest loss] (right).
    pub fn of(view: &StatusView) -> Self {
        let regression = view.federation.spec.as_ref().is_some_and(|s| s.model.task == Task::Linear);
        let measured: Vec<_> = view.rounds.iter().filter(|r| r.closed).filter_map(|r| Some((r.round, r.test?))).collect();
        let max_loss = measured.iter().map(|(_, t)| t.loss).filter(|l| l.is_finite()).fold(0.0_f64, f64::max);
        let max_loss = if max_loss > 0.0 { max_loss } else { 1.0 };
        let y = |fraction: f64| BOTTOM - fraction.clamp(0.0, 1.0) * (BOTTOM - TOP);
        let n = measured.len();
        let x = |i: usize| if n <= 1 { (LEFT + RIGHT) / 2.0 } else { LEFT + (RIGHT - LEFT) * i as f64 / (n - 1) as f64 };
        let round2 = |v: f64| (v * 100.0).round() / 100.0;
        let points: Vec<Point> = measured
            .iter()
            .enumerate()
            .map(|(i, (round, t))| Point {
                round: *round,
                x: round2(x(i)),
                accuracy: t.accuracy,
                accuracy_y: t.accuracy.map(|a| round2(y(a))),
                loss: t.loss,
                loss_y: round2(y(t.loss / max_loss)),
            })
            .collect();
        let has_accuracy = points.iter().any(|p| p.accuracy.is_some());
        let ticks = (0..=4)
            .map(|i| {
                let f = i as f64 / 4.0;
                Tick {
                    y: round2(y(f)),
                    left: if has_accuracy { format!("{f:.2}") } else { String::new() },
                    right: format!("{:.3}", f * max_loss),
                }
            })
            .collect();
        Self {
            width: WIDTH,
            height: HEIGHT,
            left: LEFT,
            right: RIGHT,
            points,
            ticks,
            has_accuracy,
            loss_name: if regression { "MSE" } else { "Loss" },
        }
    }
}

/// Seconds between `ms` and `now_ms` in words: `in 42 s`, `3 min ago`.
fn relative(ms: u64, now_ms: u64) -> String {
    let (secs, future) = if ms >= now_ms { ((ms - now_ms) / 1000, true) } else { ((now_ms - ms) / 1000, false) };
    let span = match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86_400 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    };
    if future {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// The template, parsed once. Undefined names are errors, so that a
/// misspelt field fails the tests instead of rendering as nothing.
fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.add_template("page.html", TEMPLATE).expect("the status page template parses (tested)");
        env.add_function("rel", relative);
        env.add_filter("fixed", |v: f64, digits: usize| format!("{v:.digits$}"));
        env
    })
}

/// The page for `view` as of `now_ms` (times are shown relative to it);
/// `live` adds model downloads and reloading.
pub fn render(view: &StatusView, live: bool, now_ms: u64) -> Result<String, CoordinatorError> {
    let env = environment();
    let bad = |e: minijinja::Error| CoordinatorError::Config(format!("status page template: {e:#}"));
    let chart = Chart::of(view);
    let ctx =
        minijinja::context! { view => Value::from_serialize(view), chart => Value::from_serialize(&chart), live => live, now => now_ms };
    env.get_template("page.html").map_err(bad)?.render(ctx).map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::view::{RefusedView, RoundView, TestMetrics};

    fn closed(round: u64, accuracy: f64, loss: f64) -> RoundView {
        RoundView { round, closed: true, test: Some(TestMetrics { accuracy: Some(accuracy), loss }), ..Default::default() }
    }

    #[test]
    fn one_point_per_closed_round_with_metrics_scaled_into_the_plot() {
        let view = StatusView {
            rounds: [closed(1, 0.5, 0.8), closed(2, 0.9, 0.4), RoundView { round: 3, ..Default::default() }]
                .map(std::sync::Arc::new)
                .into(),
            ..Default::default()
        };
        let c = Chart::of(&view);
        assert_eq!(c.points.iter().map(|p| p.round).collect::<Vec<_>>(), [1, 2]);
        assert_eq!((c.points[0].x, c.points[1].x), (LEFT, RIGHT));
        // the largest loss at the top, accuracy 0.5 half way up
        assert_eq!(c.points[0].loss_y, TOP);
        assert_eq!(c.points[0].accuracy_y, Some((BOTTOM + TOP) / 2.0));
        assert_eq!(c.points[1].loss_y, (BOTTOM + TOP) / 2.0);
    }

    #[test]
    fn what_a_peer_sent_is_escaped() {
        let mut view = StatusView::default();
        let mut r = RoundView { round: 1, ..Default::default() };
        r.refuse(RefusedView { participant: "<b>x</b>".into(), code: "InvalidProof".into(), reason: "<script>alert(1)</script>".into() });
        view.rounds.push(std::sync::Arc::new(r));
        let html = render(&view, true, 0).unwrap();
        assert!(!html.contains("refusals of each participant"), "no cap to state without one");
        view.kept_refusals = 16;
        let html = render(&view, true, 0).unwrap();
        assert!(html.contains("The first 16 refusals of each participant in each round are stored"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"), "{html}");
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<b>x</b>"));
    }

    #[test]
    fn spans_in_words() {
        assert_eq!(relative(61_000, 1_000), "in 1 min");
        assert_eq!(relative(1_000, 43_000), "42 s ago");
        assert_eq!(relative(0, 2 * 86_400_000), "2 d ago");
    }
}
