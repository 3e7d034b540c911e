//! Proving at the sizes hospitals use, on synthetic data, beside what the
//! cost model (`candor_circuits::cost`) predicts.
//!
//! - `cargo bench -p candor-participant --bench scale`: logistic regression
//!   at 32, 128 and 512 features and the MLPs 32-16-1, 128-16-1 and
//!   512-16-1 (batch 16, one step per fold, one epoch of 512 rows), each in
//!   its own process, measured beside the prediction;
//! - `... -- profile`: where one SGD step's constraints go, per data value,
//!   for 32 to 1,024 features (logistic, softmax over 10 classes, MLP with
//!   16 and 32 hidden units); counting only, no proving;
//! - `... -- calibrate`: the default runs, then the cost model's
//!   coefficients fitted to them (least squares), to paste into
//!   `candor_circuits::cost::REFERENCE`, and each run's prediction under
//!   the fit; `... -- fit FILE` fits a saved output of `calibrate` again;
//! - `... -- run FEATURES HIDDEN CLASSES ROWS BATCH SPF`: one configuration
//!   (CLASSES 0 for logistic regression);
//! - `... -- round FEATURES HIDDEN CLASSES ROWS BATCH SPF`: a round alone,
//!   without the commitment proof, for its peak memory;
//! - `... -- size FEATURES HIDDEN CLASSES SPF`: a fold's constraints,
//!   variables and matrix non-zeros;
//! - `... -- advise FEATURES HIDDEN CLASSES ROWS`: the cost model's
//!   prediction of a round over ROWS rows at several steps per fold;
//! - `... -- witness FEATURES HIDDEN CLASSES REPS`: synthesizes one fold's
//!   witness REPS times (our part of folding alone, for a profiler).
//!
//! Data: uniform values in [-2, 2) in Q3.9, labels from a fixed random
//! linear teacher; the data's values do not change what proving costs.

use candor_circuits::batch::{verify_training_batch, Submitted};
use candor_circuits::cost::{predict, CircuitCost, REFERENCE};
use candor_circuits::engine::{DataKeys, KeySource, Scalar, TrainKeys, E1};
use candor_circuits::hash::Hasher;
use candor_circuits::profile::Category;
use candor_circuits::step::SgdFoldCircuit;
use candor_circuits::verifier::{verify_commitment, verify_training, Statement};
use candor_core::data::Dataset;
use candor_core::{FixedFormat, Layout, Model, ModelSpec, Task, TrainSpec};
use candor_prover::{prove_commitment, prove_training, PrivateData};
use nova_snark::frontend::num::AllocatedNum;
use nova_snark::frontend::solver::SatisfyingAssignment;
use nova_snark::frontend::ConstraintSystem;
use nova_snark::traits::circuit::StepCircuit;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::sync::Arc;
use std::time::Instant;

/// Resets the peak resident set size to the current one (Linux >= 4.0), so
/// that the next [`peak_rss_mb`] is the peak of what follows.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn spec(features: usize, hidden: usize, classes: usize, batch: usize, spf: usize) -> TrainSpec {
    let task = if classes > 0 { Task::Softmax } else { Task::Logistic };
    let model = match (hidden, classes) {
        (0, 0) => ModelSpec::linear(features, task),
        (0, k) => ModelSpec::softmax_regression(features, k),
        (h, k) => ModelSpec::mlp(features, h, task, k),
    };
    TrainSpec { model, format: FixedFormat::default(), learning_rate: 0.25, batch_size: batch, epochs: 1, steps_per_fold: spf }
}

fn shape(spec: &TrainSpec) -> String {
    let m = &spec.model;
    match (m.hidden, m.classes) {
        (0, 0) => format!("logistic {}", m.features),
        (0, k) => format!("softmax {}-{k}", m.features),
        (h, 0) => format!("MLP {}-{h}-1", m.features),
        (h, k) => format!("MLP {}-{h}-{k}", m.features),
    }
}

