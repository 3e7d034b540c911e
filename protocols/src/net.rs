//! The libp2p pieces both daemons share: the behaviour, the swarm (TCP +
//! Noise + Yamux, identify, ping; the same over libp2p's in-process memory
//! transport, which tests use and configs cannot name), and ed25519 key
//! files.
//!
//! What a peer can hold is bounded at each layer: handshakes in progress
//! ([`NetConfig::max_pending_incoming`], at most
//! [`NetConfig::max_pending_per_ip`] from one address, each within
//! [`HANDSHAKE_TIMEOUT`]); established connections (only admitted peers get
//! one when [`NetConfig::admitted_only`] is set, at most
//! [`NetConfig::max_connections_per_peer`] each); streams per connection
//! ([`NetConfig::max_streams`], each within the request timeout); bytes per
//! stream (the codec's caps, and Yamux's receive window, see
//! [`MAX_FRAME_BYTES`]); and no new connection at all while the process
//! holds more than [`NetConfig::max_memory_fraction`] of the machine's
//! memory.

use crate::bounds::NetGauges;
use crate::{Codec, Limits, PROTOCOL_NAME};
use libp2p::core::transport::{MemoryTransport, Transport};
use libp2p::core::upgrade;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    allow_block_list, connection_limits, identify, identity::Keypair, memory_connection_limits, noise, ping, request_response,
    swarm::NetworkBehaviour, tcp, yamux, Multiaddr, PeerId, Swarm,
};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Candor's composed behaviour.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Handshakes in progress per source IP address (first: one host's
    /// flood is refused before it takes the slots all peers share).
    pub per_ip: crate::per_ip::Behaviour,
    /// Bounds on pending and established connections.
    pub limits: connection_limits::Behaviour,
    /// No new connection while this process holds more than
    /// [`NetConfig::max_memory_fraction`] of the machine's memory.
    pub memory: memory_connection_limits::Behaviour,
    /// When enabled, only admitted peers get an established connection: an
    /// unknown peer is refused right after Noise has authenticated its
    /// PeerId, before it can open a single stream.
    pub allow: Toggle<allow_block_list::Behaviour<allow_block_list::AllowedPeers>>,
    /// Candor requests and responses.
    pub rr: request_response::Behaviour<Codec>,
    /// Peer identification (agent and protocol versions).
    pub identify: identify::Behaviour,
    /// Liveness.
    pub ping: ping::Behaviour,
}

/// How long a connection may take from TCP accept to an authenticated,
/// multiplexed connection; a peer stalling its handshake holds a pending
/// slot no longer than this.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest Yamux frame a peer may send us, which is the receive window we
/// grant each stream: Yamux's initial 256 KiB, never grown.
///
/// rust-yamux refuses (and drops the whole connection on) any frame over
/// 1 MiB, yet by default it grows a fast stream's window far beyond that, and
/// a sender that writes as much as the window allows in one frame (js-libp2p
/// does) then loses its connection mid-request. Yamux grows windows only out
/// of a connection budget of 1 GiB minus 256 KiB per allowed stream, and
/// libp2p exposes only the stream count, so allowing 4096 streams leaves no
/// budget: every window stays at 256 KiB. The streams a peer may actually
/// use are bounded far lower, by the swarm (negotiating streams) and by
/// request-response ([`NetConfig::max_streams`]).
pub const MAX_FRAME_BYTES: usize = 256 * 1024;
const YAMUX_STREAMS_PINNING_THE_WINDOW: usize = (1 << 30) / MAX_FRAME_BYTES;

/// Network settings.
#[derive(Clone, Copy, Debug)]
pub struct NetConfig {
    /// Message size caps.
    pub limits: Limits,
    /// How long a request may wait for its response; longer than the
    /// coordinator's poll timeout. Also bounds how long reading a request
    /// body may take.
    pub request_timeout: Duration,
    /// Concurrent inbound and outbound streams per connection.
    pub max_streams: usize,
    /// Accept established connections from allowed peers only (the
    /// coordinator sets this and then allows each admitted peer).
    pub admitted_only: bool,
    /// Incoming connections still in their handshake.
    pub max_pending_incoming: u32,
    /// Of those, from one IP address.
    pub max_pending_per_ip: usize,
    /// Established connections per peer (two: a restarted participant may
    /// reconnect before its old connection has timed out).
    pub max_connections_per_peer: u32,
    /// Established incoming connections in all.
    pub max_established_incoming: u32,
    /// Share of the machine's memory above which this process accepts and
    /// dials no new connection (existing ones are kept).
    pub max_memory_fraction: f64,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            request_timeout: Duration::from_secs(120),
            max_streams: 16,
            admitted_only: false,
            max_pending_incoming: 64,
            max_pending_per_ip: 8,
            max_connections_per_peer: 2,
            max_established_incoming: 256,
            max_memory_fraction: 0.8,
        }
    }
}

