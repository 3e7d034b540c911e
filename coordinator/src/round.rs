//! The round state machine: events in, actions out, no I/O.
//!
//! The event loop executes actions in order. Storing an acceptance comes
//! before the reply that confirms it, and a round's closing (with its
//! aggregate) is one action, so a crash at any point loses no accepted update
//! and never aggregates one twice: on restart the store hands the open round
//! and its accepted updates back to [`RoundMachine::resume`] ([`Progress`]).

use crate::strategy::{Strategy, Weighted};
use candor_circuits::verifier::{ClaimedStatement, DataCommitment, VerifiedCommitment, VerifiedUpdate};
use candor_core::Model;
use candor_core::TrainSpec;
use candor_protocols::{bounded_reason, RejectCode, Request, Response, RoundAnnouncement, StatusReport, Submission};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Debug;
use std::sync::Arc;

/// A participant's identity bytes (its libp2p PeerId).
pub type PeerKey = Vec<u8>;
/// The event loop's handle for a pending request.
pub type ReqId = u64;
/// Computes the digest announced with a global model.
pub type DigestFn = Arc<dyn Fn(&Model) -> [u8; 32] + Send + Sync>;

/// What the machine needs of a verified update. Production code uses
/// [`VerifiedUpdate`], which only a successful verification can build; tests
/// use plain values.
pub trait Update: Clone + Debug {
    /// Proven sample count.
    fn samples(&self) -> u64;
    /// The updated model.
    fn model(&self) -> &Model;
}

impl Update for VerifiedUpdate {
    fn samples(&self) -> u64 {
        VerifiedUpdate::samples(self)
    }
    fn model(&self) -> &Model {
        VerifiedUpdate::model(self)
    }
}

/// An admitted participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Participant {
    /// Display name.
    pub name: String,
    /// Registered data commitment.
    pub commitment: DataCommitment,
}

/// An admitted participant as the daemon holds it: its commitment's proof
/// verified (the only way to hold a [`VerifiedCommitment`]), the proof kept
/// for the database and the audit.
#[derive(Clone, Debug)]
pub struct Admitted {
    /// Display name.
    pub name: String,
    /// The verified data commitment.
    pub commitment: VerifiedCommitment,
    /// Its compressed proof.
    pub proof: Vec<u8>,
}

impl Admitted {
    /// What the round machine knows of it.
    pub fn participant(&self) -> Participant {
        Participant { name: self.name.clone(), commitment: *self.commitment.commitment() }
    }
}

/// Round timing and bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Rounds to run.
    pub rounds: u64,
    /// Accepted updates that close a round early.
    pub quorum: u32,
    /// Round length before the deadline closes it, in milliseconds.
    pub round_ms: u64,
    /// How long a poll is held before answering `NoRound`.
    pub poll_timeout_ms: u64,
    /// Polls held at once; more are answered `NoRound` immediately.
    pub max_pending_polls: usize,
    /// Proofs being verified at once; more submissions get `Busy`.
    pub max_verifying: usize,
}

/// The open round.
#[derive(Clone, Debug)]
pub struct OpenRound<U> {
    /// Round id.
    pub id: u64,
    /// Global model it starts from.
    pub global: Model,
    /// Deadline, ms since the Unix epoch.
    pub deadline_ms: u64,
    /// Accepted updates by participant.
    pub accepted: BTreeMap<PeerKey, U>,
    verifying: BTreeSet<PeerKey>,
}

impl<U> OpenRound<U> {
    /// An open round as the store holds it: no verification in flight.
    pub fn stored(id: u64, global: Model, deadline_ms: u64, accepted: BTreeMap<PeerKey, U>) -> Self {
        Self { id, global, deadline_ms, accepted, verifying: BTreeSet::new() }
    }
}

/// What the consortium agreed, fixed for the federation's life.
pub struct Setup {
    /// The training spec every proof is made under.
    pub spec: TrainSpec,
    /// Round timing and bounds.
    pub policy: Policy,
    /// Admitted participants by PeerId bytes.
    pub participants: BTreeMap<PeerKey, Participant>,
    /// How accepted updates are aggregated.
    pub strategy: Box<dyn Strategy>,
    /// The digest a round announces with its global model.
    pub digest: DigestFn,
}

