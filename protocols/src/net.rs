//! The libp2p pieces both daemons share: the behaviour, the swarm (TCP +
//! Noise + Yamux, identify, ping), and ed25519 key files.

use crate::{Codec, Limits, PROTOCOL_NAME};
use libp2p::{identify, identity::Keypair, noise, ping, request_response, swarm::NetworkBehaviour, tcp, yamux, Swarm};
use std::io;
use std::path::Path;
use std::time::Duration;

/// Candor's composed behaviour.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Candor requests and responses.
    pub rr: request_response::Behaviour<Codec>,
    /// Peer identification (agent and protocol versions).
    pub identify: identify::Behaviour,
    /// Liveness.
    pub ping: ping::Behaviour,
}

/// Network settings.
#[derive(Clone, Copy, Debug)]
pub struct NetConfig {
    /// Message size caps.
    pub limits: Limits,
    /// How long a request may wait for its response; longer than the
    /// coordinator's poll timeout.
    pub request_timeout: Duration,
    /// Concurrent inbound and outbound streams per connection.
    pub max_streams: usize,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self { limits: Limits::default(), request_timeout: Duration::from_secs(120), max_streams: 16 }
    }
}

/// Builds a swarm on TCP with Noise and Yamux.
pub fn build_swarm(key: Keypair, cfg: NetConfig) -> Result<Swarm<Behaviour>, io::Error> {
    let other = |e: &dyn std::fmt::Display| io::Error::other(e.to_string());
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| other(&e))?
        .with_behaviour(|key| Behaviour {
            rr: request_response::Behaviour::with_codec(
                Codec::new(cfg.limits),
                [(PROTOCOL_NAME, request_response::ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(cfg.request_timeout)
                    .with_max_concurrent_streams(cfg.max_streams),
            ),
            identify: identify::Behaviour::new(identify::Config::new("/candor/1".into(), key.public())),
            ping: ping::Behaviour::default(),
        })
        .map_err(|e| other(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
        .build();
    Ok(swarm)
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

/// Reads a key written by [`keygen`]; refuses one others can read.
pub fn load_key(path: &Path) -> io::Result<Keypair> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} is readable by others; chmod 600 it", path.display()),
        ));
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
    }
}
