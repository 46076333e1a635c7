//! The language-model coder (`lm`): a byte-level network's next-byte probabilities ([`net`]),
//! mixed with adaptive context models ([`cm`]), drive our binary arithmetic coder
//! ([`crate::range_coder`], exact integer arithmetic). A better model of the text spends fewer
//! bits on it: −log₂ p per bit.
//!
//! The stream (`.mplm`):
//! ```text
//! "MPLM" | version 1 | model name (length byte + UTF-8) | weights fingerprint (u64 LE)
//! | text length (u32 LE) | chunk length (u32 LE) | each chunk's coded length (u32 LE)…
//! | the coded chunks, one after the other
//! ```
//! The text is cut into chunks of the recorded length, each coded from a fresh state (the
//! network's and the context models'), so chunks can be coded on several workers at once and
//! any number of workers gives the same bytes. Decoding checks the model's name and fingerprint
//! first: a stream made with another checkpoint, or another version of one, is refused by name.
//!
//! Bounds, checked before anything is allocated: the text at most [`MAX_TEXT_BYTES`] (the coder
//! reads a few kB a second), chunks of 1 KiB … 16 MiB, the chunk table matching the stream's
//! length, and no chunk coded in fewer bytes than its length allows (every bit costs at least
//! −log₂(4095/4096) bits, so a tiny stream cannot claim megabytes of text).

pub mod bundled;
pub mod cm;
pub mod math;
pub mod net;

use mpq_core::{Codec, Error, Media, Modality, ParamSpec, Result, Text, codec::ResolvedParams};

use crate::range_coder::{Decoder, Encoder};
use cm::Predictor;
use net::Weights;

pub const MAGIC: &[u8; 4] = b"MPLM";
pub const VERSION: u8 = 1;
/// The longest text the coder takes: 4 MiB (about ten minutes natively at 7 kB/s).
pub const MAX_TEXT_BYTES: usize = 4 << 20;
pub const MIN_CHUNK: usize = 1 << 10;
pub const MAX_CHUNK: usize = 16 << 20;
/// The coder's probabilities are 12-bit: the total its binary decisions are coded against.
const TOTAL: u32 = 4096;
/// Text bytes one coded byte can hold at most: a bit costs at least −log₂(4095/4096) =
/// 3.52e-4 bits, a byte 2.82e-3, so one coded byte holds at most 2839 text bytes.
const MAX_BYTES_PER_CODED_BYTE: usize = 2839;

/// Codes one chunk from a fresh state.
pub fn encode_chunk(net: &Weights, text: &[u8]) -> Vec<u8> {
    encode_chunk_with(net, text, &mut |_| {})
}

/// Bytes between two progress calls of [`encode_chunk_with`] and [`decode_chunk_with`].
pub const PROGRESS_EVERY: usize = 4096;

/// [`encode_chunk`], calling `progress(bytes done)` every [`PROGRESS_EVERY`] bytes (the page's
/// workers report it; the bytes do not depend on it).
pub fn encode_chunk_with(net: &Weights, text: &[u8], progress: &mut dyn FnMut(usize)) -> Vec<u8> {
    let mut p = Predictor::new(net, text.len());
    let mut enc = Encoder::new();
    for (n, &byte) in text.iter().enumerate() {
        if n % PROGRESS_EVERY == 0 && n > 0 {
            progress(n);
        }
        for k in (0..8).rev() {
            let bit = (byte >> k) as u32 & 1;
            let p1 = p.p();
            // A 1 takes [0, p1), a 0 takes [p1, 4096).
            if bit == 1 {
                enc.encode(0, p1, TOTAL);
            } else {
                enc.encode(p1, TOTAL - p1, TOTAL);
            }
            p.update(bit);
        }
    }
    enc.finish()
}

/// Decodes one chunk of `len` bytes (a damaged chunk decodes to other bytes of that length).
pub fn decode_chunk(net: &Weights, coded: &[u8], len: usize) -> Vec<u8> {
    decode_chunk_with(net, coded, len, &mut |_| {})
}

