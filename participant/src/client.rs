//! A participant's round logic as a state machine: events in, actions out,
//! no I/O (the twin of the coordinator's `RoundMachine`). The daemon drives
//! it over libp2p, the simulation in process; both execute its actions in
//! order.
//!
//! Per round: poll; check an announced round (the agreed spec, the global
//! model against its digest) and build the statement to prove; once proven,
//! submit; on the answer, persist the round as done before reporting it, so
//! a restart never proves a round twice. Requests are retried with a
//! doubling backoff while the coordinator is unreachable or busy. It logs
//! nothing: its drivers log what they do.

use candor_core::statement::{ClaimedStatement, DataCommitment, Digest};
use candor_core::{Model, TrainSpec};
use candor_protocols::{bounded_reason, RejectCode, Request, Response, RoundAnnouncement, Submission};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a round ended for this participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the coordinator.
    Accepted(u64),
    /// Refused; the code and reason the coordinator gave.
    Rejected(u64, RejectCode, String),
    /// Training or proving failed here, so nothing was submitted.
    Failed(u64, String),
}

/// Computes a global model's digest (Poseidon, from the training keys).
pub type ModelDigest = Arc<dyn Fn(&Model) -> Digest + Send + Sync>;

/// What the machine is set up with.
pub struct ClientSetup {
    /// The federation (its coordinator's PeerId bytes).
    pub federation: Vec<u8>,
    /// This participant's identity (its PeerId bytes).
    pub participant: Vec<u8>,
    /// Its registered data commitment.
    pub commitment: DataCommitment,
    /// The training spec this participant agreed to.
    pub spec: TrainSpec,
    /// Digest of an announced global model.
    pub digest: ModelDigest,
    /// Stop after completing this round.
    pub stop_after: Option<u64>,
    /// First retry delay; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
}

/// What happened.
#[derive(Debug)]
pub enum Event {
    /// Time passed: the machine may dial or send.
    Tick,
    /// The connection to the coordinator is up.
    Connected,
    /// The last connection to the coordinator closed.
    Disconnected,
    /// The outstanding request failed (timed out, or its stream broke).
    RequestFailed,
    /// The coordinator answered the outstanding request.
    Response(Response),
    /// Proving the round the machine asked for ended.
    Proved(Result<Submission, String>),
}

/// What the driver must do, in order.
#[derive(Debug)]
pub enum Action {
    /// Dial the coordinator.
    Dial,
    /// Send a request to the coordinator.
    Send(Request),
    /// Train and prove this statement, then report [`Event::Proved`].
    Prove(ClaimedStatement),
    /// Delete the proving checkpoint (it holds the witness). Best effort
    /// after a failed proof (the failure is reported either way); otherwise
    /// a failure to delete it stops the daemon.
    DiscardCheckpoint {
        /// Log a failure instead of stopping.
        best_effort: bool,
    },
    /// Durably record that every round up to this one is done.
    Persist(u64),
    /// Report a round's outcome.
    Outcome(Outcome),
    /// The coordinator's round cannot be worked on here (another spec, a
    /// model that does not match its digest): stop with this error.
    Fatal(String),
}

enum Want {
    Poll,
    Submit(Submission),
}

/// The participant's state machine.
pub struct ClientMachine {
    setup: ClientSetup,
    done: Option<u64>,
    want: Want,
    outstanding: bool,
    proving: Option<u64>,
    connected: bool,
    // whether the coordinator answered on the current connection: one closed
    // before any answer is how a coordinator refuses an unknown peer
    answered: bool,
    backoff: Duration,
    retry_at: Instant,
    // when the outstanding (or last) request was sent
    sent_at: Instant,
}

/// A `NoRound` answered sooner than this is not a long poll that timed out
/// but a coordinator with no round to come (every round run, or its queue
/// of waiting polls full): the next poll backs off instead of following at
/// once, which would spin against its rate limit.
const QUICK_ANSWER: Duration = Duration::from_secs(1);

impl ClientMachine {
    /// Starts with `done` the last round completed before (from the state
    /// file).
    pub fn new(setup: ClientSetup, done: Option<u64>, now: Instant) -> Self {
        let backoff = setup.min_backoff;
        Self {
            setup,
            done,
            want: Want::Poll,
            outstanding: false,
            proving: None,
            connected: false,
            answered: false,
            backoff,
            retry_at: now,
            sent_at: now,
        }
    }

    /// The last round completed.
    pub fn done(&self) -> Option<u64> {
        self.done
    }

    /// Whether the coordinator has answered on the current connection (one
    /// closed before any answer is how a coordinator refuses an unknown
    /// peer).
    pub fn answered(&self) -> bool {
        self.answered
    }

    /// Whether the round to stop after is done.
    pub fn finished(&self) -> bool {
        self.setup.stop_after.is_some_and(|r| self.done.is_some_and(|d| d >= r))
    }

    /// When the machine next wants a [`Event::Tick`].
    pub fn wake_at(&self) -> Instant {
        self.retry_at
    }

