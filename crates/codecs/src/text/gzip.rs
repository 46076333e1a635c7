//! gzip (RFC 1952): DEFLATE in gzip's container, written with flate2 over miniz_oxide. The
//! header carries no name and no time (mtime 0), so the same text always gives the same bytes.
//! Decoding reads every member of a multi-member file, as `gzip -d` does.

use std::io::Write;

use flate2::{Compression, GzBuilder, read::MultiGzDecoder};
use mpq_core::{Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams};

pub struct Gzip;

/// A gzip stream starts with 1f 8b.
pub(crate) fn is_stream(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

impl Codec for Gzip {
    fn id(&self) -> &'static str {
        "gzip"
    }
    fn name(&self) -> &'static str {
        "gzip (DEFLATE)"
    }
    fn modality(&self) -> Modality {
        Modality::Text
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "gz"
    }
    fn mime(&self) -> &'static str {
        "application/gzip"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![super::level_param(0, 9, 6, "gzip -0 … -9: 0 stores, 1 is fastest, 9 searches longest; 6 is gzip's default")]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let text = super::expect_text(self.id(), input)?;
        let mut enc = GzBuilder::new().mtime(0).write(Vec::new(), Compression::new(params.int("level") as u32));
        enc.write_all(text).and_then(|_| enc.finish()).map_err(|e| Error::encode(self.id(), e))
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        if !is_stream(bytes) {
            return Err(Error::decode("gzip", "it does not start with gzip's magic bytes 1f 8b"));
        }
        super::read_bounded(MultiGzDecoder::new(bytes), "gzip")
    }
}
