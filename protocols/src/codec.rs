//! A request-response codec for MessagePack with hard size caps.
//!
//! Reads go through `take(limit + 1)`, so a peer can never make us buffer
//! more than the cap. An inbound request that is too large, malformed or of
//! another wire version is not a stream error but a [`Request::Invalid`], so
//! the coordinator can answer the sender with the reason.

use crate::bounds::{bounded_reason, NetGauges};
use crate::{RejectCode, Request, Response};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use serde::de::IgnoredAny;
use std::io;
use std::sync::Arc;

/// The protocol negotiated on each stream.
pub const PROTOCOL_NAME: StreamProtocol = StreamProtocol::new("/candor/fl/1");

/// Version carried in every message; bumped on incompatible changes
/// (2: models are tagged by architecture, linear or MLP; 3: proofs are
/// bincode inside the MessagePack message, `candor_circuits::encoding`).
pub const WIRE_VERSION: u16 = 3;

/// An oversize request is discarded up to this many times the cap (to be
/// able to answer it); beyond that its stream is dropped.
const DRAIN_FACTOR: u64 = 16;

/// Size caps in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest request accepted (a submission carries a proof of ~17 KB).
    pub max_request: usize,
    /// Largest response accepted (an announcement carries the model).
    pub max_response: usize,
    /// Most array and map entries a request may carry in all, counted
    /// before it is decoded. A model parameter costs one byte on the wire
    /// and eight once decoded, so without this a 1 MiB request decodes to
    /// 8 MiB; the coordinator sets it from its study's model shape.
    pub max_request_entries: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_request: 1 << 20, max_response: 1 << 20, max_request_entries: None }
    }
}

impl Limits {
    /// Entries a request may carry when the study's models have `params`
    /// parameters: those, and room for the message's own fields.
    pub fn entries_for_params(params: usize) -> usize {
        params + 64
    }
}

/// The MessagePack codec.
#[derive(Clone, Debug, Default)]
pub struct Codec {
    limits: Limits,
    gauges: Arc<NetGauges>,
}

impl Codec {
    /// A codec with the given caps.
    pub fn new(limits: Limits) -> Self {
        Self::observed(limits, Arc::default())
    }

    /// A codec with the given caps that counts its reads in `gauges`.
    pub fn observed(limits: Limits, gauges: Arc<NetGauges>) -> Self {
        Self { limits, gauges }
    }
}

async fn read_capped<T: AsyncRead + Unpin + Send>(io: &mut T, max: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    io.take(max as u64 + 1).read_to_end(&mut buf).await?;
    Ok(buf)
}

