//! Real swarms on loopback for the network and hardening tests: hospitals
//! with proven commitments, a coordinator with its gauges, participant
//! daemons, and a raw client that sends arbitrary bytes (whole, or a prefix
//! and then nothing) as Candor requests.
#![allow(dead_code)]

pub mod process;

use candor_circuits::engine::{DataKeys, KeySource, TrainKeys};
use candor_circuits::verifier::verify_commitment;
use candor_coordinator::node::{Coordinator, Federation, NodeConfig, DEFAULT_REQUESTS_PER_MINUTE};
use candor_coordinator::round::{Admitted, PeerKey, Policy};
use candor_coordinator::strategy::StrategyConfig;
use candor_coordinator::CoordinatorError;
use candor_core::model::linear::LinearModel;
use candor_core::{Layout, Task, TrainSpec};
use candor_participant::daemon::{run, DaemonConfig, Outcome};
use candor_protocols::net::NetConfig;
use candor_protocols::{NetGauges, Response, PROTOCOL_NAME, WIRE_VERSION};
use candor_prover::fixtures;
use candor_prover::{prove_commitment, PrivateData};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::identity::Keypair;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{noise, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm};
use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Longest any one exchange may take before a test gives up (a hang guard,
/// never what a test asserts).
pub const PATIENCE: Duration = Duration::from_secs(60);

pub fn spec() -> TrainSpec {
    fixtures::spec(Task::Logistic, 5, 4, 2)
}

pub fn keys() -> Arc<TrainKeys> {
    static K: OnceLock<Arc<TrainKeys>> = OnceLock::new();
    K.get_or_init(|| Arc::new(TrainKeys::for_training(&Layout::new(&spec()).unwrap(), KeySource::derive()).unwrap())).clone()
}

pub fn dkeys() -> &'static DataKeys {
    static K: OnceLock<DataKeys> = OnceLock::new();
    K.get_or_init(|| DataKeys::for_commitment(&Layout::new(&spec()).unwrap(), KeySource::derive()).unwrap())
}

pub struct Hospital {
    pub key: Keypair,
    pub data: Arc<PrivateData>,
    pub admitted: Admitted,
}

/// `n` hospitals with their commitments proven and verified (each once per
/// test binary: the proofs are the slow part).
pub fn hospitals(n: u8) -> Vec<Hospital> {
    static MADE: Mutex<Vec<(Arc<PrivateData>, Admitted)>> = Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    let layout = Layout::new(&spec()).unwrap();
    while made.len() < n as usize {
        let i = made.len() as u8 + 1;
        let data = PrivateData::new(&layout, &fixtures::dataset(&spec(), 10 + i as usize, i.into()), [i; 32]).unwrap();
        let (c, proof) = prove_commitment(dkeys(), &data).unwrap();
        let commitment = verify_commitment(dkeys(), &c, &proof).unwrap();
        made.push((Arc::new(data), Admitted { name: format!("hospital-{i}"), commitment, proof }));
    }
    made.iter()
        .take(n as usize)
        .zip(1u8..)
        .map(|((data, admitted), i)| Hospital {
            key: Keypair::ed25519_from_bytes([i; 32]).unwrap(),
            data: data.clone(),
            admitted: admitted.clone(),
        })
        .collect()
}

pub fn federation(hs: &[Hospital], quorum: u32) -> Federation {
    federation_with(hs, quorum, 600_000)
}

/// One round of `round_ms` that closes at `quorum` acceptances.
pub fn federation_with(hs: &[Hospital], quorum: u32, round_ms: u64) -> Federation {
    let participants: BTreeMap<PeerKey, Admitted> =
        hs.iter().map(|h| (h.key.public().to_peer_id().to_bytes(), h.admitted.clone())).collect();
    Federation {
        spec: spec(),
        strategy: StrategyConfig::FedAvg,
        initial: LinearModel::zeros(5).into(),
        policy: Policy { rounds: 1, quorum, round_ms, poll_timeout_ms: 2_000, max_pending_polls: 16, max_verifying: 2 },
        participants,
    }
}

pub fn node_config(db: &Path, listen: &str) -> NodeConfig {
    let export_dir = Some(db.with_extension("models"));
    NodeConfig {
        listen: listen.parse().unwrap(),
        db: db.to_path_buf(),
        export_dir,
        net: NetConfig::default(),
        requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
        status: None,
    }
}

pub fn coordinator(fed: Federation, db: &Path, listen: &str) -> Result<Coordinator, CoordinatorError> {
    Coordinator::new(Keypair::ed25519_from_bytes([99; 32]).unwrap(), fed, keys(), node_config(db, listen), None)
}

