//! The simulated coordinator: the daemons' round state machine, driven on a
//! virtual clock, its actions executed in memory instead of against a swarm
//! and a database.

use crate::transport::Wire;
use crate::SimError;
use candor_circuits::batch::{verify_training_batch_where, Submitted};
use candor_circuits::engine::TrainKeys;
use candor_circuits::verifier::Claim;
use candor_circuits::verifier::{ClaimedStatement, TrainingStatement, VerifiedCommitment, VerifiedUpdate};
use candor_circuits::CircuitError;
use candor_coordinator::round::{Action, Event, PeerKey, ReqId, RoundMachine, Update};
use candor_core::Layout;
use candor_core::Model;
use candor_protocols::{RejectCode, Request, Response, Submission};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

/// An update the simulated coordinator accepted.
#[derive(Clone, Debug)]
pub enum SimUpdate {
    /// Its proof verified.
    Verified(VerifiedUpdate),
    /// Taken on trust (`proofs = false`): model and count are whatever the
    /// participant said.
    Unverified {
        /// Claimed samples.
        samples: u64,
        /// Claimed model.
        model: Model,
    },
}

impl Update for SimUpdate {
    fn samples(&self) -> u64 {
        match self {
            SimUpdate::Verified(v) => v.samples(),
            SimUpdate::Unverified { samples, .. } => *samples,
        }
    }
    fn model(&self) -> &Model {
        match self {
            SimUpdate::Verified(v) => v.model(),
            SimUpdate::Unverified { model, .. } => model,
        }
    }
}

/// A refused submission.
#[derive(Clone, Debug)]
pub struct Refusal {
    /// Who sent it.
    pub peer: PeerKey,
    /// Why.
    pub code: RejectCode,
    /// Details.
    pub reason: String,
}

/// A closed round, as the machine reported it.
#[derive(Clone, Debug)]
pub struct Closed {
    /// Round id.
    pub round: u64,
    /// Participants aggregated.
    pub aggregated: Vec<PeerKey>,
    /// The new global model (`None`: unchanged).
    pub model: Option<Model>,
}

/// What the hub verifies with: the training keys and the participants'
/// commitments, each verified at admission.
pub struct Verifier {
    /// Training keys.
    pub keys: Arc<TrainKeys>,
    /// Verified commitments by participant.
    pub commitments: BTreeMap<PeerKey, VerifiedCommitment>,
}

/// The coordinator side.
pub struct Hub {
    machine: RoundMachine<SimUpdate>,
    verifier: Option<Verifier>,
    layout: Layout,
    wire: Wire,
    now_ms: u64,
    next_id: ReqId,
    replies: HashMap<ReqId, Response>,
    /// Refusals since the last [`take_log`](Self::take_log).
    refusals: Vec<Refusal>,
    /// Rounds closed since the last [`take_log`](Self::take_log).
    closed: Vec<Closed>,
    /// Seconds spent verifying since the last [`take_log`](Self::take_log).
    verify_secs: f64,
    /// Verifications the machine asked for, waiting to be done together.
    waiting: Vec<(ReqId, PeerKey, ClaimedStatement, Submission)>,
}

impl Hub {
    /// A hub around `machine`; `verifier` present means every submission's
    /// proof is verified, absent means updates are taken on trust.
    pub fn new(machine: RoundMachine<SimUpdate>, verifier: Option<Verifier>, layout: Layout, wire: Wire) -> Self {
        Self {
            machine,
            verifier,
            layout,
            wire,
            now_ms: 0,
            next_id: 0,
            replies: HashMap::new(),
            refusals: vec![],
            closed: vec![],
            verify_secs: 0.0,
            waiting: vec![],
        }
    }

    /// The machine (read-only).
    pub fn machine(&self) -> &RoundMachine<SimUpdate> {
        &self.machine
    }

    /// Advances the virtual clock to `now_ms` (closing a round whose
    /// deadline passed, opening the next).
    pub fn tick(&mut self, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
        self.apply(Event::Tick { now_ms: self.now_ms });
    }

    /// Closes `round` by letting its deadline pass, if it is still open.
    pub fn pass_deadline(&mut self, round: u64) {
        if let Some(r) = self.machine.open_round().filter(|r| r.id == round) {
            let deadline = r.deadline_ms;
            self.tick(deadline);
        }
    }

