//! End-to-end Nova proofs on a small spec: an honest proof verifies, and
//! each tampered twin is rejected.

use candor_circuits::engine::{Compressed, DataCircuit, KeySource, TrainCircuit, TrainKeys};
use candor_circuits::verifier::Claim;
use candor_circuits::verifier::{verify_commitment, verify_training, DataCommitment};
use candor_circuits::CircuitError;
use candor_core::model::linear::LinearModel;
use candor_core::model::softmax::SoftmaxRegression;
use candor_core::{Layout, Model, Task, TrainSpec};
use candor_prover::fixtures;
use candor_prover::{prove_commitment, prove_training, PrivateData};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::OnceLock;

mod common;
use common::{mutate, other_commitment, prove, rejected, Setup};

fn spec() -> TrainSpec {
    fixtures::spec(Task::Logistic, 5, 4, 2)
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let mut global = LinearModel::zeros(5);
        global.weights[1] = -200;
        prove(&spec(), 13, 1, [7; 32], 3, b"hospital-a", global.into())
    })
}

#[test]
fn honest_proof_verifies_and_attests_the_reference_model() {
    let s = setup();
    let v = verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &s.proven.proof).unwrap();
    // the integer reference over the same batches gives the same model
    let layout = Layout::new(&spec()).unwrap();
    let mut m = s.statement.global.clone();
    for b in s.data.batches() {
        m = m.step(&layout, b).unwrap();
    }
    assert_eq!(v.model(), &m);
    assert_eq!(v.samples(), 13);
    assert_eq!((v.round(), v.participant()), (3, &b"hospital-a"[..]));
    assert!(s.proven.proof.len() < 32 * 1024, "{} bytes", s.proven.proof.len());
}

/// Any change to the circuit changes these, and breaks every deployed
/// verifier: it must be deliberate.
#[test]
fn parameter_digest_and_constraint_counts_are_pinned() {
    let s = setup();
    assert_eq!(s.keys.pp.num_constraints(), (13765, 10349));
    assert_eq!(s.keys.digest_hex(), "6afa733aca0e6e62b98b4ea62aeded96ab643cb1d0a550abf1b092e485df0b02");
}

#[test]
fn changed_weight_is_rejected() {
    let s = setup();
    let mut p = s.proven.model.params();
    p[2] += 1;
    let m = s.proven.model.with_params(&p).unwrap();
    assert!(rejected(verify_training(&s.keys, &s.statement, &m, s.proven.samples, &s.proven.proof)));
}

#[test]
fn the_proven_numbers_relabelled_as_another_model_type_are_rejected() {
    // same parameters in the same order, so the same digests: only the
    // model's type differs, and it must match the spec's task
    let s = setup();
    let p = s.proven.model.params();
    let m = Model::Softmax(SoftmaxRegression::from_params(5, 1, &p).unwrap());
    assert!(rejected(verify_training(&s.keys, &s.statement, &m, s.proven.samples, &s.proven.proof)));
}

#[test]
fn inflated_sample_count_is_rejected() {
    let s = setup();
    assert!(rejected(verify_training(&s.keys, &s.statement, &s.proven.model, 14, &s.proven.proof)));
}

#[test]
fn different_starting_model_is_rejected() {
    let s = setup();
    let mut st = s.statement.clone();
    let mut p = st.global.params();
    *p.last_mut().unwrap() += 1;
    st.global = st.global.with_params(&p).unwrap();
    assert!(rejected(verify_training(&s.keys, &st, &s.proven.model, s.proven.samples, &s.proven.proof)));
}

#[test]
fn replayed_round_or_other_participant_is_rejected() {
    let s = setup();
    let mut st = s.statement.clone();
    st.round = 4;
    assert!(rejected(verify_training(&s.keys, &st, &s.proven.model, s.proven.samples, &s.proven.proof)));
    let mut st = s.statement.clone();
    st.participant = b"hospital-b".to_vec();
    assert!(rejected(verify_training(&s.keys, &st, &s.proven.model, s.proven.samples, &s.proven.proof)));
}

#[test]
fn wrong_commitment_is_rejected() {
    let s = setup();
    let st = other_commitment(s, &spec(), 13, 5);
    assert!(rejected(verify_training(&s.keys, &st, &s.proven.model, s.proven.samples, &s.proven.proof)));
}

#[test]
fn other_federation_is_rejected() {
    let s = setup();
    let mut st = s.statement.clone();
    st.federation = b"another-federation".to_vec();
    assert!(rejected(verify_training(&s.keys, &st, &s.proven.model, s.proven.samples, &s.proven.proof)));
}

#[test]
fn a_claim_is_verified_only_against_its_own_verified_commitment() {
    let s = setup();
    // a claimed statement becomes verifiable only with the verified
    // commitment it names; another hospital's verified commitment does not do
    let claim = s.statement.claim();
    assert_eq!(claim.clone().verified(&s.statement.data).unwrap(), s.statement);
    let other = other_commitment(s, &spec(), 13, 6);
    assert!(rejected(claim.verified(&other.data)));
}

#[test]
fn trailing_bytes_after_a_proof_are_refused() {
    let s = setup();
    let mut p = s.proven.proof.clone();
    p.push(0);
    let r = verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &p);
    assert!(matches!(r, Err(CircuitError::Malformed { .. })), "{r:?}");
    let mut c = s.commitment_proof.clone();
    c.extend_from_slice(b"extra");
    let r = verify_commitment(&s.dkeys, s.statement.data.commitment(), &c);
    assert!(matches!(r, Err(CircuitError::Malformed { .. })), "{r:?}");
}