/// A running coordinator.
pub struct Running {
    pub addr: Multiaddr,
    pub gauges: Arc<NetGauges>,
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<Result<(), CoordinatorError>>,
}

impl Running {
    pub fn peer(&self) -> PeerId {
        match self.addr.iter().last() {
            Some(libp2p::multiaddr::Protocol::P2p(p)) => p,
            _ => unreachable!("listening() appends /p2p"),
        }
    }

    /// Stops it and returns what `run` returned.
    pub async fn stop(self) -> Result<(), CoordinatorError> {
        let _ = self.stop.send(());
        tokio::time::timeout(PATIENCE, self.handle).await.expect("the coordinator stopped in time").unwrap()
    }
}

/// Starts a coordinator on a loopback port of the kernel's choosing.
pub async fn start(fed: Federation, db: &Path) -> Running {
    start_on(coordinator(fed, db, "/ip4/127.0.0.1/tcp/0").unwrap()).await
}

/// Starts a coordinator on libp2p's in-process memory transport: no port,
/// for tests of protocol logic.
pub async fn start_in_memory(fed: Federation, db: &Path) -> Running {
    start_on(coordinator(fed, db, "/memory/0").unwrap()).await
}

/// Waits (within [`PATIENCE`]) until `f` returns something.
pub async fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    tokio::time::timeout(PATIENCE, async {
        loop {
            if let Some(t) = f() {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting until {what}"))
}

pub async fn start_on(mut c: Coordinator) -> Running {
    let addr = c.listening().await;
    let gauges = c.gauges();
    let (stop, rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(c.run(async {
        let _ = rx.await;
    }));
    Running { addr, gauges, stop, handle }
}

pub async fn participate(h: &Hospital, addr: &Multiaddr, state: &Path) -> Vec<Outcome> {
    participate_with(h, addr, state, keys()).await
}

/// A daemon that runs one round with `keys` (its study's) and returns its
/// outcomes.
pub async fn participate_with(h: &Hospital, addr: &Multiaddr, state: &Path, keys: Arc<TrainKeys>) -> Vec<Outcome> {
    let outcomes = Arc::new(Mutex::new(vec![]));
    let o = outcomes.clone();
    let cfg = DaemonConfig {
        coordinator: addr.clone(),
        key: h.key.clone(),
        commitment: *h.admitted.commitment.commitment(),
        data: h.data.clone(),
        state_file: Some(state.to_path_buf()),
        checkpoints: None,
        net: NetConfig::default(),
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
        stop_after: Some(1),
    };
    tokio::time::timeout(Duration::from_secs(300), run(cfg, keys, std::future::pending(), move |x| o.lock().unwrap().push(x.clone())))
        .await
        .expect("participant finished in time")
        .unwrap();
    let v = outcomes.lock().unwrap().clone();
    v
}

/// Sends `reqs` one after another as `key` and returns each answer (or
/// why none came).
pub async fn ask(
    key: Keypair,
    limits: candor_protocols::Limits,
    addr: &Multiaddr,
    reqs: Vec<candor_protocols::Request>,
) -> Vec<Result<Response, String>> {
    let mut swarm = candor_protocols::net::build_swarm(key, NetConfig { limits, ..NetConfig::default() }).unwrap();
    let peer = match addr.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(p)) => p,
        _ => unreachable!(),
    };
    swarm.dial(addr.clone()).unwrap();
    let mut out = vec![];
    for (i, req) in reqs.into_iter().enumerate() {
        // Bounded: a lost connection or answer fails the test instead of
        // hanging it (CI once waited 80 minutes here); the events it saw
        // are printed with the failure.
        let mut seen = vec![];
        let step = async {
            loop {
                if swarm.is_connected(&peer) {
                    break;
                }
                seen.push(format!("{:?}", swarm.select_next_some().await));
            }
            let id = swarm.behaviour_mut().rr.send_request(&peer, req);
            loop {
                match swarm.select_next_some().await {
                    SwarmEvent::Behaviour(candor_protocols::net::BehaviourEvent::Rr(request_response::Event::Message {
                        message: request_response::Message::Response { request_id, response },
                        ..
                    })) if request_id == id => break Ok(response),
                    SwarmEvent::Behaviour(candor_protocols::net::BehaviourEvent::Rr(request_response::Event::OutboundFailure {
                        request_id,
                        error,
                        ..
                    })) if request_id == id => break Err(error.to_string()),
                    other => seen.push(format!("{other:?}")),
                }
            }
        };
        let answer = tokio::time::timeout(PATIENCE, step).await;
        let answer = answer.unwrap_or_else(|_| panic!("no answer to request {i} within {PATIENCE:?}; events: {seen:#?}"));
        out.push(answer);
    }
    out
}

/// What a raw client sends as one request.
#[derive(Clone, Debug)]
pub enum Raw {
    /// These bytes, then the end of the stream.
    Whole(Vec<u8>),
    /// These bytes, then nothing, ever: an unfinished body.
    Stall(Vec<u8>),
}

/// `(WIRE_VERSION, msg)` as MessagePack, as the codec frames a message.
pub fn encode<M: serde::Serialize>(msg: &M) -> Vec<u8> {
    rmp_serde::to_vec(&(WIRE_VERSION, msg)).unwrap()
}

/// A client-side codec for [`Raw`] requests; counts unfinished bodies.
#[derive(Clone, Default)]
pub struct RawCodec {
    pub stalled: Arc<AtomicUsize>,
}

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Raw;
    type Response = Response;

    async fn read_request<T: AsyncRead + Unpin + Send>(&mut self, _: &StreamProtocol, _: &mut T) -> io::Result<Raw> {
        Err(io::Error::other("a client only"))
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response> {
        let mut buf = Vec::new();
        io.take(4 << 20).read_to_end(&mut buf).await?;
        let (_, r): (u16, Response) = rmp_serde::from_slice(&buf).map_err(io::Error::other)?;
        Ok(r)
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(&mut self, _: &StreamProtocol, io: &mut T, req: Raw) -> io::Result<()> {
        match req {
            Raw::Whole(b) => io.write_all(&b).await,
            Raw::Stall(b) => {
                io.write_all(&b).await?;
                io.flush().await?;
                self.stalled.fetch_add(1, Ordering::Relaxed);
                futures::future::pending().await
            }
        }
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(&mut self, _: &StreamProtocol, _: &mut T, _: Response) -> io::Result<()> {
        Err(io::Error::other("a client only"))
    }
}

pub type RawSwarm = Swarm<request_response::Behaviour<RawCodec>>;

/// A client swarm sending [`Raw`] requests, up to `streams` at once.
pub fn raw_client(key: Keypair, codec: RawCodec, streams: usize) -> RawSwarm {
    libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .unwrap()
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                codec,
                [(PROTOCOL_NAME, ProtocolSupport::Outbound)],
                request_response::Config::default().with_request_timeout(Duration::from_secs(600)).with_max_concurrent_streams(streams),
            )
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(600)))
        .build()
}

/// How a raw client's connection went.
#[derive(Debug, PartialEq, Eq)]
pub enum Connection {
    /// Established and still open.
    Open,
    /// Never established, or closed by the coordinator.
    Refused,
}

/// Dials `to` and waits until the connection is established (and, for
/// `settle`, has stayed so while a ping's worth of traffic passed) or refused.
pub async fn connect(swarm: &mut RawSwarm, to: &Multiaddr, peer: PeerId) -> Connection {
    swarm.dial(to.clone()).unwrap();
    loop {
        match swarm.select_next_some().await {
            SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == peer => return Connection::Open,
            SwarmEvent::OutgoingConnectionError { .. } => return Connection::Refused,
            SwarmEvent::ConnectionClosed { peer_id, .. } if peer_id == peer => return Connection::Refused,
            _ => {}
        }
    }
}

/// Sends raw requests over an established connection and collects the
/// answers (or why there was none).
pub async fn exchange(swarm: &mut RawSwarm, peer: PeerId, reqs: Vec<Raw>) -> Vec<Result<Response, String>> {
    let ids: Vec<OutboundRequestId> = reqs.into_iter().map(|r| swarm.behaviour_mut().send_request(&peer, r)).collect();
    let mut answers: BTreeMap<OutboundRequestId, Result<Response, String>> = BTreeMap::new();
    while answers.len() < ids.len() {
        match swarm.select_next_some().await {
            SwarmEvent::Behaviour(request_response::Event::Message {
                message: request_response::Message::Response { request_id, response },
                ..
            }) => {
                answers.insert(request_id, Ok(response));
            }
            SwarmEvent::Behaviour(request_response::Event::OutboundFailure { request_id, error, .. }) => {
                answers.insert(request_id, Err(error.to_string()));
            }
            _ => {}
        }
    }
    ids.iter().map(|id| answers.remove(id).unwrap()).collect()
}

/// The code of a rejection.
pub fn code(r: &Result<Response, String>) -> Option<candor_protocols::RejectCode> {
    match r {
        Ok(Response::Rejected { code, .. }) => Some(*code),
        _ => None,
    }
}
