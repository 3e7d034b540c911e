//! The coordinator daemon: one event loop owns the swarm, feeds the round
//! machine and executes its actions in order. Proofs are verified off the
//! loop, in batches ([`crate::verify_queue`]); the machine bounds how many
//! wait.

use crate::export::export;
use crate::round::{Action, Admitted, DigestFn, Event, OpenRound, PeerKey, Policy, Progress, ReqId, RoundMachine, Setup};
use crate::status::board::Board;
use crate::status::metrics::Metrics;
use crate::status::server::{self, App};
use crate::status::view::{architecture, FederationView, TestMetrics};
use crate::store::{RefusalRecord, Store, MAX_KEPT_REFUSALS};
use crate::strategy::StrategyConfig;
use crate::verify_queue::{self, Done, Job};
use crate::CoordinatorError;
use candor_circuits::batch::{verify_training_batch, Submitted};
use candor_circuits::engine::TrainKeys;
use candor_circuits::verifier::Claim;
use candor_circuits::verifier::{model_digest, Statement, VerifiedUpdate};
use candor_core::eval::TestSet;
use candor_core::Model;
use candor_core::TrainSpec;
use candor_protocols::health::{heartbeat_path, Heartbeat};
use candor_protocols::net::{admit, build_observed_swarm, Behaviour, BehaviourEvent, NetConfig};
use candor_protocols::{Limits, NetGauges, RejectCode, Response};
use futures::StreamExt;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::{identity::Keypair, Multiaddr, PeerId, Swarm};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// What the consortium agreed on.
#[derive(Clone, Debug)]
pub struct Federation {
    /// Training spec.
    pub spec: TrainSpec,
    /// Aggregation strategy.
    pub strategy: StrategyConfig,
    /// Model of the first round.
    pub initial: Model,
    /// Round timing and bounds.
    pub policy: Policy,
    /// Admitted participants by PeerId bytes, their commitments verified.
    pub participants: BTreeMap<PeerKey, Admitted>,
}

/// Where the daemon keeps things.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Address to listen on.
    pub listen: Multiaddr,
    /// Database file.
    pub db: PathBuf,
    /// Directory for the model after each round.
    pub export_dir: Option<PathBuf>,
    /// Network settings.
    pub net: NetConfig,
    /// Requests one peer may make per minute ([`request_quota`]).
    pub requests_per_minute: NonZeroU32,
    /// The status page and metrics, when served.
    pub status: Option<StatusConfig>,
}

/// Where and how the status page and metrics are served
/// ([`crate::status::server`]).
#[derive(Clone)]
pub struct StatusConfig {
    /// HTTP address.
    pub listen: SocketAddr,
    /// Token every request must carry; required off loopback (the config
    /// refuses otherwise).
    pub token: Option<String>,
    /// The study's name, for the page.
    pub study: String,
}

/// The default of [`NodeConfig::requests_per_minute`]: an honest daemon
/// makes one long poll per poll timeout and one submission per round, and
/// retries a busy coordinator with backoff; two a second is far above that.
pub const DEFAULT_REQUESTS_PER_MINUTE: NonZeroU32 = NonZeroU32::new(120).expect("non-zero");

/// `per_minute` requests a minute, in bursts of up to a quarter of them (a
/// reconnecting daemon's poll and resubmission come at once).
pub fn request_quota(per_minute: NonZeroU32) -> Quota {
    let burst = NonZeroU32::new(per_minute.get() / 4).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

impl std::fmt::Debug for StatusConfig {
    // the token stays out of logs
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusConfig")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("study", &self.study)
            .finish()
    }
}

