//! The participant daemon. It opens no port: it dials the coordinator
//! (whose PeerId is pinned in its address), long-polls for rounds over that
//! connection, trains and proves each round off the async runtime, submits,
//! and retries with backoff while the coordinator is unreachable. The last
//! round it completed is kept in a state file, so a restart resumes without
//! proving a round twice, and a round's proof is checkpointed every few
//! folds, so a restart mid-proof continues from the last checkpoint.

use crate::client::{Action, ClientMachine, ClientSetup, Event};
use crate::ParticipantError;
use candor_circuits::engine::TrainKeys;
use candor_circuits::verifier::ProvenStatement;
use candor_circuits::verifier::{model_digest, ClaimedStatement, DataCommitment};
use candor_protocols::health::{heartbeat_path, Heartbeat, BEAT_EVERY};
use candor_protocols::net::{build_swarm, check_dial_address, is_memory, Behaviour, BehaviourEvent, NetConfig};
use candor_protocols::{RejectCode, Response, Submission};
use candor_prover::checkpoint::Checkpoints;
use candor_prover::{prove_training, prove_training_resumable, PrivateData};
use futures::StreamExt;
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::SwarmEvent;
use libp2p::{identity::Keypair, multiaddr::Protocol, Multiaddr, PeerId, Swarm};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Everything the daemon needs.
pub struct DaemonConfig {
    /// The coordinator's address, ending in `/p2p/<PeerId>`.
    pub coordinator: Multiaddr,
    /// This participant's key.
    pub key: Keypair,
    /// Committed data (one epoch of batches and blinds).
    pub data: Arc<PrivateData>,
    /// Its commitment, as registered with the coordinator.
    pub commitment: DataCommitment,
    /// File holding the last completed round.
    pub state_file: Option<PathBuf>,
    /// Where proving checkpoints its folding state, so that a restart
    /// resumes a round's proof instead of starting it again.
    pub checkpoints: Option<Checkpoints>,
    /// Network settings.
    pub net: NetConfig,
    /// First retry delay; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Stop after completing this round (for simulations and tests).
    pub stop_after: Option<u64>,
}

pub use crate::client::Outcome;

/// The coordinator's pinned PeerId. An address this swarm cannot dial (UDP,
/// websockets) is an error now, not a retry forever.
fn coordinator_peer(addr: &Multiaddr) -> Result<PeerId, ParticipantError> {
    if !is_memory(addr) {
        check_dial_address(addr).map_err(|e| ParticipantError::config(format!("coordinator address: {e}")))?;
    }
    match addr.iter().last() {
        Some(Protocol::P2p(p)) => Ok(p),
        _ => {
            Err(ParticipantError::config(format!("coordinator address {addr} must end in /p2p/<PeerId> to pin the coordinator's identity")))
        }
    }
}

fn load_state(path: &Option<PathBuf>) -> Option<u64> {
    path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).and_then(|s| s.trim().parse().ok())
}

fn save_state(path: &Option<PathBuf>, round: u64) -> std::io::Result<()> {
    if let Some(p) = path {
        let tmp = p.with_extension("tmp");
        std::fs::write(&tmp, round.to_string())?;
        std::fs::rename(tmp, p)?;
    }
    Ok(())
}

/// Runs the daemon until `stop_after` is reached or `shutdown` resolves.
/// `on_outcome` sees every round's outcome. The round logic is the
/// [`ClientMachine`]'s; this loop owns the swarm, the proving task and the
/// files.
pub async fn run(
    cfg: DaemonConfig,
    keys: Arc<TrainKeys>,
    shutdown: impl std::future::Future<Output = ()>,
    mut on_outcome: impl FnMut(&Outcome),
) -> Result<(), ParticipantError> {
    let coordinator = coordinator_peer(&cfg.coordinator)?;
    let me = cfg.key.public().to_peer_id();
    let mut swarm: Swarm<Behaviour> = build_swarm(cfg.key.clone(), cfg.net)?;
    let done = load_state(&cfg.state_file);
    // a checkpoint of a round this daemon has finished is of no use
    if let Some(ck) = &cfg.checkpoints {
        if ck.round().is_none_or(|r| done.is_some_and(|d| r <= d)) {
            ck.discard()?;
        }
    }
    let digest_keys = keys.clone();
    let setup = ClientSetup {
        federation: coordinator.to_bytes(),
        participant: me.to_bytes(),
        commitment: cfg.commitment,
        spec: keys.layout.spec.clone(),
        digest: Arc::new(move |m| model_digest(&digest_keys, m)),
        stop_after: cfg.stop_after,
        min_backoff: cfg.min_backoff,
        max_backoff: cfg.max_backoff,
    };
    let mut machine = ClientMachine::new(setup, done, std::time::Instant::now());
    let mut heartbeat = cfg.state_file.as_deref().map(|s| Heartbeat::new(heartbeat_path(s)));
    let mut outstanding: Option<OutboundRequestId> = None;
    let mut proving: Option<tokio::task::JoinHandle<Result<Submission, ParticipantError>>> = None;
    tokio::pin!(shutdown);

    loop {
        if machine.finished() {
            return Ok(());
        }
        let actions = machine.handle(std::time::Instant::now(), Event::Tick);
        apply(&cfg, &keys, &mut swarm, coordinator, actions, (&mut outstanding, &mut proving), &mut on_outcome)?;
        if let Some(h) = &mut heartbeat {
            let status = match (&proving, machine.done()) {
                (Some(_), _) => "proving a round".to_string(),
                (None, Some(r)) => format!("round {r} done; waiting for the next"),
                (None, None) => "waiting for a round".to_string(),
            };
            if let Err(e) = h.beat(&status) {
                tracing::error!(error = %e, "could not write the heartbeat file");
            }
        }
        let now = Instant::now();
        // woken at least once a beat, so that the heartbeat stays fresh
        let wake_at = Instant::from_std(machine.wake_at()).min(now + BEAT_EVERY);
        let wake = tokio::time::sleep_until(wake_at.max(now + Duration::from_millis(50)));
        let event = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = wake => None,
            res = async { proving.as_mut().expect("guarded").await }, if proving.is_some() => {
                proving = None;
                Some(Event::Proved(match res {
                    Ok(r) => r.map_err(|e| e.to_string()),
                    Err(e) => Err(format!("the proving task ended: {e}")),
                }))
            }
            ev = swarm.select_next_some() => match ev {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == coordinator => {
                    tracing::info!(%peer_id, "connected to coordinator");
                    Some(Event::Connected)
                }
                SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } if peer_id == coordinator => {
                    if machine.answered() {
                        tracing::warn!("coordinator connection closed; will redial");
                    } else {
                        tracing::warn!(
                            peer_id = %me,
                            "the coordinator closed the connection before answering: is this hospital admitted \
                             (its registration listed in the coordinator's config)? will redial"
                        );
                    }
                    outstanding = None;
                    Some(Event::Disconnected)
                }
                SwarmEvent::OutgoingConnectionError { error, .. } => {
                    tracing::warn!(%error, "coordinator unreachable");
                    None
                }
                SwarmEvent::Behaviour(BehaviourEvent::Rr(request_response::Event::OutboundFailure { request_id, error, .. }))
                    if Some(request_id) == outstanding => {
                    tracing::warn!(%error, "request failed; retrying");
                    outstanding = None;
                    Some(Event::RequestFailed)
                }
                SwarmEvent::Behaviour(BehaviourEvent::Rr(request_response::Event::Message {
                    message: request_response::Message::Response { request_id, response }, ..
                })) if Some(request_id) == outstanding => {
                    outstanding = None;
                    if let Response::Rejected { code: RejectCode::Busy, reason } = &response {
                        tracing::warn!(reason, "coordinator busy; retrying");
                    }
                    Some(Event::Response(response))
                }
                _ => None,
            },
        };
        if let Some(event) = event {
            let actions = machine.handle(std::time::Instant::now(), event);
            apply(&cfg, &keys, &mut swarm, coordinator, actions, (&mut outstanding, &mut proving), &mut on_outcome)?;
        }
    }
}