/// Where a federation stands, as its store records it.
pub struct Progress<U> {
    /// Rounds completed.
    pub completed: u64,
    /// The current global model.
    pub global: Model,
    /// The open round, with its accepted updates.
    pub open: Option<OpenRound<U>>,
}

/// Inputs.
#[derive(Debug)]
pub enum Event<U> {
    /// Time passes.
    Tick {
        /// Now, ms since the Unix epoch.
        now_ms: u64,
    },
    /// A request arrived.
    Request {
        /// Sender.
        peer: PeerKey,
        /// Handle to answer it.
        id: ReqId,
        /// The request.
        request: Request,
        /// Now.
        now_ms: u64,
    },
    /// A verification finished.
    Verified {
        /// Sender of the submission.
        peer: PeerKey,
        /// Handle of the submission request.
        id: ReqId,
        /// The submission.
        submission: Submission,
        /// The outcome.
        result: Result<U, String>,
        /// Now.
        now_ms: u64,
    },
}

/// Outputs, executed in order.
// a handful per event, consumed at once: boxing the submission buys nothing
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Action<U> {
    /// Answer a request.
    Reply {
        /// Its handle.
        id: ReqId,
        /// The answer.
        response: Response,
    },
    /// Verify a proof off the event loop, then send [`Event::Verified`].
    Verify {
        /// Handle of the submission request.
        id: ReqId,
        /// Sender.
        peer: PeerKey,
        /// The statement the proof must match, over the registered
        /// commitment (the executor verifies against that commitment's
        /// verified form).
        statement: ClaimedStatement,
        /// The submission.
        submission: Submission,
    },
    /// Persist an accepted update (before its acceptance is sent).
    StoreAccepted {
        /// Sender.
        peer: PeerKey,
        /// The verified update.
        update: U,
        /// Its proof, for audits.
        proof: Vec<u8>,
    },
    /// Persist a rejection of an admitted participant's request.
    StoreRejected {
        /// Round named, if it exists (opened now or before): a round number
        /// from the wire is only stored once it is known to be one of ours,
        /// so that no peer-chosen value reaches the database.
        round: Option<u64>,
        /// Sender.
        peer: PeerKey,
        /// Why.
        code: RejectCode,
        /// Details, at most [`candor_protocols::MAX_REASON_BYTES`].
        reason: String,
    },
    /// Persist a newly opened round.
    Opened {
        /// Round id.
        round: u64,
        /// Its global model.
        global: Model,
        /// Its deadline.
        deadline_ms: u64,
    },
    /// Persist a closed round and its aggregate, atomically.
    Closed {
        /// Round id.
        round: u64,
        /// Participants whose updates were aggregated.
        aggregated: Vec<PeerKey>,
        /// The next global model (`None`: no update was accepted, the global
        /// model stays).
        model: Option<Model>,
    },
}

/// The coordinator's round logic.
pub struct RoundMachine<U: Update> {
    federation: Vec<u8>,
    spec: TrainSpec,
    policy: Policy,
    participants: BTreeMap<PeerKey, Participant>,
    strategy: Box<dyn Strategy>,
    digest: DigestFn,
    global: Model,
    completed: u64,
    open: Option<OpenRound<U>>,
    polls: VecDeque<(ReqId, Option<u64>, u64)>,
}

impl<U: Update> RoundMachine<U> {
    /// A new federation's machine, starting from `initial`.
    pub fn new(setup: Setup, initial: Model) -> Self {
        Self::resume(setup, Progress { completed: 0, global: initial, open: None })
    }

    /// A machine resuming from what the store recorded.
    pub fn resume(setup: Setup, progress: Progress<U>) -> Self {
        let Setup { spec, policy, participants, strategy, digest } = setup;
        let Progress { completed, global, open } = progress;
        Self { federation: vec![], spec, policy, participants, strategy, digest, global, completed, open, polls: VecDeque::new() }
    }

    /// The federation every statement names (the coordinator's PeerId
    /// bytes), so that proofs made for another federation are refused.
    pub fn with_federation(mut self, federation: Vec<u8>) -> Self {
        self.federation = federation;
        self
    }