/// The coordinator daemon.
pub struct Coordinator {
    swarm: Swarm<Behaviour>,
    machine: RoundMachine<VerifiedUpdate>,
    store: Store,
    keys: Arc<TrainKeys>,
    admitted: BTreeMap<PeerKey, Admitted>,
    pending: HashMap<ReqId, ResponseChannel<Response>>,
    next_id: ReqId,
    jobs_tx: mpsc::Sender<Job>,
    /// Taken by `run`, which starts the verifier with it.
    jobs_rx: Option<mpsc::Receiver<Job>>,
    done_tx: mpsc::Sender<Done>,
    done_rx: mpsc::Receiver<Done>,
    export_dir: Option<PathBuf>,
    eval: Option<TestSet>,
    exit_when_finished: bool,
    gauges: Arc<NetGauges>,
    /// Requests per peer; those over it are answered `Busy` at once, without
    /// reaching the round machine.
    limiter: DefaultKeyedRateLimiter<PeerId>,
    requests_per_minute: NonZeroU32,
    /// Admitted peers refused for their rate, with their last refusal, so
    /// that each is logged once per episode.
    limited: HashMap<PeerId, std::time::Instant>,
    /// The live status the HTTP server shows.
    board: Board,
    metrics: Arc<Metrics>,
    /// The status server's socket and token, taken by `run`.
    status: Option<(std::net::TcpListener, Option<String>)>,
    status_addr: Option<SocketAddr>,
    db: PathBuf,
    /// `DB.health`, for `candor-coordinator health`.
    heartbeat: Heartbeat,
    /// How long the verification batch of the update being applied took.
    verify_secs: Option<f64>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Coordinator {
    /// Opens (or resumes) the federation in `cfg.db` and starts listening.
    /// Accepted updates of a round left open by a crash are re-verified.
    /// Refused while another coordinator holds the database or listens on
    /// the address ([`CoordinatorError::InUse`]).
    pub fn new(
        key: Keypair,
        fed: Federation,
        keys: Arc<TrainKeys>,
        cfg: NodeConfig,
        eval: Option<TestSet>,
    ) -> Result<Self, CoordinatorError> {
        // before the database is touched (and again right before binding)
        check_address_free(&cfg.listen)?;
        // the federation every proof names: this coordinator's identity
        let federation = key.public().to_peer_id().to_bytes();
        // a submitted model is decoded only if it can be this study's
        let mut net = cfg.net;
        net.limits.max_request_entries.get_or_insert(Limits::entries_for_params(fed.initial.params().len()));
        let mut store = Store::open_exclusive(&cfg.db)?;
        store.init(&fed.spec, fed.strategy, &fed.initial, &fed.participants, &federation)?;
        let rounds = store.rounds()?;
        let completed = rounds.iter().filter(|r| r.result.is_some()).map(|r| r.id).max().unwrap_or(0);
        let global = rounds.iter().rev().find_map(|r| r.result.clone()).unwrap_or_else(|| fed.initial.clone());
        let mut open = None;
        if let Some(r) = rounds.iter().find(|r| r.result.is_none()) {
            // the open round's stored updates, verified again (together)
            let subs = store.submissions(r.id)?;
            let mut statements = Vec::with_capacity(subs.len());
            for s in &subs {
                let p = fed.participants.get(&s.peer).ok_or_else(|| CoordinatorError::Corrupt("update of an unknown peer".into()))?;
                statements.push(Statement {
                    federation: federation.clone(),
                    round: r.id,
                    participant: s.peer.clone(),
                    data: p.commitment,
                    global: r.global.clone(),
                });
            }
            let submitted: Vec<Submitted<'_>> = subs
                .iter()
                .zip(&statements)
                .map(|(s, st)| Submitted { statement: st, model: &s.model, samples: s.samples, proof: &s.proof })
                .collect();
            let mut accepted = BTreeMap::new();
            for (s, v) in subs.iter().zip(verify_training_batch(&keys, &submitted)) {
                let v = v.map_err(|e| {
                    CoordinatorError::Corrupt(format!(
                        "stored update of {} fails verification: {e}; run audit",
                        fed.participants[&s.peer].name
                    ))
                })?;
                accepted.insert(s.peer.clone(), v);
            }
            tracing::info!(round = r.id, accepted = accepted.len(), "resuming open round");
            open = Some(OpenRound::stored(r.id, r.global.clone(), r.deadline_ms, accepted));
        }
        let federation_view = FederationView {
            study: cfg.status.as_ref().map(|s| s.study.clone()).unwrap_or_default(),
            id: key.public().to_peer_id().to_string(),
            architecture: architecture(&fed.spec.model),
            format: fed.spec.format.to_string(),
            spec: Some(fed.spec.clone()),
            params_digest: keys.digest_hex(),
            strategy: fed.strategy.build()?.name().to_string(),
            rounds: fed.policy.rounds,
            quorum: fed.policy.quorum,
            proofs: true,
        };
        let rows = fed.participants.iter().map(|(k, a)| (k.clone(), (a.name.clone(), a.commitment.commitment().rows))).collect();
        let board = Board::load(federation_view, &rows, fed.policy.round_ms, &store, &rounds, |m| model_digest(&keys, m).to_string())?;
        let status = match &cfg.status {
            Some(s) => Some((server::bind(s.listen)?, s.token.clone())),
            None => None,
        };
        let status_addr = status.as_ref().and_then(|(l, _)| l.local_addr().ok());
        let k = keys.clone();
        let digest: DigestFn = Arc::new(move |m: &Model| model_digest(&k, m).0);
        let admitted: Vec<PeerId> = fed.participants.keys().filter_map(|p| PeerId::from_bytes(p).ok()).collect();
        let max_verifying = fed.policy.max_verifying.max(1);
        let participants = fed.participants.iter().map(|(k, a)| (k.clone(), a.participant())).collect();
        let setup = Setup { spec: fed.spec, policy: fed.policy, participants, strategy: fed.strategy.build()?, digest };
        let machine = RoundMachine::resume(setup, Progress { completed, global, open }).with_federation(federation);
        let (swarm, gauges) = listen(key, net, &admitted, &cfg.listen)?;
        let (done_tx, done_rx) = mpsc::channel(max_verifying);
        let (jobs_tx, jobs_rx) = mpsc::channel(max_verifying);
        Ok(Self {
            swarm,
            machine,
            store,
            keys,
            admitted: fed.participants,
            pending: HashMap::new(),
            next_id: 0,
            jobs_tx,
            jobs_rx: Some(jobs_rx),
            done_tx,
            done_rx,
            export_dir: cfg.export_dir,
            eval,
            exit_when_finished: false,
            gauges,
            limiter: RateLimiter::keyed(request_quota(cfg.requests_per_minute)),
            requests_per_minute: cfg.requests_per_minute,
            limited: HashMap::new(),
            board,
            metrics: Arc::new(Metrics::default()),
            status,
            status_addr,
            heartbeat: Heartbeat::new(heartbeat_path(&cfg.db)),
            db: cfg.db,
            verify_secs: None,
        })
    }

    /// Live counts of reads in flight and connections, for tests and metrics.
    pub fn gauges(&self) -> Arc<NetGauges> {
        self.gauges.clone()
    }

    /// The status server's address, when it serves one.
    pub fn status_addr(&self) -> Option<SocketAddr> {
        self.status_addr
    }

    /// This node's PeerId.
    pub fn peer_id(&self) -> PeerId {
        *self.swarm.local_peer_id()
    }

    /// Waits for the first listen address (with `/p2p/<id>` appended).
    pub async fn listening(&mut self) -> Multiaddr {
        loop {
            if let SwarmEvent::NewListenAddr { address, .. } = self.swarm.select_next_some().await {
                return address.with(libp2p::multiaddr::Protocol::P2p(self.peer_id()));
            }
        }
    }

    /// Makes [`run`](Self::run) return once every round has run.
    pub fn exit_when_finished(mut self) -> Self {
        self.exit_when_finished = true;
        self
    }

    /// Whether every round has run.
    pub fn finished(&self) -> bool {
        self.machine.finished()
    }

    /// Runs until `shutdown` resolves or a write of the federation's record
    /// fails: an acceptance, an opened or a closed round. Then it returns the
    /// error before anything unstored is acknowledged (the acceptance's reply
    /// comes after its write), since the round machine would otherwise run
    /// ahead of the store it resumes from. Every value those writes carry is
    /// the coordinator's own (round ids it opened, proven sample counts), so
    /// no request can make them fail; a failing disk can. A failed write of a
    /// rejection is logged and the coordinator keeps serving.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) -> Result<(), CoordinatorError> {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tokio::pin!(shutdown);
        if let Some(jobs) = self.jobs_rx.take() {
            tokio::spawn(verify_queue::run(self.keys.clone(), jobs, self.done_tx.clone(), self.metrics.clone()));
        }
        // the server stops when this returns (the sender is dropped)
        let (_stop_status, stopped) = tokio::sync::oneshot::channel::<()>();
        if let Some((listener, token)) = self.status.take() {
            self.board.publish(now_ms());
            let app = App {
                view: self.board.subscribe(),
                metrics: self.metrics.clone(),
                db: self.db.clone(),
                format: self.keys.layout.spec.format,
                token: token.map(Into::into),
            };
            let addr = self.status_addr;
            tokio::spawn(async move {
                if let Err(e) = server::serve(listener, app, async {
                    let _ = stopped.await;
                })
                .await
                {
                    tracing::error!(error = %e, ?addr, "the status server stopped");
                }
            });
            tracing::info!(?addr, "serving the status page and metrics");
        }
        loop {
            tokio::select! {
                ev = self.swarm.select_next_some() => self.on_swarm(ev)?,
                Some(d) = self.done_rx.recv() => {
                    self.verify_secs = d.secs;
                    let applied = self.apply(Event::Verified {
                        peer: d.peer, id: d.id, submission: d.submission, result: d.result, now_ms: now_ms(),
                    });
                    self.verify_secs = None;
                    applied?;
                }
                _ = tick.tick() => {
                    let now = now_ms();
                    self.apply(Event::Tick { now_ms: now })?;
                    let current = self.board.view().current.as_ref().map(|c| (c.round, c.opened_ms));
                    self.metrics.open_round.set(current.map_or(0, |(r, _)| r as i64));
                    self.metrics.open_round_age_seconds.set(current.map_or(0.0, |(_, at)| now.saturating_sub(at) as f64 / 1000.0));
                    if self.status_addr.is_some() {
                        self.board.publish(now);
                    }
                    self.limiter.retain_recent();
                    let beat = match current {
                        Some((r, _)) => format!("round {r} open, {} of {} rounds done", self.machine.completed(), self.board.view().federation.rounds),
                        None => format!("{} rounds done", self.machine.completed()),
                    };
                    if let Err(e) = self.heartbeat.beat(&beat) {
                        tracing::error!(error = %e, "could not write the heartbeat file");
                    }
                    if self.machine.finished() && self.pending.is_empty() && self.exit_when_finished {
                        tracing::info!(rounds = self.machine.completed(), "all rounds done");
                        return Ok(());
                    }
                }
                _ = &mut shutdown => return Ok(()),
            }
        }
    }