/// A proving task's handle.
type Proving = Option<tokio::task::JoinHandle<Result<Submission, ParticipantError>>>;

/// Executes the machine's actions in order.
fn apply(
    cfg: &DaemonConfig,
    keys: &Arc<TrainKeys>,
    swarm: &mut Swarm<Behaviour>,
    coordinator: PeerId,
    actions: Vec<Action>,
    (outstanding, proving): (&mut Option<OutboundRequestId>, &mut Proving),
    on_outcome: &mut impl FnMut(&Outcome),
) -> Result<(), ParticipantError> {
    for action in actions {
        match action {
            Action::Dial => {
                if !swarm.is_connected(&coordinator) {
                    if let Err(e) = swarm.dial(cfg.coordinator.clone()) {
                        tracing::warn!(error = %e, "dial failed");
                    }
                }
            }
            Action::Send(req) => *outstanding = Some(swarm.behaviour_mut().rr.send_request(&coordinator, req)),
            Action::Prove(statement) => {
                tracing::info!(round = statement.round, "training and proving");
                *proving = Some(spawn_proving(keys, statement, cfg));
            }
            Action::DiscardCheckpoint { best_effort } => {
                if let Some(ck) = &cfg.checkpoints {
                    match ck.discard() {
                        Err(e) if best_effort => {
                            tracing::error!(error = %e, path = %ck.path().display(), "could not delete a proving checkpoint")
                        }
                        r => r.map_err(|e| {
                            std::io::Error::new(e.kind(), format!("deleting the proving checkpoint {}: {e}", ck.path().display()))
                        })?,
                    }
                }
            }
            Action::Persist(round) => save_state(&cfg.state_file, round)?,
            Action::Outcome(outcome) => {
                match &outcome {
                    Outcome::Accepted(round) => tracing::info!(round, "update accepted"),
                    Outcome::Rejected(round, code, reason) => tracing::warn!(?code, reason, round, "rejected"),
                    Outcome::Failed(round, error) => tracing::error!(error, round, "training or proving failed"),
                }
                on_outcome(&outcome);
            }
            Action::Fatal(e) => return Err(ParticipantError::Round(e)),
        }
    }
    Ok(())
}

fn spawn_proving(
    keys: &Arc<TrainKeys>,
    statement: ClaimedStatement,
    cfg: &DaemonConfig,
) -> tokio::task::JoinHandle<Result<Submission, ParticipantError>> {
    let (keys, data, checkpoints) = (keys.clone(), cfg.data.clone(), cfg.checkpoints.clone());
    tokio::task::spawn_blocking(move || {
        // hidden when stderr is not a terminal (logs to a file, tests)
        let bar = indicatif::ProgressBar::new(statement.folds(&keys.layout)? as u64).with_style(
            indicatif::ProgressStyle::with_template("round {msg}: proving [{bar:30}] {pos}/{len} folds, {elapsed}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message(statement.round.to_string());
        let progress = |done, _| bar.set_position(done as u64);
        let p = match &checkpoints {
            Some(ck) => prove_training_resumable(&keys, &statement, &data, ck, progress)?,
            None => prove_training(&keys, &statement, &data, progress)?,
        };
        bar.finish_and_clear();
        tracing::info!(round = statement.round, resumed_from = p.resumed_from, "proof compressed");
        Ok(Submission { round: statement.round, model: p.model, samples: p.samples, proof: p.proof })
    })
}
