//! Brotli (RFC 7932), written and read with the `brotli` crate (Dropbox's pure-Rust port of
//! Google's library). A brotli stream has no magic bytes, so anything is tried.

use std::io::Write;

use mpq_core::{Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams};

pub struct Brotli;

impl Codec for Brotli {
    fn id(&self) -> &'static str {
        "brotli"
    }
    fn name(&self) -> &'static str {
        "Brotli"
    }
    fn modality(&self) -> Modality {
        Modality::Text
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "br"
    }
    fn mime(&self) -> &'static str {
        "application/x-brotli"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::int("quality", "Quality", 0, 11, 11, "brotli -q 0 … 11; 11, the slowest and smallest, is brotli's default"),
            ParamSpec::int("window", "Window", 10, 24, 22, "log₂ of the LZ77 window (brotli -w): 22 is 4 MiB, the library's default"),
        ]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let text = super::expect_text(self.id(), input)?;
        let mut out = Vec::new();
        {
            let mut enc = brotli::CompressorWriter::new(&mut out, 4096, params.int("quality") as u32, params.int("window") as u32);
            enc.write_all(text).and_then(|_| enc.flush()).map_err(|e| Error::encode(self.id(), e))?;
        }
        Ok(out)
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        if bytes.is_empty() {
            return Err(Error::decode("Brotli", "the stream is empty"));
        }
        super::read_bounded(brotli::Decompressor::new(bytes, 4096), "Brotli")
    }
}