    fn on_swarm(&mut self, ev: SwarmEvent<BehaviourEvent>) -> Result<(), CoordinatorError> {
        match ev {
            SwarmEvent::Behaviour(BehaviourEvent::Rr(request_response::Event::Message {
                peer,
                message: request_response::Message::Request { request, channel, .. },
                ..
            })) => {
                if self.limiter.check_key(&peer).is_err() {
                    self.refuse_over_rate(peer, channel);
                    return Ok(());
                }
                self.board.seen(&peer.to_bytes(), now_ms());
                let id = self.next_id;
                self.next_id += 1;
                self.pending.insert(id, channel);
                self.apply(Event::Request { peer: peer.to_bytes(), id, request, now_ms: now_ms() })?;
            }
            SwarmEvent::Behaviour(BehaviourEvent::Rr(request_response::Event::InboundFailure { peer, error, .. })) => {
                tracing::warn!(%peer, %error, "inbound request failed");
            }
            SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } => {
                let name = self.admitted.get(&peer_id.to_bytes()).map(|a| a.name.as_str());
                self.gauges.connection_opened(name.is_some());
                self.board.connections(&peer_id.to_bytes(), num_established.get());
                self.metrics.connections_from(&self.gauges, self.board.participants_connected());
                match name {
                    Some(name) => tracing::info!(%peer_id, name, "participant connected"),
                    // only without the admitted-only filter
                    None => tracing::warn!(%peer_id, "unknown peer connected; its requests will be refused"),
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established, .. } => {
                self.gauges.connection_closed();
                self.board.connections(&peer_id.to_bytes(), num_established);
                self.metrics.connections_from(&self.gauges, self.board.participants_connected());
            }
            SwarmEvent::IncomingConnectionError { error, send_back_addr, .. } => {
                // unknown peers and connections over the limits; a flood of
                // them must not flood the log
                self.gauges.connection_refused();
                self.metrics.connections_refused.inc();
                tracing::debug!(%send_back_addr, %error, "incoming connection refused");
            }
            SwarmEvent::NewListenAddr { address, .. } => tracing::info!(%address, "listening"),
            _ => {}
        }
        Ok(())
    }