/// [`decode_chunk`] with progress, as [`encode_chunk_with`].
pub fn decode_chunk_with(net: &Weights, coded: &[u8], len: usize, progress: &mut dyn FnMut(usize)) -> Vec<u8> {
    let mut p = Predictor::new(net, len);
    let mut dec = Decoder::new(coded);
    let mut out = Vec::with_capacity(len);
    for n in 0..len {
        if n % PROGRESS_EVERY == 0 && n > 0 {
            progress(n);
        }
        let mut byte = 0u32;
        for _ in 0..8 {
            let p1 = p.p();
            let bit = (dec.target(TOTAL) < p1) as u32;
            if bit == 1 {
                dec.consume(0, p1);
            } else {
                dec.consume(p1, TOTAL - p1);
            }
            p.update(bit);
            byte = byte << 1 | bit;
        }
        out.push(byte as u8);
    }
    out
}

/// What the coder spent on one byte, and what its network expected there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteCost {
    /// −log₂ of the coder's probability of this byte (its eight bits' product): what coding
    /// it costs, within the range coder's rounding.
    pub bits: f32,
    /// The network's three most probable bytes here, with their probabilities, most probable
    /// first (ties by byte value).
    pub guesses: [(u8, f32); 3],
}

/// Each byte's cost under the coder's predictor, as one chunk from a fresh state (the page's
/// surprisal view: where the model is surprised).
pub fn surprisal(net: &Weights, text: &[u8]) -> Vec<ByteCost> {
    let mut p = Predictor::new(net, text.len());
    let mut out = Vec::with_capacity(text.len());
    for &byte in text {
        let probs = p.network_probs();
        let mut guesses = [(0u8, -1f32); 3];
        for (b, &q) in probs.iter().enumerate() {
            if q > guesses[2].1 {
                guesses[2] = (b as u8, q);
                let mut k = 2;
                while k > 0 && guesses[k].1 > guesses[k - 1].1 {
                    guesses.swap(k, k - 1);
                    k -= 1;
                }
            }
        }
        let mut bits = 0f64;
        for k in (0..8).rev() {
            let bit = (byte >> k) as u32 & 1;
            let p1 = p.p() as f64 / TOTAL as f64;
            bits -= if bit == 1 { p1 } else { 1.0 - p1 }.log2();
            p.update(bit);
        }
        out.push(ByteCost { bits: bits as f32, guesses });
    }
    out
}

/// A parsed stream: its header and its coded chunks.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream<'a> {
    pub model: String,
    pub fingerprint: u64,
    pub text_len: usize,
    pub chunk_len: usize,
    pub chunks: Vec<&'a [u8]>,
}

impl Stream<'_> {
    /// The text length of chunk `i`.
    pub fn chunk_text_len(&self, i: usize) -> usize {
        (self.text_len - i * self.chunk_len).min(self.chunk_len)
    }
}

/// How many chunks a text of `text_len` bytes is cut into.
pub fn chunk_count(text_len: usize, chunk_len: usize) -> usize {
    text_len.div_ceil(chunk_len)
}

fn bad(why: impl std::fmt::Display) -> Error {
    Error::decode("language-model (lm)", why)
}

