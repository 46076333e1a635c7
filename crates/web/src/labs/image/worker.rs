//! The image lab's worker side: the catalog, the input (decoded by mpqlab, so the page and the
//! CLI see the same pixels), each side's encode–decode–measure–judge, the timing table. Sweeps
//! and the CPU ↔ WebGPU check are in `worker_sweep.rs`.

use std::cell::RefCell;

use mpq_core::target::{Aim, Target, TargetReport};
use mpq_core::{Error, Image, Media, Params, Result, codec::ResolvedParams};
use mpq_metrics::ImageReport;
use mpq_models::verdict::DatasetItem;
use mpq_models::{ModelId, Task};
use serde::Serialize;

use super::browser_codec::{self, BROWSER_CODECS};
use super::{BenchRow, Catalog, CodecInfo, DatasetInfo, DatasetThumbs, Encoded, Event, GALLERY_ITEMS, Judge, Loaded, ModelInfo, Request, Source, Thumb};
use crate::bridge::worker::Ctx;
use crate::{js, machine};

thread_local! {
    /// The lab's current input, as decoded by us, and which test item it is (if one).
    static SOURCE: RefCell<Option<(Image, Option<DatasetItem>)>> = const { RefCell::new(None) };
}

pub async fn handle<W: Serialize + From<Event>>(ctx: Ctx<W>, request: Request) -> Result<()> {
    match request {
        Request::Catalog => {
            catalog(ctx);
            Ok(())
        }
        Request::Thumbs => {
            let mut out = Vec::new();
            for task in Task::ALL {
                ctx.progress(&format!("fetching the {} test items", task.name()), 0, 1);
                let set = machine::subset(task).await?;
                out.push(DatasetThumbs { dataset: task.id().into(), thumbs: thumbs(task, &set) });
            }
            ctx.event(Event::Thumbs(out));
            Ok(())
        }
        Request::Load { source } => load(ctx, source).await,
        Request::Encode { codec, params, target, judge } => encode(ctx, &codec, &params, target, judge).await,
        Request::Sweep { model, backend, items, specs, shard, shards } => {
            super::worker_sweep::sweep(ctx, &model, backend, items, &specs, shard, shards).await
        }
        Request::Agreement { model, items } => super::worker_sweep::agreement(ctx, &model, items).await,
        Request::Bench { urls, runs } => bench(ctx, &urls, runs).await,
    }
}

fn catalog<W: Serialize + From<Event>>(ctx: Ctx<W>) {
    let mut codecs: Vec<CodecInfo> = mpq_codecs::registry()
        .iter()
        .filter(|c| c.modality() == mpq_core::Modality::Image)
        .map(|c| CodecInfo {
            id: c.id().into(),
            name: c.name().into(),
            lossless: c.lossless(),
            params: c.params(),
            rate_param: c.rate_param().map(Into::into),
            browser_mime: None,
        })
        .collect();
    codecs.extend(BROWSER_CODECS.iter().map(|c| CodecInfo {
        id: c.id.into(),
        name: c.name.into(),
        lossless: false,
        params: c.params(),
        rate_param: Some("quality".into()),
        browser_mime: Some(c.mime.into()),
    }));
    let models =
        ModelId::ALL.iter().map(|m| ModelInfo { id: m.id().into(), name: m.name().into(), dataset: m.task().id().into() }).collect();
    let datasets = Task::ALL.iter().map(|t| DatasetInfo { id: t.id().into(), name: t.name().into() }).collect();
    ctx.event(Event::Catalog(Catalog { codecs, models, datasets }));
}

