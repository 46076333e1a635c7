//! zlib (RFC 1950): DEFLATE with zlib's two-byte header and Adler-32 trailer (what PNG and
//! HTTP's `deflate` carry), written with flate2 over miniz_oxide.

use std::io::Write;

use flate2::{Compression, read::ZlibDecoder, write::ZlibEncoder};
use mpq_core::{Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams};

pub struct Zlib;

/// A zlib header: the method is DEFLATE and (CMF·256 + FLG) is a multiple of 31.
pub(crate) fn is_stream(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] & 0x0f == 8 && (u16::from(bytes[0]) << 8 | u16::from(bytes[1])) % 31 == 0
}

impl Codec for Zlib {
    fn id(&self) -> &'static str {
        "zlib"
    }
    fn name(&self) -> &'static str {
        "zlib (DEFLATE)"
    }
    fn modality(&self) -> Modality {
        Modality::Text
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "zz"
    }
    fn mime(&self) -> &'static str {
        "application/zlib"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![super::level_param(0, 9, 6, "zlib's levels: 0 stores, 1 is fastest, 9 searches longest; 6 is zlib's default")]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let text = super::expect_text(self.id(), input)?;
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::new(params.int("level") as u32));
        enc.write_all(text).and_then(|_| enc.finish()).map_err(|e| Error::encode(self.id(), e))
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        if !is_stream(bytes) {
            return Err(Error::decode("zlib", "it does not start with a zlib header"));
        }
        super::read_bounded(ZlibDecoder::new(bytes), "zlib")
    }
}
