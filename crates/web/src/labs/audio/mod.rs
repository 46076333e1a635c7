//! The audio lab: one clip compressed two ways, heard by a person (A/B playback, SNR, STOI, …)
//! and by the keyword model (its log-mel input, its top classes, whether its answer changed);
//! a rate–perception sweep over the keyword test subset; the codec and model timing table.
//!
//! This file is the lab's protocol (compiled everywhere, tested natively); `page.rs` (with
//! `page.html`) is its page side, `worker.rs` its worker side.

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod page;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod webcodecs;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod worker;

use mpq_core::target::{Target, TargetReport};
use mpq_core::{ParamSpec, Params};
use mpq_metrics::audio::AudioReport;
use mpq_metrics::sweep::SweepPoint;
use serde::{Deserialize, Serialize};

use crate::bridge::WorkerModule;

/// The audio lab (its [`Protocol`](crate::bridge::Protocol) is made by the registry).
pub struct Lab;

/// Longest clip the lab takes (the CLI takes `mpq_core::limits::MAX_AUDIO_SECONDS`): the page
/// holds the original and both sides as samples for playback and drawing.
pub const LAB_MAX_SECONDS: f64 = 120.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// The audio codecs with their schemas.
    Catalog,
    /// Make `source` the worker's input (decoded by mpqlab, as the CLI decodes it).
    Load { source: Source },
    /// One side: encode the input, decode, measure, and ask the keyword model.
    /// One side; with `target`, the codec's size parameter set by aiming at that size.
    Encode { codec: String, params: Params, target: Option<Target> },
    /// This worker's share of a sweep: the points whose index in plan order is `shard` modulo
    /// `shards`, over the first `items` windows of the keyword test subset.
    Sweep { items: u32, specs: Vec<String>, shard: u32, shards: u32 },
    /// Every audio codec (default settings) on the first `seconds` keyword windows end to end,
    /// `runs` times; the model per window on the CPU and, where there is one, on WebGPU.
    Bench { seconds: u32, runs: u32 },
}

/// The worker module a request needs: the bench times the keyword model on WebGPU too.
pub fn module(request: &Request) -> WorkerModule {
    match request {
        Request::Bench { .. } => WorkerModule::Gpu,
        _ => WorkerModule::Cpu,
    }
}

/// A lab input as the worker loads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Source {
    /// A file the worker fetches itself (a gallery sound).
    Url { url: String, name: String },
    /// A file the user gave the page (dropped, picked or recorded).
    Bytes {
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
        name: String,
    },
    /// A window of the keyword test subset.
    Item { index: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Catalog { codecs: Vec<CodecInfo> },
    Loaded(Box<Loaded>),
    Encoded(Box<Encoded>),
    SweepPoint { index: u32, point: SweepPoint },
    SweepDone { items: u32, reference_accuracy: f64, elapsed_ms: f64 },
    BenchRow(BenchRow),
    BenchModel(BenchModel),
    BenchDone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodecInfo {
    pub id: String,
    pub name: String,
    pub lossless: bool,
    pub params: Vec<ParamSpec>,
    /// The parameter a target size sets (`None`: lossless, or one rate).
    #[serde(default)]
    pub rate_param: Option<String>,
    /// The browser's own encoder (WebCodecs), and whether this browser has it.
    #[serde(default)]
    pub browser_native: bool,
    #[serde(default = "yes")]
    pub supported: bool,
}

fn yes() -> bool {
    true
}

/// A clip as the page shows it: samples for playback and the waveform, the spectrogram, and
/// the keyword model's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipView {
    pub sample_rate: u32,
    pub channels: u16,
    /// Interleaved f32 samples, little-endian bytes (see [`f32_bytes`]).
    #[serde(with = "serde_bytes")]
    pub samples: Vec<u8>,
    pub spectrogram: Spectrogram,
    /// The model's log-mel input for its 1 s window (frames × 40, frame-major, natural log).
    pub log_mel: Vec<f32>,
}

/// A magnitude spectrogram for drawing: `cols` frames × `rows` linear frequency bands up to
/// `max_hz`, in dB relative to the original's loudest cell, 0 (that cell) … −255 (or less),
/// stored negated as bytes: 0 = loudest, 255 = 255 dB or more below.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spectrogram {
    pub cols: u32,
    pub rows: u32,
    pub max_hz: f64,
    /// Row-major from the lowest band, `cols × rows`.
    #[serde(with = "serde_bytes")]
    pub db_below: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Loaded {
    pub view: ClipView,
    pub frames: usize,
    /// The model's top classes on the original (all twelve, most probable first).
    pub classes: Vec<ClassProb>,
    /// The model's inference time for this one window (ms, features included).
    pub infer_ms: f64,
    /// The true class, for a keyword test window.
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassProb {
    pub class: String,
    pub p: f32,
}

/// What the keyword model makes of one side (`mpqlab eval`'s `keywords`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keywords {
    pub original: String,
    pub decoded: String,
    pub changed: bool,
    /// All twelve classes on the decoded window, most probable first.
    pub decoded_classes: Vec<ClassProb>,
    pub kl: f64,
    pub feature_distance: f64,
    pub infer_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoded {
    pub report: AudioReport,
    pub view: ClipView,
    /// The encoded file (the CLI's bytes).
    #[serde(with = "serde_bytes")]
    pub encoded: Vec<u8>,
    pub mime: String,
    pub extension: String,
    /// The model's verdict, or why there is none: a failure there never hides the codec's.
    pub keywords: Result<Keywords, String>,
    /// For our Opus: the browser's WebCodecs decoder against ours on this stream, or why it
    /// could not be measured; `None` for other codecs.
    #[serde(default)]
    pub browser_decoder: Option<Result<DecoderCheck, String>>,
    /// How near a target size the search came (the side had one).
    #[serde(default)]
    pub target: Option<TargetReport>,
    /// The side as the exports write it (`mpqlab run`'s side), JSON text made in the worker.
    #[serde(default)]
    pub export: String,
}

/// Two decoders of one stream compared at 48 kHz, mono mix, after aligning their delay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecoderCheck {
    /// `None`: the outputs are identical.
    pub snr_db: Option<f64>,
    pub max_abs_diff: f64,
    /// Samples compared (48 kHz), and the browser's delay against ours.
    pub frames: usize,
    pub lag: i64,
}

