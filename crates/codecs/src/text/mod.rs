//! Text codecs, one module per format behind [`mpq_core::Codec`]: the classic lossless
//! compressors, each a thin wrapper over a pure-Rust crate (so that it builds for wasm32) that
//! writes the tool's own stream (`gzip -d`, `zstd -d`, `xz -d`, `bzip2 -d`, `brotli -d`,
//! `lz4 -d` and `7z x` read ours, and ours read theirs).
//!
//! Every decoder reads through [`read_bounded`], which stops at [`limits::MAX_TEXT_BYTES`]: a
//! small stream that expands past it (a decompression bomb) is refused, naming the limit,
//! before the memory is taken.

pub mod brotli;
pub mod bzip2;
pub mod gzip;
pub mod lm;
pub mod logs;
pub mod lz4;
pub mod ppmd;
pub mod xz;
pub mod zlib;
pub mod zstd;

use std::io::Read;

use mpq_core::{Error, Media, ParamSpec, Result, Text, limits};

pub(crate) fn expect_text<'a>(codec: &str, input: &'a Media) -> Result<&'a [u8]> {
    match input {
        Media::Text(t) => {
            limits::check_text_len(t.bytes.len())?;
            Ok(&t.bytes)
        }
        other => Err(Error::unsupported(codec, format!("it takes text, got {:?}", other.modality()))),
    }
}

/// Reads a decoder to its end, refusing output past [`limits::MAX_TEXT_BYTES`] and turning the
/// crate's I/O error (a truncated or damaged stream) into a decode error for people.
pub(crate) fn read_bounded(mut reader: impl Read, format: &str) -> Result<Media> {
    let mut out = Vec::new();
    // One byte more than the limit tells "exactly at the limit" from "past it".
    let n = (&mut reader)
        .take(limits::MAX_TEXT_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| io_error(format, &e))?;
    if n > limits::MAX_TEXT_BYTES {
        return Err(limits::text_too_large(format));
    }
    Ok(Media::Text(Text { bytes: out }))
}

/// Reads frames one after the other until the input ends (`zstd -d` and `lz4 -d` read
/// concatenated frames as one file; the crates' readers stop after one): `frame` makes a reader
/// of one frame over what is left, which it consumes. Bounded like [`read_bounded`].
pub(crate) fn read_frames<'a>(bytes: &'a [u8], format: &str, mut frame: impl for<'b> FnMut(&'b mut &'a [u8]) -> Box<dyn Read + 'b>) -> Result<Media> {
    let mut rest = bytes;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let budget = (limits::MAX_TEXT_BYTES + 1 - out.len()) as u64;
        frame(&mut rest).take(budget).read_to_end(&mut out).map_err(|e| io_error(format, &e))?;
        if out.len() > limits::MAX_TEXT_BYTES {
            return Err(limits::text_too_large(format));
        }
    }
    Ok(Media::Text(Text { bytes: out }))
}

/// A decoder's I/O error in words: most crates report a cut-short stream as `UnexpectedEof`.
pub(crate) fn io_error(format: &str, e: &std::io::Error) -> Error {
    // Some crates wrap the end of input in errors of their own (zstd's block reader does).
    let text = e.to_string();
    if e.kind() == std::io::ErrorKind::UnexpectedEof || text.contains("UnexpectedEof") || text.contains("failed to fill whole buffer") {
        Error::decode(format, "the stream is cut short")
    } else {
        Error::decode(format, e)
    }
}

/// The `level` parameter every LZ-family codec has, with the tool's range and default.
pub(crate) fn level_param(min: i64, max: i64, default: i64, help: &str) -> ParamSpec {
    ParamSpec::int("level", "Level", min, max, default, help)
}

/// The text codec whose stream `bytes` is, told by its magic bytes (Brotli has none: `None`).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    Some(if gzip::is_stream(bytes) {
        "gzip"
    } else if zstd::is_stream(bytes) {
        "zstd"
    } else if xz::is_stream(bytes) {
        "xz"
    } else if bzip2::is_stream(bytes) {
        "bzip2"
    } else if lz4::is_stream(bytes) {
        "lz4"
    } else if ppmd::is_stream(bytes) {
        "ppmd"
    } else if bytes.starts_with(lm::MAGIC) {
        "lm"
    } else if logs::is_stream(bytes) {
        "logs"
    } else if zlib::is_stream(bytes) && bytes[0] >> 4 <= 7 {
        // (and a window of at most 32 KiB, as RFC 1950 requires: fewer false matches)
        "zlib"
    } else {
        return None;
    })
}

/// The codec ids of the text lab, in registry order.
pub fn ids() -> Vec<&'static str> {
    crate::registry_for(mpq_core::Modality::Text).iter().map(|c| c.id()).collect()
}