/// The first items of each class in turn (the cats-vs-dogs subset lists all cats first).
fn thumbs(task: Task, set: &mpq_models::data::LabeledImages) -> Vec<Thumb> {
    let classes = task.classes();
    let per_class = (GALLERY_ITEMS / classes.len()).max(1);
    let mut shown = vec![0usize; classes.len()];
    (0..set.len())
        .filter(|&i| {
            let c = set.labels[i] as usize;
            let keep = shown.get(c).is_some_and(|&n| n < per_class);
            if keep {
                shown[c] += 1;
            }
            keep
        })
        .take(GALLERY_ITEMS)
        .map(|i| Thumb {
            index: i as u32,
            class: classes[set.labels[i] as usize].into(),
            width: set.cols as u32,
            height: set.rows as u32,
            rgba: set.image(i).chunks(set.channels).flat_map(|p| if p.len() == 1 { [p[0], p[0], p[0], 255] } else { [p[0], p[1], p[2], 255] }).collect(),
        })
        .collect()
}

/// A decoded file as the lab's input (transparency flattened onto white, as `mpqlab run` does).
pub(super) fn lab_input(img: Image) -> (Image, Option<&'static str>) {
    let (img, flattened) = img.flattened_onto_white();
    (img, flattened.then_some("its transparency was flattened onto white"))
}

/// A user's file decoded, with what was lost if it is damaged but still shows.
async fn decode_file(bytes: &[u8], name: &str) -> Result<(Image, Option<String>)> {
    mpq_core::limits::check_file_size(bytes.len())?;
    if mpq_codecs::image::sniff(bytes) == Some(mpq_codecs::image::FileFormat::Avif) {
        // rav1d does not build for wasm32: the container, bit depth and size are checked by us
        // (nothing is allocated for a file that claims too much), the AV1 data is decoded by
        // the browser. Natively `mpqlab` decodes the same file with rav1d.
        mpq_codecs::image::avif::check_avif(bytes)?;
        return browser_codec::decode_with_browser(bytes, "image/avif")
            .await
            .map(|img| (img, None))
            .map_err(|_| Error::decode("AVIF", "the AV1 data is damaged: the browser's decoder could not read it"));
    }
    match mpq_codecs::image::load_checked(bytes) {
        Ok(decoded) => Ok(decoded),
        // Formats we have no decoder for (GIF, BMP, …): let the browser try.
        Err(Error::UnknownFormat(_)) => browser_codec::decode_with_browser(bytes, "")
            .await
            .map(|img| (img, None))
            .map_err(|_| Error::UnknownFormat(format!(" for '{name}' (try PNG, JPEG, WebP, QOI or AVIF)"))),
        Err(e) => Err(e),
    }
}

async fn load<W: Serialize + From<Event>>(ctx: Ctx<W>, source: Source) -> Result<()> {
    let (img, note, warning, item) = match source {
        Source::Url { url, name } => {
            ctx.progress("fetching", 0, 2);
            let bytes = js::fetch_bytes(&url).await.map_err(|e| Error::Invalid(format!("cannot fetch {name}: {e}")))?;
            ctx.progress("decoding", 1, 2);
            let (img, warning) = decode_file(&bytes, &name).await?;
            let (img, note) = lab_input(img);
            (img, note, warning, None)
        }
        Source::Bytes { bytes, name } => {
            ctx.progress("decoding", 0, 1);
            let (img, warning) = decode_file(&bytes, &name).await?;
            let (img, note) = lab_input(img);
            (img, note, warning, None)
        }
        Source::Item { dataset, index } => {
            ctx.progress("fetching the test items", 0, 1);
            let (img, item) = machine::item_image(machine::parse_task(&dataset)?, index as usize).await?;
            (img, None, None, Some(item))
        }
    };
    // Only a successful load replaces the input: after a failure the old one stays.
    let loaded = Loaded {
        width: img.width(),
        height: img.height(),
        format: format!("{:?}", img.format()),
        note: note.map(str::to_string),
        warning,
        label: item.map(|d| d.task.classes()[d.label].to_string()),
        rgba: img.to_rgba8().data().to_vec(),
    };
    SOURCE.with(|s| *s.borrow_mut() = Some((img, item)));
    ctx.event(Event::Loaded(loaded));
    Ok(())
}