    /// Answers a request over the peer's rate `Busy`; logs the first of an
    /// episode (a flood must not flood the log).
    fn refuse_over_rate(&mut self, peer: PeerId, channel: ResponseChannel<Response>) {
        self.gauges.rate_limited();
        self.metrics.rate_limited.inc();
        let per_minute = self.requests_per_minute;
        // one line per episode: a peer just over its rate has every other
        // request refused, so an episode ends only after a quiet minute
        let now = std::time::Instant::now();
        let quiet = self.limited.insert(peer, now).is_none_or(|last| now.duration_since(last) > RATE_EPISODE);
        if quiet {
            tracing::warn!(%peer, participant = self.name(&peer.to_bytes()), %per_minute, "peer over its request rate; refusing until it slows down");
        }
        let reason = format!("more than {per_minute} requests per minute; slow down");
        let _ = self.swarm.behaviour_mut().rr.send_response(channel, Response::Rejected { code: RejectCode::Busy, reason });
    }

    fn apply(&mut self, ev: Event<VerifiedUpdate>) -> Result<(), CoordinatorError> {
        for action in self.machine.on_event(ev) {
            self.execute(action)?;
        }
        Ok(())
    }

    /// Queues a verification; the verifier always reports back, and the
    /// machine never has more waiting than the queue holds. Should the
    /// verifier be gone, the submission is refused with the reason.
    fn queue_verification(&self, job: Job) {
        if let Err(e) = self.jobs_tx.try_send(job) {
            let (job, why) = match e {
                mpsc::error::TrySendError::Full(j) => (j, "verification queue full, retry"),
                mpsc::error::TrySendError::Closed(j) => (j, "the verifier has stopped"),
            };
            tracing::error!(why, "could not queue a verification");
            let done = self.done_tx.clone();
            tokio::spawn(async move {
                let _ =
                    done.send(Done { peer: job.peer, id: job.id, submission: job.submission, result: Err(why.into()), secs: None }).await;
            });
        }
    }

