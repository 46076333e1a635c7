//! PPMd (Shkarin's prediction by partial matching, variant H as 7-Zip uses it) inside a `.7z`
//! archive that `7z x` opens: one entry, `text.txt`, coded with method PPMD (ppmd-rust, a port
//! of 7-Zip's PPMd; the archive written and read by sevenz-rust2). The archive's own header
//! (≈ 100 bytes: names, sizes, CRCs) is counted in the bytes, as gzip's header is for gzip.
//!
//! Decoding refuses, before anything is allocated: an archive whose model needs more than
//! [`MAX_MEMORY_MIB`] (the model's memory is a property of the stream, up to 4 GiB in the
//! format), more than one entry, and an entry longer than the text limit.

use std::io::Cursor;

use mpq_core::{Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams, limits};
use sevenz_rust2::encoder_options::PpmdOptions;
use sevenz_rust2::{Archive, ArchiveEntry, ArchiveReader, ArchiveWriter, Password};

/// The largest model memory we encode with or decode (7-Zip's -mx9 uses 192 MiB).
pub const MAX_MEMORY_MIB: i64 = 256;
const ENTRY: &str = "text.txt";

pub struct Ppmd;

/// A 7z archive starts with its signature 37 7a bc af 27 1c.
pub(crate) fn is_stream(bytes: &[u8]) -> bool {
    bytes.starts_with(b"7z\xbc\xaf\x27\x1c")
}

fn encode(text: &[u8], order: u32, memory_mib: u32) -> std::result::Result<Vec<u8>, sevenz_rust2::Error> {
    let mut w = ArchiveWriter::new(Cursor::new(Vec::new()))?;
    w.set_content_methods(vec![PpmdOptions::from_order_memory_size(order, memory_mib << 20).into()]);
    w.push_archive_entry(ArchiveEntry::new_file(ENTRY), Some(text))?;
    Ok(w.finish()?.into_inner())
}

fn decode(bytes: &[u8]) -> Result<Vec<u8>> {
    // sevenz-rust2 shows some of its errors as Rust debug text (`Other("…")`): keep the words.
    let bad = |e: sevenz_rust2::Error| {
        let text = e.to_string();
        let words = text.strip_prefix("Other(\"").and_then(|t| t.strip_suffix("\")")).unwrap_or(&text).to_string();
        if words.contains("UnexpectedEof") || words.contains("failed to fill whole buffer") || words.contains("out of range") {
            Error::decode("7z (PPMd)", format!("the archive is cut short or damaged ({words})"))
        } else {
            Error::decode("7z (PPMd)", words)
        }
    };
    let mut cursor = Cursor::new(bytes);
    let archive = Archive::read_with_memory_limit(&mut cursor, &Password::empty(), (MAX_MEMORY_MIB as usize + 1) * 1024).map_err(bad)?;
    let entries: Vec<_> = archive.files.iter().filter(|f| f.has_stream).collect();
    if entries.len() != 1 || archive.files.len() != 1 {
        return Err(Error::decode("7z (PPMd)", format!("it holds {} entries; a text archive holds one", archive.files.len())));
    }
    if entries[0].size > limits::MAX_TEXT_BYTES as u64 {
        return Err(limits::text_too_large("7z (PPMd)"));
    }
    let mut reader = ArchiveReader::from_archive(archive, cursor, Password::empty());
    reader.set_thread_count(1);
    let mut text = None;
    reader
        .for_each_entries(|_, r| {
            text = Some(super::read_bounded(r, "7z (PPMd)"));
            Ok(true)
        })
        .map_err(bad)?;
    match text {
        Some(t) => Ok(t?.into_text()?.bytes),
        None => Err(Error::decode("7z (PPMd)", "the archive's entry has no data")),
    }
}

impl Codec for Ppmd {
    fn id(&self) -> &'static str {
        "ppmd"
    }
    fn name(&self) -> &'static str {
        "PPMd (in .7z)"
    }
    fn modality(&self) -> Modality {
        Modality::Text
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "7z"
    }
    fn mime(&self) -> &'static str {
        "application/x-7z-compressed"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::int("order", "Order", 2, 64, 6, "how many preceding bytes the model's longest context holds (7z -mo); 6 is 7-Zip's default"),
            ParamSpec::int("memory", "Memory", 1, MAX_MEMORY_MIB, 16, "the model's memory (7z -mmem); when it fills, the model restarts; 16 MiB is 7-Zip's default")
                .with_unit("MiB"),
        ]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let text = super::expect_text(self.id(), input)?;
        encode(text, params.int("order") as u32, params.int("memory") as u32).map_err(|e| Error::encode(self.id(), e))
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        if !is_stream(bytes) {
            return Err(Error::decode("7z (PPMd)", "it does not start with 7z's signature 37 7a bc af 27 1c"));
        }
        decode(bytes).map(|bytes| Media::Text(mpq_core::Text { bytes }))
    }
}
