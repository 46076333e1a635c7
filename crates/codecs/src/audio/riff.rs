//! The RIFF/WAVE container, read and written by hand for the compressed formats hound does
//! not handle (hound reads and writes integer and float PCM only; G.711 μ-law/A-law and IMA
//! ADPCM are WAV format tags 7, 6 and 0x11). Also the first check of *every* WAV file, PCM
//! included: each chunk's size is checked against the bytes that are really there before
//! anything is decoded, so a file cut short gets a message that says so.
//!
//! Bounded by construction: parsing allocates nothing but the `fmt ` extension (≤ 64 bytes);
//! the sample data is a slice of the input.

use mpq_core::{Error, Result};

pub const TAG_PCM: u16 = 1;
pub const TAG_FLOAT: u16 = 3;
pub const TAG_ALAW: u16 = 6;
pub const TAG_MULAW: u16 = 7;
pub const TAG_IMA_ADPCM: u16 = 0x11;
pub const TAG_EXTENSIBLE: u16 = 0xFFFE;

/// The `fmt ` chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmt {
    pub tag: u16,
    pub channels: u16,
    pub sample_rate: u32,
    pub byte_rate: u32,
    pub block_align: u16,
    pub bits: u16,
    /// The bytes after `cbSize` (IMA ADPCM: samples per block; EXTENSIBLE: the sub-format).
    pub extra: Vec<u8>,
}

impl Fmt {
    /// The format tag, looking through WAVE_FORMAT_EXTENSIBLE to its sub-format GUID's first
    /// two bytes (which hold the plain tag for every registered sub-format).
    pub fn effective_tag(&self) -> u16 {
        if self.tag == TAG_EXTENSIBLE && self.extra.len() >= 8 { u16::from_le_bytes([self.extra[6], self.extra[7]]) } else { self.tag }
    }
}

/// A parsed WAV file: its format, its sample data, and the `fact` chunk's frame count (which
/// compressed formats carry).
#[derive(Debug)]
pub struct Wav<'a> {
    pub fmt: Fmt,
    pub data: &'a [u8],
    pub fact_frames: Option<u32>,
    /// Every chunk before the data (id, body): readers look up their own.
    pub chunks: Vec<([u8; 4], &'a [u8])>,
}

impl<'a> Wav<'a> {
    /// The first chunk with this id.
    pub fn chunk(&self, id: &[u8; 4]) -> Option<&'a [u8]> {
        self.chunks.iter().find(|(i, _)| i == id).map(|(_, b)| *b)
    }
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// Whether `bytes` start like a WAV file.
pub fn is_wav(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE"
}

/// Parses the container, checking every chunk size against the file.
pub fn parse(bytes: &[u8]) -> Result<Wav<'_>> {
    let bad = |why: String| Error::decode("WAV", why);
    if !is_wav(bytes) {
        return Err(bad("it does not start with RIFF…WAVE".into()));
    }
    let mut pos = 12;
    let (mut fmt, mut data, mut fact_frames) = (None, None, None);
    let mut chunks = Vec::new();
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32_at(bytes, pos + 4) as usize;
        let body = pos + 8;
        let left = bytes.len() - body;
        let name = String::from_utf8_lossy(id).into_owned();
        if id == b"data" {
            // Streaming writers that never came back to fill the size write 0 or 0xFFFFFFFF.
            let size = if size == 0 || size == u32::MAX as usize { left } else { size };
            if size > left {
                // Say how long the claim is, where the format says the rate.
                let claim = match &fmt {
                    Some(Fmt { byte_rate, .. }) if *byte_rate > 0 => {
                        format!(" ({} of audio)", mpq_core::limits::duration_text(size as f64 / *byte_rate as f64))
                    }
                    _ => String::new(),
                };
                return Err(bad(format!("the file is cut short: its data chunk claims {size} bytes{claim}, but {left} are left")));
            }
            data = Some(&bytes[body..body + size]);
            break;
        }
        if size > left {
            return Err(bad(format!("the file is cut short: its '{}' chunk claims {size} bytes, but {left} are left", name.trim())));
        }
        let chunk = &bytes[body..body + size];
        // At most 64 chunks are kept (a file of thousands of tiny chunks is not a bigger list).
        if chunks.len() < 64 {
            chunks.push(([id[0], id[1], id[2], id[3]], chunk));
        }
        match id {
            b"fmt " => {
                if size < 16 {
                    return Err(bad(format!("its fmt chunk has {size} bytes; at least 16 are needed")));
                }
                let extra = if size >= 18 {
                    let cb = (u16_at(chunk, 16) as usize).min(size - 18);
                    if cb > 64 {
                        return Err(bad(format!("its fmt chunk claims {cb} extension bytes; at most 64 are expected")));
                    }
                    chunk[18..18 + cb].to_vec()
                } else {
                    Vec::new()
                };
                fmt = Some(Fmt {
                    tag: u16_at(chunk, 0),
                    channels: u16_at(chunk, 2),
                    sample_rate: u32_at(chunk, 4),
                    byte_rate: u32_at(chunk, 8),
                    block_align: u16_at(chunk, 12),
                    bits: u16_at(chunk, 14),
                    extra,
                });
            }
            b"fact" if size >= 4 => fact_frames = Some(u32_at(chunk, 0)),
            _ => {}
        }
        // Chunks are padded to even sizes.
        pos = body + size + (size & 1);
    }
    let fmt = fmt.ok_or_else(|| bad("it has no fmt chunk before its data".into()))?;
    let data = data.ok_or_else(|| bad("the file is cut short: it has no data chunk".into()))?;
    if fmt.block_align == 0 {
        return Err(bad("its block size (block align) is 0".into()));
    }
    Ok(Wav { fmt, data, fact_frames, chunks })
}

