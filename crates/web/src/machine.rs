//! The worker's machine perception: the bundled models (loaded once per backend), the test
//! subsets (fetched once), a verdict for each side's result, rate–perception sweeps, and the
//! CPU ↔ WebGPU agreement check. Everything numeric is `mpq_models`/`mpq_metrics` code, the
//! same as `mpqlab sweep` runs natively.

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::Device;
use mpq_core::sweep::CodecSweep;
use mpq_core::{Error, Image, PixelFormat, Result, codec::ResolvedParams};
use mpq_metrics::perception::{Prediction, argmax, compare, feature_distance, top_k};
use mpq_metrics::sweep::PointAccumulator;
use mpq_models::data::{LabeledImages, decode_subset};
use mpq_models::sweep::{ItemCodec, RoundTrip, SweepRunner, task_pixels};
use mpq_models::{Classifier, ModelId, Task};
use serde_json::{Value, json};
use wasm_bindgen::JsValue;

use crate::js::{self, obj};
use crate::worker::{PageCodec, post, progress};

/// Where a model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// burn's `flex` backend: pure Rust on the CPU, inside this worker.
    Cpu,
    /// burn's `webgpu` backend: the browser's WebGPU.
    WebGpu,
}

impl Backend {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "cpu" | "" => Ok(Backend::Cpu),
            "webgpu" => Ok(Backend::WebGpu),
            other => Err(Error::Invalid(format!("unknown backend '{other}' (cpu or webgpu)"))),
        }
    }
    pub fn id(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::WebGpu => "webgpu",
        }
    }
}

thread_local! {
    static MODELS: RefCell<Vec<(ModelId, Backend, Rc<Classifier>)>> = const { RefCell::new(Vec::new()) };
    static GPU: RefCell<Option<Device>> = const { RefCell::new(None) };
    static SUBSETS: RefCell<Vec<(Task, Rc<LabeledImages>)>> = const { RefCell::new(Vec::new()) };
}

fn model_error(e: mpq_models::ModelError) -> Error {
    Error::Invalid(e.to_string())
}

/// The WebGPU device, set up on first use (burn needs the asynchronous setup in a browser).
async fn gpu_device() -> Result<Device> {
    if let Some(d) = GPU.with(|g| g.borrow().clone()) {
        return Ok(d);
    }
    let supported = !js::get(&js::get(&js_sys::global(), "navigator"), "gpu").is_undefined();
    if !supported {
        return Err(Error::Invalid("this browser has no WebGPU (navigator.gpu is missing); use the CPU backend".into()));
    }
    let device = Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| Error::Invalid(format!("WebGPU could not start: {e}")))?;
    GPU.with(|g| *g.borrow_mut() = Some(device.clone()));
    Ok(device)
}

/// A bundled model on a backend, loaded once per worker.
pub async fn classifier(model: ModelId, backend: Backend) -> Result<Rc<Classifier>> {
    if let Some(c) = MODELS.with(|m| m.borrow().iter().find(|e| e.0 == model && e.1 == backend).map(|e| e.2.clone())) {
        return Ok(c);
    }
    let device = match backend {
        Backend::Cpu => mpq_models::cpu_device(),
        Backend::WebGpu => gpu_device().await?,
    };
    let c = Rc::new(Classifier::load_bundled(model, &device).map_err(model_error)?);
    MODELS.with(|m| m.borrow_mut().push((model, backend, c.clone())));
    Ok(c)
}

/// A task's committed test subset, fetched from the page's `datasets/` folder once.
pub async fn subset(task: Task) -> Result<Rc<LabeledImages>> {
    if let Some(s) = SUBSETS.with(|s| s.borrow().iter().find(|e| e.0 == task).map(|e| e.1.clone())) {
        return Ok(s);
    }
    let url = format!("datasets/{}", task.subset_file());
    let bytes = js::fetch_bytes(&url).await.map_err(|e| Error::Invalid(format!("cannot fetch {url}: {e}")))?;
    let set = Rc::new(decode_subset(&bytes).map_err(|e| Error::Invalid(e.to_string()))?);
    SUBSETS.with(|s| s.borrow_mut().push((task, set.clone())));
    Ok(set)
}

pub fn parse_model(id: &str) -> Result<ModelId> {
    ModelId::parse(id).ok_or_else(|| Error::Invalid(format!("unknown model '{id}'")))
}

