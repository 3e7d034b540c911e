//! The live [`StatusView`] of a running coordinator. The event loop owns the
//! board and tells it what happened (no I/O here); at most every tick it
//! publishes a snapshot on a `watch` channel. The HTTP server only ever
//! clones the latest snapshot's `Arc`, so however hard it is asked, it never
//! holds anything the event loop waits for.

use super::view::{
    push_bounded, AcceptedView, CurrentRound, FederationView, ParticipantView, RefusedView, RoundView, StatusView, TestMetrics,
    MAX_LISTED_REFUSALS,
};
use crate::round::PeerKey;
use crate::store::{Store, StoredRound};
use crate::CoordinatorError;
use candor_core::Model;
use libp2p::PeerId;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::watch;

/// What the coordinator stores with each closed round besides its model
/// (`rounds.metrics`, JSON).
#[derive(Debug, Default, Deserialize)]
pub struct StoredMetrics {
    /// The new global model on the held-out data.
    #[serde(default)]
    pub test: Option<TestMetrics>,
    /// Seconds each accepted update's verification batch took, by name.
    #[serde(default)]
    pub verify_secs: BTreeMap<String, f64>,
}

impl StoredMetrics {
    /// Reads what it can: a part that does not parse (a non-finite loss is
    /// stored as JSON null) is left out, not the rest.
    pub fn parse(json: &str) -> Self {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else { return Self::default() };
        Self {
            test: v.get("test").and_then(|t| serde_json::from_value(t.clone()).ok()),
            verify_secs: v.get("verify_secs").and_then(|t| serde_json::from_value(t.clone()).ok()).unwrap_or_default(),
        }
    }
}

/// The live status, and the channel it is published on.
pub struct Board {
    view: StatusView,
    /// Index into `view.participants` by PeerId bytes.
    index: BTreeMap<PeerKey, usize>,
    names: BTreeMap<PeerKey, String>,
    round_ms: u64,
    dirty: bool,
    tx: watch::Sender<Arc<StatusView>>,
}

impl Board {
    /// The board of a federation whose history is in `store`: every round
    /// (`rounds`, as the coordinator read them from `store` at start) with
    /// its accepted updates, refusals and metrics. `participants` gives each
    /// admitted participant's name and committed rows; `digest` names a
    /// model as the proofs do.
    pub fn load(
        federation: FederationView,
        participants: &BTreeMap<PeerKey, (String, u64)>,
        round_ms: u64,
        store: &Store,
        rounds: &[StoredRound],
        digest: impl Fn(&Model) -> String,
    ) -> Result<Self, CoordinatorError> {
        let names: BTreeMap<PeerKey, String> = participants.iter().map(|(k, (n, _))| (k.clone(), n.clone())).collect();
        let view_participants: Vec<ParticipantView> = participants
            .iter()
            .map(|(k, (name, rows))| ParticipantView { name: name.clone(), peer_id: peer_string(k), rows: *rows, ..Default::default() })
            .collect();
        let index = participants.keys().cloned().zip(0..).collect();
        let metrics = store.round_metrics()?;
        let mut views = vec![];
        for r in rounds {
            let stored = metrics.get(&r.id).map(|m| StoredMetrics::parse(m)).unwrap_or_default();
            let name = |p: &PeerKey| names.get(p).cloned().unwrap_or_else(|| peer_string(p));
            // (peer, samples, aggregated): the proofs stay on disk
            let accepted = store
                .accepted_summary(r.id)?
                .into_iter()
                .map(|(peer, samples, aggregated)| {
                    let participant = name(&peer);
                    AcceptedView { verify_secs: stored.verify_secs.get(&participant).copied(), participant, samples, aggregated }
                })
                .collect();
            let closed = r.result.is_some();
            views.push(Arc::new(RoundView {
                round: r.id,
                closed,
                deadline_ms: r.deadline_ms,
                accepted,
                test: stored.test,
                model_digest: r.result.as_ref().map(&digest),
                model: r.result.clone().map(Arc::new),
                ..Default::default()
            }));
        }
        let mut board = Self {
            view: StatusView {
                source: "coordinator".into(),
                federation,
                participants: view_participants,
                rounds: views,
                kept_refusals: crate::store::MAX_KEPT_REFUSALS,
                ..Default::default()
            },
            index,
            names,
            round_ms,
            dirty: true,
            tx: watch::channel(Arc::new(StatusView::default())).0,
        };
        // the last refusals of each round (and their counts): a peer's
        // refused requests can be many
        let (recent, counts) = store.recent_rejections(MAX_LISTED_REFUSALS)?;
        for (round, peer, code, reason) in recent {
            board.refused(round, &peer, &code, &reason);
        }
        for (round, total) in counts {
            if let Some(r) = board.round(round) {
                r.refused_total = total;
            }
        }
        if let Some(open) = board.view.rounds.iter().find(|r| !r.closed) {
            let (round, deadline_ms, accepted) = (open.round, open.deadline_ms, open.accepted.len() as u32);
            board.view.current = Some(CurrentRound {
                round,
                opened_ms: deadline_ms.saturating_sub(round_ms),
                deadline_ms,
                accepted,
                quorum: board.view.federation.quorum,
            });
            board.mark_submitted(round);
        }
        board.view.completed_rounds = board.view.rounds.iter().filter(|r| r.closed).count() as u64;
        board.view.finished = board.view.completed_rounds >= board.view.federation.rounds;
        Ok(board)
    }

    /// A receiver of the snapshots [`publish`](Self::publish) sends.
    pub fn subscribe(&self) -> watch::Receiver<Arc<StatusView>> {
        self.tx.subscribe()
    }

