//! How proofs become bytes: bincode (standard configuration), decoded with a
//! size limit and exactly.
//!
//! halo2curves serializes a field element or point as a tuple of 32 bytes;
//! MessagePack writes each byte above 127 as two bytes, bincode as one. The
//! same compressed proof is about 11 KB here against 16-17 KB as
//! MessagePack. Messages stay MessagePack; a proof travels inside them as
//! one byte string.

use crate::CircuitError;
use bincode::config::{Configuration, Limit, LittleEndian, Varint};
use serde::{de::DeserializeOwned, Serialize};

/// Proofs larger than this are refused before decoding (honest ones are
/// 10-12 KB; a circuit 16 times larger adds 8 points to each opening).
pub const MAX_PROOF_BYTES: usize = 64 * 1024;

type Config = Configuration<LittleEndian, Varint, Limit<MAX_PROOF_BYTES>>;

fn config() -> Config {
    bincode::config::standard().with_limit::<MAX_PROOF_BYTES>()
}

fn malformed(reason: String) -> CircuitError {
    CircuitError::Malformed { what: "proof", reason }
}

/// Encodes a proof (or any part of one, for tests that rewrite proofs).
pub fn to_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, CircuitError> {
    bincode::serde::encode_to_vec(value, config()).map_err(|e| CircuitError::Proving(e.to_string()))
}

/// Decodes a proof that must be exactly `bytes`: a longer input is refused
/// before decoding and trailing bytes after it, so what is stored and
/// audited is exactly what was verified. A length the bytes claim cannot
/// make decoding allocate in proportion to it: serde reserves at most 1 MiB
/// for a sequence up front and grows it only as elements are actually read,
/// so a proof of at most 64 KiB allocates a few MiB at most (one reservation
/// per nesting level of the proof's type).
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CircuitError> {
    if bytes.len() > MAX_PROOF_BYTES {
        return Err(malformed(format!("{} bytes exceeds the limit of {MAX_PROOF_BYTES}", bytes.len())));
    }
    let (value, read) = bincode::serde::decode_from_slice(bytes, config()).map_err(|e| malformed(e.to_string()))?;
    if read != bytes.len() {
        return Err(malformed(format!("{} bytes after the proof", bytes.len() - read)));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_trailing_oversized_and_truncated_input() {
        let v: Vec<[u8; 32]> = vec![[0xff; 32]; 3];
        let bytes = to_bytes(&v).unwrap();
        assert_eq!(bytes.len(), 1 + 3 * 32, "a 32-byte tuple is 32 bytes");
        assert_eq!(from_bytes::<Vec<[u8; 32]>>(&bytes).unwrap(), v);

        let mut longer = bytes.clone();
        longer.push(0);
        assert!(from_bytes::<Vec<[u8; 32]>>(&longer).unwrap_err().to_string().contains("1 bytes after"));
        assert!(from_bytes::<Vec<[u8; 32]>>(&bytes[..bytes.len() - 1]).is_err());
        assert!(from_bytes::<Vec<u8>>(&vec![0u8; MAX_PROOF_BYTES + 1]).unwrap_err().to_string().contains("limit"));
    }

    #[test]
    fn a_claimed_length_far_beyond_the_input_is_an_error() {
        // A vector claiming 2^40 elements in 9 bytes.
        let bytes = to_bytes(&(1u64 << 40)).unwrap();
        let err = from_bytes::<Vec<u64>>(&bytes).unwrap_err();
        assert!(matches!(err, CircuitError::Malformed { .. }), "{err}");
    }
}