    /// Sends a request over the in-memory wire and returns the answer.
    pub fn request(&mut self, peer: &PeerKey, req: Request) -> Result<(Response, usize), SimError> {
        let (req, bytes) = self.wire.request(req)?;
        let id = self.next_id;
        self.next_id += 1;
        self.apply(Event::Request { peer: peer.clone(), id, request: req, now_ms: self.now_ms });
        self.verify_waiting();
        let res = self.replies.remove(&id).ok_or_else(|| SimError::Protocol(format!("request {id} was not answered")))?;
        Ok((self.wire.response(res)?, bytes))
    }

    /// Submits a round's updates, each over the in-memory wire, and returns
    /// the answers in order. Their proofs are verified together, as the
    /// coordinator verifies submissions that wait at once.
    pub fn submit_all(&mut self, submissions: Vec<(PeerKey, Submission)>) -> Result<Vec<Response>, SimError> {
        let mut ids = Vec::with_capacity(submissions.len());
        for (peer, sub) in submissions {
            let (req, _) = self.wire.request(Request::Submit(sub))?;
            let id = self.next_id;
            self.next_id += 1;
            self.apply(Event::Request { peer, id, request: req, now_ms: self.now_ms });
            ids.push(id);
        }
        self.verify_waiting();
        ids.into_iter()
            .map(|id| {
                let res = self.replies.remove(&id).ok_or_else(|| SimError::Protocol(format!("request {id} was not answered")))?;
                self.wire.response(res)
            })
            .collect()
    }

    /// Verifies what waits, together, and feeds the results to the machine.
    fn verify_waiting(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let t = Instant::now();
        let waiting = std::mem::take(&mut self.waiting);
        let results = self.verify(&waiting);
        self.verify_secs += t.elapsed().as_secs_f64();
        for ((id, peer, _, submission), result) in waiting.into_iter().zip(results) {
            self.apply(Event::Verified { peer, id, submission, result, now_ms: self.now_ms });
        }
    }

    /// One result per waiting verification, in order.
    fn verify(&self, waiting: &[(ReqId, PeerKey, ClaimedStatement, Submission)]) -> Vec<Result<SimUpdate, String>> {
        let Some(v) = &self.verifier else {
            return waiting
                .iter()
                .map(|(_, _, _, sub)| {
                    sub.model
                        .validate(&self.layout)
                        .map(|()| SimUpdate::Unverified { samples: sub.samples, model: sub.model.clone() })
                        .map_err(|e| e.to_string())
                })
                .collect();
        };
        let statements: Vec<Result<TrainingStatement, CircuitError>> = waiting
            .iter()
            .map(|(_, peer, claim, _)| {
                v.commitments
                    .get(peer)
                    .ok_or_else(|| CircuitError::Rejected("no verified commitment".into()))
                    .and_then(|c| claim.clone().verified(c))
            })
            .collect();
        let submitted = statements
            .iter()
            .zip(waiting)
            .map(|(st, (_, _, _, sub))| {
                let st = st.as_ref().map_err(|e| e.to_string())?;
                Ok(Submitted { statement: st, model: &sub.model, samples: sub.samples, proof: &sub.proof })
            })
            .collect();
        verify_training_batch_where(&v.keys, submitted, |e| e.to_string()).into_iter().map(|r| r.map(SimUpdate::Verified)).collect()
    }

    /// Refusals, closed rounds and verification seconds since the last call.
    pub fn take_log(&mut self) -> (Vec<Refusal>, Vec<Closed>, f64) {
        (std::mem::take(&mut self.refusals), std::mem::take(&mut self.closed), std::mem::replace(&mut self.verify_secs, 0.0))
    }

    fn apply(&mut self, event: Event<SimUpdate>) {
        let mut events = VecDeque::from([event]);
        while let Some(ev) = events.pop_front() {
            for action in self.machine.on_event(ev) {
                if let Some(next) = self.execute(action) {
                    events.push_back(next);
                }
            }
        }
    }

    /// Executes one action; verification answers with the next event.
    fn execute(&mut self, action: Action<SimUpdate>) -> Option<Event<SimUpdate>> {
        match action {
            Action::Reply { id, response } => {
                self.replies.insert(id, response);
            }
            Action::Verify { id, peer, statement, submission } => {
                // done together once every submission of the call is in
                self.waiting.push((id, peer, statement, submission));
            }
            Action::StoreRejected { peer, code, reason, .. } => self.refusals.push(Refusal { peer, code, reason }),
            Action::Closed { round, aggregated, model } => self.closed.push(Closed { round, aggregated, model }),
            // nothing to persist in a simulation
            Action::StoreAccepted { .. } | Action::Opened { .. } => {}
        }
        None
    }
}
