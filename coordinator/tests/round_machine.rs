//! The round state machine without a network: every rule of issue 3's
//! protocol as events in, actions out.

use candor_circuits::verifier::{DataCommitment, Digest};
use candor_coordinator::round::{Action, Event, OpenRound, Participant, PeerKey, Policy, Progress, RoundMachine, Setup, Update};
use candor_coordinator::strategy::StrategyConfig;
use candor_core::model::linear::LinearModel;
use candor_core::Model;
use candor_core::{FixedFormat, ModelSpec, Task, TrainSpec};
use candor_protocols::{RejectCode, Request, Response, Submission};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
struct U {
    samples: u64,
    model: Model,
}

impl Update for U {
    fn samples(&self) -> u64 {
        self.samples
    }
    fn model(&self) -> &Model {
        &self.model
    }
}

fn peer(i: u8) -> PeerKey {
    vec![i; 4]
}

fn machine(quorum: u32, open: Option<(u64, Model, u64, BTreeMap<PeerKey, U>)>, completed: u64) -> RoundMachine<U> {
    let spec = TrainSpec {
        model: ModelSpec::linear(1, Task::Logistic),
        format: FixedFormat::default(),
        learning_rate: 0.5,
        batch_size: 4,
        epochs: 1,
        steps_per_fold: 1,
    };
    let participants = (1..=3)
        .map(|i| {
            let c = DataCommitment { root: Digest([i; 32]), rows: 10, batches: 3 };
            (peer(i), Participant { name: format!("hospital-{i}"), commitment: c })
        })
        .collect();
    let policy = Policy { rounds: 2, quorum, round_ms: 1000, poll_timeout_ms: 100, max_pending_polls: 2, max_verifying: 2 };
    let setup = Setup {
        spec,
        policy,
        participants,
        strategy: StrategyConfig::FedAvg.build().unwrap(),
        digest: Arc::new(|m: &Model| [m.params()[1] as u8; 32]),
    };
    let open = open.map(|(id, global, deadline_ms, accepted)| OpenRound::stored(id, global, deadline_ms, accepted));
    RoundMachine::resume(setup, Progress { completed, global: LinearModel::zeros(1).into(), open })
}

fn req(p: u8, id: u64, request: Request, now_ms: u64) -> Event<U> {
    Event::Request { peer: peer(p), id, request, now_ms }
}

fn sub(round: u64, w: i64) -> Submission {
    Submission { round, model: Model::from(LinearModel { weights: vec![w], bias: w }), samples: 10, proof: vec![1, 2, 3] }
}

fn verified(p: u8, id: u64, s: Submission, ok: bool, now_ms: u64) -> Event<U> {
    let result = if ok { Ok(U { samples: s.samples, model: s.model.clone() }) } else { Err("bad proof".into()) };
    Event::Verified { peer: peer(p), id, submission: s, result, now_ms }
}

fn rejection(actions: &[Action<U>]) -> Option<RejectCode> {
    actions.iter().find_map(|a| match a {
        Action::Reply { response: Response::Rejected { code, .. }, .. } => Some(*code),
        _ => None,
    })
}

#[test]
fn full_round_with_three_participants() {
    let mut m = machine(3, None, 0);
    let a = m.on_event(Event::Tick { now_ms: 0 });
    assert!(matches!(a[..], [Action::Opened { round: 1, deadline_ms: 1000, .. }]));
    let a = m.on_event(req(1, 1, Request::Poll { after: None }, 1));
    assert!(matches!(&a[..], [Action::Reply { id: 1, response: Response::Round(r) }] if r.round == 1 && r.quorum == 3));

    for (i, w) in [(1u8, 10i64), (2, 20), (3, 60)] {
        let a = m.on_event(req(i, 10 + u64::from(i), Request::Submit(sub(1, w)), 5));
        let Action::Verify { statement, .. } = &a[0] else { panic!("{a:?}") };
        assert_eq!((statement.round, &statement.participant), (1, &peer(i)));
        assert_eq!(statement.data.root, Digest([i; 32]), "the registered commitment, not a claimed one");
        let a = m.on_event(verified(i, 10 + u64::from(i), sub(1, w), true, 6));
        // stored before acknowledged
        assert!(matches!(a[0], Action::StoreAccepted { .. }));
        assert!(matches!(a[1], Action::Reply { response: Response::Accepted { round: 1 }, .. }));
        if i == 3 {
            // quorum: closed with FedAvg (equal counts: floor(90 / 3) = 30), next round opened
            assert!(
                matches!(&a[2], Action::Closed { round: 1, model: Some(mdl), aggregated } if mdl.params()[0] == 30 && aggregated.len() == 3)
            );
            assert!(matches!(&a[3], Action::Opened { round: 2, global, .. } if global.params()[0] == 30));
        }
    }
    assert_eq!(m.completed(), 1);
}