pub fn parse_task(id: &str) -> Result<Task> {
    Task::ALL.into_iter().find(|t| t.id() == id).ok_or_else(|| Error::Invalid(format!("unknown data set '{id}'")))
}

/// A test item of a data set as a lab input.
#[derive(Debug, Clone, Copy)]
pub struct DatasetItem {
    pub task: Task,
    pub index: usize,
    pub label: usize,
}

/// Item `index` of `task`'s subset as an image (gray or RGB).
pub async fn item_image(task: Task, index: usize) -> Result<(Image, usize)> {
    let set = subset(task).await?;
    if index >= set.len() {
        return Err(Error::Invalid(format!("{} has {} items, not {}", task.name(), set.len(), index + 1)));
    }
    let format = if set.channels == 1 { PixelFormat::Gray8 } else { PixelFormat::Rgb8 };
    let img = Image::new(set.cols as u32, set.rows as u32, format, set.image(index).to_vec())?;
    Ok((img, set.labels[index] as usize))
}

fn top_classes(p: &Prediction, names: &[&str]) -> Value {
    let k = names.len().min(5);
    Value::Array(top_k(&p.probs, k).into_iter().map(|i| json!({ "class": names[i], "p": p.probs[i] })).collect())
}

/// The model's verdict on one side's result: for a test item of the model's own task, its
/// classes and how they moved; for anything else (a photo), the feature distance only.
pub async fn judge(
    model: ModelId,
    backend: Backend,
    original: &Image,
    item: Option<&DatasetItem>,
    decoded: &Image,
) -> Result<Value> {
    let c = classifier(model, backend).await?;
    let task = model.task();
    let names = task.classes();
    match item {
        Some(item) if item.task == task => {
            let mut pixels = task_pixels(original, task).map_err(model_error)?;
            pixels.extend(task_pixels(decoded, task).map_err(model_error)?);
            let t = js::now_ms();
            let p = c.predict_async(&pixels, 2).await.map_err(model_error)?;
            let infer_ms = js::now_ms() - t;
            let verdict = compare(&p[0], &p[1], Some(item.label)).map_err(|e| Error::Invalid(e.to_string()))?;
            Ok(json!({
                "kind": "classes", "model": model.id(), "model_name": model.name(), "backend": backend.id(),
                "infer_ms": infer_ms, "batch": 2,
                "item": item.index, "true_class": names[item.label],
                "reference_class": names[argmax(&p[0].probs)], "class": names[argmax(&p[1].probs)],
                "reference_top": top_classes(&p[0], names), "top": top_classes(&p[1], names),
                "verdict": verdict,
            }))
        }
        _ => {
            let a = features_input(original, task)?;
            let b = features_input(decoded, task)?;
            let t = js::now_ms();
            let fa = c.conv_features_async(&a.1, a.0.width() as usize, a.0.height() as usize).await.map_err(model_error)?;
            let fb = c.conv_features_async(&b.1, b.0.width() as usize, b.0.height() as usize).await.map_err(model_error)?;
            let infer_ms = js::now_ms() - t;
            let d = feature_distance(&fa, &fb).map_err(|e| Error::Invalid(e.to_string()))?;
            let why = match item {
                Some(other) => format!(
                    "This is a {} item; the {} knows only {} classes, so only its feature distance is shown.",
                    other.task.name(),
                    model.name(),
                    task.name()
                ),
                None => format!(
                    "A photo is not one of the {}'s {} classes, so its labels would mean nothing; the feature distance compares what its convolution layers see.",
                    model.name(),
                    task.name()
                ),
            };
            Ok(json!({
                "kind": "features", "model": model.id(), "model_name": model.name(), "backend": backend.id(),
                "infer_ms": infer_ms, "feature_distance": d, "width": a.0.width(), "height": a.0.height(), "why": why,
            }))
        }
    }
}

/// Photos are shrunk to at most this many pixels per side before the convolution blocks run
/// on them (time grows with the area; the artefacts that matter survive a 2–3× shrink).
const FEATURE_SIDE: u32 = 256;

fn features_input(img: &Image, task: Task) -> Result<(Image, Vec<u8>)> {
    let small = mpq_codecs::image::webp_down::fit_within(img, FEATURE_SIDE)?;
    let pixels = task_pixels(&small, task).map_err(model_error)?;
    Ok((small, pixels))
}