    /// The open round.
    pub fn open_round(&self) -> Option<&OpenRound<U>> {
        self.open.as_ref()
    }

    /// The current global model.
    pub fn global(&self) -> &Model {
        &self.global
    }

    /// Rounds completed.
    pub fn completed(&self) -> u64 {
        self.completed
    }

    /// Whether every round has run.
    pub fn finished(&self) -> bool {
        self.open.is_none() && self.completed >= self.policy.rounds
    }

    /// Handles one event.
    pub fn on_event(&mut self, event: Event<U>) -> Vec<Action<U>> {
        let mut out = vec![];
        match event {
            Event::Tick { now_ms } => {
                self.advance(now_ms, &mut out);
                while let Some(&(id, _, since)) = self.polls.front() {
                    if now_ms < since + self.policy.poll_timeout_ms {
                        break;
                    }
                    self.polls.pop_front();
                    out.push(Action::Reply { id, response: Response::NoRound });
                }
            }
            Event::Request { peer, id, request, now_ms } => {
                self.advance(now_ms, &mut out);
                self.on_request(peer, id, request, now_ms, &mut out);
            }
            Event::Verified { peer, id, submission, result, now_ms } => {
                self.advance(now_ms, &mut out);
                self.on_verified(peer, id, submission, result, now_ms, &mut out);
            }
        }
        out
    }

    fn announcement(&self, r: &OpenRound<U>) -> RoundAnnouncement {
        RoundAnnouncement {
            round: r.id,
            spec: self.spec.clone(),
            global: r.global.clone(),
            global_digest: (self.digest)(&r.global),
            deadline_unix_ms: r.deadline_ms,
            quorum: self.policy.quorum,
        }
    }

    /// The newest round opened so far (0: none).
    fn newest_round(&self) -> u64 {
        self.open.as_ref().map_or(self.completed, |r| r.id)
    }

    /// Refuses a request. Its reason is stored, logged and sent, so it is
    /// bounded here, once for all three.
    fn reject(&self, out: &mut Vec<Action<U>>, id: ReqId, peer: &PeerKey, round: Option<u64>, code: RejectCode, reason: String) {
        let reason = bounded_reason(&reason);
        if self.participants.contains_key(peer) {
            let round = round.filter(|&r| (1..=self.newest_round()).contains(&r));
            out.push(Action::StoreRejected { round, peer: peer.clone(), code, reason: reason.clone() });
        }
        out.push(Action::Reply { id, response: Response::Rejected { code, reason } });
    }

    fn on_request(&mut self, peer: PeerKey, id: ReqId, request: Request, now_ms: u64, out: &mut Vec<Action<U>>) {
        if !self.participants.contains_key(&peer) {
            return self.reject(out, id, &peer, None, RejectCode::UnknownPeer, "peer is not admitted to this federation".into());
        }
        match request {
            Request::Invalid { code, reason } => self.reject(out, id, &peer, None, code, reason),
            Request::Status => out.push(Action::Reply {
                id,
                response: Response::Status(StatusReport {
                    round: self.open.as_ref().map(|r| r.id),
                    accepted: self.open.as_ref().map_or(0, |r| r.accepted.len() as u32),
                    completed_rounds: self.completed,
                }),
            }),
            Request::Poll { after } => match &self.open {
                Some(r) if after.is_none_or(|a| a < r.id) => {
                    out.push(Action::Reply { id, response: Response::Round(Box::new(self.announcement(r))) })
                }
                _ if self.polls.len() >= self.policy.max_pending_polls || self.finished() => {
                    out.push(Action::Reply { id, response: Response::NoRound })
                }
                _ => self.polls.push_back((id, after, now_ms)),
            },
            Request::Submit(sub) => self.on_submit(peer, id, sub, out),
        }
    }

