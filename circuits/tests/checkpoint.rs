//! Resumable proving: a run interrupted after a checkpoint resumes from it
//! and attests the same update; a checkpoint of another proof (round, global
//! model, participant) or a corrupted one is refused and deleted, and
//! proving starts over.

use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
use candor_circuits::verifier::{verify_training, Statement, TrainingStatement};
use candor_core::model::linear::LinearModel;
use candor_core::{Layout, Task, TrainSpec};
use candor_prover::checkpoint::Checkpoints;
use candor_prover::fixtures;
use candor_prover::{prove_training, prove_training_resumable, PrivateData, ProvenUpdate};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::OnceLock;

mod common;

/// Three epochs of two folds each: six folds.
fn spec() -> TrainSpec {
    TrainSpec { epochs: 3, ..fixtures::spec(Task::Logistic, 5, 4, 2) }
}

struct Setup {
    keys: TrainKeys,
    data: PrivateData,
    statement: TrainingStatement,
    honest: ProvenUpdate,
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let layout = Layout::new(&spec()).unwrap();
        let keys = TrainKeys::for_training(&layout, KeySource::derive()).unwrap();
        let dkeys = DataKeys::for_commitment(&layout, KeySource::derive()).unwrap();
        let data = PrivateData::new(&layout, &fixtures::dataset(&spec(), 13, 1), [7; 32]).unwrap();
        let (commitment, _) = common::commit(&dkeys, &data);
        let statement = Statement {
            federation: common::FEDERATION.to_vec(),
            round: 3,
            participant: b"hospital-a".to_vec(),
            data: commitment,
            global: LinearModel::zeros(5).into(),
        };
        let honest = prove_training(&keys, &statement, &data, |_, _| {}).unwrap();
        Setup { keys, data, statement, honest }
    })
}

/// Proves `statement` with checkpoints after every 2 folds and "crashes"
/// (panics) in fold `crash_at`, leaving the checkpoint of fold 2.
fn crash(statement: &TrainingStatement, ck: &Checkpoints, crash_at: usize) {
    let s = setup();
    let r = catch_unwind(AssertUnwindSafe(|| {
        prove_training_resumable(&s.keys, statement, &s.data, ck, |done, _| assert!(done < crash_at, "crash"))
    }));
    assert!(r.is_err(), "the run was interrupted");
    assert!(ck.exists(), "a checkpoint was left");
}

/// Proves `statement` from whatever checkpoint there is; returns the update
/// and the first fold this run proved.
fn resume(statement: &TrainingStatement, ck: &Checkpoints) -> (ProvenUpdate, usize) {
    let s = setup();
    let mut first = None;
    let p = prove_training_resumable(&s.keys, statement, &s.data, ck, |done, _| {
        first.get_or_insert(done);
    })
    .unwrap();
    assert!(!ck.exists(), "the checkpoint is deleted once the proof is compressed");
    (p, first.unwrap())
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn an_interrupted_proof_resumes_from_its_checkpoint_and_attests_the_same_update() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let ck = Checkpoints::new(dir.path().join("round.checkpoint"), 2);
    crash(&s.statement, &ck, 4);
    assert_eq!(mode(ck.path()), 0o600, "the checkpoint holds the witness: owner-only");

    let (p, first) = resume(&s.statement, &ck);
    assert_eq!((p.resumed_from, first), (2, 3), "folds 1-2 came from the checkpoint");
    assert_eq!((&p.model, p.samples), (&s.honest.model, s.honest.samples));
    let v = verify_training(&s.keys, &s.statement, &p.model, p.samples, &p.proof).unwrap();
    assert_eq!(v.samples(), s.honest.samples);
}

#[test]
fn a_checkpoint_of_another_round_or_model_is_refused_and_proving_starts_over() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let ck = Checkpoints::new(dir.path().join("round.checkpoint"), 2);
    let mut global = LinearModel::zeros(5);
    global.weights[0] = 100;
    let others = [
        Statement { round: 4, ..s.statement.clone() },
        Statement { global: global.into(), ..s.statement.clone() },
        Statement { participant: b"hospital-b".to_vec(), ..s.statement.clone() },
    ];
    for other in &others {
        crash(&s.statement, &ck, 3);
        let (p, first) = resume(other, &ck);
        assert_eq!((p.resumed_from, first), (0, 1), "round {} global {:?}: proved from the start", other.round, other.global);
        verify_training(&s.keys, other, &p.model, p.samples, &p.proof).unwrap();
    }
}

#[test]
fn a_corrupted_or_truncated_checkpoint_is_refused_and_proving_starts_over() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let ck = Checkpoints::new(dir.path().join("round.checkpoint"), 2);
    type Damage = fn(&mut Vec<u8>);
    let damage: [(&str, Damage); 3] = [
        ("a byte of the folded witness flipped", |b| {
            let mid = b.len() / 2;
            b[mid] ^= 1;
        }),
        ("truncated", |b| b.truncate(b.len() - 100)),
        ("claims a later fold", |b| b[8 + 1 + 32 + 32 + 1] = 4),
    ];
    for (what, f) in damage {
        crash(&s.statement, &ck, 3);
        let mut bytes = std::fs::read(ck.path()).unwrap();
        f(&mut bytes);
        std::fs::write(ck.path(), &bytes).unwrap();
        let (p, first) = resume(&s.statement, &ck);
        assert_eq!((p.resumed_from, first), (0, 1), "{what}: proved from the start");
        assert_eq!(p.model, s.honest.model, "{what}");
    }
}
