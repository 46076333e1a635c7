//! xz (LZMA2 in the .xz container, CRC-64 check as `xz` writes by default), written and read
//! with lzma-rust2 (a port of XZ for Java). Decoding refuses a dictionary over 128 MiB before
//! allocating it (presets go up to 64 MiB), and reads concatenated streams, as `xz -d` does.

use std::io::Write;

use lzma_rust2::{XzOptions, XzReader, XzWriter};
use mpq_core::{Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams};

const MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0];

/// The stream starts with its magic bytes.
pub(crate) fn is_stream(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}
/// The decoder's memory limit, KiB: twice the largest preset's dictionary.
const MEM_LIMIT_KIB: u32 = 128 * 1024;

pub struct Xz;

impl Codec for Xz {
    fn id(&self) -> &'static str {
        "xz"
    }
    fn name(&self) -> &'static str {
        "xz (LZMA2)"
    }
    fn modality(&self) -> Modality {
        Modality::Text
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "xz"
    }
    fn mime(&self) -> &'static str {
        "application/x-xz"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![super::level_param(0, 9, 6, "xz -0 … -9 (the dictionary grows from 256 KiB to 64 MiB); 6 is xz's default")]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let text = super::expect_text(self.id(), input)?;
        let err = |e: std::io::Error| Error::encode("xz", e);
        let mut w = XzWriter::new(Vec::new(), XzOptions::with_preset(params.int("level") as u32)).map_err(err)?;
        w.write_all(text).map_err(err)?;
        w.finish().map_err(err)
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        if !is_stream(bytes) {
            return Err(Error::decode("xz", "it does not start with xz's magic bytes fd 37 7a 58 5a 00"));
        }
        super::read_bounded(XzReader::new_mem_limit(bytes, true, MEM_LIMIT_KIB), "xz")
    }
}