/// Parses and checks a stream's header and chunk table.
pub fn parse(bytes: &[u8]) -> Result<Stream<'_>> {
    if !bytes.starts_with(MAGIC) {
        return Err(bad("it does not start with MPLM"));
    }
    let mut at = MAGIC.len();
    let mut take = |n: usize| -> Result<&[u8]> {
        let s = bytes.get(at..at + n).ok_or_else(|| bad("the header is cut short"))?;
        at += n;
        Ok(s)
    };
    let version = take(1)?[0];
    if version != VERSION {
        return Err(bad(format!("it is version {version} of the format; this build reads version {VERSION}")));
    }
    let name_len = take(1)?[0] as usize;
    let model = String::from_utf8(take(name_len)?.to_vec()).map_err(|_| bad("the model's name is not UTF-8"))?;
    let fingerprint = u64::from_le_bytes(take(8)?.try_into().unwrap());
    let text_len = u32::from_le_bytes(take(4)?.try_into().unwrap()) as usize;
    let chunk_len = u32::from_le_bytes(take(4)?.try_into().unwrap()) as usize;
    if text_len > MAX_TEXT_BYTES {
        return Err(Error::TooLarge(format!(
            "the language-model stream claims {:.1} MiB of text; the coder takes at most {} MiB",
            text_len as f64 / (1 << 20) as f64,
            MAX_TEXT_BYTES >> 20
        )));
    }
    if !(MIN_CHUNK..=MAX_CHUNK).contains(&chunk_len) {
        return Err(bad(format!("a chunk length of {chunk_len} bytes ({MIN_CHUNK}…{MAX_CHUNK} allowed)")));
    }
    let n = chunk_count(text_len, chunk_len);
    let table = take(4 * n)?;
    let lens: Vec<usize> = table.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap()) as usize).collect();
    let rest = &bytes[at..];
    if lens.iter().map(|&l| l as u64).sum::<u64>() != rest.len() as u64 {
        return Err(bad(format!("its chunk table accounts for {} bytes, but {} follow", lens.iter().map(|&l| l as u64).sum::<u64>(), rest.len())));
    }
    let mut chunks = Vec::with_capacity(n);
    let mut off = 0;
    for (i, &l) in lens.iter().enumerate() {
        let text = (text_len - i * chunk_len).min(chunk_len);
        if l * MAX_BYTES_PER_CODED_BYTE < text {
            return Err(bad(format!("chunk {} claims {text} bytes of text in {l} coded bytes, fewer than any text needs", i + 1)));
        }
        chunks.push(&rest[off..off + l]);
        off += l;
    }
    Ok(Stream { model, fingerprint, text_len, chunk_len, chunks })
}

/// Writes a stream from its coded chunks.
pub fn assemble(net: &Weights, fingerprint: u64, text_len: usize, chunk_len: usize, chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.push(VERSION);
    out.push(net.name.len() as u8);
    out.extend_from_slice(net.name.as_bytes());
    out.extend_from_slice(&fingerprint.to_le_bytes());
    out.extend_from_slice(&(text_len as u32).to_le_bytes());
    out.extend_from_slice(&(chunk_len as u32).to_le_bytes());
    for c in chunks {
        out.extend_from_slice(&(c.len() as u32).to_le_bytes());
    }
    for c in chunks {
        out.extend_from_slice(c);
    }
    out
}

/// Runs `f` on every index below `n`, on several threads natively (one per core; each chunk is
/// coded by one thread) and one after the other in wasm: the results do not depend on it.
pub fn map_chunks<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let threads = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1).min(n);
        if threads > 1 {
            let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
            std::thread::scope(|s| {
                let f = &f;
                let handles: Vec<_> = (0..threads).map(|t| s.spawn(move || (t..n).step_by(threads).map(|i| (i, f(i))).collect::<Vec<_>>())).collect();
                for h in handles {
                    for (i, v) in h.join().expect("a coding thread panicked") {
                        out[i] = Some(v);
                    }
                }
            });
            return out.into_iter().map(|v| v.expect("every chunk was coded")).collect();
        }
    }
    (0..n).map(f).collect()
}

/// Whether a text of `text_len` bytes can be coded in chunks of `chunk_len` (the page's
/// workers check before coding their share).
pub fn check_encode(text_len: usize, chunk_len: usize) -> Result<()> {
    if text_len > MAX_TEXT_BYTES {
        return Err(Error::TooLarge(format!(
            "the text is {:.1} MiB; the language-model coder takes at most {} MiB",
            text_len as f64 / (1 << 20) as f64,
            MAX_TEXT_BYTES >> 20
        )));
    }
    if !(MIN_CHUNK..=MAX_CHUNK).contains(&chunk_len) {
        return Err(Error::BadParam { name: "chunk".into(), reason: format!("{chunk_len} bytes ({MIN_CHUNK}…{MAX_CHUNK} allowed)") });
    }
    Ok(())
}

/// Codes a whole text with `net` (whose weight file has `fingerprint`).
pub fn encode(net: &Weights, fingerprint: u64, text: &[u8], chunk_len: usize) -> Result<Vec<u8>> {
    check_encode(text.len(), chunk_len)?;
    let parts: Vec<&[u8]> = text.chunks(chunk_len).collect();
    let coded = map_chunks(parts.len(), |i| encode_chunk(net, parts[i]));
    Ok(assemble(net, fingerprint, text.len(), chunk_len, &coded))
}

