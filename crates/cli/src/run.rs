//! `mpqlab run LINK`: a share link's experiment reproduced with the native code, printed as
//! JSON with the numbers the page shows.
//!
//! ```text
//! mpqlab run 'http://127.0.0.1:8080/#/image?v=1&in=gallery:coffee&l=jpeg:quality=10'
//! mpqlab run '#/image?v=1&in=file:…:36000:photo.jpg' --file photo.jpg
//! mpqlab run '#/model?v=1&m=cats-dogs-cnn&items=100&run=eval'
//! ```
//!
//! Image lab: the input, then per side the codec's report (bytes, bpp, PSNR, SSIM, MS-SSIM,
//! times) and the model's verdict (on burn's CPU backend here, whatever the link's backend),
//! and, when the link ran a sweep, its points. Model lab: what the link ran (the formats
//! evaluated, the kernels checked or timed; on the first GPU adapter, lavapipe without a GPU,
//! where the page used WebGPU).
//!
//! The page and this command run the same code, so the numbers agree, with two exceptions
//! that come from the platform: timings, and AVIF, which the page decodes with the browser's
//! decoder (rav1d does not build for wasm32) while this uses rav1d. The browser's own encoders
//! exist only in a browser: their sides and sweep codecs are listed as skipped.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use mpq_core::Experiment;
use mpq_core::experiment::audio::AudioExperiment;
use mpq_core::experiment::image::{ImageExperiment, Input, Side};
use mpq_core::experiment::model::{KernelBackend, ModelExperiment, ModelRun};
use mpq_core::{Image, Media};
use mpq_gpu::Format;
use mpq_models::verdict::DatasetItem;
use mpq_models::{Classifier, Task, classifier::block_on, cpu_device, data};
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct RunArgs {
    /// The link (`https://…/#/image?v=1&…`), or its fragment (`#/image?v=1&…`).
    link: String,
    /// Your own file, for a link made with one (checked against the link's SHA-256 and size).
    #[arg(long)]
    file: Option<PathBuf>,
}

