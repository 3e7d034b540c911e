//! Proof-of-training figures: one epoch of a local config's training rows.
//!
//! - `cargo bench -p candor-participant --bench proving`: logistic regression
//!   on breast cancer (30 features, 455 rows) for batch sizes 8/16/32 and
//!   1/4/8 SGD steps per fold;
//! - `... -- mlp`: the MLPs, digits 64-16-10 and breast cancer 30-16-1, and
//!   multinomial logistic regression on digits (64-10), at batch 16, and
//!   where their step circuits' constraints go;
//! - `... -- CONFIG BATCH SPF`: one configuration;
//! - `... -- checkpoint [CONFIG BATCH SPF]`: the cost of proving checkpoints
//!   (default: the shipped logistic config, batch 16, 3 steps per fold):
//!   proving without them, with one every 8 folds and after every fold, the
//!   checkpoint's size, and a resume from the middle of the proof.
//!
//! Every configuration is proven twice, each in its own process (so that
//! its peak RSS is its own): with the prover of unpatched nova-snark 0.76
//! (`upstream`) and with Candor's patched one (`patched`,
//! vendor/nova-snark/CANDOR-PATCHES.md). Prints Markdown tables.

use candor_circuits::batch::{verify_training_batch, Submitted};
use candor_circuits::engine::{DataKeys, KeySource, Scalar, TrainKeys};
use candor_circuits::padding::step_size;
use candor_circuits::profile::{Category, Profile};
use candor_circuits::step::SgdFoldCircuit;
use candor_circuits::verifier::ProvenStatement;
use candor_circuits::verifier::{verify_commitment, verify_training, Statement};
use candor_core::{Layout, Model};
use candor_participant::local::{load_data, LocalConfig};
use candor_participant::train::ExactTrainer;
use candor_prover::checkpoint::Checkpoints;
use candor_prover::{prove_commitment, prove_training, prove_training_resumable, use_upstream_prover, PrivateData};
use nova_snark::frontend::num::AllocatedNum;
use nova_snark::frontend::ConstraintSystem;
use nova_snark::traits::circuit::StepCircuit;
use std::sync::Arc;
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

const PROVERS: [&str; 2] = ["upstream", "patched"];
const LINEAR: &str = "configs/local-breast-cancer.toml";
const MLPS: [&str; 3] = ["configs/local-digits-mlp.toml", "configs/local-digits-softmax.toml", "configs/local-breast-cancer-mlp.toml"];

fn layout_of(config: &str, batch: usize, spf: usize) -> (LocalConfig, Layout) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    std::env::set_current_dir(root).unwrap();
    let mut cfg = LocalConfig::load(config.as_ref()).unwrap();
    cfg.spec.batch_size = batch;
    cfg.spec.steps_per_fold = spf;
    cfg.spec.epochs = 1;
    let layout = Layout::new(&cfg.spec).unwrap();
    (cfg, layout)
}

fn shape(layout: &Layout) -> String {
    let m = &layout.spec.model;
    match layout.mlp_shape() {
        Some(s) => format!("MLP {}-{}-{}", s.features, s.hidden, s.outputs),
        None if m.task == candor_core::Task::Softmax => format!("softmax regression {}-{}", m.features, m.classes),
        None => format!("{:?} {}", m.task, m.features),
    }
}

/// Where one fold's step-circuit constraints go, per category.
fn profile(config: &str, batch: usize, spf: usize) -> String {
    let (_, layout) = layout_of(config, batch, spf);
    let mut cs = Profile::<Scalar>::default();
    let z = AllocatedNum::alloc(cs.namespace(|| "z"), || Ok(Scalar::from(0u64))).unwrap();
    let hasher = candor_circuits::hash::Hasher::default();
    SgdFoldCircuit::<Scalar>::placeholder(Arc::new(layout.clone()), hasher).synthesize(&mut cs, &[z]).unwrap();
    let keys = TrainKeys::for_training(&layout, KeySource::derive()).unwrap();
    let nova = keys.pp.num_constraints().0 - cs.total();
    let all = (cs.total() + nova) as f64;
    let cells: Vec<String> =
        [Category::Multiplication, Category::Rescaling, Category::Activation, Category::Softmax, Category::DataBinding, Category::State]
            .iter()
            .map(|c| cs.counts.get(c).copied().unwrap_or(0))
            .chain([nova])
            .map(|n| format!("{n} ({:.0}%)", 100.0 * n as f64 / all))
            .collect();
    format!("| {} | {batch} | {spf} | {} | {} |", shape(&layout), layout.macs_per_step() * spf, cells.join(" | "))
}

