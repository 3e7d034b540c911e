//! A round's proofs verified together (`candor_circuits::batch`, nova-snark
//! patch 3): the same results as one by one, and a batch with one bad proof
//! fails its combined check, then names that proof and still accepts the
//! others.

use candor_circuits::batch::{verify_training_batch, Submitted};
use candor_circuits::engine::{Compressed, KeySource, TrainCircuit, TrainKeys};
use candor_circuits::verifier::ProvenStatement;
use candor_circuits::verifier::{verify_training, Statement, TrainingStatement};
use candor_circuits::{encoding, CircuitError};
use candor_core::model::linear::LinearModel;
use candor_core::{Layout, Task, TrainSpec};
use candor_prover::fixtures;
use candor_prover::{prove_training, PrivateData, ProvenUpdate};
use rmpv::Value;

mod common;
use common::{commit, mutate, FEDERATION};

fn spec() -> TrainSpec {
    fixtures::spec(Task::Logistic, 5, 4, 2)
}

/// Three hospitals' honest round-2 proofs under one set of keys.
fn round() -> (TrainKeys, Vec<(TrainingStatement, ProvenUpdate)>) {
    let layout = Layout::new(&spec()).unwrap();
    let keys = TrainKeys::for_training(&layout, KeySource::derive()).unwrap();
    let dkeys = candor_circuits::engine::DataKeys::for_commitment(&layout, KeySource::derive()).unwrap();
    let proofs = (1..=3u8)
        .map(|i| {
            let data = PrivateData::new(&layout, &fixtures::dataset(&spec(), 9 + i as usize, i as u64), [i; 32]).unwrap();
            let (commitment, _) = commit(&dkeys, &data);
            let statement = Statement {
                federation: FEDERATION.to_vec(),
                round: 2,
                participant: vec![i; 4],
                data: commitment,
                global: LinearModel::zeros(5).into(),
            };
            let proven = prove_training(&keys, &statement, &data, |_, _| {}).unwrap();
            (statement, proven)
        })
        .collect();
    (keys, proofs)
}

fn submitted(round: &[(TrainingStatement, ProvenUpdate)]) -> Vec<Submitted<'_>> {
    round.iter().map(|(s, p)| Submitted { statement: s, model: &p.model, samples: p.samples, proof: &p.proof }).collect()
}

/// The proof with its primary IPA opening's final scalar `a_hat` changed:
/// every check before the opening's last equation still passes, so only the
/// combined equation can catch it.
fn with_a_hat_changed(proof: &[u8]) -> Vec<u8> {
    let mut tree = mutate::tree::<Compressed<TrainCircuit>>(proof);
    // CompressedSNARK field 14 is snark_primary; its last field the IPA
    // argument (L_vec, R_vec, a_hat)
    let Value::Array(fields) = &mut tree else { panic!("a proof is a struct") };
    let Value::Array(snark) = &mut fields[14] else { panic!("snark_primary is a struct") };
    let Some(Value::Array(ipa)) = snark.last_mut() else { panic!("the IPA argument is a struct") };
    let a_hat = &mut ipa[2];
    assert!(mutate::is_element(a_hat));
    let Value::Array(bytes) = a_hat else { unreachable!() };
    bytes[0] = Value::from(bytes[0].as_u64().unwrap() ^ 1);
    mutate::bytes::<Compressed<TrainCircuit>>(&tree).expect("still a proof")
}

#[test]
fn a_batch_verifies_as_one_by_one_and_one_bad_proof_fails_it_and_is_named() {
    let (keys, round) = round();
    let honest = submitted(&round);

    let together = verify_training_batch(&keys, &honest);
    for (s, r) in honest.iter().zip(&together) {
        let alone = verify_training(&keys, s.statement, s.model, s.samples, s.proof).unwrap();
        assert_eq!(r.as_ref().unwrap(), &alone);
    }

    // one opening's last equation false: the combined check fails (the
    // proof alone is refused too), the fallback names it, the others pass
    let bad = with_a_hat_changed(&round[1].1.proof);
    let decoded: Vec<Compressed<TrainCircuit>> =
        [&round[0].1.proof, &bad, &round[2].1.proof].iter().map(|p| encoding::from_bytes(p).unwrap()).collect();
    let z0s: Vec<_> = honest.iter().map(|s| [s.statement.start_state(&keys).unwrap().digest(&keys.hasher, &keys.layout)]).collect();
    let folds = round[0].0.folds(&keys.layout).unwrap();
    let list: Vec<_> = decoded.iter().zip(&z0s).map(|(p, z0)| (p, folds, &z0[..])).collect();
    assert!(Compressed::<TrainCircuit>::verify_batch(&keys.vk, &list).is_err(), "a batch with one bad proof passed");
    let honest_only: Vec<_> = list.iter().copied().enumerate().filter(|(i, _)| *i != 1).map(|(_, x)| x).collect();
    assert!(Compressed::<TrainCircuit>::verify_batch(&keys.vk, &honest_only).is_ok());

    let mut with_bad = honest.clone();
    with_bad[1].proof = &bad;
    let r = verify_training_batch(&keys, &with_bad);
    assert!(r[0].is_ok() && r[2].is_ok(), "{r:?}");
    assert!(matches!(&r[1], Err(CircuitError::Rejected(why)) if why.contains("invalid proof")), "{:?}", r[1]);

    // the tampered twins of a round, each in a batch with honest proofs:
    // changed weights, inflated count, replayed round, undecodable bytes
    let mut model = round[0].1.model.clone();
    let mut p = model.params();
    p[0] += 1;
    model = model.with_params(&p).unwrap();
    let replayed = Statement { round: 3, ..round[2].0.clone() };
    let mut twins = honest.clone();
    twins[0].model = &model;
    twins[1].samples += 1;
    twins[2].statement = &replayed;
    let garbage = [0u8; 40];
    let mut with_garbage = honest.clone();
    with_garbage.push(Submitted { proof: &garbage, ..honest[0] });
    for (i, r) in verify_training_batch(&keys, &twins).iter().enumerate() {
        assert!(matches!(r, Err(CircuitError::Rejected(_))), "twin {i} accepted: {r:?}");
    }
    // one twin among honest proofs fails a check before the last equation:
    // the batch fails, the fallback accepts the honest ones
    let mut one_replayed = honest.clone();
    one_replayed[2].statement = &replayed;
    let r = verify_training_batch(&keys, &one_replayed);
    assert!(r[0].is_ok() && r[1].is_ok(), "{r:?}");
    assert!(matches!(&r[2], Err(CircuitError::Rejected(_))), "{:?}", r[2]);
    let r = verify_training_batch(&keys, &with_garbage);
    assert!(r[..3].iter().all(Result::is_ok));
    assert!(matches!(&r[3], Err(CircuitError::Malformed { .. })), "{:?}", r[3]);
}
