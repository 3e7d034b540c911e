//! Fuzzing of the wire codec: any bytes read as a request (what an admitted
//! hospital can send the coordinator) or as a response (what a coordinator
//! can send a hospital) are a message or a refusal, never a panic; a request
//! that decodes re-encodes to itself. The seed corpus holds one valid
//! encoding of each request and response shape, so that mutations start
//! from well-formed MessagePack. (protocols/tests/wire_fuzz.rs runs
//! structure-aware mutations with a fixed case count in CI.)
//!
//! cargo fuzz run wire --sanitizer none fuzz/corpus/wire
#![no_main]

use candor_protocols::{Codec, Limits, Request, PROTOCOL_NAME};
use futures::executor::block_on;
use futures::io::Cursor;
use libfuzzer_sys::fuzz_target;
use libp2p::request_response::Codec as _;

fuzz_target!(|bytes: &[u8]| {
    let mut codec = Codec::new(Limits::default());
    let req = block_on(codec.read_request(&PROTOCOL_NAME, &mut Cursor::new(bytes.to_vec()))).expect("reading from memory");
    if !matches!(req, Request::Invalid { .. }) {
        let mut wire = Cursor::new(vec![]);
        block_on(codec.write_request(&PROTOCOL_NAME, &mut wire, req.clone())).expect("a decoded request encodes");
        let again = block_on(codec.read_request(&PROTOCOL_NAME, &mut Cursor::new(wire.into_inner()))).expect("reading from memory");
        assert_eq!(again, req, "a request means exactly itself");
    }
    let _ = block_on(codec.read_response(&PROTOCOL_NAME, &mut Cursor::new(bytes.to_vec())));
});
