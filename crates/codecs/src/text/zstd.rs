//! Zstandard (RFC 8878), written and read with structured-zstd: pure Rust with the C
//! library's levels 1–22 (ruzstd, which it grew from, implements only the fastest level, ≈ zstd
//! -1, which would make zstd look worse than it is). Concatenated frames decode one after the
//! other, as `zstd -d` does.

use mpq_core::{Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams};
use structured_zstd::decoding::StreamingDecoder;
use structured_zstd::encoding::{CompressionLevel, compress_slice_to_vec};

const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The stream starts with its magic bytes.
pub(crate) fn is_stream(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

pub struct Zstd;

impl Codec for Zstd {
    fn id(&self) -> &'static str {
        "zstd"
    }
    fn name(&self) -> &'static str {
        "Zstandard"
    }
    fn modality(&self) -> Modality {
        Modality::Text
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "zst"
    }
    fn mime(&self) -> &'static str {
        "application/zstd"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![super::level_param(1, 22, 3, "zstd -1 … -19, and --ultra up to 22; 3 is zstd's default")]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let text = super::expect_text(self.id(), input)?;
        Ok(compress_slice_to_vec(text, CompressionLevel::Level(params.int("level") as i32)))
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        if !is_stream(bytes) {
            return Err(Error::decode("zstd", "it does not start with zstd's magic bytes 28 b5 2f fd"));
        }
        // `&mut &[u8]` reads from the slice and moves it past what the frame used.
        super::read_frames(bytes, "zstd", |rest| Box::new(StreamingDecoder::new(rest)))
    }
}
