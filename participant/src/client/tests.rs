use super::*;
use candor_core::model::linear::LinearModel;
use candor_core::{ModelSpec, Task};

const MS: Duration = Duration::from_millis(1);

fn spec() -> TrainSpec {
    TrainSpec {
        model: ModelSpec::linear(2, Task::Logistic),
        format: Default::default(),
        learning_rate: 0.5,
        batch_size: 2,
        epochs: 1,
        steps_per_fold: 1,
    }
}

/// A digest that is the model's first parameter, repeated.
fn digest(m: &Model) -> Digest {
    Digest([m.params()[0] as u8; 32])
}

fn global(w: i64) -> Model {
    Model::Linear(LinearModel { weights: vec![w, 0], bias: 0 })
}

fn announce(round: u64, w: i64) -> Response {
    let g = global(w);
    Response::Round(Box::new(RoundAnnouncement {
        round,
        spec: spec(),
        global_digest: digest(&g).0,
        global: g,
        deadline_unix_ms: 0,
        quorum: 1,
    }))
}

fn machine(done: Option<u64>, now: Instant) -> ClientMachine {
    let setup = ClientSetup {
        federation: b"fed".to_vec(),
        participant: b"me".to_vec(),
        commitment: DataCommitment { root: Digest([7; 32]), rows: 4, batches: 2 },
        spec: spec(),
        digest: Arc::new(digest),
        stop_after: Some(2),
        min_backoff: 10 * MS,
        max_backoff: 40 * MS,
    };
    ClientMachine::new(setup, done, now)
}

fn submission(round: u64) -> Submission {
    Submission { round, model: global(3), samples: 4, proof: vec![1, 2, 3] }
}

/// A connected machine that has sent its first poll.
fn polling(done: Option<u64>, t0: Instant) -> ClientMachine {
    let mut m = machine(done, t0);
    assert!(matches!(m.handle(t0, Event::Tick)[..], [Action::Dial]));
    assert!(m.handle(t0, Event::Connected).is_empty());
    assert!(matches!(&m.handle(t0, Event::Tick)[..], [Action::Send(Request::Poll { after })] if *after == done));
    m
}