/// One row of the timing table (`mpqlab bench audio`'s rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    pub codec: String,
    pub seconds: f64,
    pub bytes: usize,
    pub kbps: f64,
    pub encode_ms: f64,
    pub decode_ms: f64,
    pub encode_x_realtime: f64,
    pub decode_x_realtime: f64,
    pub runs: usize,
}

/// The keyword model's time per 1 s window (features included) on one backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchModel {
    /// `cpu (burn flex)` or `webgpu (burn wgpu)`.
    pub backend: String,
    pub ms_per_window: Option<f64>,
    pub runs: usize,
    /// Why it did not run (no WebGPU, …).
    pub error: Option<String>,
}

/// Samples as little-endian bytes (a `Uint8Array` on the wire, moved rather than cloned).
pub fn f32_bytes(samples: &[f32]) -> Vec<u8> {
    samples.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The inverse of [`f32_bytes`] (a trailing partial sample is dropped).
pub fn bytes_f32(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// The spectrogram of a mono clip: frames of ~32 ms (a power of two), at most `max_cols`
/// columns (the hop grows for long clips), `rows` bands; dB relative to `reference_db` (the
/// original's loudest cell: both sides are drawn on the original's scale). Returns the
/// spectrogram and its own loudest cell in dB.
pub fn spectrogram(mono: &[f32], sample_rate: u32, max_cols: usize, rows: usize, reference_db: Option<f64>) -> (Spectrogram, f64) {
    let n = (sample_rate as f64 * 0.032).round().max(16.0) as usize;
    let n = n.next_power_of_two();
    let hop = (mono.len() / max_cols.max(1)).max(n / 4).max(1);
    let spectra = mpq_metrics::audio::power_spectra(mono, n, hop);
    let bins = n / 2 + 1;
    let rows = rows.clamp(1, bins);
    let mut cells = vec![f64::NEG_INFINITY; spectra.len() * rows];
    let mut peak = f64::NEG_INFINITY;
    for (c, frame) in spectra.iter().enumerate() {
        for r in 0..rows {
            let (lo, hi) = (r * bins / rows, ((r + 1) * bins / rows).max(r * bins / rows + 1).min(bins));
            let p = frame[lo..hi].iter().sum::<f64>() / (hi - lo) as f64;
            let db = 10.0 * (p + 1e-20).log10();
            cells[r * spectra.len() + c] = db;
            peak = peak.max(db);
        }
    }
    let reference = reference_db.unwrap_or(peak);
    let db_below = cells.iter().map(|&db| (reference - db).clamp(0.0, 255.0).round() as u8).collect();
    let s = Spectrogram { cols: spectra.len() as u32, rows: rows as u32, max_hz: sample_rate as f64 / 2.0, db_below };
    (s, peak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_survive_the_byte_form() {
        let x = [0.0f32, -1.0, 0.5, f32::MIN_POSITIVE, 1e-7];
        assert_eq!(bytes_f32(&f32_bytes(&x)), x);
    }

    #[test]
    fn a_tone_lights_its_band() {
        let rate = 16_000;
        let tone: Vec<f32> = (0..rate).map(|i| (2.0 * std::f32::consts::PI * 2000.0 * i as f32 / rate as f32).sin() * 0.5).collect();
        let (s, peak) = spectrogram(&tone, rate, 100, 64, None);
        assert!(s.cols as usize <= 100 + 4 && s.cols > 10, "{}", s.cols);
        assert_eq!(s.db_below.len(), (s.cols * s.rows) as usize);
        // 2 kHz of 8 kHz: band 16 of 64 is the loudest in the middle column.
        let mid = s.cols as usize / 2;
        let col: Vec<u8> = (0..s.rows as usize).map(|r| s.db_below[r * s.cols as usize + mid]).collect();
        let loudest = col.iter().enumerate().min_by_key(|(_, d)| **d).unwrap().0;
        assert_eq!(loudest, 16, "{col:?}");
        assert!(col[50] > 60, "far bands are quiet: {col:?}");
        // On another clip's scale, a quieter copy sits 20 dB further down.
        let quiet: Vec<f32> = tone.iter().map(|x| x * 0.1).collect();
        let (q, _) = spectrogram(&quiet, rate, 100, 64, Some(peak));
        assert!((q.db_below[16 * q.cols as usize + mid] as i32 - col[16] as i32 - 20).abs() <= 1);
    }

    #[test]
    fn events_survive_json_like_the_wire() {
        let e = Event::SweepDone { items: 12, reference_accuracy: 0.9, elapsed_ms: 3.0 };
        assert_eq!(serde_json::from_value::<Event>(serde_json::to_value(&e).unwrap()).unwrap(), e);
        let r = Request::Load { source: Source::Item { index: 4 } };
        assert_eq!(serde_json::from_value::<Request>(serde_json::to_value(&r).unwrap()).unwrap(), r);
    }
}
