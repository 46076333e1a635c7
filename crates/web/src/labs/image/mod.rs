//! The image lab: one picture compressed two ways, side by side, judged by a person's metrics
//! and by a model; a rate–perception sweep over a model's test items; the codec timing table.
//!
//! This file is the lab's protocol (compiled everywhere, tested natively). The page side:
//! `page/` (the state and its reconciliation with the worker; `side.rs`, `input.rs`, `view.rs`;
//! the static markup `page.html`), `sweep.rs`, `bench.rs`. The worker side: `worker.rs`,
//! `worker_sweep.rs`, `browser_codec.rs` (the browser's own encoders).

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
mod bench;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod browser_codec;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod page;
#[cfg(all(target_arch = "wasm32", feature = "ui"))]
mod sweep;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod worker;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod worker_sweep;

use mpq_core::experiment::image::Backend;
use mpq_core::target::{Target, TargetReport};
use mpq_core::{ParamSpec, Params};
use mpq_metrics::ImageReport;
use mpq_metrics::perception::Verdict;
use mpq_metrics::sweep::{StageTimes, SweepPoint};
use serde::{Deserialize, Serialize};

use crate::bridge::WorkerModule;

/// The image lab (its [`Protocol`](crate::bridge::Protocol) is made by the registry).
pub struct Lab;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// What this lab offers: codecs with their schemas, models, data sets (no network: it is
    /// the first request, and the first comparison waits for it).
    Catalog,
    /// The first test items of each data set, for the page's gallery (fetched: asked for once
    /// the first comparison is on screen).
    Thumbs,
    /// Make `source` the worker's input (decoded by mpqlab, as the CLI decodes it).
    Load { source: Source },
    /// One side: encode the input, decode, measure; with `judge`, the model's verdict too; with
    /// `target`, the codec's size parameter set by aiming at that size.
    Encode { codec: String, params: Params, target: Option<Target>, judge: Option<Judge> },
    /// This worker's share of a sweep: the points whose index in plan order is `shard`
    /// modulo `shards`.
    Sweep { model: String, backend: Backend, items: u32, specs: Vec<String>, shard: u32, shards: u32 },
    /// The same test items through the CPU and the WebGPU backend.
    Agreement { model: String, items: u32 },
    /// Every codec with default settings on each photo, `runs` times.
    Bench { urls: Vec<String>, runs: u32 },
}

/// The worker module a request needs: the GPU module only where the model runs on WebGPU.
pub fn module(request: &Request) -> WorkerModule {
    match request {
        Request::Encode { judge: Some(Judge { backend: Backend::WebGpu, .. }), .. }
        | Request::Sweep { backend: Backend::WebGpu, .. }
        | Request::Agreement { .. } => WorkerModule::Gpu,
        _ => WorkerModule::Cpu,
    }
}

/// A lab input as the worker loads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Source {
    /// A file the worker fetches itself (a gallery photo).
    Url { url: String, name: String },
    /// A file the user gave the page.
    Bytes {
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
        name: String,
    },
    /// A test item of a bundled data set.
    Item { dataset: String, index: u32 },
}

/// Which model judges a side, and where it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judge {
    pub model: String,
    pub backend: Backend,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Catalog(Catalog),
    Thumbs(Vec<DatasetThumbs>),
    /// The input as decoded (RGBA for the canvas).
    Loaded(Loaded),
    /// One side's result.
    Encoded(Box<Encoded>),
    SweepPoint { index: u32, point: SweepPoint },
    SweepDone { items: u32, elapsed_ms: f64, stage_times: StageTimes },
    Agreement(AgreementReport),
    BenchRow(BenchRow),
    BenchDone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Loaded {
    pub width: u32,
    pub height: u32,
    /// `Gray8`, `Rgb8` (after flattening transparency).
    pub format: String,
    /// Something the user should know about how it was read (flattened transparency).
    pub note: Option<String>,
    /// What was lost: the file is damaged or cut short, and the decoder filled in the rest.
    pub warning: Option<String>,
    /// The true class, for a data-set item.
    pub label: Option<String>,
    #[serde(with = "serde_bytes")]
    pub rgba: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoded {
    pub report: ImageReport,
    /// The decoded image, RGBA.
    #[serde(with = "serde_bytes")]
    pub rgba: Vec<u8>,
    /// The encoded file (the CLI's bytes, for our codecs).
    #[serde(with = "serde_bytes")]
    pub encoded: Vec<u8>,
    pub mime: String,
    pub extension: String,
    /// Decoded by the browser's own decoder rather than ours (AVIF in the page).
    pub browser_decoded: bool,
    /// How near a target size the search came (the side had one).
    pub target: Option<TargetReport>,
    /// The side as the exports write it (`mpqlab run`'s side: codec, params, target, report,
    /// verdict), JSON text made here, so that the page module needs no JSON serialiser for it.
    pub export: String,
    /// The model's verdict, or why there is none (no WebGPU, …): a failure there never hides
    /// the codec's result.
    pub verdict: Result<Verdict, String>,
}

/// What the lab offers, from the worker (the page module carries no codecs or models).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub codecs: Vec<CodecInfo>,
    pub models: Vec<ModelInfo>,
    pub datasets: Vec<DatasetInfo>,
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
    /// For the browser's own encoders: the MIME type it must be able to write.
    pub browser_mime: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: String,
    pub name: String,
    /// The data set it was trained on (its classes are that set's).
    pub dataset: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub id: String,
    pub name: String,
}

/// The first test items of each class of a data set, in turn, for the page's gallery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetThumbs {
    pub dataset: String,
    pub thumbs: Vec<Thumb>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thumb {
    pub index: u32,
    pub class: String,
    pub width: u32,
    pub height: u32,
    #[serde(with = "serde_bytes")]
    pub rgba: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgreementReport {
    pub model: String,
    pub items: u32,
    pub max_abs_prob_diff: f64,
    pub top1_agreement: f64,
    pub max_feature_distance: f64,
    pub cpu_ms_per_item: f64,
    pub webgpu_ms_per_item: f64,
}

/// One row of the timing table (the fields of `mpqlab bench`'s rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    pub codec: String,
    pub image: String,
    pub width: u32,
    pub height: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bits_per_pixel: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub encode_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub decode_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub runs: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

/// The photos the timing table uses; `mpqlab bench` uses the same three by default.
pub const BENCH_PHOTOS: [&str; 3] = ["astronaut", "coffee", "chelsea"];

/// Test items the data-set gallery shows per data set.
pub const GALLERY_ITEMS: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_json_like_the_wire() {
        let e = Event::Loaded(Loaded {
            width: 2,
            height: 1,
            format: "Rgb8".into(),
            note: None,
            warning: None,
            label: Some("Shirt".into()),
            rgba: vec![1, 2, 3, 255, 4, 5, 6, 255],
        });
        let back: Event = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        let r = Request::Load { source: Source::Item { dataset: "fashion-mnist".into(), index: 4 } };
        assert_eq!(serde_json::from_value::<Request>(serde_json::to_value(&r).unwrap()).unwrap(), r);
    }
}
