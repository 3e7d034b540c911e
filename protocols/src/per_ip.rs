//! A bound on incoming handshakes per source IP address.
//!
//! Before Noise has named a peer, nothing tells an admitted hospital from a
//! stranger; the handshakes in progress are bounded in all (libp2p's
//! `connection_limits`), and one host that opens connections and says
//! nothing could hold every one of those slots, each for the handshake
//! timeout, and redial the moment one frees: admitted hospitals would then
//! never get a slot. This behaviour (ahead of `connection_limits`) lets one
//! source, an IPv4 address or an IPv6 /64, hold at most a few of them. Many hosts acting together are
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
#[error("{ip} (an IPv4 address or IPv6 /64) already has {max} handshakes in progress")]
pub struct TooManyFromIp {
    /// The source address.
    pub ip: IpAddr,
    /// The bound.
    pub max: usize,
}

/// What counts as one source: an IPv4 address (also when mapped into IPv6),
/// or an IPv6 /64, which one host commonly holds whole.
fn source_of(addr: &Multiaddr) -> Option<IpAddr> {
    let ip: IpAddr = addr.iter().find_map(|p| match p {
        Protocol::Ip4(a) => Some(a.into()),
        Protocol::Ip6(a) => Some(a.into()),
        _ => None,
    })?;
    Some(match ip.to_canonical() {
        IpAddr::V6(a) => IpAddr::V6((u128::from(a) & !u128::from(u64::MAX)).into()),
        v4 => v4,
    })
}

impl Behaviour {
    /// At most `max` (at least 1) handshakes in progress per source: an
    /// IPv4 address or an IPv6 /64.
    pub fn new(max: usize) -> Self {
        Self { max: max.max(1), pending: HashMap::new(), per_ip: HashMap::new() }
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
        let Some(ip) = source_of(remote) else { return Ok(()) };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    #[test]
    fn each_source_holds_at_most_max_and_every_end_frees_its_slot() {
        let mut b = Behaviour::new(2);
        let local = remote("/ip4/127.0.0.1/tcp/1");
        let (a, c, d, e) = (
            ConnectionId::new_unchecked(1),
            ConnectionId::new_unchecked(2),
            ConnectionId::new_unchecked(3),
            ConnectionId::new_unchecked(4),
        );
        let one = remote("/ip4/10.0.0.1/tcp/5000");
        // a handshake from `one` that failed
        let fail = |b: &mut Behaviour, id| {
            b.on_swarm_event(FromSwarm::ListenFailure(ListenFailure {
                local_addr: &local,
                send_back_addr: &one,
                error: &libp2p::swarm::ListenError::Aborted,
                connection_id: id,
                peer_id: None,
            }))
        };
        assert!(b.handle_pending_inbound_connection(a, &local, &one).is_ok());
        assert!(b.handle_pending_inbound_connection(c, &local, &remote("/ip4/10.0.0.1/tcp/5001")).is_ok());
        assert!(b.handle_pending_inbound_connection(d, &local, &one).is_err(), "a third from one address");
        // the same host as IPv4-mapped IPv6, and another address of a /64
        assert!(b.handle_pending_inbound_connection(d, &local, &remote("/ip6/::ffff:10.0.0.1/tcp/1")).is_err());
        assert!(b.handle_pending_inbound_connection(d, &local, &remote("/ip6/2001:db8::1/tcp/1")).is_ok());
        assert!(b.handle_pending_inbound_connection(e, &local, &remote("/ip6/2001:db8::ffff:2/tcp/1")).is_ok());
        assert!(b.handle_pending_inbound_connection(ConnectionId::new_unchecked(9), &local, &remote("/ip6/2001:db8::3/tcp/1")).is_err());
        // established, failed: each frees its slot once
        assert!(b.handle_established_inbound_connection(a, PeerId::random(), &local, &one).is_ok());
        fail(&mut b, a);
        assert_eq!(b.per_ip.get(&"10.0.0.1".parse().unwrap()), Some(&1), "freed once, not twice");
        fail(&mut b, c);
        for id in [d, e] {
            assert!(b.handle_established_inbound_connection(id, PeerId::random(), &local, &one).is_ok());
        }
        assert!(b.per_ip.is_empty() && b.pending.is_empty(), "{:?}", b.per_ip);
    }
}
