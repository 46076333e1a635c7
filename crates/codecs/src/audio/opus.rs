//! Opus (RFC 6716), the codec of WebRTC and of most voice on the internet, in an Ogg file
//! (RFC 7845) so that `opusdec` and browsers read it: encoded and decoded with opus-rs (a
//! pure-Rust port of libopus 1.6 that builds for wasm32), muxed with the `ogg` crate.
//!
//! Opus runs at 8, 12, 16, 24 or 48 kHz; a clip at another rate is resampled to 48 kHz first
//! (rubato) and decoded back to its own rate. The encoder looks ahead 6.5 ms (libopus'
//! Fs/400 + Fs/250): the Ogg header's pre-skip (in 48 kHz samples) tells every decoder to drop
//! those, and the last page's granule position trims the flush padding, so the decoded clip
//! has the original's length and timing.

use mpq_core::{Audio, Codec, Error, Media, Modality, ParamSpec, Result, codec::ResolvedParams};
use ogg::reading::PacketReader;
use ogg::writing::{PacketWriteEndInfo, PacketWriter};
use opus_rs::{Application, OpusDecoder, OpusEncoder};

use super::resample;

const OPUS_RATES: [u32; 5] = [8000, 12000, 16000, 24000, 48000];
/// The encoder's lookahead at 48 kHz: 2.5 ms + 4 ms.
const PRE_SKIP_48K: u32 = 120 + 192;
const SERIAL: u32 = 0x6d70_716c; // "mpql"

pub struct Opus;

/// The identification header (RFC 7845 §5.1): version 1, channel mapping family 0.
fn opus_head(channels: u16, input_rate: u32) -> Vec<u8> {
    let mut h = b"OpusHead".to_vec();
    h.push(1);
    h.push(channels as u8);
    h.extend_from_slice(&(PRE_SKIP_48K as u16).to_le_bytes());
    h.extend_from_slice(&input_rate.to_le_bytes());
    h.extend_from_slice(&0i16.to_le_bytes()); // output gain
    h.push(0);
    h
}

fn opus_tags() -> Vec<u8> {
    let vendor = b"mpqlab (opus-rs)";
    let mut t = b"OpusTags".to_vec();
    t.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    t.extend_from_slice(vendor);
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}

fn encode(a: &Audio, bitrate: i32, frame_ms: u32, app: Application) -> Result<Vec<u8>> {
    let err = |e: &dyn std::fmt::Display| Error::encode("opus", e);
    if a.channels > 2 {
        return Err(Error::unsupported("opus", format!("{} channels; this Opus codec takes mono or stereo", a.channels)));
    }
    let rate = if OPUS_RATES.contains(&a.sample_rate) { a.sample_rate } else { 48000 };
    let input = resample::resample(a, rate)?;
    let ch = a.channels as usize;
    let mut enc = OpusEncoder::new(rate as i32, ch, app).map_err(|e| err(&e))?;
    enc.bitrate_bps = bitrate;
    let frame = (rate * frame_ms / 1000) as usize;
    let per_48k = 48000 / rate;
    // Enough frames to flush the lookahead; zeros after the clip.
    let lookahead = (PRE_SKIP_48K / per_48k) as usize;
    let frames = (input.frames() + lookahead).div_ceil(frame);
    let mut pcm = input.samples.clone();
    pcm.resize(frames * frame * ch, 0.0);
    let mut packets = Vec::with_capacity(frames);
    let mut packet = vec![0u8; 4000];
    for f in 0..frames {
        let n = enc.encode(&pcm[f * frame * ch..(f + 1) * frame * ch], frame, &mut packet).map_err(|e| err(&e))?;
        packets.push(packet[..n].to_vec());
    }
    let total_48k = PRE_SKIP_48K as u64 + input.frames() as u64 * per_48k as u64;
    ogg_opus(&packets, a.channels, a.sample_rate, PRE_SKIP_48K as u16, (frame as u32 * per_48k) as u64, total_48k)
}

