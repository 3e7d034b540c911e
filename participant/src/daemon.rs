//! The participant daemon. It opens no port: it dials the coordinator
//! (whose PeerId is pinned in its address), long-polls for rounds over that
//! connection, trains and proves each round off the async runtime, submits,
//! and retries with backoff while the coordinator is unreachable. The last
//! round it completed is kept in a state file, so a restart resumes without
//! proving a round twice, and a round's proof is checkpointed every few
//! folds, so a restart mid-proof continues from the last checkpoint.

use candor_circuits::engine::TrainKeys;
use candor_circuits::verifier::{model_digest, ClaimedStatement, DataCommitment};
use candor_protocols::net::{build_swarm, check_tcp_address, Behaviour, BehaviourEvent, NetConfig};
use candor_protocols::{bounded_reason, RejectCode, Request, Response, RoundAnnouncement, Submission};
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

enum Want {
    Poll,
    Submit(Submission),
}

/// The coordinator's pinned PeerId. An address this swarm cannot dial (a
/// `/dns4` name: there is no resolver) is an error now, not a retry forever.
fn coordinator_peer(addr: &Multiaddr) -> anyhow::Result<PeerId> {
    check_tcp_address(addr).map_err(|e| anyhow::anyhow!("coordinator address: {e}"))?;
    match addr.iter().last() {
        Some(Protocol::P2p(p)) => Ok(p),
        _ => anyhow::bail!("coordinator address {addr} must end in /p2p/<PeerId> to pin the coordinator's identity"),
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
/// `on_outcome` sees every round's outcome.
pub async fn run(
    cfg: DaemonConfig,
    keys: Arc<TrainKeys>,
    shutdown: impl std::future::Future<Output = ()>,
    mut on_outcome: impl FnMut(&Outcome),
) -> anyhow::Result<()> {
    let coordinator = coordinator_peer(&cfg.coordinator)?;
    let me = cfg.key.public().to_peer_id();
    let mut swarm: Swarm<Behaviour> = build_swarm(cfg.key.clone(), cfg.net)?;
    let mut done = load_state(&cfg.state_file);
    // a checkpoint of a round this daemon has finished is of no use
    if let Some(ck) = &cfg.checkpoints {
        if ck.round().is_none_or(|r| done.is_some_and(|d| r <= d)) {
            ck.discard()?;
        }
    }
    let mut want = Want::Poll;
    let mut outstanding: Option<OutboundRequestId> = None;
    let mut proving: Option<tokio::task::JoinHandle<anyhow::Result<Submission>>> = None;
    let mut proving_round = 0;
    let mut connected = false;
    // whether the coordinator has answered on the current connection: one
    // closed before any answer is how a coordinator refuses an unknown peer
    let mut answered = false;
    let mut backoff = cfg.min_backoff;
    let mut retry_at = Instant::now();
    tokio::pin!(shutdown);

    loop {
        if cfg.stop_after.is_some_and(|r| done.is_some_and(|d| d >= r)) {
            return Ok(());
        }
        let now = Instant::now();
        if !connected && now >= retry_at && !swarm.is_connected(&coordinator) {
            if let Err(e) = swarm.dial(cfg.coordinator.clone()) {
                tracing::warn!(error = %e, "dial failed");
            }
            retry_at = now + backoff;
            backoff = (backoff * 2).min(cfg.max_backoff);
        }
        if connected && outstanding.is_none() && proving.is_none() && now >= retry_at {
            let req = match &want {
                Want::Poll => Request::Poll { after: done },
                Want::Submit(s) => Request::Submit(s.clone()),
            };
            outstanding = Some(swarm.behaviour_mut().rr.send_request(&coordinator, req));
        }
        let wake = tokio::time::sleep_until(retry_at.max(now + Duration::from_millis(50)));
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = wake => {}
            res = async { proving.as_mut().expect("guarded").await }, if proving.is_some() => {
                proving = None;
                match res.map_err(anyhow::Error::from).and_then(|r| r) {
                    Ok(sub) => want = Want::Submit(sub),
                    Err(e) => {
                        // nothing to submit: skip this round, wait for the next
                        tracing::error!(error = %e, round = proving_round, "training or proving failed");
                        // the round is given up: its witness must not stay on disk
                        if let Some(ck) = &cfg.checkpoints {
                            if let Err(e) = ck.discard() {
                                tracing::error!(error = %e, path = %ck.path().display(), "could not delete a proving checkpoint");
                            }
                        }
                        on_outcome(&Outcome::Failed(proving_round, e.to_string()));
                        done = Some(proving_round.max(done.unwrap_or(0)));
                        want = Want::Poll;
                    }
                }
            }
            ev = swarm.select_next_some() => match ev {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == coordinator => {
                    tracing::info!(%peer_id, "connected to coordinator");
                    connected = true;
                    answered = false;
                    backoff = cfg.min_backoff;
                    retry_at = Instant::now();
                }
                SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } if peer_id == coordinator => {
                    if answered {
                        tracing::warn!("coordinator connection closed; will redial");
                    } else {
                        tracing::warn!(
                            peer_id = %me,
                            "the coordinator closed the connection before answering: is this hospital admitted \
                             (its registration listed in the coordinator's config)? will redial"
                        );
                    }
                    connected = false;
                    outstanding = None;
                }
                SwarmEvent::OutgoingConnectionError { error, .. } => {
                    tracing::warn!(%error, retry_in = ?backoff, "coordinator unreachable");
                }
                SwarmEvent::Behaviour(BehaviourEvent::Rr(request_response::Event::OutboundFailure { request_id, error, .. }))
                    if Some(request_id) == outstanding => {
                    tracing::warn!(%error, "request failed; retrying");
                    outstanding = None;
                    retry_at = Instant::now() + backoff;
                    backoff = (backoff * 2).min(cfg.max_backoff);
                }
                SwarmEvent::Behaviour(BehaviourEvent::Rr(request_response::Event::Message {
                    message: request_response::Message::Response { request_id, response }, ..
                })) if Some(request_id) == outstanding => {
                    outstanding = None;
                    answered = true;
                    backoff = cfg.min_backoff;
                    match response {
                        Response::Round(ann) if done.is_none_or(|d| ann.round > d) => {
                            want = Want::Poll;
                            proving_round = ann.round;
                            proving = Some(spawn_proving(&keys, *ann, me, &cfg)?);
                        }
                        Response::NoRound => {
                            // no round newer than ours is open: any
                            // checkpoint is of one that is over
                            if let Some(ck) = &cfg.checkpoints {
                                ck.discard()?;
                            }
                            want = Want::Poll;
                        }
                        Response::Round(_) | Response::Status(_) => want = Want::Poll,
                        Response::Accepted { round } => {
                            tracing::info!(round, "update accepted");
                            finish(&cfg, &mut done, round, Outcome::Accepted(round), &mut on_outcome)?;
                            want = Want::Poll;
                        }
                        Response::Rejected { code: RejectCode::Busy, reason } => {
                            tracing::warn!(reason, "coordinator busy; retrying");
                            retry_at = Instant::now() + backoff;
                        }
                        Response::Rejected { code, reason } => {
                            // the coordinator bounds its reasons; so do we, whoever answers
                            let reason = bounded_reason(&reason);
                            let round = match &want { Want::Submit(s) => s.round, Want::Poll => done.unwrap_or(0) };
                            tracing::warn!(?code, reason, round, "rejected");
                            if code == RejectCode::Duplicate {
                                // accepted before a crash of ours: the round is done
                                finish(&cfg, &mut done, round, Outcome::Accepted(round), &mut on_outcome)?;
                            } else {
                                on_outcome(&Outcome::Rejected(round, code, reason));
                                if matches!(want, Want::Submit(_)) {
                                    done = Some(round.max(done.unwrap_or(0)));
                                }
                                retry_at = Instant::now() + cfg.min_backoff;
                            }
                            want = Want::Poll;
                        }
                    }
                }
                _ => {}
            },
        }
    }
}

