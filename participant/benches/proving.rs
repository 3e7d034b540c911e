//! Proof-of-training figures on the bundled breast-cancer data (30 features,
//! logistic regression, one epoch over the 455 training rows), for batch
//! sizes 8/16/32 and 1/4/8 SGD steps per fold.
//!
//! Run: `cargo bench -p candor-participant --bench proving`
//! (`-- 16 4` runs one configuration). Each configuration runs in its own
//! process so that its peak RSS is its own. Prints a Markdown table.

use candor_circuits::engine::{Scalar, TrainKeys, E1};
use candor_circuits::prover::{prove_training, PrivateData};
use candor_circuits::sgd_circuit::SgdFoldCircuit;
use candor_circuits::verifier::{verify_training, TrainingStatement};
use candor_core::{Layout, Model};
use candor_participant::local::{load_data, LocalConfig};
use candor_participant::model_trainer::ExactTrainer;
use nova_snark::frontend::num::AllocatedNum;
use nova_snark::frontend::shape_cs::ShapeCS;
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

fn one(batch: usize, spf: usize) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    std::env::set_current_dir(root).unwrap();
    let mut cfg = LocalConfig::load("configs/local-breast-cancer.toml".as_ref()).unwrap();
    cfg.spec.batch_size = batch;
    cfg.spec.steps_per_fold = spf;
    cfg.spec.epochs = 1;
    let layout = Layout::new(&cfg.spec).unwrap();
    let (train, _) = load_data(&cfg.data, &cfg.spec).unwrap();
    let data = PrivateData::new(&layout, &train, [3; 32]).unwrap();

    let mut cs = ShapeCS::<E1>::new();
    let z = AllocatedNum::alloc(cs.namespace(|| "z"), || Ok(Scalar::from(0u64))).unwrap();
    let keys_hasher = candor_circuits::hash::Hasher::default();
    SgdFoldCircuit::<Scalar>::placeholder(Arc::new(layout.clone()), keys_hasher).synthesize(&mut cs, &[z]).unwrap();
    let step_cons = cs.num_constraints();

    let t = Instant::now();
    let keys = TrainKeys::for_training(&layout, None).unwrap();
    let setup = t.elapsed().as_secs_f64();
    let (primary, secondary) = keys.pp.num_constraints();
    let statement = TrainingStatement {
        round: 1,
        participant: b"bench".to_vec(),
        data: data.commitment(&keys),
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
    let macs = layout.macs_per_step() * spf;
    format!(
        "| {batch} | {spf} | {step_cons} | {primary} / {secondary} | {:.2} | {:.1} | {:.1} | {:.1} | {:.2} | {} | {:.0} | {:.0} | {:.1} | {:.0} |",
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if let [b, s] = &args[..] {
        println!("{}", one(b.parse().unwrap(), s.parse().unwrap()));
        return;
    }
    println!("| batch | steps/fold | step-circuit constraints per fold | Nova primary / secondary constraints per fold | constraints per MAC (step circuit) | per MAC (with Nova) | proving ms per SGD step | proven SGD steps/s | compression s | proof bytes | verification ms | native candle µs per step | setup s | peak RSS MB |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let exe = std::env::current_exe().unwrap();
    for b in [8, 16, 32] {
        for s in [1, 4, 8] {
            let out = std::process::Command::new(&exe).arg(b.to_string()).arg(s.to_string()).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            match text.lines().find(|l| l.starts_with('|')) {
                Some(line) => println!("{line}"),
                None => println!("| {b} | {s} | failed: {} |", String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")),
            }
        }
    }
}
