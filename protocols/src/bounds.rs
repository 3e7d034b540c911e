//! Bounds on what a peer can make us keep: the length of a refusal reason
//! (stored, logged and echoed) and counts of reads in flight and connections,
//! which tests and operators check instead of timings.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Longest refusal reason stored, logged or sent, in bytes. A reason may quote
/// peer bytes (an unknown enum variant's name); this keeps a megabyte of them
/// out of the database and the log.
pub const MAX_REASON_BYTES: usize = 512;

/// `reason` cut to [`MAX_REASON_BYTES`] at a character boundary, with a marker
/// saying how much was cut.
pub fn bounded_reason(reason: &str) -> String {
    if reason.len() <= MAX_REASON_BYTES {
        return reason.to_string();
    }
    // room for the marker, so that the whole stays within the bound
    let mut end = MAX_REASON_BYTES - 40;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} bytes cut]", &reason[..end], reason.len() - end)
}

/// Live counts of what peers hold: request bodies being read, connections
/// open. Shared by the codec (reads) and the event loop (connections).
#[derive(Debug, Default)]
pub struct NetGauges {
    reads: AtomicUsize,
    reads_peak: AtomicUsize,
    connections: AtomicUsize,
    connections_peak: AtomicUsize,
    unadmitted_connections: AtomicUsize,
    refused: AtomicUsize,
    rate_limited: AtomicUsize,
}

/// Counts one read in flight until dropped (also when its future is
/// cancelled by a timeout or a closed connection).
pub(crate) struct ReadGuard<'a>(&'a NetGauges);

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        self.0.reads.fetch_sub(1, Ordering::Relaxed);
    }
}

impl NetGauges {
    pub(crate) fn reading(&self) -> ReadGuard<'_> {
        let now = self.reads.fetch_add(1, Ordering::Relaxed) + 1;
        self.reads_peak.fetch_max(now, Ordering::Relaxed);
        ReadGuard(self)
    }

    /// Request bodies being read now.
    pub fn reads_in_flight(&self) -> usize {
        self.reads.load(Ordering::Relaxed)
    }

    /// Most request bodies ever read at once.
    pub fn reads_peak(&self) -> usize {
        self.reads_peak.load(Ordering::Relaxed)
    }

    /// Records an established connection; `admitted` says whether its peer is.
    pub fn connection_opened(&self, admitted: bool) {
        let now = self.connections.fetch_add(1, Ordering::Relaxed) + 1;
        self.connections_peak.fetch_max(now, Ordering::Relaxed);
        if !admitted {
            self.unadmitted_connections.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Records a closed connection.
    pub fn connection_closed(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// Records a request refused for its peer's request rate.
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests refused for their peer's request rate.
    pub fn rate_limited_requests(&self) -> usize {
        self.rate_limited.load(Ordering::Relaxed)
    }

    /// Records a connection refused before it was established.
    pub fn connection_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Most connections ever established at once.
    pub fn connections_peak(&self) -> usize {
        self.connections_peak.load(Ordering::Relaxed)
    }

    /// Connections ever established with a peer that is not admitted.
    pub fn unadmitted_connections(&self) -> usize {
        self.unadmitted_connections.load(Ordering::Relaxed)
    }

    /// Connections refused before being established (unknown peer, limits).
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_cut_at_a_character_boundary_with_a_marker() {
        assert_eq!(bounded_reason("short"), "short");
        let long = "é".repeat(600_000);
        let cut = bounded_reason(&long);
        assert!(cut.len() <= MAX_REASON_BYTES, "{}", cut.len());
        assert!(cut.ends_with("bytes cut]"), "{cut}");
    }

    #[test]
    fn a_read_is_uncounted_when_its_guard_drops() {
        let g = NetGauges::default();
        let (a, b) = (g.reading(), g.reading());
        assert_eq!((g.reads_in_flight(), g.reads_peak()), (2, 2));
        drop((a, b));
        assert_eq!((g.reads_in_flight(), g.reads_peak()), (0, 2));
    }
}
