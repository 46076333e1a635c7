//! The worker side: every heavy step runs here, one message at a time (www/worker.js awaits
//! each call before the next). Messages in and out are plain objects with a `kind`.
//!
//! In:  `load {job, bytes, name}` · `load-item {job, task, index}` ·
//!      `encode {job, side, codec, params, model?, backend?}` · `bench {job, urls, runs}` ·
//!      `sweep {job, model, backend, items, specs, shard?, shards?}` · `agreement {job, model, items}` ·
//!      `quant-eval {job, model, backend, items, search}` · `kernel-check {job}` ·
//!      `kernel-bench {job, sizes, batch, repeats, formats}`
//! Out: `loaded` · `progress {job, stage, done, total}` · `result` · `bench-row` · `bench-done` ·
//!      `sweep-point {job, index, point}` · `sweep-done` · `agreement-done` · `adapter` ·
//!      `quant-row` · `quant-done` · `check-row` · `check-done` · `bench-kernel` ·
//!      `bench-kernel-done` · `error {job, message}`

use std::cell::RefCell;

use js_sys::Array;
use mpq_core::{Error, Image, Media, Params, PixelFormat, Result, codec::ResolvedParams};
use mpq_metrics::ImageReport;
use wasm_bindgen::prelude::*;

use crate::browser_codec;
use crate::machine::{self, Backend, DatasetItem};
use crate::js::{self, obj};

thread_local! {
    /// The lab's current input, as decoded by us (so page and CLI see the same pixels).
    static SOURCE: RefCell<Option<Image>> = const { RefCell::new(None) };
    /// Which test item the input is, when it is one (the models' labels then mean something).
    static ITEM: RefCell<Option<DatasetItem>> = const { RefCell::new(None) };
}

pub(crate) fn post(msg: &js_sys::Object, transfer: &[&JsValue]) {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let list = Array::new();
    for t in transfer {
        list.push(t);
    }
    if scope.post_message_with_transfer(msg, &list).is_err() {
        web_sys::console::error_1(&"mpqlab worker: postMessage failed".into());
    }
}

pub(crate) fn progress(job: f64, stage: &str, done: u32, total: u32) {
    post(
        &obj(&[
            ("kind", "progress".into()),
            ("job", job.into()),
            ("stage", stage.into()),
            ("done", done.into()),
            ("total", total.into()),
        ]),
        &[],
    );
}

/// Handles one message from the page. Errors are posted back, never thrown, so the worker
/// stays alive for the next message.
#[wasm_bindgen]
pub async fn worker_handle(msg: JsValue) {
    let job = js::get_f64(&msg, "job");
    let kind = js::get_str(&msg, "kind");
    let outcome = match kind.as_str() {
        "load" => load(job, &msg).await,
        "load-item" => load_item(job, &msg).await,
        "encode" => encode(job, &msg).await,
        "sweep" => machine::sweep(job, &msg).await,
        "agreement" => machine::agreement(job, &msg).await,
        "bench" => bench(job, &msg).await,
        "quant-eval" => crate::model_lab::evaluate(job, &msg).await,
        "kernel-check" => crate::model_lab::kernel_check(job).await,
        "kernel-bench" => crate::model_lab::kernel_bench(job, &msg).await,
        other => Err(Error::Invalid(format!("unknown message kind '{other}'"))),
    };
    if let Err(e) = outcome {
        post(&obj(&[("kind", "error".into()), ("job", job.into()), ("message", e.to_string().into())]), &[]);
    }
}