/// One codec setting as the page runs it (ours or the browser's), timed with the page clock.
struct PageItemCodec<'a> {
    codec: &'a PageCodec,
    params: ResolvedParams,
}

impl ItemCodec for PageItemCodec<'_> {
    async fn round_trip(&self, item: &Image) -> Result<RoundTrip> {
        let t = js::now_ms();
        let encoded = self.codec.encode(item, &self.params).await?;
        let encode_ms = js::now_ms() - t;
        let t = js::now_ms();
        let decoded = self.codec.decode(&encoded).await?;
        let decode_ms = js::now_ms() - t;
        Ok(RoundTrip { bytes: encoded.len(), decoded, encode_ms, decode_ms })
    }

    /// The browser's encoders (and its AVIF decoder) are asynchronous: a whole batch is started
    /// at once so their calls overlap (each item is then timed as the batch's mean).
    async fn round_trip_batch(&self, items: &[Image]) -> Result<Vec<RoundTrip>> {
        let n = items.len().max(1) as f64;
        let t = js::now_ms();
        let encoded = match self.codec {
            PageCodec::Browser(bc) => {
                let encoded = bc.encode_many(items, self.params.int("quality")).await?;
                let encode_ms = (js::now_ms() - t) / n;
                let mut out = Vec::with_capacity(encoded.len());
                for e in encoded {
                    let t = js::now_ms();
                    let decoded = bc.decode(&e)?;
                    out.push(RoundTrip { bytes: e.len(), decoded, encode_ms, decode_ms: js::now_ms() - t });
                }
                return Ok(out);
            }
            PageCodec::Ours(c) if crate::worker::decoded_by_browser(c.id()) => {
                let mut v = Vec::with_capacity(items.len());
                for item in items {
                    v.push(self.codec.encode(item, &self.params).await?);
                }
                v
            }
            PageCodec::Ours(_) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.round_trip(item).await?);
                }
                return Ok(out);
            }
        };
        let encode_ms = (js::now_ms() - t) / n;
        let t = js::now_ms();
        let decoded = crate::browser_codec::decode_many_with_browser(&encoded, self.codec.mime()).await?;
        let decode_ms = (js::now_ms() - t) / n;
        Ok(encoded
            .iter()
            .zip(decoded)
            .map(|(e, d)| RoundTrip { bytes: e.len(), decoded: d.to_rgb8(), encode_ms, decode_ms })
            .collect())
    }
}