#[test]
fn unknown_peer_is_refused_and_not_stored() {
    let mut m = machine(3, None, 0);
    m.on_event(Event::Tick { now_ms: 0 });
    let a = m.on_event(req(9, 1, Request::Submit(sub(1, 1)), 1));
    assert_eq!(rejection(&a), Some(RejectCode::UnknownPeer));
    assert!(!a.iter().any(|x| matches!(x, Action::StoreRejected { .. } | Action::Verify { .. })));
}

#[test]
fn invalid_proof_is_rejected_and_recorded() {
    let mut m = machine(3, None, 0);
    m.on_event(Event::Tick { now_ms: 0 });
    m.on_event(req(1, 1, Request::Submit(sub(1, 1)), 1));
    let a = m.on_event(verified(1, 1, sub(1, 1), false, 2));
    assert!(matches!(&a[0], Action::StoreRejected { code: RejectCode::InvalidProof, .. }));
    assert_eq!(rejection(&a), Some(RejectCode::InvalidProof));
    // the participant may try again with a valid proof
    let a = m.on_event(req(1, 2, Request::Submit(sub(1, 1)), 3));
    assert!(matches!(a[0], Action::Verify { .. }));
}

#[test]
fn replayed_submission_is_a_duplicate() {
    let mut m = machine(3, None, 0);
    m.on_event(Event::Tick { now_ms: 0 });
    m.on_event(req(1, 1, Request::Submit(sub(1, 1)), 1));
    // while the first is being verified
    assert_eq!(rejection(&m.on_event(req(1, 2, Request::Submit(sub(1, 1)), 2))), Some(RejectCode::Duplicate));
    m.on_event(verified(1, 1, sub(1, 1), true, 3));
    // and after it was accepted
    assert_eq!(rejection(&m.on_event(req(1, 3, Request::Submit(sub(1, 1)), 4))), Some(RejectCode::Duplicate));
}

#[test]
fn past_round_and_late_submissions_are_rejected() {
    let mut m = machine(3, None, 0);
    m.on_event(Event::Tick { now_ms: 0 });
    m.on_event(req(1, 1, Request::Submit(sub(1, 5)), 1));
    m.on_event(verified(1, 1, sub(1, 5), true, 2));
    // a submission arriving after the deadline closes the round first
    let a = m.on_event(req(2, 2, Request::Submit(sub(1, 7)), 1000));
    assert!(matches!(&a[0], Action::Closed { round: 1, model: Some(mdl), .. } if mdl.params()[0] == 5));
    assert!(matches!(a[1], Action::Opened { round: 2, .. }));
    assert_eq!(rejection(&a), Some(RejectCode::RoundClosed));
    // a proof for a round that is neither open nor just closed
    assert_eq!(rejection(&m.on_event(req(2, 3, Request::Submit(sub(7, 7)), 1001))), Some(RejectCode::WrongRound));
}

#[test]
fn verification_finishing_after_close_is_rejected() {
    let mut m = machine(3, None, 0);
    m.on_event(Event::Tick { now_ms: 0 });
    m.on_event(req(1, 1, Request::Submit(sub(1, 5)), 1));
    m.on_event(Event::Tick { now_ms: 1000 });
    let a = m.on_event(verified(1, 1, sub(1, 5), true, 1001));
    assert_eq!(rejection(&a), Some(RejectCode::RoundClosed));
    assert!(!a.iter().any(|x| matches!(x, Action::StoreAccepted { .. })));
}

#[test]
fn empty_round_closes_at_deadline_and_federation_ends() {
    let mut m = machine(3, None, 0);
    m.on_event(Event::Tick { now_ms: 0 });
    let a = m.on_event(Event::Tick { now_ms: 1000 });
    assert!(matches!(a[0], Action::Closed { round: 1, model: None, .. }));
    let a = m.on_event(Event::Tick { now_ms: 2000 });
    assert!(matches!(a[0], Action::Closed { round: 2, model: None, .. }));
    assert!(m.finished());
    assert!(matches!(
        m.on_event(req(1, 1, Request::Poll { after: Some(2) }, 2001))[..],
        [Action::Reply { response: Response::NoRound, .. }]
    ));
    assert_eq!(rejection(&m.on_event(req(1, 2, Request::Submit(sub(2, 1)), 2002))), Some(RejectCode::RoundClosed));
}

#[test]
fn verification_queue_and_polls_are_bounded() {
    let mut m = machine(3, None, 0);
    m.on_event(Event::Tick { now_ms: 0 });
    m.on_event(req(1, 1, Request::Submit(sub(1, 1)), 1));
    m.on_event(req(2, 2, Request::Submit(sub(1, 1)), 1));
    assert_eq!(rejection(&m.on_event(req(3, 3, Request::Submit(sub(1, 1)), 1))), Some(RejectCode::Busy));
    // polls for a newer round are held, up to the limit, then time out
    assert!(m.on_event(req(1, 4, Request::Poll { after: Some(1) }, 2)).is_empty());
    assert!(m.on_event(req(2, 5, Request::Poll { after: Some(1) }, 2)).is_empty());
    assert!(matches!(
        m.on_event(req(3, 6, Request::Poll { after: Some(1) }, 2))[..],
        [Action::Reply { id: 6, response: Response::NoRound }]
    ));
    let a = m.on_event(Event::Tick { now_ms: 102 });
    assert_eq!(a.len(), 2);
    assert!(a.iter().all(|x| matches!(x, Action::Reply { response: Response::NoRound, .. })));
}

