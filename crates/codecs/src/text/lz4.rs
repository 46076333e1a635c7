//! LZ4 in its frame format (what `lz4` writes), written and read with lz4_flex. lz4_flex has
//! only LZ4's fast compressor — there are no levels (`lz4 -9` is LZ4HC, a different matcher no
//! pure-Rust crate offers), so the parameters are the frame's: the block size and whether a
//! block may refer back into the one before (`lz4 -BD`, smaller output).

use std::io::Write;

use lz4_flex::frame::{BlockMode, BlockSize, FrameDecoder, FrameEncoder, FrameInfo};
use mpq_core::{Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams};

const MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];

/// The stream starts with its magic bytes.
pub(crate) fn is_stream(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}
const BLOCKS: [&str; 4] = ["64KB", "256KB", "1MB", "4MB"];

pub struct Lz4;

impl Codec for Lz4 {
    fn id(&self) -> &'static str {
        "lz4"
    }
    fn name(&self) -> &'static str {
        "LZ4 (frame)"
    }
    fn modality(&self) -> Modality {
        Modality::Text
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "lz4"
    }
    fn mime(&self) -> &'static str {
        "application/x-lz4"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::choice("block", "Block size", &BLOCKS, "4MB", "the frame's largest block (lz4 -B4 … -B7); 4MB is lz4's default"),
            ParamSpec::choice("linked", "Linked blocks", &["no", "yes"], "yes", "let each block refer back into the previous one (lz4 -BD): smaller output; lz4 itself defaults to independent blocks"),
        ]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let text = super::expect_text(self.id(), input)?;
        let block = match params.choice("block") {
            "64KB" => BlockSize::Max64KB,
            "256KB" => BlockSize::Max256KB,
            "1MB" => BlockSize::Max1MB,
            _ => BlockSize::Max4MB,
        };
        let mode = if params.choice("linked") == "yes" { BlockMode::Linked } else { BlockMode::Independent };
        // The content checksum, as `lz4` writes by default (its -BX block checksums are off).
        let info = FrameInfo::new().block_size(block).block_mode(mode).content_checksum(true);
        let mut enc = FrameEncoder::with_frame_info(info, Vec::new());
        enc.write_all(text).map_err(|e| Error::encode(self.id(), e))?;
        enc.finish().map_err(|e| Error::encode(self.id(), e))
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        if !is_stream(bytes) {
            return Err(Error::decode("LZ4", "it does not start with the LZ4 frame's magic bytes 04 22 4d 18"));
        }
        super::read_frames(bytes, "LZ4", |rest| Box::new(FrameDecoder::new(rest)))
    }
}