    /// The statement to prove for an announced round, if this participant
    /// can take part: the spec it agreed to and a global model matching its
    /// digest.
    pub fn statement_for(&self, ann: &RoundAnnouncement) -> Result<ClaimedStatement, String> {
        if ann.spec != self.setup.spec {
            return Err(format!("round {} uses another training spec than this participant's: {:?}", ann.round, ann.spec));
        }
        if (self.setup.digest)(&ann.global).0 != ann.global_digest {
            return Err(format!("round {}: the announced global model does not match its digest", ann.round));
        }
        Ok(ClaimedStatement {
            federation: self.setup.federation.clone(),
            round: ann.round,
            participant: self.setup.participant.clone(),
            data: self.setup.commitment,
            global: ann.global.clone(),
        })
    }

    /// Handles one event.
    pub fn handle(&mut self, now: Instant, event: Event) -> Vec<Action> {
        let mut out = vec![];
        match event {
            Event::Tick => self.tick(now, &mut out),
            Event::Connected => {
                self.connected = true;
                self.answered = false;
                self.backoff = self.setup.min_backoff;
                self.retry_at = now;
            }
            Event::Disconnected => {
                self.connected = false;
                self.outstanding = false;
            }
            Event::RequestFailed => {
                self.outstanding = false;
                self.back_off(now);
            }
            Event::Response(response) => {
                self.outstanding = false;
                self.answered = true;
                // Busy, or no round to come: wait, doubling, as for a lost
                // request; any other answer is progress
                let quick = now.saturating_duration_since(self.sent_at) < QUICK_ANSWER;
                match &response {
                    Response::Rejected { code: RejectCode::Busy, .. } => self.back_off(now),
                    Response::NoRound if quick => self.back_off(now),
                    _ => self.backoff = self.setup.min_backoff,
                }
                self.respond(now, response, &mut out);
            }
            Event::Proved(result) => {
                let round = self.proving.take().unwrap_or_default();
                match result {
                    Ok(sub) => self.want = Want::Submit(sub),
                    Err(e) => {
                        // nothing to submit: skip this round (its witness
                        // must not stay on disk), wait for the next
                        out.push(Action::DiscardCheckpoint { best_effort: true });
                        out.push(Action::Outcome(Outcome::Failed(round, e)));
                        self.done = Some(round.max(self.done.unwrap_or(0)));
                        self.want = Want::Poll;
                    }
                }
            }
        }
        out
    }

    fn tick(&mut self, now: Instant, out: &mut Vec<Action>) {
        if !self.connected && now >= self.retry_at {
            out.push(Action::Dial);
            self.back_off(now);
        }
        if self.connected && !self.outstanding && self.proving.is_none() && now >= self.retry_at {
            out.push(Action::Send(match &self.want {
                Want::Poll => Request::Poll { after: self.done },
                Want::Submit(s) => Request::Submit(s.clone()),
            }));
            self.outstanding = true;
            self.sent_at = now;
        }
    }

    fn back_off(&mut self, now: Instant) {
        self.retry_at = now + self.backoff;
        self.backoff = (self.backoff * 2).min(self.setup.max_backoff);
    }

    fn respond(&mut self, now: Instant, response: Response, out: &mut Vec<Action>) {
        match response {
            Response::Round(ann) if self.done.is_none_or(|d| ann.round > d) => {
                self.want = Want::Poll;
                match self.statement_for(&ann) {
                    Ok(statement) => {
                        self.proving = Some(ann.round);
                        out.push(Action::Prove(statement));
                    }
                    Err(e) => out.push(Action::Fatal(e)),
                }
            }
            // no round newer than ours is open: any checkpoint is of one
            // that is over
            Response::NoRound => {
                out.push(Action::DiscardCheckpoint { best_effort: false });
                self.want = Want::Poll;
            }
            Response::Round(_) | Response::Status(_) => self.want = Want::Poll,
            Response::Accepted { round } => {
                self.finish(round, Outcome::Accepted(round), out);
                self.want = Want::Poll;
            }
            // waits out the backoff `handle` set
            Response::Rejected { code: RejectCode::Busy, .. } => {}
            Response::Rejected { code, reason } => {
                // the coordinator bounds its reasons; so do we, whoever answers
                let reason = bounded_reason(&reason);
                let round = match &self.want {
                    Want::Submit(s) => s.round,
                    Want::Poll => self.done.unwrap_or(0),
                };
                if code == RejectCode::Duplicate {
                    // accepted before a crash of ours: the round is done
                    self.finish(round, Outcome::Accepted(round), out);
                } else {
                    out.push(Action::Outcome(Outcome::Rejected(round, code, reason)));
                    if matches!(self.want, Want::Submit(_)) {
                        self.done = Some(round.max(self.done.unwrap_or(0)));
                    }
                    self.retry_at = now + self.setup.min_backoff;
                }
                self.want = Want::Poll;
            }
        }
    }

    /// The round is over: persisted before it is reported; its checkpoint
    /// (deleted by compression) is deleted in case a proof failed after one.
    fn finish(&mut self, round: u64, outcome: Outcome, out: &mut Vec<Action>) {
        self.done = Some(round.max(self.done.unwrap_or(0)));
        out.push(Action::Persist(round));
        out.push(Action::DiscardCheckpoint { best_effort: false });
        out.push(Action::Outcome(outcome));
    }
}

#[cfg(test)]
mod tests;
