//! What the status page, its JSON API and the simulation's HTML report
//! show: plain data, filled from a running coordinator ([`super::board`]) or
//! from a finished simulation, and rendered by one template
//! ([`super::page`]).

use candor_core::{Model, ModelSpec, Task, TrainSpec};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Refusals listed per round (and outside rounds); more are only counted,
/// so that a peer sending refused requests cannot grow the page.
pub const MAX_LISTED_REFUSALS: usize = 100;

/// Everything the page shows.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StatusView {
    /// Where it comes from: `"coordinator"` (live) or `"simulation"`.
    pub source: String,
    /// When it was made, ms since the Unix epoch.
    pub generated_ms: u64,
    /// What the consortium agreed on.
    pub federation: FederationView,
    /// The round open now, if any.
    pub current: Option<CurrentRound>,
    /// Rounds closed.
    pub completed_rounds: u64,
    /// Whether every planned round has closed.
    pub finished: bool,
    /// Admitted participants.
    pub participants: Vec<ParticipantView>,
    /// Every round, oldest first; shared between snapshots, so that
    /// publishing one copies pointers, not rounds.
    pub rounds: Vec<Arc<RoundView>>,
    /// Refusals of requests that named no round (newest last, at most
    /// [`MAX_LISTED_REFUSALS`]).
    pub refusals_outside_rounds: Vec<RefusedView>,
    /// The last recorded audit of the federation's history.
    pub audit: Option<AuditView>,
    /// Refusals kept with their reasons per participant and round; later
    /// ones are counted only (0: no such cap, as in a simulation).
    #[serde(default)]
    pub kept_refusals: u64,
}

/// The federation's terms.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FederationView {
    /// The study's name (its file stem, or the simulation's).
    pub study: String,
    /// The federation's identifier (the coordinator's PeerId).
    pub id: String,
    /// The model, in words, e.g. `MLP 64-16-10, softmax`.
    pub architecture: String,
    /// The fixed-point format, e.g. `Q3.9`.
    pub format: String,
    /// The training spec as agreed.
    pub spec: Option<TrainSpec>,
    /// Digest of the training circuit's public parameters (empty when
    /// proofs are off).
    pub params_digest: String,
    /// Aggregation strategy.
    pub strategy: String,
    /// Rounds planned.
    pub rounds: u64,
    /// Accepted updates that close a round early.
    pub quorum: u32,
    /// Whether updates are proven and verified.
    pub proofs: bool,
}

/// The open round.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CurrentRound {
    /// Its id.
    pub round: u64,
    /// When it opened, ms since the Unix epoch.
    pub opened_ms: u64,
    /// When it closes at the latest.
    pub deadline_ms: u64,
    /// Updates accepted so far.
    pub accepted: u32,
    /// Accepted updates that close it.
    pub quorum: u32,
}

/// An admitted participant.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ParticipantView {
    /// Its registered name.
    pub name: String,
    /// Its PeerId.
    pub peer_id: String,
    /// Rows it committed to.
    pub rows: u64,
    /// Whether it is connected now.
    pub connected: bool,
    /// Its last request, ms since the Unix epoch (since this coordinator
    /// started).
    pub last_seen_ms: Option<u64>,
    /// Whether it has an accepted update in the open round.
    pub submitted: bool,
}

/// A round.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RoundView {
    /// Its id.
    pub round: u64,
    /// Whether it has closed.
    pub closed: bool,
    /// Its deadline, ms since the Unix epoch.
    pub deadline_ms: u64,
    /// When it closed, ms since the Unix epoch (unknown for rounds closed
    /// before this coordinator started).
    pub closed_ms: Option<u64>,
    /// Accepted updates, by participant.
    pub accepted: Vec<AcceptedView>,
    /// Refused updates and requests with their reasons (the last
    /// [`MAX_LISTED_REFUSALS`]).
    pub refused: Vec<RefusedView>,
    /// All refusals of this round, listed or not.
    pub refused_total: u64,
    /// The new global model on the held-out data, once closed (when the
    /// coordinator has held-out data).
    pub test: Option<TestMetrics>,
    /// Digest of the round's resulting global model, once closed.
    pub model_digest: Option<String>,
    /// The resulting global model, for download; not in the JSON.
    #[serde(skip)]
    pub model: Option<Arc<Model>>,
}

/// An accepted update.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AcceptedView {
    /// Sender's name.
    pub participant: String,
    /// Proven sample count (its FedAvg weight).
    pub samples: u64,
    /// Seconds the verification batch holding it took (unknown for updates
    /// verified again after a restart).
    pub verify_secs: Option<f64>,
    /// Whether it went into the round's aggregate (known once closed).
    pub aggregated: bool,
}

/// A refusal.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RefusedView {
    /// Sender's name (its PeerId if not admitted).
    pub participant: String,
    /// Reason code, e.g. `InvalidProof`.
    pub code: String,
    /// The reason, as the sender was told.
    pub reason: String,
}

/// Held-out metrics of a global model.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TestMetrics {
    /// Fraction classified correctly (classification only).
    pub accuracy: Option<f64>,
    /// Log-loss (classification) or mean squared error (regression).
    pub loss: f64,
}

/// A recorded audit.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AuditView {
    /// When it ran, ms since the Unix epoch.
    pub at_ms: u64,
    /// Whether the history checked out.
    pub passed: bool,
    /// Rounds checked.
    pub rounds: u64,
    /// Proofs re-verified.
    pub proofs: u64,
    /// Every discrepancy found.
    pub problems: Vec<String>,
}

/// A model in words: `logistic regression, 30 features`, `MLP 64-16-10,
/// softmax`.
pub fn architecture(m: &ModelSpec) -> String {
    let head = match m.task {
        Task::Logistic => "logistic",
        Task::Linear => "linear",
        Task::Softmax => "softmax",
    };
    match (m.hidden, m.task) {
        (0, Task::Softmax) => format!("multinomial logistic regression, {} features, {} classes", m.features, m.classes),
        (0, _) => format!("{head} regression, {} features", m.features),
        (h, Task::Softmax) => format!("MLP {}-{h}-{}, {head}", m.features, m.classes),
        (h, _) => format!("MLP {}-{h}-1, {head}", m.features),
    }
}

impl RoundView {
    /// Records a refusal, listing it while there is room.
    pub fn refuse(&mut self, r: RefusedView) {
        self.refused_total += 1;
        push_bounded(&mut self.refused, r);
    }
}

/// Appends `r`, dropping the oldest beyond [`MAX_LISTED_REFUSALS`].
pub fn push_bounded(list: &mut Vec<RefusedView>, r: RefusedView) {
    if list.len() == MAX_LISTED_REFUSALS {
        list.remove(0);
    }
    list.push(r);
}