#[test]
fn held_poll_is_answered_when_the_next_round_opens() {
    let mut m = machine(1, None, 0);
    m.on_event(Event::Tick { now_ms: 0 });
    assert!(m.on_event(req(2, 7, Request::Poll { after: Some(1) }, 1)).is_empty());
    m.on_event(req(1, 1, Request::Submit(sub(1, 4)), 2));
    let a = m.on_event(verified(1, 1, sub(1, 4), true, 3));
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::Reply { id: 7, response: Response::Round(r) } if r.round == 2 && r.global.params()[0] == 4)));
}

#[test]
fn resumed_round_keeps_its_accepted_updates() {
    let mut accepted = BTreeMap::new();
    accepted.insert(peer(1), U { samples: 30, model: Model::from(LinearModel { weights: vec![10], bias: 0 }) });
    let mut m = machine(2, Some((1, LinearModel::zeros(1).into(), 1000, accepted)), 0);
    // no second Opened, and the earlier acceptance still counts as a duplicate
    assert!(m.on_event(Event::Tick { now_ms: 500 }).is_empty());
    assert_eq!(rejection(&m.on_event(req(1, 1, Request::Submit(sub(1, 1)), 501))), Some(RejectCode::Duplicate));
    m.on_event(req(2, 2, Request::Submit(sub(1, 40)), 502));
    let a = m.on_event(verified(2, 2, sub(1, 40), true, 503));
    // FedAvg by proven counts: (30*10 + 10*40) / 40 = 17.5 -> 17
    assert!(a.iter().any(|x| matches!(x, Action::Closed { round: 1, model: Some(mdl), .. } if mdl.params()[0] == 17)));
}

#[test]
fn resumed_round_with_its_quorum_closes_at_the_first_event() {
    // a crash between the last acceptance and the close: two of two stored
    let mut accepted = BTreeMap::new();
    for (p, w) in [(1, 10), (2, 20)] {
        accepted.insert(peer(p), U { samples: 10, model: Model::from(LinearModel { weights: vec![w], bias: 0 }) });
    }
    let mut m = machine(2, Some((1, LinearModel::zeros(1).into(), 1000, accepted)), 0);
    // long before the deadline
    let a = m.on_event(Event::Tick { now_ms: 1 });
    assert!(
        matches!(&a[0], Action::Closed { round: 1, model: Some(mdl), aggregated } if mdl.params()[0] == 15 && aggregated.len() == 2),
        "{a:?}"
    );
    assert!(matches!(a[1], Action::Opened { round: 2, .. }));
}

#[test]
fn a_round_number_that_is_no_round_is_refused_and_not_stored() {
    let mut m = machine(3, None, 0);
    m.on_event(Event::Tick { now_ms: 0 });
    for round in [u64::MAX, 1 << 63, 7] {
        let a = m.on_event(req(1, 1, Request::Submit(sub(round, 1)), 1));
        assert_eq!(rejection(&a), Some(RejectCode::WrongRound), "round {round}");
        assert!(
            a.iter().any(|x| matches!(x, Action::StoreRejected { round: None, reason, .. } if reason.contains(&round.to_string()))),
            "stored without a round, the reason names it: {a:?}"
        );
    }
    // a round that exists is stored with its number
    let a = m.on_event(req(1, 2, Request::Submit(sub(0, 1)), 2));
    assert!(a.iter().any(|x| matches!(x, Action::StoreRejected { round: None, .. })), "round 0 was never opened");
    m.on_event(Event::Tick { now_ms: 1000 });
    let a = m.on_event(req(1, 3, Request::Submit(sub(1, 1)), 1001));
    assert!(a.iter().any(|x| matches!(x, Action::StoreRejected { round: Some(1), code: RejectCode::RoundClosed, .. })), "{a:?}");
}

#[test]
fn reasons_are_bounded_before_they_are_stored_or_sent() {
    let mut m = machine(3, None, 0);
    m.on_event(Event::Tick { now_ms: 0 });
    let huge = Request::Invalid { code: RejectCode::Malformed, reason: "x".repeat(1 << 20) };
    let a = m.on_event(req(1, 1, huge, 1));
    let stored = a.iter().find_map(|x| match x {
        Action::StoreRejected { reason, .. } => Some(reason.len()),
        _ => None,
    });
    let sent = a.iter().find_map(|x| match x {
        Action::Reply { response: Response::Rejected { reason, .. }, .. } => Some(reason.len()),
        _ => None,
    });
    let max = candor_protocols::MAX_REASON_BYTES;
    assert!(stored.is_some_and(|n| n <= max) && sent.is_some_and(|n| n <= max), "{stored:?} {sent:?}");
}
