//! An in-memory transport: every request and response goes through the same
//! request-response codec the daemons use over libp2p (MessagePack, version
//! tag, size caps), only the bytes travel through a buffer instead of a
//! Noise/Yamux stream.

use crate::SimError;
use candor_protocols::{Codec, PROTOCOL_NAME};
use candor_protocols::{Request, Response};
use futures::executor::block_on;
use futures::io::Cursor;
use libp2p::request_response::Codec as _;

/// Bytes on the wire for one message.
pub struct Wire {
    codec: Codec,
}

impl Wire {
    /// A link with the codec's caps.
    pub fn new(codec: Codec) -> Self {
        Self { codec }
    }

    /// A request as the coordinator reads it, and its size in bytes. As over
    /// the network, the sender's codec refuses to send a request above the
    /// cap (an error here: the simulation's own participants never do).
    pub fn request(&mut self, req: Request) -> Result<(Request, usize), SimError> {
        let mut out = Cursor::new(Vec::new());
        block_on(self.codec.write_request(&PROTOCOL_NAME, &mut out, req)).map_err(|e| SimError::Wire(e.to_string()))?;
        let bytes = out.into_inner();
        let n = bytes.len();
        let req = block_on(self.codec.read_request(&PROTOCOL_NAME, &mut Cursor::new(bytes))).map_err(|e| SimError::Wire(e.to_string()))?;
        Ok((req, n))
    }

    /// A response as the participant reads it.
    pub fn response(&mut self, res: Response) -> Result<Response, SimError> {
        let mut out = Cursor::new(Vec::new());
        block_on(self.codec.write_response(&PROTOCOL_NAME, &mut out, res)).map_err(|e| SimError::Wire(e.to_string()))?;
        block_on(self.codec.read_response(&PROTOCOL_NAME, &mut Cursor::new(out.into_inner()))).map_err(|e| SimError::Wire(e.to_string()))
    }
}