#[test]
fn changed_data_row_cannot_be_proven() {
    let s = setup();
    let layout = Layout::new(&spec()).unwrap();
    let mut data = fixtures::dataset(&spec(), 13, 1);
    data.x[7] += 1;
    let changed = PrivateData::new(&layout, &data, [7; 32]).unwrap();
    // against the registered commitment the prover refuses, and the circuit
    // itself cannot close an epoch on other data (see circuit_cs tests)
    let r = prove_training(&s.keys, &s.statement, &changed, |_, _| {});
    assert!(matches!(r, Err(CircuitError::Core(_))));
}

#[test]
fn different_learning_rate_is_rejected() {
    let s = setup();
    let mut other = spec();
    other.learning_rate = 0.25;
    let keys = TrainKeys::for_training(&Layout::new(&other).unwrap(), KeySource::derive()).unwrap();
    assert_ne!(keys.digest_hex(), s.keys.digest_hex());
    assert!(rejected(verify_training(&keys, &s.statement, &s.proven.model, s.proven.samples, &s.proven.proof)));
}

#[test]
fn corrupted_proof_bytes_are_an_error_not_a_panic() {
    let s = setup();
    let p = &s.proven.proof;
    for pos in (0..p.len()).step_by(p.len() / 24 + 1).chain([p.len() - 1]) {
        let mut bad = p.clone();
        bad[pos] ^= 0x5a;
        let r = verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &bad);
        assert!(r.is_err(), "flipped byte {pos} accepted");
    }
    assert!(verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &p[..p.len() / 2]).is_err());
    assert!(verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &[]).is_err());
}

#[test]
fn commitment_proof_verifies_and_binds_row_count() {
    let s = setup();
    let keys = &s.dkeys;
    let (c, proof) = prove_commitment(keys, &s.data).unwrap();
    assert_eq!(&c, s.statement.data.commitment());
    verify_commitment(keys, &c, &proof).unwrap();
    let inflated = DataCommitment { rows: c.rows + 1, ..c };
    assert!(rejected(verify_commitment(keys, &inflated, &proof)));
    let mut other = c;
    other.root.0[1] ^= 1;
    assert!(verify_commitment(keys, &other, &proof).is_err());
}

#[test]
fn every_emptied_vector_of_a_proof_is_an_error_not_a_panic() {
    let s = setup();
    let mut panics = BTreeSet::new();
    for (what, proof) in [("training", &s.proven.proof), ("commitment", &s.commitment_proof)] {
        let (tree, encode): (_, fn(&_) -> Option<Vec<u8>>) = match what {
            "training" => (mutate::tree::<Compressed<TrainCircuit>>(proof), mutate::bytes::<Compressed<TrainCircuit>>),
            _ => (mutate::tree::<Compressed<DataCircuit>>(proof), mutate::bytes::<Compressed<DataCircuit>>),
        };
        let vectors = mutate::structural_vectors(&tree);
        // vectors whose emptying leaves a well-typed proof (the others, structs
        // written as arrays, could only fail decoding)
        let typed: Vec<_> = vectors.iter().filter_map(|&i| encode(&mutate::emptied(&tree, i)).map(|b| (i, b))).collect();
        assert!(typed.len() >= 10, "{what}: only {} vectors", typed.len());
        for (i, bad) in typed {
            let r = match what {
                "training" => verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &bad).map(|_| ()),
                _ => verify_commitment(&s.dkeys, s.statement.data.commitment(), &bad).map(|_| ()),
            };
            match r {
                Ok(()) => panic!("{what} proof with vector {i} emptied was accepted"),
                Err(CircuitError::Malformed { reason, .. }) if reason.contains("panicked") => {
                    panics.insert(reason);
                }
                Err(_) => {}
            }
        }
    }
    // nova-snark 0.76's two panics on proof lengths are reached and contained
    assert!(panics.iter().any(|r| r.contains("index out of bounds")), "{panics:?}");
    assert!(panics.iter().any(|r| r.contains("assert")), "{panics:?}");
}

proptest! {
    // each case decodes and (often) verifies a proof: a fixed, small count in
    // CI; `fuzz/` runs the same mutations for as long as anyone wants
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_proofs_are_errors_not_panics(choices in proptest::collection::vec(any::<u32>(), 12), rounds in 1..=3usize, commitment: bool) {
        let s = setup();
        let honest = if commitment { &s.commitment_proof } else { &s.proven.proof };
        let mut tree = if commitment { mutate::tree::<Compressed<DataCircuit>>(honest) } else { mutate::tree::<Compressed<TrainCircuit>>(honest) };
        let mut it = choices.into_iter().cycle();
        let mut pick = |n: usize| it.next().expect("cycle") as usize % n.max(1);
        for _ in 0..rounds {
            mutate::mutate(&mut tree, &mut pick);
        }
        let bad = if commitment { mutate::bytes::<Compressed<DataCircuit>>(&tree) } else { mutate::bytes::<Compressed<TrainCircuit>>(&tree) };
        // a tree no longer shaped like a proof could only fail decoding
        prop_assume!(bad.is_some());
        let bad = bad.unwrap();
        prop_assume!(&bad != honest);
        let accepted = if commitment {
            verify_commitment(&s.dkeys, s.statement.data.commitment(), &bad).is_ok()
        } else {
            verify_training(&s.keys, &s.statement, &s.proven.model, s.proven.samples, &bad).is_ok()
        };
        prop_assert!(!accepted, "a mutated proof verified");
    }
}
