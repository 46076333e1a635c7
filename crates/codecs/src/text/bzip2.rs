//! bzip2 (Burrows–Wheeler), written and read with the `bzip2` crate over libbz2-rs-sys, a
//! pure-Rust translation of libbzip2. Concatenated streams decode one after the other, as
//! `bzip2 -d` does.

use std::io::Write;

use bzip2::{Compression, read::MultiBzDecoder, write::BzEncoder};
use mpq_core::{Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams};

pub struct Bzip2;

/// A bzip2 stream starts with BZh.
pub(crate) fn is_stream(bytes: &[u8]) -> bool {
    bytes.starts_with(b"BZh")
}

impl Codec for Bzip2 {
    fn id(&self) -> &'static str {
        "bzip2"
    }
    fn name(&self) -> &'static str {
        "bzip2 (BWT)"
    }
    fn modality(&self) -> Modality {
        Modality::Text
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "bz2"
    }
    fn mime(&self) -> &'static str {
        "application/x-bzip2"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![super::level_param(1, 9, 9, "bzip2 -1 … -9: the block is 100 kB × level; 9 is bzip2's default")]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let text = super::expect_text(self.id(), input)?;
        let mut enc = BzEncoder::new(Vec::new(), Compression::new(params.int("level") as u32));
        enc.write_all(text).and_then(|_| enc.finish()).map_err(|e| Error::encode(self.id(), e))
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        if !is_stream(bytes) {
            return Err(Error::decode("bzip2", "it does not start with bzip2's magic bytes BZh"));
        }
        super::read_bounded(MultiBzDecoder::new(bytes), "bzip2")
    }
}