fn yamux_config() -> yamux::Config {
    let mut c = yamux::Config::default();
    c.set_max_num_streams(YAMUX_STREAMS_PINNING_THE_WINDOW);
    c
}

/// Builds a swarm on TCP with Noise and Yamux.
pub fn build_swarm(key: Keypair, cfg: NetConfig) -> Result<Swarm<Behaviour>, io::Error> {
    build_observed_swarm(key, cfg, Arc::default())
}

/// Builds a swarm whose codec counts its reads in `gauges`.
pub fn build_observed_swarm(key: Keypair, cfg: NetConfig, gauges: Arc<NetGauges>) -> Result<Swarm<Behaviour>, io::Error> {
    let other = |e: &dyn std::fmt::Display| io::Error::other(e.to_string());
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_pending_incoming(Some(cfg.max_pending_incoming))
        .with_max_established_incoming(Some(cfg.max_established_incoming))
        .with_max_established_per_peer(Some(cfg.max_connections_per_peer));
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux_config)
        .map_err(|e| other(&e))?
        // `/memory/<n>` addresses reach only swarms of this process
        .with_other_transport(|key| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
            Ok(MemoryTransport::default().upgrade(upgrade::Version::V1).authenticate(noise::Config::new(key)?).multiplex(yamux_config()))
        })
        .map_err(|e| other(&e))?
        // `/dns4/<name>` addresses (a Kubernetes Service) resolve through
        // the system's resolver, as configured in /etc/resolv.conf
        .with_dns()
        .map_err(|e| io::Error::new(e.kind(), format!("reading the system's DNS configuration (/etc/resolv.conf): {e}")))?
        .with_behaviour(|key| Behaviour {
            per_ip: crate::per_ip::Behaviour::new(cfg.max_pending_per_ip),
            limits: connection_limits::Behaviour::new(limits),
            memory: memory_connection_limits::Behaviour::with_max_percentage(cfg.max_memory_fraction),
            allow: Toggle::from(cfg.admitted_only.then(allow_block_list::Behaviour::default)),
            rr: request_response::Behaviour::with_codec(
                Codec::observed(cfg.limits, gauges),
                [(PROTOCOL_NAME, request_response::ProtocolSupport::Full)],
                request_response::Config::default().with_request_timeout(cfg.request_timeout).with_max_concurrent_streams(cfg.max_streams),
            ),
            identify: identify::Behaviour::new(identify::Config::new("/candor/1".into(), key.public())),
            ping: ping::Behaviour::default(),
        })
        .map_err(|e| other(&e))?
        .with_swarm_config(|c| {
            c.with_idle_connection_timeout(Duration::from_secs(300)).with_max_negotiating_inbound_streams(cfg.max_streams * 2)
        })
        .with_connection_timeout(HANDSHAKE_TIMEOUT)
        .build();
    Ok(swarm)
}

/// Allows `peer` through the admitted-only filter (no effect without it).
pub fn admit(swarm: &mut Swarm<Behaviour>, peer: PeerId) {
    if let Some(allow) = swarm.behaviour_mut().allow.as_mut() {
        allow.allow_peer(peer);
    }
}

/// Whether `addr` is an in-process `/memory/<n>` address (tests).
pub fn is_memory(addr: &Multiaddr) -> bool {
    matches!(addr.iter().next(), Some(Protocol::Memory(_)))
}

/// Checks that `addr` is one this swarm can listen on: `/ip4` or `/ip6`,
/// then `/tcp`, then at most a `/p2p` PeerId. (A name is not bound: give
/// the address of an interface, or `0.0.0.0`.)
pub fn check_tcp_address(addr: &Multiaddr) -> Result<(), String> {
    check_address(addr, false)
}

/// Checks that `addr` is one this swarm can dial: as [`check_tcp_address`],
/// or a DNS name (`/dns`, `/dns4`, `/dns6`) then `/tcp`, resolved at each
/// dial through the system's resolver (a Kubernetes Service name).
pub fn check_dial_address(addr: &Multiaddr) -> Result<(), String> {
    check_address(addr, true)
}