pub fn run(args: RunArgs) -> Result<()> {
    let exp = Experiment::parse(&args.link).context("cannot open the link")?;
    let out = match &exp {
        Experiment::Image(e) => image(e, args.file.as_deref())?,
        Experiment::Model(e) => model(e)?,
        Experiment::Audio(e) => audio(e, args.file.as_deref())?,
        Experiment::Text(e) => text(e, args.file.as_deref())?,
    };
    let mut out = out;
    out["link"] = exp.to_fragment().into();
    out["experiment"] = serde_json::to_value(&exp)?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// The photos of the page's gallery: `www/gallery` of the current directory, or of the checkout
/// this binary was built from.
pub(crate) fn gallery_dir() -> Result<PathBuf> {
    let candidates = [PathBuf::from("www/gallery"), PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../www/gallery")];
    candidates
        .into_iter()
        .find(|p| p.join("index.json").is_file())
        .ok_or_else(|| anyhow::anyhow!("gallery not found: run from the repository root"))
}

#[derive(serde::Deserialize)]
struct GalleryItem {
    id: String,
    file: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The experiment's input as the page loads it, with its name, (for a test item) the item, and
/// what was lost reading it (a damaged file that still decodes).
/// A user's file for a link, checked against the link's SHA-256 and size.
fn checked_file(f: &mpq_core::experiment::image::FileRef, file: Option<&Path>) -> Result<()> {
    let Some(path) = file else {
        bail!("this link was made with the file {} ({} bytes): give it with --file", f.name, f.size);
    };
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let sha = sha256_hex(&bytes);
    if sha != f.sha256 || bytes.len() as u64 != f.size {
        bail!(
            "{} is not the file this link was made with: it has {} bytes and SHA-256 {sha}, the link asks for {} ({} bytes, SHA-256 {})",
            path.display(),
            bytes.len(),
            f.name,
            f.size,
            f.sha256
        );
    }
    Ok(())
}

fn load_input(input: &Input, file: Option<&Path>) -> Result<(Image, String, Option<DatasetItem>, Option<String>)> {
    match input {
        Input::Gallery { id } => {
            let dir = gallery_dir()?;
            let index: Vec<GalleryItem> = serde_json::from_slice(&std::fs::read(dir.join("index.json"))?)?;
            let item = index.iter().find(|g| &g.id == id).with_context(|| format!("there is no gallery photo '{id}'"))?;
            let (img, warning) = crate::read_image_checked(&dir.join(&item.file))?;
            Ok((img.flattened_onto_white().0, item.file.clone(), None, warning))
        }
        Input::Item { dataset, index } => {
            let task = Task::parse(dataset).with_context(|| format!("there is no data set '{dataset}'"))?;
            let set = data::decode_subset(task.bundled_test_subset())?;
            let i = *index as usize;
            let img = set.to_image(i)?;
            let item = DatasetItem { task, index: i, label: set.labels[i] as usize };
            Ok((img, format!("{dataset} test item {index}"), Some(item), None))
        }
        Input::File(f) => {
            checked_file(f, file)?;
            let path = file.expect("checked");
            let (img, warning) = crate::read_image_checked(path)?;
            Ok((img.flattened_onto_white().0, f.name.clone(), None, warning))
        }
    }
}

/// A side's settings, with its size parameter set by its target size when it has one (as the
/// page sets it), and the search's report (`null` without a target).
fn aimed(codec: &dyn mpq_core::Codec, side: &Side, media: &Media) -> Result<(mpq_core::Params, Value)> {
    match side.target {
        None => Ok((side.params.clone(), Value::Null)),
        Some(t) => {
            let (params, _, report) = mpq_core::target::aim(codec, &side.params, media, t)?;
            Ok((params, serde_json::to_value(report)?))
        }
    }
}

fn image(e: &ImageExperiment, file: Option<&Path>) -> Result<Value> {
    let (img, name, item, warning) = load_input(&e.input, file)?;
    let model = crate::sweep::parse_model(&e.model)?;
    let classifier = Classifier::load_bundled(model, &cpu_device())?;
    let mut sides = Vec::new();
    for side in &e.sides {
        let codec = match mpq_codecs::codec(&side.codec) {
            Ok(c) => c,
            Err(_) if side.codec.starts_with("browser-") => {
                sides.push(json!({ "codec": side.codec, "skipped": "the browser's own encoders run only in a browser" }));
                continue;
            }
            Err(err) => return Err(err.into()),
        };
        let (params, target) = aimed(codec.as_ref(), side, &Media::Image(img.clone()))?;
        let resolved = mpq_core::codec::ResolvedParams::resolve(codec.id(), &codec.params(), &params)?;
        let (_, decoded, report) = crate::evaluate(codec.as_ref(), resolved.as_params(), &img)?;
        let verdict = block_on(mpq_models::verdict::judge(&classifier, "cpu", &img, item.as_ref(), &decoded, now_ms))?;
        sides.push(json!({ "codec": side.codec, "params": resolved.as_params(), "target": target, "report": report, "verdict": verdict }));
    }
    let sweep = if e.sweep.run {
        let (ours, skipped): (Vec<String>, Vec<String>) =
            e.sweep.specs.iter().cloned().partition(|s| !s.trim_start().starts_with("browser-"));
        let result = crate::sweep::sweep(model, e.sweep.items as usize, &ours)?;
        let mut v: Value = serde_json::from_str(&result.to_json())?;
        v["skipped"] = json!(skipped);
        v
    } else {
        Value::Null
    };
    Ok(json!({
        "lab": "image",
        "input": { "name": name, "width": img.width(), "height": img.height(),
                   "true_class": item.map(|i| i.task.classes()[i.label]), "warning": warning },
        "model": model.id(),
        "model_backend": "cpu",
        "sides": sides,
        "sweep": sweep,
    }))
}

/// The audio lab's input as the page loads it, with its name.
fn load_audio_input(input: &Input, file: Option<&Path>) -> Result<(mpq_core::Audio, String)> {
    match input {
        Input::Gallery { id } => {
            let dir = gallery_dir()?.join("audio");
            let index: Vec<GalleryItem> = serde_json::from_slice(&std::fs::read(dir.join("index.json"))?)?;
            let item = index.iter().find(|g| &g.id == id).with_context(|| format!("there is no gallery sound '{id}'"))?;
            Ok((crate::audio::read_audio(&dir.join(&item.file))?, item.file.clone()))
        }
        Input::Item { index, .. } => {
            let set = mpq_models::kws_cnn::bundled_test_subset()?;
            let clip = set.clips.get(*index as usize).with_context(|| format!("the keyword test subset has {} windows, so there is no window {index}", set.len()))?;
            let audio = mpq_core::Audio::new(mpq_models::kws_cnn::SAMPLE_RATE, 1, clip.clone())?;
            Ok((audio, format!("keyword test window {index}")))
        }
        Input::File(f) => {
            checked_file(f, file)?;
            Ok((crate::audio::read_audio(file.expect("checked"))?, f.name.clone()))
        }
    }
}

/// The audio lab: per side the codec's report and the keyword model's verdict (`mpqlab eval`'s
/// numbers), and the sweep's points when the link ran it.
fn audio(e: &AudioExperiment, file: Option<&Path>) -> Result<Value> {
    let (clip, name) = load_audio_input(&e.input, file)?;
    let mut sides = Vec::new();
    for side in &e.sides {
        if side.codec.starts_with("browser-") {
            sides.push(json!({ "codec": side.codec, "skipped": "the browser's own encoders run only in a browser" }));
            continue;
        }
        let codec = mpq_codecs::codec(&side.codec)?;
        if codec.modality() != mpq_core::Modality::Audio {
            bail!("{} is not an audio codec", side.codec);
        }
        let (params, target) = aimed(codec.as_ref(), side, &Media::Audio(clip.clone()))?;
        let resolved = mpq_core::codec::ResolvedParams::resolve(codec.id(), &codec.params(), &params)?;
        let (_, decoded, report) = crate::audio::evaluate_audio(codec.as_ref(), resolved.as_params(), &clip)?;
        let keywords = crate::audio::kws_verdict(&clip, &decoded, report.delay_ms)?;
        sides.push(json!({ "codec": side.codec, "params": resolved.as_params(), "target": target, "report": report, "keywords": keywords }));
    }
    let sweep = if e.sweep.run {
        serde_json::from_str(&crate::sweep::kws_sweep(e.sweep.items as usize, &e.sweep.specs)?.to_json())?
    } else {
        Value::Null
    };
    Ok(json!({
        "lab": "audio",
        "input": { "name": name, "sample_rate": clip.sample_rate, "channels": clip.channels, "frames": clip.frames() },
        "model": "kws-cnn",
        "sides": sides,
        "sweep": sweep,
    }))
}

/// The text lab: the input, each side's report (`mpqlab eval`'s numbers) and the whole codec
/// table (`mpqlab eval --all`), as the page shows them.
fn text(e: &mpq_core::experiment::TextExperiment, file: Option<&Path>) -> Result<Value> {
    use mpq_core::experiment::text::TextInput;
    let (text, name) = match &e.input {
        TextInput::Gallery { id } => {
            let dir = gallery_dir()?.join("text");
            let index: Vec<GalleryItem> = serde_json::from_slice(&std::fs::read(dir.join("index.json"))?)?;
            let item = index.iter().find(|g| &g.id == id).with_context(|| format!("there is no gallery text '{id}'"))?;
            (crate::text::read_text(&dir.join(&item.file))?, item.file.clone())
        }
        TextInput::Paste { text } => (mpq_core::Text { bytes: text.as_bytes().to_vec() }, "pasted text".to_string()),
        TextInput::File(f) => {
            checked_file(f, file)?;
            (crate::text::read_text(file.expect("checked"))?, f.name.clone())
        }
    };
    let mut sides = Vec::new();
    for side in &e.sides {
        let codec = mpq_codecs::codec(&side.codec)?;
        if codec.modality() != mpq_core::Modality::Text {
            bail!("{} is not a text codec", side.codec);
        }
        let resolved = mpq_core::codec::ResolvedParams::resolve(codec.id(), &codec.params(), &side.params)?;
        let (_, report) = crate::text::evaluate_text(codec.as_ref(), resolved.as_params(), &text)?;
        sides.push(json!({ "codec": side.codec, "params": resolved.as_params(), "report": report }));
    }
    let mut out = json!({
        "lab": "text",
        "input": { "name": name, "bytes": text.bytes.len(), "utf8": std::str::from_utf8(&text.bytes).is_ok() },
        "sides": sides,
        "table": crate::text::evaluate_all(&text)?,
    });
    out["logs"] = {
        let stream = mpq_codecs::codec("logs")?.encode(&mpq_core::Media::Text(text.clone()), &mpq_core::Params::new())?;
        let mut v = crate::text::logs_summary(&text.bytes, &stream)?;
        v["bytes"] = json!(stream.len());
        v
    };
    // The panels, as the page's workers compute them (the lossy panel on the start of the text
    // the page sends).
    use mpq_models::text_classify::{self, Method};
    let lang = text_classify::bundled_set("lang")?;
    let baseline = Method::parse("ngram", "lang")?;
    let (texts, labels) = text_classify::default_training(&lang, &baseline);
    let identifier = text_classify::Classifier::new(&baseline, texts, labels, lang.labels.len(), text_classify::DEFAULT_K)?;
    let strategy = mpq_metrics::lossy_text::Strategy::parse(&e.lossy.strategy).with_context(|| format!("no strategy '{}'", e.lossy.strategy))?;
    let net = mpq_models::lossy_text::sweep_net()?;
    let start = &text.bytes[..text.bytes.len().min(mpq_metrics::lossy_text::VIEW_TEXT_BYTES)];
    out["lossy"] = match e.lossy.target {
        None => {
            let view = mpq_models::lossy_text::view(net, &identifier, &lang.labels, start, strategy, e.lossy.fraction())?;
            json!({ "strategy": e.lossy.strategy, "fraction": e.lossy.fraction(), "view": view })
        }
        Some(t) => {
            let (view, fraction, report) = mpq_models::lossy_text::aim_view(net, &identifier, &lang.labels, start, strategy, t)?;
            json!({ "strategy": e.lossy.strategy, "fraction": fraction, "view": view, "target": report })
        }
    };
    if !e.classify.query.is_empty() {
        let set = text_classify::bundled_set(&e.classify.task)?;
        let method = Method::parse(&e.classify.method, &set.task)?;
        let row = crate::classify::classify_one(&set, &method, text_classify::default_per_label(&method), text_classify::DEFAULT_K, 5, e.classify.query.as_bytes())?;
        out["classify"] = json!({ "task": e.classify.task, "query": e.classify.query, "result": row });
    }
    Ok(out)
}

fn now_ms() -> f64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64() * 1e3
}

fn model(e: &ModelExperiment) -> Result<Value> {
    let model = crate::sweep::parse_model(&e.model)?;
    let gpu = e.backend == KernelBackend::WebGpu;
    let result = match e.run {
        None => Value::Null,
        Some(ModelRun::Eval) => crate::quant::quant(model, &Format::ALL, e.search, e.target, gpu, Some(e.items as usize))?.0,
        Some(ModelRun::Check) => {
            let g = mpq_gpu::Gpu::new_blocking()?;
            let checks = block_on(mpq_gpu::check::check_all(&g, |_, _, _| {}))?;
            let failed = checks.iter().filter(|c| !c.passed).count();
            json!({ "adapter": g.info.name, "total": checks.len(), "failed": failed })
        }
        Some(ModelRun::Bench) => {
            let g = mpq_gpu::Gpu::new_blocking()?;
            let spec = mpq_gpu::bench::BenchSpec {
                sizes: mpq_gpu::bench::parse_sizes(&e.sizes)?,
                batch: e.batch as usize,
                repeats: e.repeats,
                baseline: e.baseline,
                int8: true,
                formats: Format::ALL.to_vec(),
            };
            crate::bench::gpu_bench_json(&mpq_gpu::bench::run_blocking(&g, &spec, |_, _, _| {})?)
        }
    };
    Ok(json!({ "lab": "model", "model": model.id(), "run": e.run.map(ModelRun::id), "result": result }))
}