fn one(config: &str, batch: usize, spf: usize, prover: &str) -> String {
    use_upstream_prover(prover == "upstream");
    let (cfg, layout) = layout_of(config, batch, spf);
    let (train, _, _) = load_data(&cfg.data, &cfg.spec).unwrap();
    let data = PrivateData::new(&layout, &train, [3; 32]).unwrap();

    let step_cons = step_size(&layout.spec).unwrap().constraints;

    let t = Instant::now();
    let keys = TrainKeys::for_training(&layout, KeySource::derive()).unwrap();
    let setup = t.elapsed().as_secs_f64();
    let (p, s) = keys.sizes();
    let (primary, secondary) = (p.constraints, s.constraints);
    let pads = format!("2^{} / 2^{}", p.pads_to(), s.pads_to());
    // the commitment is proven once per hospital
    let dkeys = DataKeys::for_commitment(&layout, KeySource::derive()).unwrap();
    let t = Instant::now();
    let (c, cproof) = prove_commitment(&dkeys, &data).unwrap();
    let commitment_s = t.elapsed().as_secs_f64();
    let statement = Statement {
        federation: b"bench".to_vec(),
        round: 1,
        participant: b"bench".to_vec(),
        data: verify_commitment(&dkeys, &c, &cproof).unwrap(),
        global: Model::initial(&layout.spec),
    };
    let steps = statement.folds(&layout).unwrap() * spf;

    let t = Instant::now();
    let mut trainer = ExactTrainer::new(&layout, &statement.global).unwrap();
    trainer.train(&layout, data.batches()).unwrap();
    let native_step_us = t.elapsed().as_secs_f64() * 1e6 / steps as f64;

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
    let compress = total - folding;

    let reps = 5;
    let t = Instant::now();
    for _ in 0..reps {
        verify_training(&keys, &statement, &proven.model, proven.samples, &proven.proof).unwrap();
    }
    let verify_ms = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
    // a round of three proofs checked together (the same proof thrice costs
    // what three proofs cost); upstream, one by one
    let round = [Submitted { statement: &statement, model: &proven.model, samples: proven.samples, proof: &proven.proof }; 3];
    let t = Instant::now();
    for _ in 0..reps {
        if prover == "upstream" {
            // upstream has no batch: one by one
            for s in &round {
                verify_training(&keys, s.statement, s.model, s.samples, s.proof).unwrap();
            }
        } else {
            assert!(verify_training_batch(&keys, &round).iter().all(Result::is_ok));
        }
    }
    let batch_ms = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
    let macs = layout.macs_per_step() * spf;
    format!(
        "| {} | {batch} | {spf} | {prover} | {step_cons} | {primary} / {secondary} | {pads} | {:.2} | {:.1} | {:.1} | {:.1} | {:.2} | {commitment_s:.2} | {} | {:.0} | {batch_ms:.0} | {:.0} | {:.1} | {:.0} |",
        shape(&layout),
        step_cons as f64 / macs as f64,
        primary as f64 / macs as f64,
        folding * 1e3 / steps as f64,
        steps as f64 / folding,
        compress,
        proven.proof.len(),
        verify_ms,
        native_step_us,
        setup,
        peak_rss_mb(),
    )
}