    fn on_submit(&mut self, peer: PeerKey, id: ReqId, sub: Submission, out: &mut Vec<Action<U>>) {
        let round = Some(sub.round);
        let Some(open) = self.open.as_mut() else {
            return self.reject(out, id, &peer, round, RejectCode::RoundClosed, "no round is open".into());
        };
        if sub.round != open.id {
            // the round comes from the wire: it may be u64::MAX
            let (code, why) = if sub.round.checked_add(1) == Some(open.id) {
                (RejectCode::RoundClosed, format!("round {} is closed; round {} is open", sub.round, open.id))
            } else {
                (RejectCode::WrongRound, format!("round {} is not the open round {}", sub.round, open.id))
            };
            return self.reject(out, id, &peer, round, code, why);
        }
        if open.accepted.contains_key(&peer) || open.verifying.contains(&peer) {
            return self.reject(out, id, &peer, round, RejectCode::Duplicate, "an update for this round was already submitted".into());
        }
        let in_flight: usize = open.verifying.len();
        if in_flight >= self.policy.max_verifying {
            return self.reject(out, id, &peer, round, RejectCode::Busy, "verification queue full, retry".into());
        }
        open.verifying.insert(peer.clone());
        let statement = ClaimedStatement {
            federation: self.federation.clone(),
            round: open.id,
            participant: peer.clone(),
            data: self.participants[&peer].commitment,
            global: open.global.clone(),
        };
        out.push(Action::Verify { id, peer, statement, submission: sub });
    }

    fn on_verified(&mut self, peer: PeerKey, id: ReqId, sub: Submission, result: Result<U, String>, now_ms: u64, out: &mut Vec<Action<U>>) {
        let round = Some(sub.round);
        let still_open = match self.open.as_mut() {
            Some(open) if open.id == sub.round => {
                open.verifying.remove(&peer);
                true
            }
            _ => false,
        };
        if !still_open {
            return self.reject(out, id, &peer, round, RejectCode::RoundClosed, "the round closed during verification".into());
        }
        match result {
            Err(why) => self.reject(out, id, &peer, round, RejectCode::InvalidProof, why),
            Ok(update) => {
                let open = self.open.as_mut().expect("checked open above");
                open.accepted.insert(peer.clone(), update.clone());
                out.push(Action::StoreAccepted { peer, update, proof: sub.proof });
                out.push(Action::Reply { id, response: Response::Accepted { round: sub.round } });
                // closes the round if this acceptance met its quorum
                self.advance(now_ms, out);
            }
        }
    }

    /// Closes the open round at its deadline, or once it has its quorum (a
    /// round resumed after a crash between its last acceptance and its close
    /// has it from the start), and opens the next one when due.
    fn advance(&mut self, now_ms: u64, out: &mut Vec<Action<U>>) {
        let quorum = self.policy.quorum;
        if self.open.as_ref().is_some_and(|r| now_ms >= r.deadline_ms || r.accepted.len() as u32 >= quorum) {
            self.close(out);
        }
        if self.open.is_none() && self.completed < self.policy.rounds {
            let r = OpenRound {
                id: self.completed + 1,
                global: self.global.clone(),
                deadline_ms: now_ms + self.policy.round_ms,
                accepted: BTreeMap::new(),
                verifying: BTreeSet::new(),
            };
            out.push(Action::Opened { round: r.id, global: r.global.clone(), deadline_ms: r.deadline_ms });
            let ann = self.announcement(&r);
            for (id, _, _) in self.polls.drain(..) {
                out.push(Action::Reply { id, response: Response::Round(Box::new(ann.clone())) });
            }
            self.open = Some(r);
        }
    }

    fn close(&mut self, out: &mut Vec<Action<U>>) {
        let Some(r) = self.open.take() else { return };
        let updates: Vec<Weighted> = r.accepted.values().map(|u| Weighted { samples: u.samples(), model: u.model() }).collect();
        let model = if updates.is_empty() {
            None
        } else {
            match self.strategy.aggregate(&updates) {
                Ok(m) => Some(m),
                Err(e) => {
                    tracing::error!(round = r.id, error = %e, "aggregation failed; keeping the global model");
                    None
                }
            }
        };
        if let Some(m) = &model {
            self.global = m.clone();
        }
        self.completed = r.id;
        out.push(Action::Closed { round: r.id, aggregated: r.accepted.keys().cloned().collect(), model });
    }
}