/// An Ogg Opus file (RFC 7845) of Opus packets of `frame_48k` samples each (at 48 kHz):
/// OpusHead (with `pre_skip` and the clip's own rate), OpusTags, then the packets, a page per
/// second, the last page's granule position `total_48k` (pre-skip + the clip's length), which
/// trims the flush padding. Our encoder and the page's WebCodecs encoder both write through it.
pub fn ogg_opus(packets: &[Vec<u8>], channels: u16, input_rate: u32, pre_skip: u16, frame_48k: u64, total_48k: u64) -> Result<Vec<u8>> {
    let err = |e: &dyn std::fmt::Display| Error::encode("opus", e);
    let mut head = opus_head(channels, input_rate);
    head[10..12].copy_from_slice(&pre_skip.to_le_bytes());
    let per_page = (48_000 / frame_48k.max(1)).max(1) as usize;
    let mut out = Vec::new();
    {
        let mut w = PacketWriter::new(&mut out);
        w.write_packet(head, SERIAL, PacketWriteEndInfo::EndPage, 0).map_err(|e| err(&e))?;
        w.write_packet(opus_tags(), SERIAL, PacketWriteEndInfo::EndPage, 0).map_err(|e| err(&e))?;
        for (f, p) in packets.iter().enumerate() {
            let last = f + 1 == packets.len();
            // Granule position: 48 kHz samples up to the end of this packet (the last one is
            // the clip's true end).
            let gp = if last { total_48k } else { (f as u64 + 1) * frame_48k };
            let end = if last {
                PacketWriteEndInfo::EndStream
            } else if (f + 1) % per_page == 0 {
                PacketWriteEndInfo::EndPage
            } else {
                PacketWriteEndInfo::NormalPacket
            };
            w.write_packet(p.clone(), SERIAL, end, gp).map_err(|e| err(&e))?;
        }
    }
    Ok(out)
}

/// The Opus packets of an Ogg Opus file, after its OpusHead (returned first) and OpusTags.
pub fn ogg_opus_packets(bytes: &[u8]) -> Result<(Vec<u8>, Vec<Vec<u8>>)> {
    let bad = |why: String| Error::decode("Ogg Opus", why);
    let mut r = PacketReader::new(std::io::Cursor::new(bytes));
    let mut next = || r.read_packet().map_err(|e| bad(format!("{e}")));
    let head = next()?.ok_or_else(|| bad("it holds no packets".into()))?.data;
    if head.len() < 19 || &head[..8] != b"OpusHead" {
        return Err(bad("its first packet is not an OpusHead".into()));
    }
    next()?.ok_or_else(|| bad("the file is cut short: it has no OpusTags".into()))?;
    let mut packets = Vec::new();
    while let Some(p) = next()? {
        packets.push(p.data);
    }
    Ok((head, packets))
}

/// Decodes an Ogg Opus file (mono or stereo, mapping family 0) to its input rate.
pub fn decode_ogg(bytes: &[u8]) -> Result<Audio> {
    decode_ogg_at(bytes, None)
}

