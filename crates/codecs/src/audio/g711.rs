//! G.711 (ITU-T, 1972), the telephone network's codecs: each 16-bit sample companded to 8 bits
//! on a logarithmic scale — μ-law (North America, Japan) and A-law (elsewhere) — in a WAV file
//! (format tags 7 and 6), as `sox -e u-law` / `-e a-law` write them. 8 bits per sample: 64
//! kbit/s at telephone rate (8 kHz), 128 kbit/s at the lab's 16 kHz.
//!
//! Written here: the companding is a few lines of bit arithmetic defined by the standard (no
//! crate made for the field offers it beside a WAV container), and it must match sox bit for
//! bit (the tests run sox where it is installed).

use mpq_core::{Audio, Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams};

use super::riff;

/// μ-law of a 16-bit sample, on its 14-bit value (rounded to nearest, as sox rounds it): the
/// magnitude clipped to 8159 plus a bias of 33, its segment the power of two it falls under
/// (0x40 << s), the mantissa the next four bits; codes are stored inverted (silence is 0xff),
/// with the sign in the top bit.
pub fn mulaw_encode(x: i16) -> u8 {
    let v = ((x as i32 + 2) >> 2).min(8191);
    let (mask, m) = if v < 0 { (0x7fu8, -v) } else { (0xffu8, v) };
    let m = m.min(8159) + 33;
    match (0..8).find(|&s| m < 0x40 << s) {
        Some(s) => ((s << 4) as u8 | ((m >> (s + 1)) & 0x0f) as u8) ^ mask,
        None => 0x7f ^ mask,
    }
}

pub fn mulaw_decode(code: u8) -> i16 {
    let u = !code;
    let segment = (u >> 4) & 7;
    let magnitude = ((((u & 0x0f) as i32) << 3) + 132) << segment;
    let v = magnitude - 132;
    (if u & 0x80 != 0 { -v } else { v }) as i16
}

/// A-law of a 16-bit sample, on its 13-bit value (rounded to nearest, as sox rounds it):
/// segment 0 and 1 share one step size, every further segment doubles it; even bits of the
/// code are inverted (0x55), and the sign bit is set for positive samples.
pub fn alaw_encode(x: i16) -> u8 {
    let v = ((x as i32 + 4) >> 3).min(4095);
    let (mask, m) = if v >= 0 { (0xd5u8, v) } else { (0x55u8, -v - 1) };
    // Segment: how many times the magnitude doubles beyond 31 (0..=7), or beyond the range.
    let segment = (0..8).find(|&s| m <= (0x1f << s) | ((1 << s) - 1)).unwrap_or(8);
    if segment >= 8 {
        return 0x7f ^ mask;
    }
    let mantissa = if segment < 2 { (m >> 1) & 0x0f } else { (m >> segment) & 0x0f };
    ((segment << 4) as u8 | mantissa as u8) ^ mask
}

