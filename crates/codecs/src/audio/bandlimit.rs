//! Band-limiting: the oldest way to spend fewer bits on sound — fewer samples per second (a
//! lower rate keeps only what lies under half of it: 4 kHz of the voice at 8 kHz) and fewer
//! bits per sample. The clip is resampled down (rubato), rounded to 8 or 16 bits, and stored as
//! a plain PCM WAV at the low rate; an `mpqr` chunk keeps the original rate so that decoding
//! resamples back up and the clip can be compared sample for sample (other WAV readers skip
//! the chunk and play the low-rate file).

use mpq_core::{Audio, Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams};

use super::{resample, riff};

/// The rates offered (Hz).
pub const RATES: [&str; 7] = ["4000", "6000", "8000", "11025", "16000", "22050", "32000"];

pub struct BandLimit;

fn encode(a: &Audio, rate: u32, bits: u16) -> Result<Vec<u8>> {
    // Never up: a rate above the clip's keeps the clip's.
    let low = resample::resample(a, rate.min(a.sample_rate))?;
    let data: Vec<u8> = match bits {
        // 8-bit WAV samples are unsigned, 128 the zero.
        8 => low.samples.iter().map(|&s| ((s * 128.0).round().clamp(-128.0, 127.0) as i32 + 128) as u8).collect(),
        _ => low.samples.iter().flat_map(|&s| super::to_i16(s).to_le_bytes()).collect(),
    };
    let bytes_per = bits as u32 / 8;
    let fmt = riff::Fmt {
        tag: riff::TAG_PCM,
        channels: a.channels,
        sample_rate: low.sample_rate,
        byte_rate: low.sample_rate * a.channels as u32 * bytes_per,
        block_align: a.channels * bytes_per as u16,
        bits,
        extra: Vec::new(),
    };
    Ok(riff::write_with(&fmt, low.frames() as u32, &data, &[(*b"mpqr", &a.sample_rate.to_le_bytes())]))
}

/// Decodes the low-rate WAV and, where it names the original rate, resamples back to it.
pub fn decode_wav(bytes: &[u8]) -> Result<Audio> {
    let w = riff::parse(bytes)?;
    let original = w.chunk(b"mpqr").filter(|c| c.len() >= 4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    let low = super::decode_wav(bytes)?;
    match original {
        Some(rate) if rate != low.sample_rate => {
            mpq_core::limits::check_audio(rate, low.channels, (low.frames() as u64).saturating_mul(rate as u64) / low.sample_rate as u64)?;
            resample::resample(&low, rate)
        }
        _ => Ok(low),
    }
}

impl Codec for BandLimit {
    fn id(&self) -> &'static str {
        "bandlimit"
    }
    fn name(&self) -> &'static str {
        "Band-limit (lower rate, fewer bits)"
    }
    fn modality(&self) -> Modality {
        Modality::Audio
    }
    fn lossless(&self) -> bool {
        false
    }
    fn extension(&self) -> &'static str {
        "wav"
    }
    fn mime(&self) -> &'static str {
        "audio/wav"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::choice("rate", "Sample rate (Hz)", &RATES, "8000", "r"),
            ParamSpec::choice("bits", "Bits per sample", &["8", "16"], "16", "b"),
        ]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let a = super::expect_audio(self.id(), input)?;
        let rate: u32 = params.choice("rate").parse().map_err(|_| Error::BadParam { name: "rate".into(), reason: "not a number".into() })?;
        let bits: u16 = params.choice("bits").parse().map_err(|_| Error::BadParam { name: "bits".into(), reason: "not a number".into() })?;
        encode(a, rate, bits)
    }
    fn rate_param(&self) -> Option<&'static str> {
        Some("rate")
    }

    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        decode_wav(bytes).map(Media::Audio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_low_tone_survives_and_a_high_one_is_cut() {
        let rate = 16000;
        let tone = |f: f32| -> Audio {
            Audio::new(rate, 1, (0..rate).map(|i| 0.5 * (std::f32::consts::TAU * f * i as f32 / rate as f32).sin()).collect()).unwrap()
        };
        let p = |r: &str, b: &str| mpq_core::codec::parse_param_pairs([format!("rate={r}").as_str(), format!("bits={b}").as_str()]).unwrap();
        let energy = |x: &[f32]| x[2000..14000].iter().map(|v| v * v).sum::<f32>() / 12000.0;
        // 500 Hz at 8 kHz: kept (same length, same energy); 6 kHz at 8 kHz: gone.
        let low = BandLimit.decode(&BandLimit.encode(&Media::Audio(tone(500.0)), &p("8000", "16")).unwrap()).unwrap();
        let low = low.as_audio().unwrap();
        assert_eq!((low.sample_rate, low.frames()), (rate, rate as usize));
        assert!((energy(&low.samples) / 0.125 - 1.0).abs() < 0.02, "{}", energy(&low.samples));
        let high = BandLimit.decode(&BandLimit.encode(&Media::Audio(tone(6000.0)), &p("8000", "16")).unwrap()).unwrap();
        assert!(energy(&high.as_audio().unwrap().samples) < 0.001);
        // Size: 8 kHz × 8 bits is 64 kbit/s (+ the header).
        let bytes = BandLimit.encode(&Media::Audio(tone(500.0)), &p("8000", "8")).unwrap();
        assert!((8000..8100).contains(&bytes.len()), "{}", bytes.len());
    }
}