/// `rows` synthetic rows: uniform features, labels of a random linear teacher.
fn synthetic(spec: &TrainSpec, rows: usize) -> Dataset {
    let (d, fmt) = (spec.model.features, spec.format);
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let classes = spec.model.classes.max(2);
    let teacher: Vec<Vec<f64>> = (0..classes).map(|_| (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect()).collect();
    let mut x = Vec::with_capacity(rows * d);
    let mut y = Vec::with_capacity(rows);
    for _ in 0..rows {
        let row: Vec<f64> = (0..d).map(|_| rng.gen_range(-2.0..2.0)).collect();
        let score = |w: &Vec<f64>| w.iter().zip(&row).map(|(a, b)| a * b).sum::<f64>();
        let label = if spec.model.classes > 0 {
            (0..classes).max_by(|&a, &b| score(&teacher[a]).total_cmp(&score(&teacher[b]))).unwrap_or(0)
        } else {
            usize::from(score(&teacher[0]) > 0.0)
        };
        x.extend(row.iter().map(|v| fmt.quantize_clipped(*v).unwrap()));
        y.push(label as i64);
    }
    Dataset { features: d, x, y }
}

/// Seconds to synthesize one fold's witness (our part of a fold).
fn witness_secs(layout: &Layout) -> f64 {
    let circuit = SgdFoldCircuit::<Scalar>::placeholder(Arc::new(layout.clone()), Hasher::default());
    let t = Instant::now();
    let mut cs = SatisfyingAssignment::<E1>::new();
    let z = AllocatedNum::alloc(cs.namespace(|| "z"), || Ok(Scalar::from(0u64))).unwrap();
    circuit.synthesize(&mut cs, &[z]).unwrap();
    t.elapsed().as_secs_f64()
}

/// One measured run; prints a Markdown row.
fn run(features: usize, hidden: usize, classes: usize, rows: usize, batch: usize, spf: usize) {
    let spec = spec(features, hidden, classes, batch, spf);
    let layout = Layout::new(&spec).unwrap();
    let cost = CircuitCost::of(&spec).unwrap();
    let pred = predict(&cost, &REFERENCE, rows, spf).unwrap();
    let data = PrivateData::new(&layout, &synthetic(&spec, rows), [3; 32]).unwrap();

    // the commitment first, alone, as `commit` runs it
    let t = Instant::now();
    let dkeys = DataKeys::for_commitment(&layout, KeySource::derive()).unwrap();
    let mut setup = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (c, cproof) = prove_commitment(&dkeys, &data).unwrap();
    let commit = t.elapsed().as_secs_f64();
    let verified = verify_commitment(&dkeys, &c, &cproof).unwrap();
    let commit_rss = peak_rss_mb();
    drop(dkeys);
    reset_peak_rss();
    let t = Instant::now();
    let keys = TrainKeys::for_training(&layout, KeySource::derive()).unwrap();
    setup += t.elapsed().as_secs_f64();
    let statement = Statement {
        federation: b"bench".to_vec(),
        round: 1,
        participant: b"bench".to_vec(),
        data: verified,
        global: Model::initial(&spec),
    };

    let witness = witness_secs(&layout);
    // a mark for profilers that attach to the folding alone
    eprintln!("folding {} folds", data.batches().len() / spf);
    let mut fold_done = None;
    let t = Instant::now();
    let proven = prove_training(&keys, &statement, &data, |d, n| {
        if d == n {
            fold_done = Some(Instant::now());
        }
    })
    .unwrap();
    let total = t.elapsed().as_secs_f64();
    let folding = fold_done.unwrap().duration_since(t).as_secs_f64();
    let folds = data.batches().len() / spf;
    let steps = folds * spf;

    let t = Instant::now();
    verify_training(&keys, &statement, &proven.model, proven.samples, &proven.proof).unwrap();
    let verify = t.elapsed().as_secs_f64();
    let n = 10;
    let round = vec![Submitted { statement: &statement, model: &proven.model, samples: proven.samples, proof: &proven.proof }; n];
    let t = Instant::now();
    assert!(verify_training_batch(&keys, &round).iter().all(Result::is_ok));
    let batch_each = t.elapsed().as_secs_f64() / n as f64;

    let values = cost.values_per_step() as f64;
    println!(
        "| {} | {} | {:.1} | {:.1} | {} | 2^{} | {:.3} ({:.3}) | {:.2} | {:.0}% | {:.2} ({:.2}) | {:.2} ({:.2}) | {batch_each:.3} | {:.1} ({:.1}) | {:.0} ({:.0}) | {commit_rss:.0} ({:.0}) | {setup:.1} |",
        shape(&spec),
        cost.step.total(),
        cost.step.field_heavy() as f64 / values,
        cost.step.total() as f64 / layout.macs_per_step() as f64,
        pred.fold.constraints,
        pred.fold.pads_to(),
        folding / steps as f64,
        pred.fold_secs / spf as f64,
        steps as f64 / folding,
        100.0 * witness / (folding / folds as f64),
        total - folding,
        pred.compression_secs,
        verify,
        pred.verification_secs,
        commit,
        pred.commitment_secs,
        peak_rss_mb(),
        pred.peak_rss_mb,
        pred.commit_rss_mb,
    );
}

/// A round alone (its own process, no commitment proof: the statement
/// holds the native commitment): its folding time and peak RSS, to see
/// whether memory grows with the rows.
fn round(features: usize, hidden: usize, classes: usize, rows: usize, batch: usize, spf: usize) {
    let spec = spec(features, hidden, classes, batch, spf);
    let layout = Layout::new(&spec).unwrap();
    let data = PrivateData::new(&layout, &synthetic(&spec, rows), [3; 32]).unwrap();
    let keys = TrainKeys::for_training(&layout, KeySource::derive()).unwrap();
    let statement = Statement {
        federation: b"bench".to_vec(),
        round: 1,
        participant: b"bench".to_vec(),
        data: data.commitment(&keys),
        global: Model::initial(&spec),
    };
    let t = Instant::now();
    prove_training(&keys, &statement, &data, |_, _| {}).unwrap();
    let steps = data.batches().len();
    println!(
        "{} at {rows} rows, {spf} steps per fold: {steps} steps proven and compressed in {:.1} s, peak RSS {:.0} MB",
        shape(&spec),
        t.elapsed().as_secs_f64(),
        peak_rss_mb()
    );
}

const HEADER: &str = "| model | step constraints | data binding per value | constraints per MAC | fold (primary) | pads to | s per SGD step (predicted) | proven steps/s | our witness share of a fold | compression s (predicted) | verification s (predicted) | verification s per proof, batch of 10 | commitment proof s (predicted) | peak RSS of a round MB (predicted) | peak RSS of the commitment MB (predicted) | setup s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

/// (features, hidden, classes) of the default runs.
const DEFAULT: [(usize, usize, usize); 6] = [(32, 0, 0), (128, 0, 0), (512, 0, 0), (32, 16, 0), (128, 16, 0), (512, 16, 0)];

fn child(args: &[String]) -> Option<String> {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(&exe).arg("run").args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with('|')).map(str::to_string);
    if line.is_none() {
        eprintln!("{args:?} failed: {}", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or(""));
    }
    line
}

