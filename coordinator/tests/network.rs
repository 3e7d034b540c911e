//! Real swarms, a coordinator and participant daemons, over libp2p's
//! in-process memory transport (no ports): the protocol's logic. TCP itself
//! is exercised by `hardening.rs`, `status.rs` and `kill.rs`.

mod common;

use candor_circuits::engine::{Compressed, TrainCircuit};
use candor_circuits::verifier::{verify_training, Statement};
use candor_circuits::CircuitError;
use candor_coordinator::audit::audit;
use candor_coordinator::store::Store;
use candor_core::model::linear::LinearModel;
use candor_participant::daemon::Outcome;
use candor_protocols::net::{build_swarm, NetConfig};
use candor_protocols::{Limits, RejectCode, Request, Response, Submission};
use candor_prover::prove_training;
use common::{dkeys, federation_with as federation, hospitals, keys, participate, start_in_memory as start, until, Hospital, PATIENCE};
use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::swarm::SwarmEvent;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_participants_complete_a_round_across_a_coordinator_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fed.db");
    let hs = hospitals(3);

    // the first hospital is accepted, then the coordinator stops mid-round
    let c = start(federation(&hs, 3, 600_000), &db).await;
    let addr = c.addr.clone();
    assert_eq!(participate(&hs[0], &addr, &dir.path().join("h0.state")).await, vec![Outcome::Accepted(1)]);
    // replaying the accepted submission (taken from the database) is refused
    let stored = Store::open(&db).unwrap().submissions(1).unwrap().remove(0);
    let replay = Request::Submit(Submission { round: 1, model: stored.model, samples: stored.samples, proof: stored.proof });
    let r = ask(hs[0].key.clone(), Limits::default(), &addr, vec![replay]).await;
    assert_eq!(code(&r[0]), Some(RejectCode::Duplicate), "{:?}", r[0]);
    c.stop().await.unwrap();

    // a restarted coordinator resumes the open round with that update
    let c = start(federation(&hs, 3, 600_000), &db).await;
    let addr = c.addr.clone();
    let (s1, s2) = (dir.path().join("h1.state"), dir.path().join("h2.state"));
    let (a, b) = tokio::join!(participate(&hs[1], &addr, &s1), participate(&hs[2], &addr, &s2));
    assert_eq!((a, b), (vec![Outcome::Accepted(1)], vec![Outcome::Accepted(1)]));
    until("round 1 is closed", || Store::open(&db).unwrap().rounds().unwrap().first().and_then(|r| r.result.clone())).await;
    c.stop().await.unwrap();

    let store = Store::open(&db).unwrap();
    let subs = store.submissions(1).unwrap();
    assert_eq!(subs.len(), 3);
    assert!(subs.iter().all(|s| s.aggregated), "all three aggregated exactly once");
    assert!(store.rounds().unwrap()[0].result.is_some());
    assert!(db.with_extension("models").join("round-1.safetensors").exists());
    let report = audit(&store, &keys(), dkeys()).unwrap();
    assert!(report.passed(), "{:?}", report.problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hospital_that_never_comes_lets_the_round_close_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fed.db");
    let hs = hospitals(2);
    // quorum 2 is never reached: the second hospital never connects
    let c = start(federation(&hs, 2, 20_000), &db).await;
    assert_eq!(participate(&hs[0], &c.addr, &dir.path().join("h0.state")).await, vec![Outcome::Accepted(1)]);
    let closed = until("the round closes at its deadline", || {
        Store::open(&db).unwrap().rounds().unwrap().into_iter().next().filter(|r| r.result.is_some())
    })
    .await;
    c.stop().await.unwrap();
    let store = Store::open(&db).unwrap();
    let subs = store.submissions(1).unwrap();
    assert_eq!(subs.len(), 1);
    assert!(subs[0].aggregated, "the one accepted update is the aggregate");
    assert_eq!(closed.result.as_ref(), Some(&subs[0].model), "FedAvg of one update is that update");
}