fn check_address(addr: &Multiaddr, names: bool) -> Result<(), String> {
    let mut parts = addr.iter();
    match (parts.next(), parts.next()) {
        (Some(Protocol::Ip4(_) | Protocol::Ip6(_)), Some(Protocol::Tcp(_))) => {}
        (Some(Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_)), Some(Protocol::Tcp(_))) if names => {}
        (Some(Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_) | Protocol::Dnsaddr(_)), _) if !names => {
            return Err(format!("{addr}: a listen address must be an /ip4 or /ip6 address, not a name"))
        }
        _ if names => {
            return Err(format!("{addr}: expected /ip4/<address>/tcp/<port>, /ip6/<address>/tcp/<port> or /dns4/<name>/tcp/<port>"))
        }
        _ => return Err(format!("{addr}: expected /ip4/<address>/tcp/<port> or /ip6/<address>/tcp/<port>")),
    }
    match (parts.next(), parts.next()) {
        (None, _) | (Some(Protocol::P2p(_)), None) => Ok(()),
        _ => Err(format!("{addr}: nothing may follow /tcp/<port> but /p2p/<PeerId>")),
    }
}

/// Writes a new ed25519 key to `path`, readable only by its owner. Refuses
/// to overwrite an existing key.
pub fn keygen(path: &Path) -> io::Result<Keypair> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let key = Keypair::generate_ed25519();
    let bytes = key.to_protobuf_encoding().map_err(io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    Ok(key)
}

/// Reads a key written by [`keygen`]; refuses one others can read. As
/// PostgreSQL does for its key, a file owned by root may also be readable
/// by its group (mode 0440 or 0640): that is how Kubernetes mounts a Secret
/// for a non-root container (root's file, the pod's `fsGroup`).
pub fn load_key(path: &Path) -> io::Result<Keypair> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let mode = meta.permissions().mode();
    let private = mode & 0o077 == 0 || (meta.uid() == 0 && mode & 0o037 == 0);
    if !private {
        return Err(io::Error::new(io::ErrorKind::PermissionDenied, format!("{} is readable by others; chmod 600 it", path.display())));
    }
    let bytes = std::fs::read(path)?;
    Keypair::from_protobuf_encoding(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_roundtrip_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("node.key");
        let k = keygen(&p).unwrap();
        assert_eq!(load_key(&p).unwrap().public().to_peer_id(), k.public().to_peer_id());
        assert!(keygen(&p).is_err(), "overwrote a key");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load_key(&p).is_err());
        // a Secret as Kubernetes mounts it: root's, readable by the group
        use std::os::unix::fs::MetadataExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o440)).unwrap();
        assert_eq!(load_key(&p).is_ok(), std::fs::metadata(&p).unwrap().uid() == 0);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o460)).unwrap();
        assert!(load_key(&p).is_err(), "group-writable");
    }

    #[test]
    fn only_tcp_addresses_pass_and_names_only_to_dial() {
        for ok in
            ["/ip4/127.0.0.1/tcp/7400", "/ip6/::1/tcp/0", "/ip4/10.0.0.1/tcp/1/p2p/12D3KooWLT7sGNnJ5Vf3WmgrYKDgv2cF6NTUF7ToHhXFfrGJr3iT"]
        {
            assert!(check_tcp_address(&ok.parse().unwrap()).is_ok(), "{ok}");
            assert!(check_dial_address(&ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for bad in ["/dns4/example.org/tcp/7400", "/ip4/127.0.0.1/udp/7400", "/ip4/127.0.0.1", "/ip4/127.0.0.1/tcp/1/ws"] {
            let e = check_tcp_address(&bad.parse().unwrap()).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
        for ok in [
            "/dns4/candor-coordinator/tcp/7400",
            "/dns/coordinator.example.org/tcp/7400/p2p/12D3KooWLT7sGNnJ5Vf3WmgrYKDgv2cF6NTUF7ToHhXFfrGJr3iT",
        ] {
            assert!(check_dial_address(&ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for bad in ["/dns4/example.org/udp/7400", "/dnsaddr/example.org", "/dns4/example.org/tcp/1/ws"] {
            let e = check_dial_address(&bad.parse().unwrap()).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn yamux_windows_never_grow_past_the_documented_frame_size() {
        // yamux grows windows from `1 GiB - streams * 256 KiB`: zero here.
        // (Its config is opaque; Debug is the only way to read it back.)
        let c = format!("{:?}", yamux_config());
        assert!(c.contains(&format!("max_num_streams: {YAMUX_STREAMS_PINNING_THE_WINDOW}")), "{c}");
        assert!(c.contains("max_connection_receive_window: Some(1073741824)"), "{c}");
        assert_eq!(YAMUX_STREAMS_PINNING_THE_WINDOW * MAX_FRAME_BYTES, 1 << 30);
    }
}