fn defaults() -> Vec<(TrainSpec, String)> {
    println!("{HEADER}");
    let mut rows = vec![];
    for (d, h, k) in DEFAULT {
        let args: Vec<String> = [d, h, k, 512, 16, 1].iter().map(ToString::to_string).collect();
        if let Some(line) = child(&args) {
            println!("{line}");
            rows.push((spec(d, h, k, 16, 1), line));
        }
    }
    rows
}

/// Where one step's constraints go, per data value.
fn profile() {
    println!("| model | step constraints | per data value | multiplications | rescaling | activations | softmax | data binding | per fold: state digest |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for d in [32, 128, 512, 1024] {
        for (h, k) in [(0, 0), (0, 10), (16, 0), (32, 0)] {
            let s = spec(d, h, k, 16, 1);
            let cost = CircuitCost::of(&s).unwrap();
            let v = cost.values_per_step() as f64;
            let cells: Vec<String> =
                [Category::Multiplication, Category::Rescaling, Category::Activation, Category::Softmax, Category::DataBinding]
                    .iter()
                    .map(|c| format!("{:.2}", cost.step.get(*c) as f64 / v))
                    .collect();
            println!(
                "| {} | {} | {:.2} | {} | {} |",
                shape(&s),
                cost.step.total(),
                cost.step.total() as f64 / v,
                cells.join(" | "),
                cost.fold_fixed.total()
            );
        }
    }
}

