//! Structure-aware fuzzing of the verifier: the input bytes choose
//! mutations (circuits/tests/common/mutate.rs) of an honest training or
//! commitment proof made once per process; the mutated proof must be an
//! error, never accepted, never a panic (a panic aborts the fuzzer).
//!
//! cargo install cargo-fuzz
//! cargo fuzz run mutated_proof --sanitizer none fuzz/corpus/mutated_proof
#![no_main]

use candor_circuits::engine::{Compressed, DataCircuit, DataKeys, KeySource, TrainCircuit, TrainKeys};
use candor_prover::fixtures;
use candor_prover::{prove_commitment, prove_training, PrivateData, ProvenUpdate};
use candor_circuits::verifier::{verify_commitment, verify_training, Statement, TrainingStatement};
use candor_core::{Layout, Task};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

#[path = "../../circuits/tests/common/mutate.rs"]
mod mutate;

struct Honest {
    keys: TrainKeys,
    dkeys: DataKeys,
    statement: TrainingStatement,
    proven: ProvenUpdate,
    commitment_proof: Vec<u8>,
}

fn honest() -> &'static Honest {
    static H: OnceLock<Honest> = OnceLock::new();
    H.get_or_init(|| {
        let spec = fixtures::spec(Task::Logistic, 5, 4, 2);
        let layout = Layout::new(&spec).unwrap();
        let keys = TrainKeys::for_training(&layout, KeySource::derive()).unwrap();
        let dkeys = DataKeys::for_commitment(&layout, KeySource::derive()).unwrap();
        let data = PrivateData::new(&layout, &fixtures::dataset(&spec, 13, 1), [7; 32]).unwrap();
        let (c, commitment_proof) = prove_commitment(&dkeys, &data).unwrap();
        let commitment = verify_commitment(&dkeys, &c, &commitment_proof).unwrap();
        let statement = Statement {
            federation: b"fuzz".to_vec(),
            round: 1,
            participant: b"hospital".to_vec(),
            data: commitment,
            global: candor_core::Model::initial(&spec),
        };
        let proven = prove_training(&keys, &statement, &data, |_, _| {}).unwrap();
        Honest { keys, dkeys, statement, proven, commitment_proof }
    })
}

fuzz_target!(|input: &[u8]| {
    let Some((&which, choices)) = input.split_first() else { return };
    if choices.is_empty() {
        return;
    }
    let h = honest();
    let commitment = which & 1 == 1;
    let original = if commitment { &h.commitment_proof } else { &h.proven.proof };
    let mut tree = if commitment { mutate::tree::<Compressed<DataCircuit>>(original) } else { mutate::tree::<Compressed<TrainCircuit>>(original) };
    let mut at = 0usize;
    let mut pick = |n: usize| {
        let b = [choices[at % choices.len()], choices[(at + 1) % choices.len()]];
        at += 2;
        usize::from(u16::from_le_bytes(b)) % n.max(1)
    };
    for _ in 0..1 + (which >> 1) % 4 {
        mutate::mutate(&mut tree, &mut pick);
    }
    let bad = if commitment { mutate::bytes::<Compressed<DataCircuit>>(&tree) } else { mutate::bytes::<Compressed<TrainCircuit>>(&tree) };
    // a tree no longer shaped like a proof could only fail decoding
    let Some(bad) = bad else { return };
    if &bad == original {
        return;
    }
    let accepted = if commitment {
        verify_commitment(&h.dkeys, h.statement.data.commitment(), &bad).is_ok()
    } else {
        verify_training(&h.keys, &h.statement, &h.proven.model, h.proven.samples, &bad).is_ok()
    };
    assert!(!accepted, "a mutated proof verified");
});