/// Makes a decoded file a lab input: transparency is flattened onto white (the lab compares
/// colour; several codecs have no alpha), gray stays gray.
fn lab_input(img: Image) -> (Image, Option<&'static str>) {
    if img.format() != PixelFormat::Rgba8 {
        return (img, None);
    }
    if img.is_opaque() {
        return (img.to_rgb8(), None);
    }
    let data = img
        .data()
        .chunks_exact(4)
        .flat_map(|p| {
            let a = p[3] as u32;
            let mix = |c: u8| ((c as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
            [mix(p[0]), mix(p[1]), mix(p[2])]
        })
        .collect();
    let flat = Image::new(img.width(), img.height(), PixelFormat::Rgb8, data).expect("same size");
    (flat, Some("its transparency was flattened onto white"))
}

async fn load(job: f64, msg: &JsValue) -> Result<()> {
    let bytes = js::get_bytes(msg, "bytes");
    let name = js::get_str(msg, "name");
    progress(job, "decoding", 0, 1);
    mpq_core::limits::check_file_size(bytes.len())?;
    let decoded = match mpq_codecs::image::load(&bytes) {
        Ok(img) => img,
        // Formats we have no decoder for (GIF, BMP, …): let the browser try.
        Err(Error::UnknownFormat(_)) => browser_codec::decode_with_browser(&bytes, "")
            .await
            .map_err(|_| Error::UnknownFormat(format!(" for '{name}' (try PNG, JPEG, WebP, QOI or AVIF)")))?,
        Err(e) => return Err(e),
    };
    let (img, note) = lab_input(decoded);
    set_source(job, img, note, None);
    Ok(())
}

/// A test item of a bundled data set as the lab's input.
async fn load_item(job: f64, msg: &JsValue) -> Result<()> {
    let task = machine::parse_task(&js::get_str(msg, "task"))?;
    let index = js::get_u32(msg, "index") as usize;
    progress(job, "fetching the test items", 0, 1);
    let (img, label) = machine::item_image(task, index).await?;
    set_source(job, img, None, Some(DatasetItem { task, index, label }));
    Ok(())
}

/// Makes `img` the lab's input (a test item when `item` is given) and tells the page.
fn set_source(job: f64, img: Image, note: Option<&str>, item: Option<DatasetItem>) {
    let rgba = js::bytes(img.to_rgba8().data());
    let label = item.map(|d| JsValue::from(d.task.classes()[d.label])).unwrap_or(JsValue::UNDEFINED);
    let reply = obj(&[
        ("kind", "loaded".into()),
        ("job", job.into()),
        ("width", img.width().into()),
        ("height", img.height().into()),
        ("format", format!("{:?}", img.format()).into()),
        ("note", note.map(JsValue::from).unwrap_or(JsValue::NULL)),
        ("label", label),
        ("rgba", rgba.clone().into()),
    ]);
    SOURCE.with(|s| *s.borrow_mut() = Some(img));
    ITEM.with(|i| *i.borrow_mut() = item);
    post(&reply, &[&rgba.buffer()]);
}

/// Encoded bytes, the decoded image and the report for one codec on one image.
struct Outcome {
    encoded: Vec<u8>,
    decoded: Image,
    report: ImageReport,
    mime: String,
    extension: String,
}

/// A codec as the page runs it: ours (the CLI's code), or the browser's own encoder.
pub(crate) enum PageCodec {
    Ours(Box<dyn mpq_core::Codec>),
    Browser(&'static browser_codec::BrowserCodec),
}

impl PageCodec {
    pub(crate) fn find(id: &str) -> Result<PageCodec> {
        match browser_codec::find(id) {
            Some(bc) => Ok(PageCodec::Browser(bc)),
            None => Ok(PageCodec::Ours(mpq_codecs::codec(id)?)),
        }
    }
    pub(crate) fn name(&self) -> String {
        match self {
            PageCodec::Ours(c) => c.name().to_string(),
            PageCodec::Browser(bc) => bc.name.to_string(),
        }
    }
    pub(crate) fn params(&self) -> Vec<mpq_core::ParamSpec> {
        match self {
            PageCodec::Ours(c) => c.params(),
            PageCodec::Browser(bc) => bc.params(),
        }
    }
    pub(crate) fn mime(&self) -> &'static str {
        match self {
            PageCodec::Ours(c) => c.mime(),
            PageCodec::Browser(bc) => bc.mime,
        }
    }
    fn extension(&self) -> &'static str {
        match self {
            PageCodec::Ours(c) => c.extension(),
            PageCodec::Browser(bc) => bc.extension,
        }
    }
    pub(crate) async fn encode(&self, img: &Image, params: &ResolvedParams) -> Result<Vec<u8>> {
        match self {
            PageCodec::Ours(c) => c.encode(&Media::Image(img.clone()), params.as_params()),
            PageCodec::Browser(bc) => bc.encode(img, params.int("quality")).await,
        }
    }
    pub(crate) async fn decode(&self, bytes: &[u8]) -> Result<Image> {
        match self {
            PageCodec::Browser(bc) => bc.decode(bytes),
            // rav1d (our native AV1 decoder) does not build for wasm32-unknown-unknown, so the
            // page decodes AVIF with the browser's own decoder. The bytes are the CLI's; the
            // decoded pixels can differ from the CLI's by YUV→RGB rounding.
            PageCodec::Ours(c) if decoded_by_browser(c.id()) => {
                Ok(browser_codec::decode_with_browser(bytes, c.mime()).await?.to_rgb8())
            }
            PageCodec::Ours(c) => c.decode(bytes)?.into_image(),
        }
    }
}

async fn run_codec(job: f64, img: &Image, id: &str, params: &Params) -> Result<Outcome> {
    let codec = PageCodec::find(id)?;
    let resolved = ResolvedParams::resolve(id, &codec.params(), params)?;
    progress(job, "encoding", 0, 3);
    let t = js::now_ms();
    let encoded = codec.encode(img, &resolved).await?;
    let encode_ms = js::now_ms() - t;
    progress(job, "decoding", 1, 3);
    let t = js::now_ms();
    let decoded = codec.decode(&encoded).await?;
    let decode_ms = js::now_ms() - t;
    progress(job, "measuring", 2, 3);
    let report = ImageReport::measure(id, resolved.as_params(), img, &decoded, encoded.len(), encode_ms, decode_ms)?;
    Ok(Outcome { encoded, decoded, report, mime: codec.mime().into(), extension: codec.extension().into() })
}

async fn encode(job: f64, msg: &JsValue) -> Result<()> {
    let id = js::get_str(msg, "codec");
    let params: Params = serde_json::from_str(&js::get_str(msg, "params"))
        .map_err(|e| Error::Invalid(format!("bad parameters: {e}")))?;
    let img = SOURCE
        .with(|s| s.borrow().clone())
        .ok_or_else(|| Error::Invalid("no image loaded yet".into()))?;
    let out = run_codec(job, &img, &id, &params).await?;
    // The model's verdict: a failure here (say, no WebGPU) must not hide the codec's result.
    let model = js::get_str(msg, "model");
    let (perception, perception_error) = if model.is_empty() {
        (JsValue::NULL, JsValue::NULL)
    } else {
        progress(job, "asking the model", 2, 3);
        let verdict = async {
            let model = machine::parse_model(&model)?;
            let backend = Backend::parse(&js::get_str(msg, "backend"))?;
            let item = ITEM.with(|i| *i.borrow());
            machine::judge(model, backend, &img, item.as_ref(), &out.decoded).await
        };
        match verdict.await {
            Ok(v) => (JsValue::from(v.to_string()), JsValue::NULL),
            Err(e) => (JsValue::NULL, JsValue::from(e.to_string())),
        }
    };
    let rgba = js::bytes(out.decoded.to_rgba8().data());
    let encoded = js::bytes(&out.encoded);
    let report = serde_json::to_string(&out.report).map_err(|e| Error::Invalid(e.to_string()))?;
    post(
        &obj(&[
            ("kind", "result".into()),
            ("job", job.into()),
            ("side", js::get(msg, "side")),
            ("report", report.into()),
            ("rgba", rgba.clone().into()),
            ("encoded", encoded.clone().into()),
            ("mime", out.mime.into()),
            ("extension", out.extension.into()),
            ("browser_decoded", decoded_by_browser(&id).into()),
            ("perception", perception),
            ("perception_error", perception_error),
        ]),
        &[&rgba.buffer(), &encoded.buffer()],
    );
    Ok(())
}

/// Codecs whose output the page decodes with the browser rather than with our own decoder.
pub fn decoded_by_browser(id: &str) -> bool {
    id == "avif"
}

/// The timing table: every codec with default parameters on each image, `runs` times, median
/// encode and decode time. Same loop and fields as `mpqlab bench`.
async fn bench(job: f64, msg: &JsValue) -> Result<()> {
    let urls: Vec<String> = serde_json::from_str(&js::get_str(msg, "urls"))
        .map_err(|e| Error::Invalid(format!("bad bench request: {e}")))?;
    let runs = js::get_u32(msg, "runs").clamp(1, 20) as usize;
    let mut ids: Vec<String> = mpq_codecs::registry().iter().map(|c| c.id().to_string()).collect();
    ids.extend(browser_codec::BROWSER_CODECS.iter().map(|c| c.id.to_string()));
    let total = (urls.len() * ids.len()) as u32;
    let mut done = 0;
    let mut rows = Vec::new();
    for url in &urls {
        let img = lab_input(mpq_codecs::image::load(
            &js::fetch_bytes(url).await.map_err(|e| Error::Invalid(format!("cannot fetch {url}: {e}")))?,
        )?).0;
        let name = url.rsplit('/').next().unwrap_or(url).trim_end_matches(".png").to_string();
        for id in &ids {
            progress(job, &format!("{id} on {name}"), done, total);
            let (mut enc, mut dec) = (Vec::new(), Vec::new());
            let mut row = serde_json::json!({ "codec": id, "image": name, "width": img.width(), "height": img.height() });
            let mut failure = None;
            for _ in 0..runs {
                match run_codec(job, &img, id, &Params::new()).await {
                    Ok(out) => {
                        enc.push(out.report.encode_ms);
                        dec.push(out.report.decode_ms);
                        row["bytes"] = out.report.bytes.into();
                        row["bits_per_pixel"] = out.report.bits_per_pixel.into();
                    }
                    Err(e) => {
                        failure = Some(e.to_string());
                        break;
                    }
                }
            }
            match failure {
                Some(e) => row["error"] = e.into(),
                None => {
                    row["encode_ms"] = mpq_metrics::median(&mut enc).into();
                    row["decode_ms"] = mpq_metrics::median(&mut dec).into();
                    row["runs"] = runs.into();
                }
            }
            done += 1;
            post(&obj(&[("kind", "bench-row".into()), ("job", job.into()), ("row", row.to_string().into())]), &[]);
            rows.push(row);
        }
    }
    let all = serde_json::Value::Array(rows).to_string();
    post(&obj(&[("kind", "bench-done".into()), ("job", job.into()), ("rows", all.into())]), &[]);
    Ok(())
}