/// Least squares of `y ~ X b` (normal equations, Gaussian elimination; a
/// handful of unknowns).
fn least_squares(x: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let n = x[0].len();
    let mut a: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| x.iter().map(|r| r[i] * r[j]).sum()).collect()).collect();
    let mut b: Vec<f64> = (0..n).map(|i| x.iter().zip(y).map(|(r, v)| r[i] * v).sum()).collect();
    for col in 0..n {
        let piv = (col..n).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs())).unwrap();
        a.swap(col, piv);
        b.swap(col, piv);
        let pivot_row = a[col].clone();
        for r in col + 1..n {
            let f = a[r][col] / pivot_row[col];
            for (x, p) in a[r].iter_mut().zip(&pivot_row).skip(col) {
                *x -= f * p;
            }
            b[r] -= f * b[col];
        }
    }
    let mut out = vec![0.0; n];
    for r in (0..n).rev() {
        out[r] = (b[r] - (r + 1..n).map(|c| a[r][c] * out[c]).sum::<f64>()) / a[r][r];
    }
    out
}

/// Fits the cost model to measured rows (as `defaults` prints them) and
/// prints the coefficients and each run's prediction beside its measurement.
fn fit(runs: &[(TrainSpec, String)]) {
    use candor_circuits::cost::{Machine, NOVA_PRIMARY};
    let cell = |line: &str, i: usize| -> f64 {
        let c = line.split('|').nth(i + 1).unwrap_or("").trim();
        c.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    };
    let (mut fold_x, mut fold_y, mut pad_x, mut comp_y, mut ver_y, mut rss_x, mut rss_y) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for (s, line) in runs {
        let cost = CircuitCost::of(s).unwrap();
        let pred = predict(&cost, &REFERENCE, 512, 1).unwrap();
        let field = NOVA_PRIMARY.constraints + cost.fold_fixed.field_heavy() + cost.step.field_heavy();
        fold_x.push(vec![1.0, field as f64, (pred.fold.constraints - field) as f64]);
        fold_y.push(cell(line, 6));
        let padded = (1u64 << pred.fold.pads_to()) as f64;
        pad_x.push(vec![1.0, padded]);
        comp_y.push(cell(line, 9));
        ver_y.push(cell(line, 10));
        // memory: the round's peak (which may include memory kept from the
        // commitment before it) and the commitment's
        rss_x.push(vec![1.0, cost.fold_nonzeros(1) as f64 / 1024.0, padded / 1024.0]);
        rss_y.push(cell(line, 13));
        rss_x.push(vec![1.0, cost.commit_step.nonzeros as f64 / 1024.0, (1u64 << cost.commit_fold().pads_to()) as f64 / 1024.0]);
        rss_y.push(cell(line, 14));
    }
    let f = least_squares(&fold_x, &fold_y);
    let c = least_squares(&pad_x, &comp_y);
    let v = least_squares(&pad_x, &ver_y);
    let r = least_squares(&rss_x, &rss_y);
    println!("\nfold_s: {:.3}, field_constraint_s: {:.2e}, small_constraint_s: {:.2e},", f[0], f[1], f[2]);
    println!("compress: ({:.2}, {:.2e}), verify: ({:.3}, {:.2e}), rss: ({:.0}, {:.3}, {:.2}),", c[0], c[1], v[0], v[1], r[0], r[1], r[2]);
    let fitted = Machine {
        name: "fitted",
        fold_s: f[0],
        field_constraint_s: f[1],
        small_constraint_s: f[2],
        compress: (c[0], c[1]),
        verify: (v[0], v[1]),
        rss: (r[0], r[1], r[2]),
    };
    println!("\n| model | s per step: measured / fitted | compression s | verification s | commitment proof s | peak RSS of a round MB | of the commitment MB |\n|---|---|---|---|---|---|---|");
    for (s, line) in runs {
        let p = predict(&CircuitCost::of(s).unwrap(), &fitted, 512, 1).unwrap();
        println!(
            "| {} | {:.3} / {:.3} | {:.2} / {:.2} | {:.2} / {:.2} | {:.1} / {:.1} | {:.0} / {:.0} | {:.0} / {:.0} |",
            shape(s),
            cell(line, 6),
            p.fold_secs,
            cell(line, 9),
            p.compression_secs,
            cell(line, 10),
            p.verification_secs,
            cell(line, 12),
            p.commitment_secs,
            cell(line, 13),
            p.peak_rss_mb,
            cell(line, 14),
            p.commit_rss_mb
        );
    }
}