fn encode<M: serde::Serialize>(msg: &M) -> io::Result<Vec<u8>> {
    rmp_serde::to_vec(&(WIRE_VERSION, msg)).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// Decodes a versioned message, or says why not. Decoder errors may quote
/// the peer's bytes (an unknown variant's name), so the reason is bounded.
fn decode<M: serde::de::DeserializeOwned>(bytes: &[u8], max: usize) -> Result<M, (RejectCode, String)> {
    if bytes.len() > max {
        return Err((RejectCode::TooLarge, format!("message exceeds {max} bytes")));
    }
    let (version, _): (u16, IgnoredAny) =
        rmp_serde::from_slice(bytes).map_err(|e| (RejectCode::Malformed, bounded_reason(&format!("not a Candor message: {e}"))))?;
    if version != WIRE_VERSION {
        return Err((RejectCode::UnsupportedVersion, format!("wire version {version}, this node speaks {WIRE_VERSION}")));
    }
    let (_, msg): (u16, M) = rmp_serde::from_slice(bytes).map_err(|e| (RejectCode::Malformed, bounded_reason(&e.to_string())))?;
    Ok(msg)
}

/// Counts the array and map entries of a MessagePack value without keeping
/// any of it, and fails as soon as they pass the bound. MessagePack gives
/// each array's length up front, so an oversize model is refused at its
/// header, before anything is allocated for it.
struct EntryBound(std::cell::Cell<usize>);

impl EntryBound {
    fn take(&self, n: usize) -> bool {
        let left = self.0.get();
        self.0.set(left.saturating_sub(n));
        n <= left
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for &EntryBound {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for &EntryBound {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a MessagePack value")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if !self.take(seq.size_hint().unwrap_or(0)) {
            return Err(serde::de::Error::custom(TOO_MANY_ENTRIES));
        }
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if !self.take(map.size_hint().unwrap_or(0)) {
            return Err(serde::de::Error::custom(TOO_MANY_ENTRIES));
        }
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }

    // scalars, strings and binaries (a proof) are bounded by the byte cap
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bytes<E>(self, _: &[u8]) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

const TOO_MANY_ENTRIES: &str = "too many entries";

/// Whether `bytes` carry at most `max` array and map entries in all.
fn check_entries(bytes: &[u8], max: usize) -> Result<(), (RejectCode, String)> {
    use serde::de::DeserializeSeed;
    let bound = EntryBound(std::cell::Cell::new(max));
    match (&bound).deserialize(&mut rmp_serde::Deserializer::from_read_ref(bytes)) {
        Err(e) if e.to_string().contains(TOO_MANY_ENTRIES) => {
            Err((RejectCode::TooLarge, format!("message carries more than {max} array and map entries (a model larger than this study's)")))
        }
        // anything else is the decoder's to report
        _ => Ok(()),
    }
}

impl libp2p::request_response::Codec for Codec {
    type Protocol = StreamProtocol;
    type Request = Request;
    type Response = Response;

    async fn read_request<T: AsyncRead + Unpin + Send>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request> {
        let _reading = self.gauges.reading();
        let bytes = read_capped(io, self.limits.max_request).await?;
        if bytes.len() > self.limits.max_request {
            // The sender only reads our answer once it has written everything,
            // and flow control stalls it while we don't read: discard the rest
            // (without buffering it) so that it can hear "too large". Past a
            // hard bound, drop the stream instead.
            let bound = DRAIN_FACTOR * self.limits.max_request as u64;
            let drained = futures::io::copy(io.take(bound + 1), &mut futures::io::sink()).await?;
            if drained > bound {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "request far beyond the size cap"));
            }
        }
        let decoded = match self.limits.max_request_entries {
            Some(max) => check_entries(&bytes, max).and_then(|()| decode(&bytes, self.limits.max_request)),
            None => decode(&bytes, self.limits.max_request),
        };
        Ok(decoded.unwrap_or_else(|(code, reason)| Request::Invalid { code, reason }))
    }

    async fn read_response<T: AsyncRead + Unpin + Send>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response> {
        let bytes = read_capped(io, self.limits.max_response).await?;
        decode(&bytes, self.limits.max_response)
            .map_err(|(code, reason)| io::Error::new(io::ErrorKind::InvalidData, format!("{code:?}: {reason}")))
    }

    async fn write_request<T: AsyncWrite + Unpin + Send>(&mut self, _: &StreamProtocol, io: &mut T, req: Request) -> io::Result<()> {
        if matches!(req, Request::Invalid { .. }) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "Request::Invalid is never sent"));
        }
        let bytes = encode(&req)?;
        if bytes.len() > self.limits.max_request {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("request of {} bytes exceeds the cap", bytes.len())));
        }
        io.write_all(&bytes).await
    }

    async fn write_response<T: AsyncWrite + Unpin + Send>(&mut self, _: &StreamProtocol, io: &mut T, res: Response) -> io::Result<()> {
        io.write_all(&encode(&res)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Submission;
    use candor_core::model::linear::LinearModel;
    use futures::executor::block_on;
    use futures::io::Cursor;
    use libp2p::request_response::Codec as _;

    fn submission(proof_len: usize) -> Request {
        Request::Submit(Submission {
            round: 4,
            model: LinearModel { weights: vec![1, -2, 3], bias: 7 }.into(),
            samples: 150,
            proof: vec![0xab; proof_len],
        })
    }

    fn roundtrip(c: &mut Codec, req: Request) -> Request {
        let mut wire = Cursor::new(Vec::new());
        block_on(c.write_request(&PROTOCOL_NAME, &mut wire, req)).unwrap();
        let mut rd = Cursor::new(wire.into_inner());
        block_on(c.read_request(&PROTOCOL_NAME, &mut rd)).unwrap()
    }

    #[test]
    fn requests_roundtrip_and_proofs_are_binary() {
        let mut c = Codec::default();
        for req in [Request::Poll { after: Some(3) }, Request::Status, submission(17_000)] {
            assert_eq!(roundtrip(&mut c, req.clone()), req);
        }
        // a 17 KB proof costs ~17 KB on the wire, not an array of integers
        assert!(encode(&submission(17_000)).unwrap().len() < 17_200);
    }

    #[test]
    fn oversize_request_is_reported_not_buffered() {
        let mut c = Codec::new(Limits { max_request: 1000, max_response: 1000, max_request_entries: None });
        let big = encode(&submission(5000)).unwrap();
        let mut rd = Cursor::new(big);
        let got = block_on(c.read_request(&PROTOCOL_NAME, &mut rd)).unwrap();
        assert!(matches!(got, Request::Invalid { code: RejectCode::TooLarge, .. }));
        // it buffered at most cap + 1 bytes and discarded the rest
        assert_eq!(rd.position(), rd.get_ref().len() as u64);
        // and refuses to send one
        let mut wire = Cursor::new(Vec::new());
        assert!(block_on(c.write_request(&PROTOCOL_NAME, &mut wire, submission(5000))).is_err());
    }

    #[test]
    fn malformed_and_foreign_versions_are_reported() {
        let mut c = Codec::default();
        for (bytes, code) in [
            (vec![0xc1, 0xff, 0x00], RejectCode::Malformed),
            (Vec::new(), RejectCode::Malformed),
            (rmp_serde::to_vec(&(WIRE_VERSION, "hello")).unwrap(), RejectCode::Malformed),
            (rmp_serde::to_vec(&(99u16, Request::Status)).unwrap(), RejectCode::UnsupportedVersion),
        ] {
            let got = block_on(c.read_request(&PROTOCOL_NAME, &mut Cursor::new(bytes))).unwrap();
            assert!(matches!(got, Request::Invalid { code: c2, .. } if c2 == code), "{got:?}");
        }
        let bad = block_on(c.read_response(&PROTOCOL_NAME, &mut Cursor::new(vec![0x92, 0x01])));
        assert!(bad.is_err());
    }

    #[test]
    fn an_unknown_variant_name_is_not_echoed_in_full() {
        // (version, {"<1 MB name>": nil}): serde's error quotes the name
        let name = "A".repeat(1_000_000);
        let mut bytes = rmp_serde::to_vec(&(WIRE_VERSION,)).unwrap();
        bytes[0] = 0x92; // a 2-array: version, then the enum
        bytes.extend(rmp_serde::to_vec(&std::collections::BTreeMap::from([(name, ())])).unwrap());
        let mut c = Codec::new(Limits { max_request: 2 << 20, max_response: 1 << 20, max_request_entries: None });
        let got = block_on(c.read_request(&PROTOCOL_NAME, &mut Cursor::new(bytes))).unwrap();
        let Request::Invalid { code: RejectCode::Malformed, reason } = got else { panic!("{got:?}") };
        assert!(reason.len() <= crate::MAX_REASON_BYTES, "{} bytes", reason.len());
        assert!(reason.contains("AAAA"), "the reason still says what was wrong: {reason}");
    }

    #[test]
    fn a_model_larger_than_the_studys_is_refused_before_it_is_decoded() {
        let limits = Limits { max_request_entries: Some(Limits::entries_for_params(4)), ..Limits::default() };
        let mut c = Codec::new(limits);
        // the study's own shape (3 weights and a bias) passes
        assert_eq!(roundtrip(&mut c, submission(17_000)), submission(17_000));
        // 900,000 one-byte weights fit the 1 MiB cap and would decode to 7 MB
        let huge = Request::Submit(Submission {
            round: 4,
            model: LinearModel { weights: vec![1; 900_000], bias: 7 }.into(),
            samples: 150,
            proof: vec![0xab; 100],
        });
        let bytes = encode(&huge).unwrap();
        assert!(bytes.len() < 1 << 20, "{}", bytes.len());
        let got = block_on(c.read_request(&PROTOCOL_NAME, &mut Cursor::new(bytes))).unwrap();
        let Request::Invalid { code: RejectCode::TooLarge, reason } = got else { panic!("{got:?}") };
        assert!(reason.contains("entries"), "{reason}");
        // a peer nesting empty arrays gains nothing: each one is an entry
        let nested = rmp_serde::to_vec(&(WIRE_VERSION, vec![Vec::<u8>::new(); 100])).unwrap();
        let got = block_on(c.read_request(&PROTOCOL_NAME, &mut Cursor::new(nested))).unwrap();
        assert!(matches!(got, Request::Invalid { code: RejectCode::TooLarge, .. }), "{got:?}");
        // bytes that are not MessagePack are still the decoder's to report
        let got = block_on(c.read_request(&PROTOCOL_NAME, &mut Cursor::new(vec![0xc1]))).unwrap();
        assert!(matches!(got, Request::Invalid { code: RejectCode::Malformed, .. }), "{got:?}");
    }

    #[test]
    fn truncated_submission_never_panics() {
        let mut c = Codec::default();
        let full = encode(&submission(300)).unwrap();
        for cut in 0..full.len() {
            let got = block_on(c.read_request(&PROTOCOL_NAME, &mut Cursor::new(full[..cut].to_vec()))).unwrap();
            assert!(matches!(got, Request::Invalid { code: RejectCode::Malformed, .. }));
        }
    }
}
