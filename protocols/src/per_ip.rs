//! A bound on incoming handshakes per source IP address.
//!
//! Before Noise has named a peer, nothing tells an admitted hospital from a
//! stranger; the handshakes in progress are bounded in all (libp2p's
//! `connection_limits`), and one host that opens connections and says
//! nothing could hold every one of those slots, each for the handshake
//! timeout, and redial the moment one frees: admitted hospitals would then
//! never get a slot. This behaviour (ahead of `connection_limits`) lets one
//! IP address hold at most a few of them. Many hosts acting together are
//! not stopped by it; a firewall that admits only the hospitals' networks
//! is (SECURITY.md).

use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::behaviour::ListenFailure;
use libp2p::swarm::{
    dummy, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::task::{Context, Poll};

/// Denies an incoming connection while its IP address already has `max`
/// handshakes in progress.
#[derive(Debug)]
pub struct Behaviour {
    max: usize,
    pending: HashMap<ConnectionId, IpAddr>,
    per_ip: HashMap<IpAddr, usize>,
}

/// Why a connection was denied.
#[derive(Debug, thiserror::Error)]
#[error("{ip} already has {max} handshakes in progress")]
pub struct TooManyFromIp {
    /// The source address.
    pub ip: IpAddr,
    /// The bound.
    pub max: usize,
}

fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(a) => Some(a.into()),
        Protocol::Ip6(a) => Some(a.into()),
        _ => None,
    })
}

impl Behaviour {
    /// At most `max` handshakes in progress per source IP address.
    pub fn new(max: usize) -> Self {
        Self { max, pending: HashMap::new(), per_ip: HashMap::new() }
    }

    /// Handshakes in progress from `ip`.
    pub fn pending_from(&self, ip: IpAddr) -> usize {
        self.per_ip.get(&ip).copied().unwrap_or(0)
    }

    fn done(&mut self, id: ConnectionId) {
        if let Some(ip) = self.pending.remove(&id) {
            if let Some(n) = self.per_ip.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    self.per_ip.remove(&ip);
                }
            }
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        id: ConnectionId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        // not an IP transport: nothing to count by
        let Some(ip) = ip_of(remote) else { return Ok(()) };
        let n = self.per_ip.entry(ip).or_default();
        if *n >= self.max {
            return Err(ConnectionDenied::new(TooManyFromIp { ip, max: self.max }));
        }
        *n += 1;
        self.pending.insert(id, ip);
        Ok(())
    }

    fn handle_established_inbound_connection(
        &mut self,
        id: ConnectionId,
        _peer: PeerId,
        _local: &Multiaddr,
        _remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.done(id);
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _id: ConnectionId,
        _peer: PeerId,
        _addr: &Multiaddr,
        _role: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        // a handshake that failed, timed out, or was denied by another
        // behaviour (before or after this one counted it)
        if let FromSwarm::ListenFailure(ListenFailure { connection_id, .. }) = event {
            self.done(connection_id);
        }
    }

    fn on_connection_handler_event(&mut self, _: PeerId, _: ConnectionId, event: THandlerOutEvent<Self>) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}