/// Proving with and without checkpoints, and resuming from one.
fn checkpoints(config: &str, batch: usize, spf: usize) {
    let (cfg, layout) = layout_of(config, batch, spf);
    let (train, _, _) = load_data(&cfg.data, &cfg.spec).unwrap();
    let data = PrivateData::new(&layout, &train, [3; 32]).unwrap();
    let keys = TrainKeys::for_training(&layout, KeySource::derive()).unwrap();
    let statement = Statement {
        federation: b"bench".to_vec(),
        round: 1,
        participant: b"bench".to_vec(),
        data: data.commitment(&keys),
        global: Model::initial(&layout.spec),
    };
    let folds = statement.folds(&layout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    println!("{} batch {batch}, {spf} steps per fold: {folds} folds", shape(&layout));
    println!("| checkpoints | proving s | checkpoint bytes |\n|---|---|---|");
    let t = Instant::now();
    prove_training(&keys, &statement, &data, |_, _| {}).unwrap();
    println!("| none | {:.2} | |", t.elapsed().as_secs_f64());
    for every in [8, 1] {
        let ck = Checkpoints::new(dir.path().join(format!("every-{every}")), every);
        let mut size = 0;
        let t = Instant::now();
        prove_training_resumable(&keys, &statement, &data, &ck, |_, _| {
            size = size.max(std::fs::metadata(ck.path()).map_or(0, |m| m.len()));
        })
        .unwrap();
        println!("| every {every} fold(s) | {:.2} | {size} |", t.elapsed().as_secs_f64());
    }
    // interrupted half-way, then resumed: loading, verifying the folded
    // instance and replaying the native steps, then the rest
    let ck = Checkpoints::new(dir.path().join("half"), folds / 2);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        prove_training_resumable(&keys, &statement, &data, &ck, |d, _| assert!(d <= folds / 2, "interrupted"))
    }));
    assert!(r.is_err() && ck.exists());
    let mut first = None;
    let t = Instant::now();
    let p = prove_training_resumable(&keys, &statement, &data, &ck, |_, _| {
        first.get_or_insert(t.elapsed().as_secs_f64());
    })
    .unwrap();
    println!(
        "resumed at fold {} of {folds}: first new fold done {:.2} s after the start (load, verify, replay, one fold); whole resumed run {:.2} s",
        p.resumed_from,
        first.unwrap(),
        t.elapsed().as_secs_f64()
    );
}

const HEADER: &str = "| model | batch | steps/fold | prover | step-circuit constraints per fold | Nova primary / secondary constraints per fold | pads to (primary / secondary) | constraints per MAC (step circuit) | per MAC (with Nova) | proving ms per SGD step | proven SGD steps/s | compression s | commitment proof s | proof bytes | verification ms | round of 3 verified together ms | native candle µs per step | setup s | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

/// Runs one configuration with one prover in a child process (its own peak
/// RSS).
fn row(config: &str, b: usize, s: usize, prover: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(&exe).args([config, &b.to_string(), &s.to_string(), prover]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    match text.lines().find(|l| l.starts_with('|')) {
        Some(line) => line.to_string(),
        None => format!("| {config} | {b} | {s} | failed: {} |", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    match &args[..] {
        [m, c, b, s] if m == "checkpoint" => checkpoints(c, b.parse().unwrap(), s.parse().unwrap()),
        [c, b, s, p] => println!("{}", one(c, b.parse().unwrap(), s.parse().unwrap(), p)),
        [c, b, s] => {
            println!("{HEADER}");
            for p in PROVERS {
                println!("{}", row(c, b.parse().unwrap(), s.parse().unwrap(), p));
            }
        }
        [m] if m == "checkpoint" => checkpoints(LINEAR, 16, 3),
        [m] if m == "mlp" => {
            println!("{HEADER}");
            for c in MLPS {
                for p in PROVERS {
                    println!("{}", row(c, 16, 1, p));
                }
            }
            println!();
            println!("| model | batch | steps/fold | MACs per fold | multiplications | rescaling | activations | softmax | data binding | state digest | Nova verifier circuit |");
            println!("|---|---|---|---|---|---|---|---|---|---|---|");
            for c in MLPS.into_iter().chain([LINEAR]) {
                println!("{}", profile(c, 16, 1));
            }
        }
        _ => {
            println!("{HEADER}");
            for b in [8, 16, 32] {
                for s in [1, 3, 4, 8] {
                    for p in PROVERS {
                        println!("{}", row(LINEAR, b, s, p));
                    }
                }
            }
        }
    }
}
