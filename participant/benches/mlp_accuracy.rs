//! Accuracy of fixed-point MLP training (the candle trainer that is
//! bit-identical to `candor_core::model::mlp`) against the float32 reference, on
//! the bundled data: digits 64-16-10 (softmax2) and breast cancer 30-16-1
//! (hard sigmoid); centralized, and federated (3 IID hospitals, FedAvg,
//! one local epoch per round). No proofs: this settles the arithmetic.
//!
//! Run: `cargo bench -p candor-participant --bench mlp_accuracy`

use candor_core::data::{Batch, Dataset};
use candor_core::dataset::Normalization;
use candor_core::model::mlp::Mlp;
use candor_core::table::Table;
use candor_core::FixedFormat;
use candor_core::{Layout, MlpShape, ModelSpec, Task, TrainSpec};
use candor_participant::train::mlp::{FixedMlpTrainer, FloatMlpTrainer};
use candor_participant::train::{Reference, Trainer};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::time::Instant;

fn load(path: &str, label: &str, fmt: FixedFormat) -> (Dataset, Dataset) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let t = Table::read(&std::path::Path::new(root).join(path)).unwrap();
    let (x, y) = t.select(None, label).unwrap();
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.shuffle(&mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    let n_test = x.len() / 5;
    let train_rows: Vec<Vec<f64>> = idx[n_test..].iter().map(|&i| x[i].clone()).collect();
    let norm = Normalization::fit(&train_rows);
    let q = |ids: &[usize]| Dataset {
        features: x[0].len(),
        x: ids
            .iter()
            .flat_map(|&i| {
                x[i].iter().enumerate().map(|(j, v)| fmt.quantize_clipped((v - norm.mean[j]) / norm.std[j]).unwrap()).collect::<Vec<_>>()
            })
            .collect(),
        y: ids.iter().map(|&i| y[i] as i64).collect(),
    };
    (q(&idx[n_test..]), q(&idx[..n_test]))
}

fn batches(data: &Dataset, bs: usize) -> Vec<Batch> {
    let d = data.features;
    (0..data.rows().div_ceil(bs))
        .map(|t| {
            let mut b = Batch { x: vec![0; bs * d], y: vec![0; bs], mask: vec![false; bs] };
            for r in 0..bs.min(data.rows() - t * bs) {
                let src = t * bs + r;
                b.x[r * d..(r + 1) * d].copy_from_slice(&data.x[src * d..(src + 1) * d]);
                b.y[r] = data.y[src];
                b.mask[r] = true;
            }
            b
        })
        .collect()
}

fn accuracy(m: &Mlp, fmt: FixedFormat, data: &Dataset) -> f64 {
    let d = data.features;
    let right = (0..data.rows()).filter(|&r| m.predict(fmt, &data.x[r * d..(r + 1) * d]) as i64 == data.y[r]).count();
    right as f64 / data.rows() as f64
}

fn run(name: &str, path: &str, label: &str, shape_of: impl Fn(usize) -> MlpShape, lr: f64, epochs: usize) {
    let fmt = FixedFormat::default();
    let (train, test) = load(path, label, fmt);
    let shape = shape_of(train.features);
    let (task, classes) = if shape.outputs == 1 { (Task::Logistic, 0) } else { (Task::Softmax, shape.outputs) };
    let model = ModelSpec::mlp(shape.features, shape.hidden, task, classes);
    let layout = Layout::new(&TrainSpec { model, format: fmt, learning_rate: lr, batch_size: 16, epochs: 1, steps_per_fold: 1 }).unwrap();
    let init = Mlp::init(shape, fmt, 42);
    let all = batches(&train, 16);

    let mut fixed = FixedMlpTrainer::new(&layout, &init).unwrap();
    let mut float = FloatMlpTrainer::new(&init, fmt, lr).unwrap();
    let mut curve = vec![];
    let mut fixed_secs = 0.0;
    for _ in 0..epochs {
        for b in &all {
            let t = Instant::now();
            fixed.step(b).unwrap();
            fixed_secs += t.elapsed().as_secs_f64();
            float.step(b).unwrap();
        }
        curve.push(accuracy(&fixed.model().unwrap(), fmt, &test));
    }
    let per_step = fixed_secs / (epochs * all.len()) as f64;
    let float_acc = float.evaluate(&test).unwrap();

    // federated: 3 IID shares, one local epoch per round, FedAvg weighted by rows
    let shares: Vec<Dataset> = (0..3)
        .map(|p| {
            let rows: Vec<usize> = (0..train.rows()).filter(|r| r % 3 == p).collect();
            candor_core::dataset::select_rows(&train, &rows)
        })
        .collect();
    let mut global = init.clone();
    let mut fed = vec![];
    for _ in 0..epochs {
        let mut sum = vec![0i128; shape.params()];
        let mut n = 0i128;
        for s in &shares {
            let mut tr = FixedMlpTrainer::new(&layout, &global).unwrap();
            for b in batches(s, 16) {
                tr.step(&b).unwrap();
            }
            let w = s.rows() as i128;
            for (acc, p) in sum.iter_mut().zip(tr.model().unwrap().params()) {
                *acc += w * i128::from(p);
            }
            n += w;
        }
        let avg: Vec<i64> = sum.iter().map(|&v| v.div_euclid(n) as i64).collect();
        global = Mlp::from_params(shape, &avg).unwrap();
        fed.push(accuracy(&global, fmt, &test));
    }
    let fmt_curve = |c: &[f64]| c.iter().map(|a| format!("{a:.3}")).collect::<Vec<_>>().join(" ");
    println!(
        "| {name} | {}-{}-{} | {} / {} | {lr} | {epochs} | {} | {float_acc:.3} | {} | {:.0} |",
        shape.features,
        shape.hidden,
        shape.outputs,
        train.rows(),
        test.rows(),
        fmt_curve(&curve),
        fmt_curve(&fed),
        per_step * 1e6
    );
}

fn main() {
    println!("| data | shape | train / test rows | lr | epochs (rounds) | fixed-point accuracy per epoch | float32 after last | federated (3 IID, FedAvg) per round | candle µs per step |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let lr: f64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0.25);
    let epochs: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    run("digits", "examples/data/digits.csv", "digit", |d| MlpShape { features: d, hidden: 16, outputs: 10 }, lr, epochs);
    run("breast cancer", "examples/data/breast_cancer.csv", "benign", |d| MlpShape { features: d, hidden: 16, outputs: 1 }, lr, epochs);
}