/// The default runs' rows read back from a saved output of `calibrate`.
fn rows_from(file: &str) -> Vec<(TrainSpec, String)> {
    let text = std::fs::read_to_string(file).expect("a saved table");
    DEFAULT
        .iter()
        .filter_map(|&(d, h, k)| {
            let s = spec(d, h, k, 16, 1);
            let name = format!("| {} |", shape(&s));
            text.lines().find(|l| l.starts_with(&name)).map(|l| (s, l.to_string()))
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let num = |s: &String| s.parse::<usize>().expect("a number");
    match &args[..] {
        [m, d, h, k, n, b, s] if m == "run" => run(num(d), num(h), num(k), num(n), num(b), num(s)),
        [m, d, h, k, n, b, s] if m == "round" => round(num(d), num(h), num(k), num(n), num(b), num(s)),
        [m] if m == "profile" => profile(),
        [m, d, h, k, spf] if m == "size" => {
            let cost = CircuitCost::of(&spec(num(d), num(h), num(k), 16, 1)).unwrap();
            println!(
                "fold of {} steps: {}, {} non-zeros in the step circuit; commitment step: {} non-zeros",
                num(spf),
                cost.fold(num(spf)),
                cost.fold_nonzeros(num(spf)),
                cost.commit_step.nonzeros
            );
        }
        [m, d, h, k, n] if m == "advise" => {
            // the cost model's prediction at every steps per fold
            let s = spec(num(d), num(h), num(k), 16, 1);
            let cost = CircuitCost::of(&s).unwrap();
            for spf in [1, 2, 3, 4, 6, 8] {
                println!("{}", predict(&cost, &REFERENCE, num(n), spf).unwrap());
            }
            println!("fastest: {}", candor_circuits::cost::best_steps_per_fold(&cost, &REFERENCE, num(n), f64::INFINITY).unwrap());
        }
        [m, d, h, k, reps] if m == "witness" => {
            // our part of a fold alone, for a profiler
            let layout = Layout::new(&spec(num(d), num(h), num(k), 16, 1)).unwrap();
            let secs: f64 = (0..num(reps)).map(|_| witness_secs(&layout)).sum();
            println!("{:.3} s per fold's witness", secs / num(reps) as f64);
        }
        [m] if m == "calibrate" => fit(&defaults()),
        [m, file] if m == "fit" => fit(&rows_from(file)),
        [] => {
            defaults();
        }
        _ => eprintln!("usage: scale [profile | calibrate | fit FILE | round FEATURES HIDDEN CLASSES ROWS BATCH SPF | size FEATURES HIDDEN CLASSES SPF | advise FEATURES HIDDEN CLASSES ROWS | run FEATURES HIDDEN CLASSES ROWS BATCH SPF | witness FEATURES HIDDEN CLASSES REPS]"),
    }
}
