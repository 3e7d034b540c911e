//! Candor's wire protocol: versioned MessagePack messages over libp2p
//! request-response, every message size capped.
//!
//! Participants only ever dial out: a participant long-polls the coordinator
//! for the next round ([`Request::Poll`]) over the connection it opened,
//! submits its update ([`Request::Submit`]) and gets an explicit acceptance
//! or a rejection with a [`RejectCode`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bounds;
mod codec;
pub mod health;
mod messages;
// the `NetworkBehaviour` derive generates an undocumented event enum
#[allow(missing_docs)]
pub mod net;
pub mod per_ip;

pub use bounds::{bounded_reason, NetGauges, MAX_REASON_BYTES};
pub use codec::{Codec, Limits, PROTOCOL_NAME, WIRE_VERSION};
pub use messages::{Registration, RejectCode, Request, Response, RoundAnnouncement, StatusReport, Submission};
