//! The consortium's window on a running federation: a status page, its JSON
//! API and Prometheus metrics, served read-only over HTTP
//! ([`server`]) from a snapshot the event loop publishes ([`board`]). The
//! simulation renders the same page ([`page`]) from its report.

pub mod board;
pub mod metrics;
pub mod page;
pub mod server;
pub mod view;