    fn name(&self, peer: &[u8]) -> String {
        self.board.name(peer)
    }

    fn execute(&mut self, action: Action<VerifiedUpdate>) -> Result<(), CoordinatorError> {
        match action {
            Action::Reply { id, response } => {
                if let Some(ch) = self.pending.remove(&id) {
                    if let Response::Rejected { code, reason } = &response {
                        // an admitted peer's refusals are logged with their
                        // record, within its cap (`StoreRejected`)
                        tracing::debug!(?code, reason, "request rejected");
                        self.metrics.refusal(&format!("{code:?}"));
                    }
                    // the peer may have gone; nothing to do then
                    let _ = self.swarm.behaviour_mut().rr.send_response(ch, response);
                }
            }
            Action::Verify { id, peer, statement, submission } => {
                // the machine names the registered commitment; verification
                // takes its verified form, which only admission produced
                let statement = match self.admitted.get(&peer) {
                    Some(a) => statement.verified(&a.commitment).map_err(|e| e.to_string()),
                    None => Err("not an admitted participant".to_string()),
                };
                self.queue_verification(Job { id, peer, statement, submission });
            }
            Action::StoreAccepted { peer, update, proof } => {
                self.store.accepted(update.round(), &peer, update.samples(), update.model(), &proof)?;
                self.metrics.updates_accepted.inc();
                self.board.accepted(update.round(), &peer, update.samples(), self.verify_secs);
                tracing::info!(round = update.round(), participant = self.name(&peer), samples = update.samples(), "update accepted");
            }
            Action::StoreRejected { round, peer, code, reason } => {
                // The refusal is answered either way; losing its record must
                // not stop the federation. (Writes of the federation itself,
                // acceptances and rounds, do stop it: see `run`.)
                // Past the cap a refusal is counted, not stored or logged, so
                // that a peer cannot fill the disk with reasons.
                let code = format!("{code:?}");
                let participant = self.name(&peer);
                match self.store.rejected(round, &peer, &code, &reason) {
                    Ok(RefusalRecord::Kept) => tracing::warn!(participant, ?round, code, reason, "request rejected"),
                    Ok(RefusalRecord::FirstCounted) => tracing::warn!(
                        participant,
                        ?round,
                        code,
                        reason,
                        kept = MAX_KEPT_REFUSALS,
                        "request rejected; this participant's further refusals in this round are counted, not stored or logged"
                    ),
                    Ok(RefusalRecord::Counted) => {}
                    Err(e) => tracing::error!(error = %e, participant, code, "could not record a rejection"),
                }
                self.board.refused(round, &peer, &code, &reason);
            }
            Action::Opened { round, global, deadline_ms } => {
                self.store.opened(round, &global, deadline_ms)?;
                self.board.opened(round, deadline_ms);
                tracing::info!(round, deadline_ms, "round opened");
            }
            Action::Closed { round, aggregated, model } => {
                // the machine has moved on: its global model is the round's result
                let global = self.machine.global().clone();
                let test = self.eval.as_ref().map(|test| test.evaluate(&self.keys.layout, &global));
                let metrics = test.as_ref().map_or(serde_json::Value::Null, |t| serde_json::to_value(t).unwrap_or_default());
                let verify_secs = self.board.verify_secs(round);
                let mut m = serde_json::json!({ "aggregated": aggregated.len(), "test": metrics, "verify_secs": verify_secs });
                if model.is_none() {
                    m["note"] = "no accepted update: global model unchanged".into();
                }
                // result and metrics in one transaction: a crash keeps both or neither
                self.store.closed(round, &aggregated, model.as_ref(), &m.to_string())?;
                tracing::info!(round, aggregated = aggregated.len(), metrics = %m, "round closed");
                let digest = model_digest(&self.keys, &global).to_string();
                if let Some(dir) = &self.export_dir {
                    export(dir, round, &global, self.keys.layout.spec.format, &digest, &m)?;
                }
                self.metrics.rounds_closed.inc();
                let test = test.map(|t| TestMetrics { accuracy: t.accuracy, loss: t.loss });
                self.board.closed(round, &aggregated, Arc::new(global), digest, test, now_ms());
            }
        }
        Ok(())
    }
}