/// A codec as the page runs it: ours (the CLI's code), or the browser's own encoder.
pub(super) enum PageCodec {
    Ours(Box<dyn mpq_core::Codec>),
    Browser(&'static browser_codec::BrowserCodec),
}

impl PageCodec {
    pub(super) fn find(id: &str) -> Result<PageCodec> {
        match browser_codec::find(id) {
            Some(bc) => Ok(PageCodec::Browser(bc)),
            None => Ok(PageCodec::Ours(mpq_codecs::codec(id)?)),
        }
    }
    pub(super) fn name(&self) -> String {
        match self {
            PageCodec::Ours(c) => c.name().to_string(),
            PageCodec::Browser(bc) => bc.name.to_string(),
        }
    }
    pub(super) fn params(&self) -> Vec<mpq_core::ParamSpec> {
        match self {
            PageCodec::Ours(c) => c.params(),
            PageCodec::Browser(bc) => bc.params(),
        }
    }
    /// The parameter a target size searches (the browser encoders' quality).
    pub(super) fn rate_param(&self) -> Option<&'static str> {
        match self {
            PageCodec::Ours(c) => c.rate_param(),
            PageCodec::Browser(_) => Some("quality"),
        }
    }
    pub(super) fn lossless(&self) -> bool {
        match self {
            PageCodec::Ours(c) => c.lossless(),
            PageCodec::Browser(_) => false,
        }
    }
    pub(super) fn mime(&self) -> &'static str {
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
    pub(super) async fn encode(&self, img: &Image, params: &ResolvedParams) -> Result<Vec<u8>> {
        match self {
            PageCodec::Ours(c) => c.encode(&Media::Image(img.clone()), params.as_params()),
            PageCodec::Browser(bc) => bc.encode(img, params.int("quality")).await,
        }
    }
    pub(super) async fn decode(&self, bytes: &[u8]) -> Result<Image> {
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

/// Codecs whose output the page decodes with the browser rather than with our own decoder.
pub(super) fn decoded_by_browser(id: &str) -> bool {
    id == "avif"
}

struct Outcome {
    encoded: Vec<u8>,
    decoded: Image,
    report: ImageReport,
    mime: String,
    extension: String,
    target: Option<TargetReport>,
}

async fn run_codec<W: Serialize + From<Event>>(ctx: Ctx<W>, img: &Image, id: &str, params: &Params, target: Option<Target>) -> Result<Outcome> {
    let codec = PageCodec::find(id)?;
    let t = js::now_ms();
    // A target size: the size parameter found by the CLI's search, one encode at a time (the
    // browser's encoders answer asynchronously), so the page picks the CLI's setting.
    let (params, encoded, target) = match target {
        None => {
            let resolved = ResolvedParams::resolve(id, &codec.params(), params)?;
            ctx.progress("encoding", 0, 3);
            (resolved.as_params().clone(), codec.encode(img, &resolved).await?, None)
        }
        Some(target) => {
            let media = Media::Image(img.clone());
            let mut search = Aim::new(&codec.name(), id, codec.lossless(), &codec.params(), codec.rate_param(), params, &media, target)?;
            let mut n = 0;
            while let Some(p) = search.next() {
                ctx.progress(&format!("aiming at {target}: encode {}", n + 1), 0, 3);
                let resolved = ResolvedParams::resolve(id, &codec.params(), &p)?;
                search.record(codec.encode(img, &resolved).await?);
                n += 1;
            }
            let (p, bytes, report) = search.finish();
            (p, bytes, Some(report))
        }
    };
    let resolved = ResolvedParams::resolve(id, &codec.params(), &params)?;
    let encode_ms = js::now_ms() - t;
    ctx.progress("decoding", 1, 3);
    let t = js::now_ms();
    let decoded = codec.decode(&encoded).await?;
    let decode_ms = js::now_ms() - t;
    ctx.progress("measuring", 2, 3);
    let report = ImageReport::measure(id, resolved.as_params(), img, &decoded, encoded.len(), encode_ms, decode_ms)?;
    Ok(Outcome { encoded, decoded, report, mime: codec.mime().into(), extension: codec.extension().into(), target })
}

async fn encode<W: Serialize + From<Event>>(ctx: Ctx<W>, id: &str, params: &Params, target: Option<Target>, judge: Option<Judge>) -> Result<()> {
    let (img, item) = SOURCE.with(|s| s.borrow().clone()).ok_or_else(|| Error::Invalid("no image loaded yet".into()))?;
    let out = run_codec(ctx, &img, id, params, target).await?;
    // The model's verdict: a failure here (say, no WebGPU) must not hide the codec's result.
    let verdict = match judge {
        None => Err("no model asked".to_string()),
        Some(j) => {
            ctx.progress("asking the model", 2, 3);
            let verdict = async {
                let c = machine::classifier(machine::parse_model(&j.model)?, j.backend).await?;
                mpq_models::verdict::judge(&c, j.backend.id(), &img, item.as_ref(), &out.decoded, js::now_ms)
                    .await
                    .map_err(machine::model_error)
            };
            verdict.await.map_err(|e| e.to_string())
        }
    };
    let export = serde_json::json!({
        "codec": id,
        "params": out.report.params,
        "target": out.target,
        "report": out.report,
        "verdict": match &verdict {
            Ok(v) => serde_json::to_value(v).unwrap_or_default(),
            Err(why) => serde_json::json!({ "error": why }),
        },
    })
    .to_string();
    ctx.event(Event::Encoded(Box::new(Encoded {
        export,
        report: out.report,
        rgba: out.decoded.to_rgba8().data().to_vec(),
        encoded: out.encoded,
        mime: out.mime,
        extension: out.extension,
        browser_decoded: decoded_by_browser(id),
        target: out.target,
        verdict,
    })));
    Ok(())
}

/// The timing table: every codec with default parameters on each image, `runs` times, median
/// encode and decode time. Same loop and fields as `mpqlab bench`.
async fn bench<W: Serialize + From<Event>>(ctx: Ctx<W>, urls: &[String], runs: u32) -> Result<()> {
    let runs = runs.clamp(1, 20) as usize;
    let mut ids: Vec<String> = mpq_codecs::registry_for(mpq_core::Modality::Image).iter().map(|c| c.id().to_string()).collect();
    ids.extend(BROWSER_CODECS.iter().map(|c| c.id.to_string()));
    let total = (urls.len() * ids.len()) as u32;
    let mut done = 0;
    for url in urls {
        let bytes = js::fetch_bytes(url).await.map_err(|e| Error::Invalid(format!("cannot fetch {url}: {e}")))?;
        let img = lab_input(mpq_codecs::image::load(&bytes)?).0;
        let name = url.rsplit('/').next().unwrap_or(url).trim_end_matches(".png").to_string();
        for id in &ids {
            ctx.progress(&format!("{id} on {name}"), done, total);
            let (mut enc, mut dec) = (Vec::new(), Vec::new());
            let mut row = BenchRow {
                codec: id.clone(),
                image: name.clone(),
                width: img.width(),
                height: img.height(),
                bytes: None,
                bits_per_pixel: None,
                encode_ms: None,
                decode_ms: None,
                runs: None,
                error: None,
            };
            for _ in 0..runs {
                match run_codec(ctx, &img, id, &Params::new(), None).await {
                    Ok(out) => {
                        enc.push(out.report.encode_ms);
                        dec.push(out.report.decode_ms);
                        row.bytes = Some(out.report.bytes);
                        row.bits_per_pixel = Some(out.report.bits_per_pixel);
                    }
                    Err(e) => {
                        row.error = Some(e.to_string());
                        break;
                    }
                }
            }
            if row.error.is_none() {
                row.encode_ms = Some(mpq_metrics::median(&mut enc));
                row.decode_ms = Some(mpq_metrics::median(&mut dec));
                row.runs = Some(runs as u32);
            }
            done += 1;
            ctx.event(Event::BenchRow(row));
        }
    }
    ctx.event(Event::BenchDone);
    Ok(())
}