fn finish(
    cfg: &DaemonConfig,
    done: &mut Option<u64>,
    round: u64,
    outcome: Outcome,
    on_outcome: &mut impl FnMut(&Outcome),
) -> anyhow::Result<()> {
    *done = Some(round.max(done.unwrap_or(0)));
    save_state(&cfg.state_file, round)?;
    if let Some(ck) = &cfg.checkpoints {
        // compression deletes it; this covers a proof that failed after one
        ck.discard()?;
    }
    on_outcome(&outcome);
    Ok(())
}

fn spawn_proving(
    keys: &Arc<TrainKeys>,
    ann: RoundAnnouncement,
    me: PeerId,
    cfg: &DaemonConfig,
) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<Submission>>> {
    if ann.spec != keys.layout.spec {
        anyhow::bail!("round {} uses another training spec than this participant's: {:?}", ann.round, ann.spec);
    }
    if model_digest(keys, &ann.global).0 != ann.global_digest {
        anyhow::bail!("round {}: the announced global model does not match its digest", ann.round);
    }
    let (keys, data, checkpoints) = (keys.clone(), cfg.data.clone(), cfg.checkpoints.clone());
    let statement = ClaimedStatement {
        federation: coordinator_peer(&cfg.coordinator)?.to_bytes(),
        round: ann.round,
        participant: me.to_bytes(),
        data: cfg.commitment,
        global: ann.global,
    };
    tracing::info!(round = ann.round, "training and proving");
    Ok(tokio::task::spawn_blocking(move || {
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
    }))
}