/// Refused unless `net` (with `fingerprint`) is the model the stream names.
fn check_model(net: &Weights, fingerprint: u64, stream: &Stream<'_>) -> Result<()> {
    if stream.model != net.name || stream.fingerprint != fingerprint {
        return Err(bad(format!(
            "it was made with the model '{}' (weights {:016x}); decoding it needs those weights, not '{}' ({fingerprint:016x})",
            stream.model, stream.fingerprint, net.name
        )));
    }
    Ok(())
}

/// Decodes a parsed stream with `net`, which must be the model it names.
pub fn decode(net: &Weights, fingerprint: u64, stream: &Stream<'_>) -> Result<Vec<u8>> {
    check_model(net, fingerprint, stream)?;
    let parts = map_chunks(stream.chunks.len(), |i| decode_chunk(net, stream.chunks[i], stream.chunk_text_len(i)));
    Ok(parts.concat())
}

/// Decodes a stream with the bundled checkpoint it names, refusing texts over `max_text`
/// bytes before decoding (the fuzz targets use a low bound: decoding runs at kB/s).
pub fn decode_bounded(bytes: &[u8], max_text: usize) -> Result<Vec<u8>> {
    let stream = parse(bytes)?;
    let (net, fingerprint) = checkpoint_for(&stream, max_text)?;
    decode(net, *fingerprint, &stream)
}

