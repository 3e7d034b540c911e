//! What a training proof is about, as plain data: digests, a hospital's data
//! commitment and the statement a proof attests. The circuits give them
//! their field-element meaning (`candor_circuits::verifier`); messages,
//! configs and the coordinator's store carry them as they are.

use crate::Model;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A field element's canonical 32 bytes: commitments and model digests.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// From 64 hex digits; `None` otherwise.
    pub fn from_hex(hex: &str) -> Option<Self> {
        hex::decode(hex.trim()).ok()?.try_into().ok().map(Self)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

/// Public facts of a data commitment, registered with the coordinator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataCommitment {
    /// Hash-chain value over one epoch of batches.
    pub root: Digest,
    /// Real (unmasked) rows.
    pub rows: u64,
    /// Batches per epoch, padding included.
    pub batches: u64,
}

impl AsRef<DataCommitment> for DataCommitment {
    fn as_ref(&self) -> &DataCommitment {
        self
    }
}

/// What a training proof is about. `D` is the data commitment: a plain
/// [`DataCommitment`] in a [`ClaimedStatement`] (what a participant proves
/// about its own data), a verified one in the circuits' `TrainingStatement`
/// (what verification takes). The step circuits never range-check data, the
/// commitment proof does; so a proof can only be verified against a
/// commitment whose own proof was verified, and the types make the other
/// way impossible to write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement<D> {
    /// The federation (its coordinator's PeerId bytes): a proof made for
    /// one federation never verifies in another with the same spec.
    pub federation: Vec<u8>,
    /// Round the update belongs to.
    pub round: u64,
    /// Participant identity (e.g. its libp2p PeerId bytes).
    pub participant: Vec<u8>,
    /// The participant's registered data commitment.
    pub data: D,
    /// The round's global model, where training starts.
    pub global: Model,
}

/// A statement over a commitment nobody verified here: enough to prove
/// training on one's own committed data, never enough to verify.
pub type ClaimedStatement = Statement<DataCommitment>;

impl<D> Statement<D> {
    /// The same statement over another form of its commitment.
    pub fn with_data<E>(self, data: E) -> Statement<E> {
        Statement { federation: self.federation, round: self.round, participant: self.participant, data, global: self.global }
    }
}

impl<D: AsRef<DataCommitment> + Clone> Statement<D> {
    /// The same statement as a claim (for proving).
    pub fn claim(&self) -> ClaimedStatement {
        let data = *self.data.as_ref();
        self.clone().with_data(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_hex_round_trips_and_refuses_other_lengths() {
        let d = Digest([0xab; 32]);
        assert_eq!(Digest::from_hex(&d.to_string()), Some(d));
        assert_eq!(Digest::from_hex(&format!(" {d}\n")), Some(d));
        assert_eq!(Digest::from_hex("abcd"), None);
        assert_eq!(Digest::from_hex(&"zz".repeat(32)), None);
    }
}