/// A WAV file: `fmt` (with its extension bytes), a `fact` chunk with `frames` for compressed
/// formats, and `data`.
pub fn write(fmt: &Fmt, frames: u32, data: &[u8]) -> Vec<u8> {
    write_with(fmt, frames, data, &[])
}

/// [`write`] with extra chunks (id, body) between the format and the data.
pub fn write_with(fmt: &Fmt, frames: u32, data: &[u8], extra_chunks: &[([u8; 4], &[u8])]) -> Vec<u8> {
    let compressed = fmt.tag != TAG_PCM;
    let fmt_len = if compressed { 18 + fmt.extra.len() } else { 16 };
    let fact_len = if compressed { 12 } else { 0 };
    let pad = data.len() & 1;
    let extra_len: usize = extra_chunks.iter().map(|(_, b)| 8 + b.len() + (b.len() & 1)).sum();
    let riff_len = 4 + (8 + fmt_len) + fact_len + extra_len + 8 + data.len() + pad;
    let mut out = Vec::with_capacity(8 + riff_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(riff_len as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&(fmt_len as u32).to_le_bytes());
    out.extend_from_slice(&fmt.tag.to_le_bytes());
    out.extend_from_slice(&fmt.channels.to_le_bytes());
    out.extend_from_slice(&fmt.sample_rate.to_le_bytes());
    out.extend_from_slice(&fmt.byte_rate.to_le_bytes());
    out.extend_from_slice(&fmt.block_align.to_le_bytes());
    out.extend_from_slice(&fmt.bits.to_le_bytes());
    if compressed {
        out.extend_from_slice(&(fmt.extra.len() as u16).to_le_bytes());
        out.extend_from_slice(&fmt.extra);
        out.extend_from_slice(b"fact");
        out.extend_from_slice(&4u32.to_le_bytes());
        out.extend_from_slice(&frames.to_le_bytes());
    }
    for (id, body) in extra_chunks {
        out.extend_from_slice(id);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        if body.len() & 1 == 1 {
            out.push(0);
        }
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if pad == 1 {
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(tag: u16) -> Fmt {
        Fmt { tag, channels: 1, sample_rate: 8000, byte_rate: 8000, block_align: 1, bits: 8, extra: Vec::new() }
    }

    #[test]
    fn writes_what_it_parses() {
        let file = write(&fmt(TAG_MULAW), 3, &[1, 2, 3]);
        let w = parse(&file).unwrap();
        assert_eq!((w.fmt, w.data, w.fact_frames), (fmt(TAG_MULAW), &[1u8, 2, 3][..], Some(3)));
        assert_eq!(file.len() % 2, 0);
    }

    #[test]
    fn cut_files_say_so() {
        let file = write(&fmt(TAG_ALAW), 100, &[0; 100]);
        let cut = parse(&file[..file.len() - 40]).unwrap_err().to_string();
        assert!(cut.contains("cut short: its data chunk claims 100 bytes (0.0 s of audio), but 60 are left"), "{cut}");
        assert!(parse(&file[..30]).unwrap_err().to_string().contains("cut short"));
        assert!(parse(b"RIFF\0\0\0\0WAVE").unwrap_err().to_string().contains("no fmt chunk"));
        assert!(parse(b"not a wav").is_err());
    }
}