/// A peer refused for its rate is logged again only after this long
/// without a refusal.
const RATE_EPISODE: Duration = Duration::from_secs(60);

/// Builds the swarm, admitting only `admitted` peers (see
/// `candor_protocols::net`), and starts listening on `addr`.
fn listen(
    key: Keypair,
    net: NetConfig,
    admitted: &[PeerId],
    addr: &Multiaddr,
) -> Result<(Swarm<Behaviour>, Arc<NetGauges>), CoordinatorError> {
    check_address_free(addr)?;
    let per_peer = net.max_connections_per_peer;
    let net = NetConfig {
        admitted_only: true,
        // room for every admitted peer, and no more: nobody else gets in
        max_established_incoming: (admitted.len() as u32).saturating_mul(per_peer).max(1),
        ..net
    };
    let gauges = Arc::new(NetGauges::default());
    let mut swarm = build_observed_swarm(key, net, gauges.clone()).map_err(|e| CoordinatorError::Config(e.to_string()))?;
    for p in admitted {
        admit(&mut swarm, *p);
    }
    swarm.listen_on(addr.clone()).map_err(|e| CoordinatorError::Config(format!("listen on {addr}: {e}")))?;
    Ok((swarm, gauges))
}

/// libp2p binds its TCP listeners with SO_REUSEPORT, so a second coordinator
/// on a taken port would bind as well and the kernel would split connections
/// between the two. A plain bind, without SO_REUSEPORT, fails while any
/// socket listens on the port: try one first (and let it go).
fn check_address_free(addr: &Multiaddr) -> Result<(), CoordinatorError> {
    let mut parts = addr.iter();
    let ip: std::net::IpAddr = match parts.next() {
        Some(Protocol::Ip4(a)) => a.into(),
        Some(Protocol::Ip6(a)) => a.into(),
        // not an IP address (an in-process /memory one in tests): no port
        _ => return Ok(()),
    };
    match parts.next() {
        Some(Protocol::Tcp(port)) if port != 0 => std::net::TcpListener::bind((ip, port))
            .map(drop)
            .map_err(|e| CoordinatorError::InUse(format!("listen address {addr}: {e} (another coordinator running?)"))),
        _ => Ok(()),
    }
}