/// `sweep {job, model, backend, items, specs, shard?, shards?}`: the codec settings over the
/// model's test items. The page runs one sweep on several workers at once: this worker takes
/// the points whose index (in plan order) is `shard` modulo `shards`. Posts `sweep-point
/// {index, point}` after each point and `sweep-done` at the end; the page merges the points in
/// index order and builds the CSV, JSON and SVG itself (each point does not depend on the
/// others, so the merged result equals a one-worker run and `mpqlab sweep`).
pub async fn sweep(job: f64, msg: &JsValue) -> Result<()> {
    let model = parse_model(&js::get_str(msg, "model"))?;
    let backend = Backend::parse(&js::get_str(msg, "backend"))?;
    let items = js::get_u32(msg, "items").max(1) as usize;
    let shards = (js::get_u32(msg, "shards") as usize).max(1);
    let shard = js::get_u32(msg, "shard") as usize;
    if shard >= shards {
        return Err(Error::Invalid(format!("shard {shard} of {shards} does not exist")));
    }
    let specs: Vec<String> = serde_json::from_str(&js::get_str(msg, "specs"))
        .map_err(|e| Error::Invalid(format!("bad sweep request: {e}")))?;
    if specs.is_empty() {
        return Err(Error::Invalid("pick at least one codec to sweep".into()));
    }
    let mut plan = Vec::new();
    for spec in &specs {
        let sweep = CodecSweep::parse(spec)?;
        let codec = PageCodec::find(&sweep.codec)?;
        let values = sweep.resolved_values(&codec.params())?;
        plan.push((sweep, codec, values));
    }
    // (index in plan order, which codec, which value): this worker's share.
    let mine: Vec<(usize, usize, f64)> = plan
        .iter()
        .enumerate()
        .flat_map(|(c, p)| p.2.iter().map(move |&v| (c, v)))
        .enumerate()
        .filter(|(index, _)| index % shards == shard)
        .map(|(index, (c, v))| (index, c, v))
        .collect();
    let t_all = js::now_ms();
    progress(job, "loading the model and the test items", 0, 1);
    let c = classifier(model, backend).await?;
    let set = subset(model.task()).await?;
    let runner = SweepRunner::new(&c, &set, items).await.map_err(model_error)?.with_clock(js::now_ms);
    let n = runner.len();
    let total = (mine.len() * n) as u32;
    for (k, &(index, c, value)) in mine.iter().enumerate() {
        let (sweep, codec, _) = &plan[c];
        let params = sweep.params_for(&codec.params(), value)?;
        let resolved = ResolvedParams::resolve(&sweep.codec, &codec.params(), &params)?;
        let label = format!("{} {}={}", sweep.codec, sweep.param, value);
        let before = (k * n) as u32;
        progress(job, &label, before, total);
        let point = PointAccumulator::new(&sweep.codec, &codec.name(), &sweep.param, value);
        let item_codec = PageItemCodec { codec, params: resolved };
        let point = runner
            .run_point(&item_codec, point, |done| progress(job, &label, before + done as u32, total))
            .await
            .map_err(model_error)?;
        let text = serde_json::to_string(&point).map_err(|e| Error::Invalid(e.to_string()))?;
        post(
            &obj(&[
                ("kind", "sweep-point".into()),
                ("job", job.into()),
                ("index", (index as u32).into()),
                ("point", text.into()),
            ]),
            &[],
        );
    }
    post(
        &obj(&[
            ("kind", "sweep-done".into()),
            ("job", job.into()),
            ("items", (n as u32).into()),
            ("elapsed_ms", (js::now_ms() - t_all).into()),
            ("backend", backend.id().into()),
            ("stage_times", serde_json::to_string(&{
                let t = runner.stage_times();
                json!({ "codec_ms": t.codec_ms, "model_ms": t.model_ms, "metrics_ms": t.metrics_ms })
            })
            .unwrap_or_default()
            .into()),
        ]),
        &[],
    );
    Ok(())
}

/// `agreement {job, model, items}`: the same test items through the CPU and the WebGPU
/// backend; reports the largest probability difference, top-1 agreement and time per item.
pub async fn agreement(job: f64, msg: &JsValue) -> Result<()> {
    let model = parse_model(&js::get_str(msg, "model"))?;
    let items = js::get_u32(msg, "items").clamp(1, 1000) as usize;
    let set = subset(model.task()).await?.take(items);
    let mut runs = Vec::new();
    for (k, backend) in [Backend::Cpu, Backend::WebGpu].into_iter().enumerate() {
        progress(job, &format!("running on {}", backend.id()), k as u32, 2);
        let c = classifier(model, backend).await?;
        // A first call warms up (shader compilation on WebGPU); the second is timed.
        c.predict_async(&set.pixels[..set.pixels.len() / set.len()], 1).await.map_err(model_error)?;
        let t = js::now_ms();
        let p = c.predict_async(&set.pixels, set.len()).await.map_err(model_error)?;
        runs.push((p, js::now_ms() - t));
    }
    let (cpu, gpu) = (&runs[0].0, &runs[1].0);
    let mut max_abs = 0f64;
    let mut same_top1 = 0;
    let mut max_feature = 0f64;
    for (a, b) in cpu.iter().zip(gpu) {
        for (x, y) in a.probs.iter().zip(&b.probs) {
            max_abs = max_abs.max((x - y).abs() as f64);
        }
        same_top1 += usize::from(argmax(&a.probs) == argmax(&b.probs));
        max_feature = max_feature.max(feature_distance(&a.features, &b.features).unwrap_or(f64::INFINITY));
    }
    let report = json!({
        "model": model.id(), "items": set.len(),
        "max_abs_prob_diff": max_abs, "top1_agreement": same_top1 as f64 / set.len() as f64,
        "max_feature_distance": max_feature,
        "cpu_ms_per_item": runs[0].1 / set.len() as f64, "webgpu_ms_per_item": runs[1].1 / set.len() as f64,
    });
    post(&obj(&[("kind", "agreement-done".into()), ("job", job.into()), ("report", report.to_string().into())]), &[]);
    Ok(())
}