/// [`decode_ogg`], or with `at` = Some(one of Opus's rates) decoded at that rate and not
/// resampled (to compare decoders sample for sample: `opusdec --rate 48000`).
pub fn decode_ogg_at(bytes: &[u8], at: Option<u32>) -> Result<Audio> {
    let bad = |why: String| Error::decode("Ogg Opus", why);
    let mut r = PacketReader::new(std::io::Cursor::new(bytes));
    let mut next = || r.read_packet().map_err(|e| bad(format!("{e}")));
    let head = next()?.ok_or_else(|| bad("it holds no packets".into()))?;
    let h = &head.data;
    if h.len() < 19 || &h[..8] != b"OpusHead" {
        return Err(bad("its first packet is not an OpusHead".into()));
    }
    let channels = h[9] as u16;
    let pre_skip = u16::from_le_bytes([h[10], h[11]]) as u64;
    let input_rate = u32::from_le_bytes([h[12], h[13], h[14], h[15]]);
    if h[18] != 0 || !(1..=2).contains(&channels) {
        return Err(bad(format!("{channels} channels with mapping family {}; mono or stereo (family 0) are read", h[18])));
    }
    // Decode at the input rate where Opus has it, else at 48 kHz and resample.
    let rate = match at {
        Some(r) if OPUS_RATES.contains(&r) => r,
        Some(r) => return Err(bad(format!("Opus does not decode at {r} Hz"))),
        None if OPUS_RATES.contains(&input_rate) => input_rate,
        None => 48000,
    };
    let out_rate = match (at, input_rate) {
        (Some(r), _) => r,
        (None, 0) => 48000,
        (None, r) => r,
    };
    mpq_core::limits::check_audio(out_rate, channels, 0)?;
    let per_48k = (48000 / rate) as u64;
    let _tags = next()?.ok_or_else(|| bad("the file is cut short: it has no OpusTags".into()))?;
    let mut dec = OpusDecoder::new(rate as i32, channels as usize).map_err(|e| bad(e.to_string()))?;
    let ch = channels as usize;
    let max_frame = (rate * 120 / 1000) as usize;
    let mut buf = vec![0f32; max_frame * ch];
    let mut pcm: Vec<f32> = Vec::new();
    let (mut last_gp, mut ended) = (0u64, false);
    while let Some(p) = next()? {
        let n = dec.decode(&p.data, max_frame, &mut buf).map_err(|e| bad(e.to_string()))?;
        if (pcm.len() + n * ch) as u64 > mpq_core::limits::MAX_AUDIO_SAMPLES {
            return Err(Error::TooLarge(format!("more than {} samples of audio", mpq_core::limits::MAX_AUDIO_SAMPLES)));
        }
        pcm.extend_from_slice(&buf[..n * ch]);
        if p.last_in_stream() {
            last_gp = p.absgp_page();
            ended = true;
        }
    }
    if !ended {
        return Err(bad("the file is cut short: its stream never ends (no last page)".into()));
    }
    // Drop the pre-skip, and what the last granule position says lies past the end.
    let skip = (pre_skip / per_48k) as usize * ch;
    let mut samples = pcm.get(skip..).map(<[f32]>::to_vec).unwrap_or_default();
    if last_gp > pre_skip {
        samples.truncate(((last_gp - pre_skip) / per_48k) as usize * ch);
    }
    let decoded = Audio::new(rate, channels, samples)?;
    resample::resample(&decoded, out_rate)
}

impl Codec for Opus {
    fn id(&self) -> &'static str {
        "opus"
    }
    fn name(&self) -> &'static str {
        "Opus"
    }
    fn modality(&self) -> Modality {
        Modality::Audio
    }
    fn lossless(&self) -> bool {
        false
    }
    fn extension(&self) -> &'static str {
        "opus"
    }
    fn mime(&self) -> &'static str {
        "audio/ogg; codecs=opus"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::int("bitrate", "Bitrate (bit/s)", 6000, 128_000, 16_000, "b"),
            ParamSpec::choice("frame", "Frame (ms)", &["10", "20", "40", "60"], "20", "f"),
            ParamSpec::choice("application", "Tuned for", &["voip", "audio"], "voip", "a"),
        ]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let a = super::expect_audio(self.id(), input)?;
        let frame: u32 = params.choice("frame").parse().map_err(|_| Error::BadParam { name: "frame".into(), reason: "not a number".into() })?;
        let app = if params.choice("application") == "audio" { Application::Audio } else { Application::Voip };
        encode(a, params.int("bitrate") as i32, frame, app)
    }
    fn rate_param(&self) -> Option<&'static str> {
        Some("bitrate")
    }

    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        decode_ogg(bytes).map(Media::Audio)
    }
}