pub fn alaw_decode(code: u8) -> i16 {
    let a = code ^ 0x55;
    let segment = (a & 0x70) >> 4;
    let mut t = ((a & 0x0f) as i32) << 4;
    t += 8;
    if segment >= 1 {
        t += 0x100;
    }
    if segment > 1 {
        t <<= segment - 1;
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

/// Which law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Law {
    Mu,
    A,
}

impl Law {
    fn tag(self) -> u16 {
        match self {
            Law::Mu => riff::TAG_MULAW,
            Law::A => riff::TAG_ALAW,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Law::Mu => "μ-law WAV",
            Law::A => "A-law WAV",
        }
    }
}

fn encode(law: Law, id: &str, input: &Media) -> Result<Vec<u8>> {
    let a = super::expect_audio(id, input)?;
    let data: Vec<u8> = a
        .samples
        .iter()
        .map(|&s| {
            let x = super::to_i16(s);
            match law {
                Law::Mu => mulaw_encode(x),
                Law::A => alaw_encode(x),
            }
        })
        .collect();
    let fmt = riff::Fmt {
        tag: law.tag(),
        channels: a.channels,
        sample_rate: a.sample_rate,
        byte_rate: a.sample_rate * a.channels as u32,
        block_align: a.channels,
        bits: 8,
        extra: Vec::new(),
    };
    Ok(riff::write(&fmt, a.frames() as u32, &data))
}

/// Decodes a μ-law or A-law WAV (either law: the file says which).
pub fn decode_wav(bytes: &[u8]) -> Result<Audio> {
    let w = riff::parse(bytes)?;
    let law = match w.fmt.effective_tag() {
        riff::TAG_MULAW => Law::Mu,
        riff::TAG_ALAW => Law::A,
        t => return Err(Error::decode("G.711 WAV", format!("its format tag is {t:#x}, not μ-law (7) or A-law (6)"))),
    };
    if w.fmt.bits != 8 {
        return Err(Error::decode(law.name(), format!("{} bits per sample; G.711 has 8", w.fmt.bits)));
    }
    let channels = w.fmt.channels.max(1) as usize;
    mpq_core::limits::check_audio(w.fmt.sample_rate, w.fmt.channels, (w.data.len() / channels) as u64)?;
    let whole = w.data.len() / channels * channels;
    let samples = w.data[..whole]
        .iter()
        .map(|&c| {
            super::from_i16(match law {
                Law::Mu => mulaw_decode(c),
                Law::A => alaw_decode(c),
            })
        })
        .collect();
    Audio::new(w.fmt.sample_rate, w.fmt.channels, samples)
}

pub struct MuLaw;
pub struct ALaw;

macro_rules! g711_codec {
    ($ty:ident, $law:expr, $id:literal, $name:literal) => {
        impl Codec for $ty {
            fn id(&self) -> &'static str {
                $id
            }
            fn name(&self) -> &'static str {
                $name
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
                Vec::new()
            }
            fn encode_resolved(&self, input: &Media, _params: &ResolvedParams) -> Result<Vec<u8>> {
                encode($law, self.id(), input)
            }
            fn decode(&self, bytes: &[u8]) -> Result<Media> {
                decode_wav(bytes).map(Media::Audio)
            }
        }
    };
}
g711_codec!(MuLaw, Law::Mu, "mulaw", "G.711 μ-law");
g711_codec!(ALaw, Law::A, "alaw", "G.711 A-law");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        // Silence, full scale, and the codes every G.711 table starts with.
        assert_eq!(mulaw_encode(0), 0xff);
        assert_eq!(mulaw_encode(-1), 0xff); // rounds to the 14-bit 0
        assert_eq!(mulaw_encode(-3), 0x7e);
        assert_eq!(mulaw_encode(i16::MAX), 0x80);
        assert_eq!(mulaw_encode(i16::MIN), 0x00);
        assert_eq!(mulaw_decode(0xff), 0);
        assert_eq!(mulaw_decode(0x80), 32124);
        assert_eq!(alaw_encode(0), 0xd5);
        assert_eq!(alaw_encode(-5), 0x55);
        assert_eq!(alaw_decode(0xd5), 8);
        assert_eq!(alaw_decode(0xaa), 32256);
    }

    #[test]
    fn every_code_decodes_to_a_value_that_encodes_back_to_it() {
        for c in 0..=255u8 {
            // μ-law has two zeros (0x7f, 0xff): both decode to 0, which encodes to 0xff.
            if c != 0x7f {
                assert_eq!(mulaw_encode(mulaw_decode(c)), c, "μ-law {c:#x}");
            }
            assert_eq!(alaw_encode(alaw_decode(c)), c, "A-law {c:#x}");
        }
    }

    #[test]
    fn error_is_logarithmic() {
        // The step grows with the magnitude: relative error stays under ~6 % above the
        // smallest segment.
        for x in [200i16, 1000, 5000, 20000, -300, -12000] {
            for (e, d) in [(mulaw_encode(x), mulaw_decode(mulaw_encode(x))), (alaw_encode(x), alaw_decode(alaw_encode(x)))] {
                let rel = (d as f64 - x as f64).abs() / (x as f64).abs();
                assert!(rel < 0.065, "{x} → {e:#x} → {d} ({rel})");
            }
        }
    }
}