    /// The status as it stands (for tests and the node).
    pub fn view(&self) -> &StatusView {
        &self.view
    }

    /// A peer's registered name, or its PeerId.
    pub fn name(&self, peer: &[u8]) -> String {
        self.names.get(peer).cloned().unwrap_or_else(|| peer_string(peer))
    }

    fn participant(&mut self, peer: &[u8]) -> Option<&mut ParticipantView> {
        let i = *self.index.get(peer)?;
        self.view.participants.get_mut(i)
    }

    /// Index of a round in `view.rounds`. Rounds are stored in order and
    /// ids are consecutive from 1, but a search keeps this right whatever
    /// the ids are (newest first: the open round is the one asked for).
    fn position(&self, round: u64) -> Option<usize> {
        self.view.rounds.iter().rposition(|r| r.round == round)
    }

    /// A round to change; copied first if a published snapshot shares it
    /// (in practice only the open round changes).
    fn round(&mut self, round: u64) -> Option<&mut RoundView> {
        let i = self.position(round)?;
        Some(Arc::make_mut(&mut self.view.rounds[i]))
    }

    /// An admitted peer made a request at `now_ms`.
    pub fn seen(&mut self, peer: &[u8], now_ms: u64) {
        if let Some(p) = self.participant(peer) {
            p.last_seen_ms = Some(now_ms);
            self.dirty = true;
        }
    }

    /// An admitted peer has `connections` connections open now.
    pub fn connections(&mut self, peer: &[u8], connections: u32) {
        if let Some(p) = self.participant(peer) {
            p.connected = connections > 0;
            self.dirty = true;
        }
    }

    /// Admitted participants connected now.
    pub fn participants_connected(&self) -> usize {
        self.view.participants.iter().filter(|p| p.connected).count()
    }

    /// A round opened.
    pub fn opened(&mut self, round: u64, deadline_ms: u64) {
        self.view.rounds.push(Arc::new(RoundView { round, deadline_ms, ..Default::default() }));
        let quorum = self.view.federation.quorum;
        self.view.current =
            Some(CurrentRound { round, opened_ms: deadline_ms.saturating_sub(self.round_ms), deadline_ms, accepted: 0, quorum });
        for p in &mut self.view.participants {
            p.submitted = false;
        }
        self.dirty = true;
    }

    /// An update was accepted (and stored).
    pub fn accepted(&mut self, round: u64, peer: &[u8], samples: u64, verify_secs: Option<f64>) {
        let participant = self.name(peer);
        if let Some(r) = self.round(round) {
            r.accepted.push(AcceptedView { participant, samples, verify_secs, aggregated: false });
        }
        if let Some(c) = self.view.current.as_mut().filter(|c| c.round == round) {
            c.accepted += 1;
        }
        self.mark_submitted(round);
        self.dirty = true;
    }

    /// A request was refused (and recorded).
    pub fn refused(&mut self, round: Option<u64>, peer: &[u8], code: &str, reason: &str) {
        let r = RefusedView { participant: self.name(peer), code: code.to_string(), reason: reason.to_string() };
        match round.and_then(|id| self.round(id)) {
            Some(view) => view.refuse(r),
            None => push_bounded(&mut self.view.refusals_outside_rounds, r),
        }
        self.dirty = true;
    }

    /// Seconds each accepted update of `round` took to verify, by name, as
    /// stored with the round.
    pub fn verify_secs(&self, round: u64) -> BTreeMap<String, f64> {
        let Some(r) = self.position(round).map(|i| &self.view.rounds[i]) else { return BTreeMap::new() };
        r.accepted.iter().filter_map(|a| Some((a.participant.clone(), a.verify_secs?))).collect()
    }

    /// A round closed with `model` (the unchanged global model when nothing
    /// was aggregated).
    pub fn closed(
        &mut self,
        round: u64,
        aggregated: &[PeerKey],
        model: Arc<Model>,
        digest: String,
        test: Option<TestMetrics>,
        now_ms: u64,
    ) {
        let names: Vec<String> = aggregated.iter().map(|p| self.name(p)).collect();
        if let Some(r) = self.round(round) {
            r.closed = true;
            r.closed_ms = Some(now_ms);
            r.test = test;
            r.model_digest = Some(digest);
            r.model = Some(model);
            for a in &mut r.accepted {
                a.aggregated = names.contains(&a.participant);
            }
        }
        if self.view.current.as_ref().is_some_and(|c| c.round == round) {
            self.view.current = None;
            for p in &mut self.view.participants {
                p.submitted = false;
            }
        }
        self.view.completed_rounds += 1;
        self.view.finished = self.view.completed_rounds >= self.view.federation.rounds;
        self.dirty = true;
    }

    fn mark_submitted(&mut self, round: u64) {
        let Some(r) = self.position(round).map(|i| &self.view.rounds[i]) else { return };
        let done: Vec<String> = r.accepted.iter().map(|a| a.participant.clone()).collect();
        for p in &mut self.view.participants {
            p.submitted = done.contains(&p.name);
        }
    }

    /// Publishes a snapshot if anything changed since the last one. The
    /// copy shares every round (and model) with the board; a round the board
    /// changes later is copied then ([`Arc::make_mut`]).
    pub fn publish(&mut self, now_ms: u64) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        self.view.generated_ms = now_ms;
        self.tx.send_replace(Arc::new(self.view.clone()));
    }
}

/// A PeerId's text form, or hex for bytes that are not one.
pub fn peer_string(peer: &[u8]) -> String {
    PeerId::from_bytes(peer).map_or_else(|_| hex::encode(peer), |p| p.to_string())
}
