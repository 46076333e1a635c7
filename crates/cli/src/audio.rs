//! Audio on the command line: the audio lab's codecs and signal metrics (`compress` and `eval`
//! take audio when the codec is an audio codec).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use mpq_core::{Audio, Codec, Media, Params};
use mpq_metrics::audio::AudioReport;

/// Reads an audio file (the sniffing loader the page uses), with the file's name in errors.
pub(crate) fn read_audio(path: &Path) -> Result<Audio> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    mpq_core::limits::check_file_size(meta.len().min(usize::MAX as u64) as usize).with_context(|| format!("{}", path.display()))?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    mpq_codecs::audio::load(&bytes).with_context(|| format!("{}", path.display()))
}

/// Encodes, decodes and measures one clip.
pub(crate) fn evaluate_audio(codec: &dyn Codec, params: &Params, audio: &Audio) -> Result<(Vec<u8>, Audio, AudioReport)> {
    let media = Media::Audio(audio.clone());
    let t = Instant::now();
    let encoded = codec.encode(&media, params)?;
    let encode_ms = crate::ms_since(t);
    let t = Instant::now();
    let decoded = match codec.decode(&encoded)? {
        Media::Audio(a) => a,
        other => anyhow::bail!("{} decoded to {:?}, not audio", codec.id(), other.modality()),
    };
    let decode_ms = crate::ms_since(t);
    let report = AudioReport::measure(codec.id(), params, audio, &decoded, encoded.len(), encode_ms, decode_ms)?;
    Ok((encoded, decoded, report))
}