/// The bundled checkpoint that decodes `stream` (refused when it holds more than `max_text`
/// bytes of text, names a model this build does not have, or other weights of it).
pub fn checkpoint_for(stream: &Stream<'_>, max_text: usize) -> Result<&'static (Weights, u64)> {
    if stream.text_len > max_text {
        return Err(Error::TooLarge(format!("the language-model stream holds {} bytes of text; at most {max_text} here", stream.text_len)));
    }
    let found = bundled::checkpoint(&stream.model).map_err(|_| {
        bad(format!(
            "it was made with the model '{}', which this build does not have (it has {})",
            stream.model,
            bundled::names().join(", ")
        ))
    })?;
    check_model(&found.0, found.1, stream)?;
    Ok(found)
}

/// The `lm` codec: a bundled checkpoint as the coder's model.
pub struct Lm;

impl Codec for Lm {
    fn id(&self) -> &'static str {
        "lm"
    }
    fn name(&self) -> &'static str {
        "Language model (GRU + context mixing)"
    }
    fn modality(&self) -> Modality {
        Modality::Text
    }
    fn lossless(&self) -> bool {
        true
    }
    fn extension(&self) -> &'static str {
        "mplm"
    }
    fn mime(&self) -> &'static str {
        "application/x-mpqlab-lm"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::choice("model", "Model", &bundled::names(), bundled::DEFAULT, "the checkpoint whose next-byte predictions drive the coder (gru256-e1, -e2, -e3: one training run after its 1st, 2nd and 3rd epoch)"),
            ParamSpec::int("chunk", "Chunk", (MIN_CHUNK >> 10) as i64, (MAX_CHUNK >> 10) as i64, 64, "the text is coded in independent chunks of this size, one per worker at a time: larger chunks let the context models learn more, smaller ones spread over more workers")
                .with_unit("KiB"),
        ]
    }
    fn encode_resolved(&self, input: &Media, params: &ResolvedParams) -> Result<Vec<u8>> {
        let text = super::expect_text(self.id(), input)?;
        let (net, fingerprint) = bundled::checkpoint(params.choice("model"))?;
        encode(net, *fingerprint, text, (params.int("chunk") as usize) << 10)
    }
    fn decode(&self, bytes: &[u8]) -> Result<Media> {
        decode_bounded(bytes, MAX_TEXT_BYTES).map(|bytes| Media::Text(Text { bytes }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> (Weights, u64) {
        let w = net::tests_support::tiny(16, 9);
        let f = net::fnv1a(&w.to_bytes());
        (w, f)
    }

    fn prose(n: usize) -> Vec<u8> {
        b"It was the best of times, it was the worst of times, it was the age of wisdom. ".iter().cycle().take(n).copied().collect()
    }

    #[test]
    fn chunks_round_trip_and_the_models_learn_the_text() {
        let (w, f) = tiny();
        for text in [Vec::new(), b"x".to_vec(), prose(3000), (0..=255u8).cycle().take(5000).collect(), vec![0xff; 4000]] {
            let s = encode(&w, f, &text, 1024).unwrap();
            let parsed = parse(&s).unwrap();
            assert_eq!(decode(&w, f, &parsed).unwrap(), text);
        }
        // Repeated prose costs little once the context models have seen it (the random tiny
        // network knows nothing).
        let text = prose(20_000);
        let s = encode(&w, f, &text, 32 << 10).unwrap();
        assert!(s.len() * 8 < text.len() / 4, "{} bytes for {}", s.len(), text.len());
    }

    #[test]
    fn surprisal_adds_up_to_the_coded_size_and_guesses_are_the_networks() {
        let (w, _) = tiny();
        let text = prose(5000);
        let costs = surprisal(&w, &text);
        assert_eq!(costs.len(), text.len());
        let total: f64 = costs.iter().map(|c| c.bits as f64).sum();
        let coded = 8.0 * encode_chunk(&w, &text).len() as f64;
        assert!((total - coded).abs() < 64.0 + coded * 0.01, "{total} bits counted, {coded} coded");
        let mut s = w.start();
        let mut best: Vec<(usize, f32)> = s.probs.iter().copied().enumerate().collect();
        best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        assert_eq!(costs[0].guesses.map(|g| g.0 as usize), [best[0].0, best[1].0, best[2].0]);
        assert!(costs[0].guesses[0].1 >= costs[0].guesses[1].1 && costs[0].guesses[1].1 >= costs[0].guesses[2].1);
        w.step(&mut s, text[0]);
        assert_eq!(costs[1].guesses[0].1, s.probs.iter().copied().fold(0.0, f32::max));
        // Progress is reported without changing the bytes.
        let mut seen = Vec::new();
        assert_eq!(encode_chunk_with(&w, &text, &mut |n| seen.push(n)), encode_chunk(&w, &text));
        assert_eq!(seen, [4096]);
    }

    #[test]
    fn the_bytes_do_not_depend_on_how_many_threads_code_the_chunks() {
        let (w, f) = tiny();
        let text = prose(9000);
        let parallel = encode(&w, f, &text, 1024).unwrap();
        let parts: Vec<Vec<u8>> = text.chunks(1024).map(|c| encode_chunk(&w, c)).collect();
        assert_eq!(assemble(&w, f, text.len(), 1024, &parts), parallel);
    }

    #[test]
    fn bad_streams_are_refused_or_decode_to_other_text() {
        let (w, f) = tiny();
        let text = prose(5000);
        let s = encode(&w, f, &text, 2048).unwrap();
        for cut in 0..s.len() {
            if let Ok(p) = parse(&s[..cut]) {
                let _ = decode(&w, f, &p);
            }
        }
        let mut other = s.clone();
        other[10] ^= 1; // the model's name
        let p = parse(&other).unwrap();
        assert!(decode(&w, f, &p).unwrap_err().to_string().contains("made with the model"));
        let p = parse(&s).unwrap();
        assert!(decode(&w, f ^ 1, &p).unwrap_err().to_string().contains("needs those weights"));
        // A header that claims 4 MiB in a few bytes.
        let mut huge = assemble(&w, f, MAX_TEXT_BYTES, MAX_CHUNK, &[vec![0; 10]]);
        assert!(parse(&huge).unwrap_err().to_string().contains("fewer than any text needs"));
        let at = MAGIC.len() + 2 + w.name.len() + 8;
        huge[at..at + 4].copy_from_slice(&(MAX_TEXT_BYTES as u32 + 1).to_le_bytes());
        assert!(matches!(parse(&huge), Err(Error::TooLarge(_))));
        let mut v2 = s.clone();
        v2[4] = 2;
        assert!(parse(&v2).unwrap_err().to_string().contains("version 2"));
    }
}
