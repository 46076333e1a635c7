//! Audio codecs, one module per format behind [`mpq_core::Codec`], and [`load`], which sniffs
//! and decodes any audio file the lab reads. Every reader checks the header's rate, channels
//! and length against [`mpq_core::limits::check_audio`] before it decodes a sample.

pub mod adpcm;
pub mod bandlimit;
pub mod decode;
pub mod flac;
pub mod g711;
pub mod mdct;
pub mod opus;
pub mod resample;
pub mod riff;

use mpq_core::{Audio, Codec as _, Error, Media, Result, limits};

pub(crate) fn expect_audio<'a>(codec: &str, input: &'a Media) -> Result<&'a Audio> {
    input.as_audio().ok_or_else(|| Error::unsupported(codec, format!("it takes audio, got {:?}", input.modality())))
}

/// A sample in [-1, 1] as 16-bit PCM (×32768, rounded, clipped: the convention of hound and
/// sox, so 16-bit WAVs round-trip exactly).
pub fn to_i16(x: f32) -> i16 {
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

pub fn from_i16(x: i16) -> f32 {
    x as f32 / 32768.0
}

/// Reads a WAV file: integer PCM (8–32 bit) and float PCM through hound, G.711 and IMA ADPCM
/// through our own decoders; the container is checked first ([`riff::parse`]).
pub fn decode_wav(bytes: &[u8]) -> Result<Audio> {
    let w = riff::parse(bytes)?;
    match w.fmt.effective_tag() {
        riff::TAG_MULAW | riff::TAG_ALAW => g711::decode_wav(bytes),
        riff::TAG_IMA_ADPCM => adpcm::decode_wav(bytes),
        riff::TAG_PCM | riff::TAG_FLOAT => decode_pcm_wav(bytes, &w),
        t => Err(Error::decode("WAV", format!("its samples are in format {t:#x}, which this lab does not read (it reads PCM, float, μ-law, A-law and IMA ADPCM)"))),
    }
}

fn decode_pcm_wav(bytes: &[u8], w: &riff::Wav<'_>) -> Result<Audio> {
    let bad = |e: &dyn std::fmt::Display| Error::decode("WAV", e);
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let spec = reader.spec();
    // The length is the data chunk's (checked against the file by riff::parse), not a claim.
    let frames = w.data.len() as u64 / (spec.channels.max(1) as u64 * (spec.bits_per_sample as u64).div_ceil(8).max(1));
    limits::check_audio(spec.sample_rate, spec.channels, frames)?;
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.into_samples::<f32>().collect::<std::result::Result<_, _>>().map_err(|e| bad(&e))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader.into_samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect::<std::result::Result<_, _>>().map_err(|e| bad(&e))?
        }
    };
    Audio::new(spec.sample_rate, spec.channels, samples)
}

/// 16-bit PCM WAV of `a` (what the CLI writes for decoded audio, and the page plays).
pub fn encode_wav16(a: &Audio) -> Result<Vec<u8>> {
    let spec = hound::WavSpec { channels: a.channels, sample_rate: a.sample_rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut out = std::io::Cursor::new(Vec::with_capacity(44 + a.samples.len() * 2));
    {
        let mut w = hound::WavWriter::new(&mut out, spec).map_err(|e| Error::encode("wav", e))?;
        for &s in &a.samples {
            w.write_sample(to_i16(s)).map_err(|e| Error::encode("wav", e))?;
        }
        w.finalize().map_err(|e| Error::encode("wav", e))?;
    }
    Ok(out.into_inner())
}

/// Sniffs and decodes any audio file the lab reads.
pub fn load(bytes: &[u8]) -> Result<Audio> {
    limits::check_file_size(bytes.len())?;
    if riff::is_wav(bytes) {
        return decode_wav(bytes);
    }
    // Ogg Opus (symphonia has no Opus): the first packet, after a 27-byte page header and a
    // one-byte segment table, is the OpusHead.
    if bytes.starts_with(b"OggS") && bytes.get(28..36) == Some(b"OpusHead") {
        return opus::decode_ogg(bytes);
    }
    // Our own MDCT codec's streams (what `mpqlab compress -c mdct` writes).
    if bytes.starts_with(b"MPQM") {
        return mdct::Mdct.decode(bytes)?.into_audio();
    }
    let kind = if bytes.starts_with(b"fLaC") {
        "FLAC"
    } else if bytes.starts_with(b"OggS") {
        "Ogg"
    } else if bytes.starts_with(b"ID3") || (bytes.len() > 1 && bytes[0] == 0xff && bytes[1] & 0xe0 == 0xe0) {
        "MP3"
    } else {
        return Err(Error::UnknownFormat(": not an audio file this lab reads (WAV, FLAC, MP3, Ogg Vorbis or Opus, our MDCT streams)".into()));
    };
    decode::decode(bytes, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bit_wav_round_trips_exactly() {
        let x: Vec<f32> = (0..1000).map(|i| from_i16(((i * 977) % 65536 - 32768) as i16)).collect();
        let a = Audio::new(16000, 2, x).unwrap();
        let back = load(&encode_wav16(&a).unwrap()).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn bad_wavs_are_refused_with_a_reason() {
        let a = Audio::new(16000, 1, vec![0.25; 16000]).unwrap();
        let wav = encode_wav16(&a).unwrap();
        let cut = load(&wav[..wav.len() / 2]).unwrap_err().to_string();
        assert!(cut.contains("cut short"), "{cut}");
        assert!(load(&[]).unwrap_err().to_string().contains("empty"));
        // A header claiming ten hours (the data chunk size says so, and the bytes are there
        // only in the claim): refused as cut short, before any sample is read.
        let mut long = wav.clone();
        let n = long.len();
        long[n - 32000 - 4..n - 32000].copy_from_slice(&(16000u32 * 2 * 36000).to_le_bytes());
        assert!(load(&long).unwrap_err().to_string().contains("cut short"));
        assert!(load(b"RIFF....WAVEjunk").is_err());
        assert!(matches!(load(b"hello world"), Err(Error::UnknownFormat(_))));
        // MP3 sync bytes, then noise: refused by the decoder, with its format named.
        let mut noise = vec![0xff, 0xfb];
        noise.extend((0..3000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
        assert!(load(&noise).is_err());
    }
}
