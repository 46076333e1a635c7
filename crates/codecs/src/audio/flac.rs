//! FLAC, lossless: encoded with flacenc (pure Rust, fixed block size 4096), decoded with
//! symphonia. Lossless for 16-bit audio (what the lab's clips are; float input is rounded to
//! 16 bits first, as a 16-bit WAV would be).
//!
//! flacenc 0.5.1 writes the short last block's length as the stream's *minimum* block size
//! when the clip is not a whole number of blocks (flacenc-rs issue 242); the FLAC format
//! excludes the last block from that field, and symphonia refuses such streams. The field is
//! set right before the stream is written.

use flacenc::component::BitRepr;
use flacenc::error::Verify;
use mpq_core::{Audio, Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams};

const BLOCK: usize = 4096;

pub struct Flac;

fn encode(a: &Audio) -> Result<Vec<u8>> {
    let err = |e: &dyn std::fmt::Debug| Error::encode("flac", format!("{e:?}"));
    let samples: Vec<i32> = a.samples.iter().map(|&s| super::to_i16(s) as i32).collect();
    let mut config = flacenc::config::Encoder::default();
    config.block_size = BLOCK;
    // One thread: the page's worker has none to spare, and the bytes must not depend on it.
    config.multithread = false;
    let config = config.into_verified().map_err(|e| err(&e))?;
    let source = flacenc::source::MemSource::from_samples(&samples, a.channels as usize, 16, a.sample_rate as usize);
    let mut stream = flacenc::encode_with_fixed_block_size(&config, source, BLOCK).map_err(|e| err(&e))?;
    let info = stream.stream_info_mut();
    if info.min_block_size() < info.max_block_size() && a.frames() > BLOCK {
        let max = info.max_block_size();
        info.set_block_sizes(max, max).map_err(|e| err(&e))?;
    }
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).map_err(|e| err(&e))?;
    Ok(sink.as_slice().to_vec())
}

impl Codec for Flac {
    fn id(&self) -> &'static str {
        "flac"
    }
    fn name(&self) -> &'static str {
        "FLAC (lossless)"
    }
    fn modality(&self) -> Modality {
        Modality::Audio
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "flac"
    }
    fn mime(&self) -> &'static str {
        "audio/flac"
    }
    fn params(&self) -> Vec<ParamSpec> {
        Vec::new()
    }
    fn encode_resolved(&self, input: &Media, _params: &ResolvedParams) -> Result<Vec<u8>> {
        encode(super::expect_audio(self.id(), input)?)
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        if !bytes.starts_with(b"fLaC") {
            return Err(Error::decode("FLAC", "it does not start with fLaC"));
        }
        super::decode::decode(bytes, "FLAC").map(Media::Audio)
    }
}