/// Sends requests from a raw swarm and returns the answers.
use common::{ask, code};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_reasons_and_the_coordinator_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let hs = hospitals(1);
    let c = start(federation(&hs, 3, 600_000), &dir.path().join("fed.db")).await;
    let addr = c.addr.clone();
    let garbage = |round, len| Request::Submit(Submission { round, model: LinearModel::zeros(5).into(), samples: 11, proof: vec![7; len] });
    let big = Limits { max_request: 4 << 20, ..Limits::default() };
    let admitted = ask(
        hs[0].key.clone(),
        big,
        &addr,
        vec![garbage(1, 100), garbage(7, 100), garbage(0, 100), garbage(1, 2 << 20), Request::Poll { after: None }],
    )
    .await;
    assert_eq!(code(&admitted[0]), Some(RejectCode::InvalidProof), "{:?}", admitted[0]);
    assert_eq!(code(&admitted[1]), Some(RejectCode::WrongRound));
    assert_eq!(code(&admitted[2]), Some(RejectCode::RoundClosed), "a proof for a past round");
    assert_eq!(code(&admitted[3]), Some(RejectCode::TooLarge), "{:?}", admitted[3]);
    assert!(matches!(&admitted[4], Ok(Response::Round(r)) if r.round == 1), "still serving: {:?}", admitted[4]);

    // the round's deadline passes: a submission for it is refused as closed
    let late = tempfile::tempdir().unwrap();
    let late_db = late.path().join("fed.db");
    let c2 = start(federation(&hs, 3, 300), &late_db).await;
    // past the deadline the coordinator stored (plus its timer's slack)
    until("round 1's deadline has passed", || {
        let deadline = Store::open(&late_db).unwrap().rounds().unwrap().first()?.deadline_ms;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        (now > deadline + 300).then_some(())
    })
    .await;
    let r = ask(hs[0].key.clone(), Limits::default(), &c2.addr, vec![garbage(1, 100)]).await;
    assert_eq!(code(&r[0]), Some(RejectCode::RoundClosed), "{:?}", r[0]);
    c2.stop().await.unwrap();

    // An unknown peer is refused at the connection, right after Noise has
    // authenticated its PeerId and before it can open a stream (issue 14:
    // its unread bodies were held). It used to be answered `UnknownPeer`
    // once its request had been read; now it gets no answer at all.
    let mut stranger = build_swarm(Keypair::generate_ed25519(), NetConfig::default()).unwrap();
    stranger.dial(addr.clone()).unwrap();
    let closed = tokio::time::timeout(PATIENCE, async {
        loop {
            match stranger.select_next_some().await {
                SwarmEvent::ConnectionClosed { .. } | SwarmEvent::OutgoingConnectionError { .. } => break,
                SwarmEvent::Behaviour(e) => panic!("the stranger got through: {e:?}"),
                _ => {}
            }
        }
    });
    closed.await.expect("the stranger's connection is closed in time");

    c.stop().await.unwrap();
    let store = Store::open(&dir.path().join("fed.db")).unwrap();
    let codes: Vec<String> = store.rejections().unwrap().into_iter().map(|r| r.2).collect();
    assert_eq!(codes, vec!["InvalidProof", "WrongRound", "RoundClosed", "TooLarge"], "unknown peers are not stored");
}

#[path = "../../circuits/tests/common/mutate.rs"]
mod mutate;

/// An honest proof of `h`'s round-1 training, with one vector emptied where
/// nova-snark 0.76's verifier panics: one per panic message `kinds` names.
fn panicking_proofs(h: &Hospital, coordinator: &Keypair, kinds: &[&str]) -> Vec<Submission> {
    let statement = Statement {
        federation: coordinator.public().to_peer_id().to_bytes(),
        round: 1,
        participant: h.key.public().to_peer_id().to_bytes(),
        data: h.admitted.commitment,
        global: LinearModel::zeros(5).into(),
    };
    let p = prove_training(&keys(), &statement, &h.data, |_, _| {}).unwrap();
    let tree = mutate::tree::<Compressed<TrainCircuit>>(&p.proof);
    kinds
        .iter()
        .map(|kind| {
            let proof = mutate::structural_vectors(&tree)
                .into_iter()
                .filter_map(|i| mutate::bytes::<Compressed<TrainCircuit>>(&mutate::emptied(&tree, i)))
                .find(|bad| {
                    matches!(verify_training(&keys(), &statement, &p.model, p.samples, bad),
                        Err(CircuitError::Malformed { reason, .. }) if reason.contains("panicked") && reason.contains(kind))
                })
                .unwrap_or_else(|| panic!("no emptied vector makes the verifier panic with {kind:?}"));
            Submission { round: 1, model: p.model.clone(), samples: p.samples, proof }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_that_panic_the_verifier_are_refused_and_free_their_slots() {
    let dir = tempfile::tempdir().unwrap();
    let hs = hospitals(3);
    let coordinator = Keypair::ed25519_from_bytes([99; 32]).unwrap();
    // each from the sender's own honest proof: the statement must match for
    // verification to get as far as the panicking check
    let bad = [panicking_proofs(&hs[0], &coordinator, &["index out of bounds"]), panicking_proofs(&hs[1], &coordinator, &["assert"])];
    // max_verifying is 2: two verifications that never reported back would
    // leave every later submission `Busy` for the rest of the round
    let c = start(federation(&hs, 1, 600_000), &dir.path().join("fed.db")).await;
    let addr = c.addr.clone();
    for (h, sub) in hs[..2].iter().zip(bad.into_iter().flatten()) {
        let r = tokio::time::timeout(Duration::from_secs(60), ask(h.key.clone(), Limits::default(), &addr, vec![Request::Submit(sub)]))
            .await
            .expect("the coordinator answered the panicking verification");
        match &r[0] {
            Ok(Response::Rejected { code: RejectCode::InvalidProof, reason }) => assert!(reason.contains("panicked"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(participate(&hs[2], &addr, &dir.path().join("h2.state")).await, vec![Outcome::Accepted(1)]);
    c.stop().await.unwrap();
}