#[test]
fn a_round_is_proven_submitted_and_persisted_before_it_is_reported() {
    let t0 = Instant::now();
    let mut m = polling(None, t0);
    let statement = match &m.handle(t0, Event::Response(announce(1, 5)))[..] {
        [Action::Prove(s)] => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!((statement.round, statement.global.clone(), statement.data.rows), (1, global(5), 4));
    assert_eq!((statement.federation.as_slice(), statement.participant.as_slice()), (&b"fed"[..], &b"me"[..]));
    // nothing is sent while proving
    assert!(m.handle(t0 + 100 * MS, Event::Tick).is_empty());
    assert!(m.handle(t0, Event::Proved(Ok(submission(1)))).is_empty());
    assert!(matches!(&m.handle(t0, Event::Tick)[..], [Action::Send(Request::Submit(s))] if *s == submission(1)));
    let acts = m.handle(t0, Event::Response(Response::Accepted { round: 1 }));
    assert!(
        matches!(acts[..], [Action::Persist(1), Action::DiscardCheckpoint { best_effort: false }, Action::Outcome(Outcome::Accepted(1))]),
        "{acts:?}"
    );
    assert_eq!(m.done(), Some(1));
    assert!(matches!(m.handle(t0, Event::Tick)[..], [Action::Send(Request::Poll { after: Some(1) })]));
    assert!(!m.finished());
}

#[test]
fn an_old_round_is_not_proven_again_and_stop_after_finishes() {
    let t0 = Instant::now();
    let mut m = polling(Some(2), t0);
    assert!(m.finished());
    assert!(m.handle(t0, Event::Response(announce(2, 1))).is_empty());
    assert!(matches!(m.handle(t0, Event::Tick)[..], [Action::Send(Request::Poll { after: Some(2) })]));
}

#[test]
fn another_spec_or_a_model_off_its_digest_is_fatal() {
    let t0 = Instant::now();
    let mut m = polling(None, t0);
    let mut ann = match announce(1, 5) {
        Response::Round(a) => a,
        _ => unreachable!(),
    };
    ann.global_digest = [0; 32];
    let acts = m.handle(t0, Event::Response(Response::Round(ann.clone())));
    assert!(matches!(&acts[..], [Action::Fatal(e)] if e.contains("digest")), "{acts:?}");
    ann.global_digest = digest(&ann.global).0;
    ann.spec.epochs = 2;
    assert!(matches!(&m.handle(t0, Event::Response(Response::Round(ann)))[..], [Action::Fatal(e)] if e.contains("spec")));
}

#[test]
fn a_failed_proof_skips_the_round_and_deletes_its_checkpoint() {
    let t0 = Instant::now();
    let mut m = polling(None, t0);
    m.handle(t0, Event::Response(announce(1, 5)));
    let acts = m.handle(t0, Event::Proved(Err("out of memory".into())));
    assert!(
        matches!(&acts[..], [Action::DiscardCheckpoint { best_effort: true }, Action::Outcome(Outcome::Failed(1, e))] if e == "out of memory"),
        "{acts:?}"
    );
    // not persisted: a restart tries the round again
    assert_eq!(m.done(), Some(1));
    assert!(matches!(m.handle(t0, Event::Tick)[..], [Action::Send(Request::Poll { after: Some(1) })]));
}

#[test]
fn busy_retries_the_submission_after_the_backoff_and_duplicate_counts_as_accepted() {
    let t0 = Instant::now();
    let mut m = polling(None, t0);
    m.handle(t0, Event::Response(announce(1, 5)));
    m.handle(t0, Event::Proved(Ok(submission(1))));
    m.handle(t0, Event::Tick);
    let busy = Response::Rejected { code: RejectCode::Busy, reason: "queue full".into() };
    assert!(m.handle(t0, Event::Response(busy)).is_empty());
    assert!(m.handle(t0 + 5 * MS, Event::Tick).is_empty());
    assert!(matches!(&m.handle(t0 + 10 * MS, Event::Tick)[..], [Action::Send(Request::Submit(_))]));
    let dup = Response::Rejected { code: RejectCode::Duplicate, reason: "seen".into() };
    let acts = m.handle(t0, Event::Response(dup));
    assert!(
        matches!(acts[..], [Action::Persist(1), Action::DiscardCheckpoint { best_effort: false }, Action::Outcome(Outcome::Accepted(1))]),
        "{acts:?}"
    );
}

#[test]
fn a_refused_submission_is_reported_and_the_round_given_up() {
    let t0 = Instant::now();
    let mut m = polling(None, t0);
    m.handle(t0, Event::Response(announce(1, 5)));
    m.handle(t0, Event::Proved(Ok(submission(1))));
    m.handle(t0, Event::Tick);
    let acts = m.handle(t0, Event::Response(Response::Rejected { code: RejectCode::InvalidProof, reason: "bad".into() }));
    assert!(matches!(&acts[..], [Action::Outcome(Outcome::Rejected(1, RejectCode::InvalidProof, r))] if r == "bad"), "{acts:?}");
    assert_eq!(m.done(), Some(1));
}

#[test]
fn lost_connections_and_requests_back_off_doubling_up_to_the_limit() {
    let t0 = Instant::now();
    let mut m = polling(None, t0);
    m.handle(t0, Event::Disconnected);
    // redial now, then 10, 20, 40 and 40 ms later
    let mut t = t0;
    for wait in [0, 10, 20, 40, 40] {
        t += wait * MS;
        if wait > 0 {
            assert!(m.handle(t - MS, Event::Tick).is_empty(), "early at +{wait} ms");
        }
        assert!(matches!(m.handle(t, Event::Tick)[..], [Action::Dial]), "at +{wait} ms");
    }
    // a connection resets the backoff; a failed request waits it out
    m.handle(t, Event::Connected);
    assert!(matches!(m.handle(t, Event::Tick)[..], [Action::Send(Request::Poll { .. })]));
    m.handle(t, Event::RequestFailed);
    assert!(m.handle(t + 9 * MS, Event::Tick).is_empty());
    assert!(matches!(m.handle(t + 10 * MS, Event::Tick)[..], [Action::Send(Request::Poll { .. })]));
}

#[test]
fn a_coordinator_with_no_round_to_come_or_busy_is_polled_less_and_less_often() {
    let t0 = Instant::now();
    let mut m = polling(Some(1), t0);
    // a long poll that timed out: the next follows at once
    let t = t0 + 2 * QUICK_ANSWER;
    assert!(m.handle(t, Event::Response(Response::NoRound)).iter().all(|a| matches!(a, Action::DiscardCheckpoint { .. })));
    assert!(matches!(m.handle(t, Event::Tick)[..], [Action::Send(Request::Poll { .. })]));
    // answered at once (every round run): 10, 20, 40, 40 ms apart
    let mut t = t;
    for wait in [10, 20, 40, 40] {
        m.handle(t, Event::Response(Response::NoRound));
        assert!(m.handle(t + (wait - 1) * MS, Event::Tick).is_empty(), "early at +{wait} ms");
        t += wait * MS;
        assert!(matches!(m.handle(t, Event::Tick)[..], [Action::Send(Request::Poll { .. })]), "at +{wait} ms");
    }
    // Busy doubles too, and a round resets it
    let busy = Response::Rejected { code: RejectCode::Busy, reason: "slow down".into() };
    m.handle(t, Event::Response(busy));
    assert!(m.handle(t + 39 * MS, Event::Tick).is_empty());
    t += 40 * MS;
    assert!(matches!(m.handle(t, Event::Tick)[..], [Action::Send(Request::Poll { .. })]));
    assert!(matches!(m.handle(t, Event::Response(announce(2, 5)))[..], [Action::Prove(_)]));
    assert_eq!(m.backoff, m.setup.min_backoff);
}
