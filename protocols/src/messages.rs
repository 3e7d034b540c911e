use candor_core::statement::{DataCommitment, Digest};
use candor_core::Model;
use candor_core::TrainSpec;
use serde::{Deserialize, Serialize};

/// What a participant asks the coordinator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Long poll: answered as soon as a round newer than `after` is open, or
    /// with [`Response::NoRound`] when the poll times out.
    Poll {
        /// Last round the participant has seen.
        after: Option<u64>,
    },
    /// An update with its proof.
    Submit(Submission),
    /// The coordinator's current state.
    Status,
    /// Never sent: what the codec hands up when inbound bytes could not be
    /// decoded, so that the coordinator can tell the sender why.
    #[serde(skip)]
    Invalid {
        /// Why.
        code: RejectCode,
        /// Details for the log and the sender.
        reason: String,
    },
}

/// A participant's update for a round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// Round the update was trained for.
    pub round: u64,
    /// The trained model.
    pub model: Model,
    /// Samples consumed, as proven.
    pub samples: u64,
    /// Compressed zero-knowledge proof.
    /// (MessagePack binary, not an array of integers.)
    #[serde(with = "serde_bytes")]
    pub proof: Vec<u8>,
}

/// An open round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundAnnouncement {
    /// Round id, increasing.
    pub round: u64,
    /// The training spec every update must be proven under.
    pub spec: TrainSpec,
    /// The global model training starts from.
    pub global: Model,
    /// Its Poseidon digest.
    pub global_digest: [u8; 32],
    /// When the round closes, in milliseconds since the Unix epoch.
    pub deadline_unix_ms: u64,
    /// Accepted updates that close the round early.
    pub quorum: u32,
}

/// The coordinator's answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// A round is open.
    Round(Box<RoundAnnouncement>),
    /// No round newer than the poll's `after` opened before the poll timed out.
    NoRound,
    /// The submission verified and is stored.
    Accepted {
        /// Its round.
        round: u64,
    },
    /// The request was refused.
    Rejected {
        /// Machine-readable reason.
        code: RejectCode,
        /// Human-readable details.
        reason: String,
    },
    /// Answer to [`Request::Status`].
    Status(StatusReport),
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RejectCode {
    /// The peer is not admitted to the federation.
    UnknownPeer,
    /// The message's wire version is not supported.
    UnsupportedVersion,
    /// The bytes are not a valid message.
    Malformed,
    /// The message exceeds the size limit.
    TooLarge,
    /// The submission names a round that is not the open one.
    WrongRound,
    /// The round is closed (deadline passed or quorum reached).
    RoundClosed,
    /// This participant already has an accepted update in this round.
    Duplicate,
    /// The proof does not verify against the statement.
    InvalidProof,
    /// Too many submissions are being verified; retry later.
    Busy,
}

/// The coordinator's current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The open round, if any.
    pub round: Option<u64>,
    /// Updates accepted in it so far.
    pub accepted: u32,
    /// Rounds completed.
    pub completed_rounds: u64,
}

/// What a hospital hands the coordinator's operator to be admitted: written
/// by `candor-participant commit`, listed in the coordinator's config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// Display name.
    pub name: String,
    /// The hospital's PeerId.
    pub peer_id: String,
    /// Data commitment root (hex of 32 bytes).
    pub root: String,
    /// Committed rows.
    pub rows: u64,
    /// Batches per epoch.
    pub batches: u64,
    /// File with the commitment proof (ranges, labels, row count), relative
    /// to the registration file.
    pub proof: std::path::PathBuf,
}

impl Registration {
    /// The root's bytes.
    pub fn root_bytes(&self) -> Result<[u8; 32], String> {
        let v = hex::decode(&self.root).map_err(|e| format!("registration of {}: root: {e}", self.name))?;
        v.try_into().map_err(|_| format!("registration of {}: root must be 32 bytes", self.name))
    }

    /// The data commitment it registers.
    pub fn commitment(&self) -> Result<DataCommitment, String> {
        Ok(DataCommitment { root: Digest(self.root_bytes()?), rows: self.rows, batches: self.batches })
    }
}
