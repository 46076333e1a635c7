//! The audio lab's worker side: the catalog, the input (decoded by mpqlab, so the page and the
//! CLI hear the same samples), each side's encode–decode–measure–listen, the sweep, the timing
//! table. The numbers are `mpq_metrics`/`mpq_models` code, the same `mpqlab eval`, `mpqlab
//! sweep --model kws-cnn` and `mpqlab bench audio` run natively.

use std::cell::RefCell;
use std::rc::Rc;

use mpq_core::codec::ResolvedParams;
use mpq_core::target::{Aim, Target};
use mpq_core::{Audio, Error, Media, Modality, Params, Result};
use mpq_metrics::audio::AudioReport;
use mpq_models::kws_cnn::{self, KWS_CLASSES, KwsClips, KwsCnn, top_classes};
use mpq_models::kws_sweep::{KwsSweep, plan};
use serde::Serialize;

use super::webcodecs::{self, BROWSER_OPUS};
use super::{
    BenchModel, BenchRow, ClassProb, ClipView, CodecInfo, Encoded, Event, Keywords, LAB_MAX_SECONDS, Loaded, Request, Source,
    f32_bytes, spectrogram,
};
use crate::bridge::worker::Ctx;
use crate::js;
use crate::machine::model_error;

/// Spectrogram size sent to the page (columns at most, bands).
const SPEC_COLS: usize = 600;
const SPEC_ROWS: usize = 128;

/// The lab's input as decoded by us, its loudest spectrogram cell (the sides' dB scale), and
/// its label when it is a keyword test window.
struct Input {
    audio: Audio,
    peak_db: f64,
}

thread_local! {
    static SOURCE: RefCell<Option<Rc<Input>>> = const { RefCell::new(None) };
    static MODEL: RefCell<Option<Rc<KwsCnn>>> = const { RefCell::new(None) };
    static SUBSET: RefCell<Option<Rc<KwsClips>>> = const { RefCell::new(None) };
}

pub async fn handle<W: Serialize + From<Event>>(ctx: Ctx<W>, request: Request) -> Result<()> {
    match request {
        Request::Catalog => {
            let mut codecs: Vec<CodecInfo> = mpq_codecs::registry_for(Modality::Audio)
                .iter()
                .map(|c| CodecInfo {
                    id: c.id().into(),
                    name: c.name().into(),
                    lossless: c.lossless(),
                    params: c.params(),
                    rate_param: c.rate_param().map(Into::into),
                    browser_native: false,
                    supported: true,
                })
                .collect();
            codecs.push(CodecInfo {
                id: BROWSER_OPUS.into(),
                name: "Opus (this browser's WebCodecs encoder)".into(),
                lossless: false,
                params: webcodecs::params(),
                rate_param: Some("bitrate".into()),
                browser_native: true,
                supported: webcodecs::supports(true, 1).await,
            });
            ctx.event(Event::Catalog { codecs });
            Ok(())
        }
        Request::Load { source } => load(ctx, source).await,
        Request::Encode { codec, params, target } => encode(ctx, &codec, &params, target).await,
        Request::Sweep { items, specs, shard, shards } => sweep(ctx, items, &specs, shard, shards).await,
        Request::Bench { seconds, runs } => bench(ctx, seconds, runs).await,
    }
}

/// The bundled keyword model on burn's CPU backend, loaded once per worker.
fn model() -> Result<Rc<KwsCnn>> {
    if let Some(m) = MODEL.with(|m| m.borrow().clone()) {
        return Ok(m);
    }
    let m = Rc::new(KwsCnn::load_bundled(&mpq_models::cpu_device()).map_err(model_error)?);
    MODEL.with(|c| *c.borrow_mut() = Some(m.clone()));
    Ok(m)
}

/// The keyword test subset, fetched from the page's `datasets/` folder once.
async fn subset() -> Result<Rc<KwsClips>> {
    if let Some(s) = SUBSET.with(|s| s.borrow().clone()) {
        return Ok(s);
    }
    let fetch = |url: &'static str| async move { js::fetch_bytes(url).await.map_err(|e| Error::Invalid(format!("cannot fetch {url}: {e}"))) };
    let flac = fetch("datasets/kws_test.flac").await?;
    let json = fetch("datasets/kws_test.json").await?;
    let json = String::from_utf8(json).map_err(|_| Error::Invalid("datasets/kws_test.json is not UTF-8".into()))?;
    let set = Rc::new(kws_cnn::decode_test_subset(&flac, &json).map_err(model_error)?);
    SUBSET.with(|s| *s.borrow_mut() = Some(set.clone()));
    Ok(set)
}

fn classes(probs: &[f32]) -> Vec<ClassProb> {
    top_classes(probs, KWS_CLASSES.len()).into_iter().map(|(class, p)| ClassProb { class: class.into(), p }).collect()
}

fn view(audio: &Audio, log_mel: Vec<f32>, reference_db: Option<f64>) -> (ClipView, f64) {
    let mono = audio.to_mono();
    let (spec, peak) = spectrogram(&mono.samples, audio.sample_rate, SPEC_COLS, SPEC_ROWS, reference_db);
    let v = ClipView { sample_rate: audio.sample_rate, channels: audio.channels, samples: f32_bytes(&audio.samples), spectrogram: spec, log_mel };
    (v, peak)
}

/// A user's file (or a gallery sound) decoded, within the lab's limits.
fn decode_file(bytes: &[u8], name: &str) -> Result<Audio> {
    mpq_core::limits::check_file_size(bytes.len())?;
    let audio = mpq_codecs::audio::load(bytes).map_err(|e| match e {
        Error::UnknownFormat(_) => Error::UnknownFormat(format!(" for '{name}' (try WAV, FLAC, MP3, Ogg Vorbis or Opus)")),
        e => e,
    })?;
    if audio.seconds() > LAB_MAX_SECONDS {
        return Err(Error::TooLarge(format!(
            "{name} is {:.0} s long; the audio lab takes clips up to {LAB_MAX_SECONDS:.0} s (`mpqlab eval` takes up to {:.0} min)",
            audio.seconds(),
            mpq_core::limits::MAX_AUDIO_SECONDS / 60.0
        )));
    }
    if audio.frames() == 0 {
        return Err(Error::Invalid(format!("{name} has no samples")));
    }
    Ok(audio)
}

async fn load<W: Serialize + From<Event>>(ctx: Ctx<W>, source: Source) -> Result<()> {
    let (audio, label) = match source {
        Source::Url { url, name } => {
            ctx.progress("fetching", 0, 3);
            let bytes = js::fetch_bytes(&url).await.map_err(|e| Error::Invalid(format!("cannot fetch {name}: {e}")))?;
            ctx.progress("decoding", 1, 3);
            (decode_file(&bytes, &name)?, None)
        }
        Source::Bytes { bytes, name } => {
            ctx.progress("decoding", 1, 3);
            (decode_file(&bytes, &name)?, None)
        }
        Source::Item { index } => {
            ctx.progress("fetching the keyword test subset", 0, 3);
            let set = subset().await?;
            let i = index as usize;
            let clip = set.clips.get(i).ok_or_else(|| Error::Invalid(format!("the keyword test subset has {} windows, so there is no window {index}", set.len())))?;
            let label = KWS_CLASSES[set.labels[i] as usize].to_string();
            (Audio::new(kws_cnn::SAMPLE_RATE, 1, clip.clone())?, Some(label))
        }
    };
    ctx.progress("listening", 2, 3);
    let m = model()?;
    let window = kws_cnn::fit_clip(&kws_cnn::model_samples(&audio));
    let t = js::now_ms();
    let pred = m.predictions_async(std::slice::from_ref(&window)).await.map_err(model_error)?;
    let infer_ms = js::now_ms() - t;
    let (view, peak_db) = view(&audio, kws_cnn::features(&window), None);
    let loaded = Loaded { view, frames: audio.frames(), classes: classes(&pred[0].probs), infer_ms, label };
    // Only a successful load replaces the input: after a failure the old one stays.
    SOURCE.with(|s| *s.borrow_mut() = Some(Rc::new(Input { audio, peak_db })));
    ctx.event(Event::Loaded(Box::new(loaded)));
    Ok(())
}

/// A codec as the audio lab runs it: ours (the CLI's code), or the browser's WebCodecs Opus.
enum AudioCodec {
    Ours(Box<dyn mpq_core::Codec>),
    BrowserOpus,
}

impl AudioCodec {
    fn find(id: &str) -> Result<AudioCodec> {
        if id == BROWSER_OPUS {
            return Ok(AudioCodec::BrowserOpus);
        }
        let codec = mpq_codecs::codec(id)?;
        if codec.modality() != Modality::Audio {
            return Err(Error::Invalid(format!("{id} is not an audio codec")));
        }
        Ok(AudioCodec::Ours(codec))
    }
    fn specs(&self) -> Vec<mpq_core::ParamSpec> {
        match self {
            AudioCodec::Ours(c) => c.params(),
            AudioCodec::BrowserOpus => webcodecs::params(),
        }
    }
    async fn encode(&self, clip: &Audio, params: &ResolvedParams) -> Result<Vec<u8>> {
        match self {
            AudioCodec::Ours(c) => c.encode(&Media::Audio(clip.clone()), params.as_params()),
            AudioCodec::BrowserOpus => webcodecs::encode(clip, params.int("bitrate")).await,
        }
    }
    fn decode(&self, bytes: &[u8]) -> Result<Audio> {
        match self {
            AudioCodec::Ours(c) => c.decode(bytes)?.into_audio(),
            AudioCodec::BrowserOpus => mpq_codecs::audio::opus::decode_ogg(bytes),
        }
    }
    fn file_type(&self) -> (String, String) {
        match self {
            AudioCodec::Ours(c) => (c.mime().to_string(), c.extension().to_string()),
            AudioCodec::BrowserOpus => ("audio/ogg; codecs=opus".to_string(), "opus".to_string()),
        }
    }
}

async fn encode<W: Serialize + From<Event>>(ctx: Ctx<W>, id: &str, params: &Params, target: Option<Target>) -> Result<()> {
    let input = SOURCE.with(|s| s.borrow().clone()).ok_or_else(|| Error::Invalid("no clip loaded yet".into()))?;
    let original = &input.audio;
    let codec = AudioCodec::find(id)?;
    let specs = codec.specs();
    let what = if matches!(codec, AudioCodec::BrowserOpus) { "encoding with the browser's WebCodecs" } else { "encoding" };
    let t = js::now_ms();
    // A target size: the CLI's search, one encode at a time (WebCodecs answers asynchronously).
    let (resolved, encoded, target) = match target {
        None => {
            let resolved = ResolvedParams::resolve(id, &specs, params)?;
            ctx.progress(what, 0, 4);
            let encoded = codec.encode(original, &resolved).await?;
            (resolved, encoded, None)
        }
        Some(target) => {
            let (name, lossless, rate) = match &codec {
                AudioCodec::Ours(c) => (c.name().to_string(), c.lossless(), c.rate_param()),
                AudioCodec::BrowserOpus => ("Opus (WebCodecs)".to_string(), false, Some("bitrate")),
            };
            let mut search = Aim::new(&name, id, lossless, &specs, rate, params, &Media::Audio(original.clone()), target)?;
            let mut n = 0;
            while let Some(p) = search.next() {
                n += 1;
                ctx.progress(&format!("aiming at {target}: encode {n}"), 0, 4);
                search.record(codec.encode(original, &ResolvedParams::resolve(id, &specs, &p)?).await?);
            }
            let (p, encoded, report) = search.finish();
            (ResolvedParams::resolve(id, &specs, &p)?, encoded, Some(report))
        }
    };
    let encode_ms = js::now_ms() - t;
    ctx.progress("decoding", 1, 4);
    let t = js::now_ms();
    let decoded = codec.decode(&encoded)?;
    let decode_ms = js::now_ms() - t;
    let (mime, extension) = codec.file_type();
    ctx.progress("measuring", 2, 4);
    let report = AudioReport::measure(id, resolved.as_params(), original, &decoded, encoded.len(), encode_ms, decode_ms)?;
    ctx.progress("listening", 3, 4);
    // The model's verdict: a failure here must not hide the codec's result.
    let heard = async {
        let m = model()?;
        let t = js::now_ms();
        let heard = kws_cnn::listen_async(&m, original, &decoded, report.delay_ms).await.map_err(model_error)?;
        let infer_ms = js::now_ms() - t;
        let v = mpq_metrics::perception::compare(&heard.original, &heard.decoded, None)?;
        let keywords = Keywords {
            original: KWS_CLASSES[v.reference_class].into(),
            decoded: KWS_CLASSES[v.class].into(),
            changed: !v.top1_agree,
            decoded_classes: classes(&heard.decoded.probs),
            kl: v.kl,
            feature_distance: v.feature_distance,
            infer_ms,
        };
        Ok::<_, Error>((keywords, kws_cnn::features(&heard.windows[1])))
    }
    .await;
    let (keywords, log_mel) = match heard {
        Ok((k, m)) => (Ok(k), m),
        Err(e) => (Err(e.to_string()), Vec::new()),
    };
    // Our Opus stream through the browser's own decoder (where it has one), against ours.
    let browser_decoder = if id == "opus" {
        ctx.progress("decoding with the browser's WebCodecs", 3, 4);
        Some(if webcodecs::supports(false, decoded.channels).await {
            webcodecs::decoder_agreement(&encoded).await.map_err(|e| e.to_string())
        } else {
            Err("this browser's WebCodecs has no Opus decoder".to_string())
        })
    } else {
        None
    };
    let (view, _) = view(&decoded, log_mel, Some(input.peak_db));
    let export = serde_json::json!({
        "codec": id,
        "params": report.params,
        "target": target,
        "report": report,
        "keywords": match &keywords {
            Ok(k) => serde_json::to_value(k).unwrap_or_default(),
            Err(why) => serde_json::json!({ "error": why }),
        },
    })
    .to_string();
    ctx.event(Event::Encoded(Box::new(Encoded { report, view, encoded, mime, extension, keywords, browser_decoder, target, export })));
    Ok(())
}

/// This worker's share of a sweep (see [`Request::Sweep`]): each point an event as soon as it
/// is done; the page merges them in plan order (each point depends on no other, so the merged
/// result equals a one-worker run and `mpqlab sweep --model kws-cnn`).
async fn sweep<W: Serialize + From<Event>>(ctx: Ctx<W>, items: u32, specs: &[String], shard: u32, shards: u32) -> Result<()> {
    let (shard, shards) = (shard as usize, (shards as usize).max(1));
    if shard >= shards {
        return Err(Error::Invalid(format!("shard {shard} of {shards} does not exist")));
    }
    let points = plan(specs)?;
    ctx.progress("fetching the keyword test subset", 0, 1);
    let set = subset().await?;
    let m = model()?;
    let t0 = js::now_ms();
    ctx.progress("the model on the uncompressed windows", 0, 1);
    let runner = KwsSweep::new(&m, &set, items as usize).map_err(model_error)?.with_clock(js::now_ms);
    let mine: Vec<(usize, &mpq_models::kws_sweep::PlannedPoint)> = points.iter().enumerate().filter(|(i, _)| i % shards == shard).collect();
    let per_point = runner.len() as u32;
    let total = per_point * mine.len() as u32;
    for (k, (index, p)) in mine.iter().enumerate() {
        let codec = mpq_codecs::codec(&p.codec)?;
        let stage = if p.param.is_empty() { p.codec.clone() } else if p.value == 0.0 { format!("{} {}", p.codec, p.param) } else { format!("{} {}={}", p.codec, p.param, p.value) };
        let base = k as u32 * per_point;
        ctx.progress(&stage, base, total);
        // Cancel is the page terminating this worker; the closure only reports progress.
        let point = runner
            .run_point(codec.as_ref(), &p.params, p.target, &p.param, p.value, |done, _| {
                ctx.progress(&stage, base + done as u32, total);
                true
            })
            .map_err(model_error)?;
        ctx.event(Event::SweepPoint { index: *index as u32, point });
    }
    ctx.event(Event::SweepDone { items: runner.len() as u32, reference_accuracy: runner.reference_accuracy(), elapsed_ms: js::now_ms() - t0 });
    Ok(())
}

/// `mpqlab bench audio`'s loop in this browser: every audio codec on the first `seconds` keyword
/// windows end to end, median of `runs`; then the model per window on the CPU and on WebGPU.
async fn bench<W: Serialize + From<Event>>(ctx: Ctx<W>, seconds: u32, runs: u32) -> Result<()> {
    let set = subset().await?;
    let n = (seconds as usize).clamp(1, set.len());
    let clip = Audio::new(kws_cnn::SAMPLE_RATE, 1, set.clips[..n].concat())?;
    let runs = runs.clamp(1, 20) as usize;
    let codecs = mpq_codecs::registry_for(Modality::Audio);
    let total = codecs.len() as u32 + 2;
    for (k, codec) in codecs.iter().enumerate() {
        ctx.progress(codec.id(), k as u32, total);
        let (mut enc, mut dec, mut bytes) = (Vec::new(), Vec::new(), 0);
        for _ in 0..runs {
            let t = js::now_ms();
            let e = codec.encode(&Media::Audio(clip.clone()), &Params::new())?;
            let t1 = js::now_ms();
            std::hint::black_box(codec.decode(&e)?);
            dec.push(js::now_ms() - t1);
            enc.push(t1 - t);
            bytes = e.len();
        }
        let (encode_ms, decode_ms) = (mpq_metrics::median(&mut enc), mpq_metrics::median(&mut dec));
        let s = clip.seconds();
        ctx.event(Event::BenchRow(BenchRow {
            codec: codec.id().into(),
            seconds: s,
            bytes,
            kbps: bytes as f64 * 8.0 / s / 1000.0,
            encode_ms,
            decode_ms,
            encode_x_realtime: s * 1e3 / encode_ms.max(1e-6),
            decode_x_realtime: s * 1e3 / decode_ms.max(1e-6),
            runs,
        }));
    }
    let window = vec![set.clips[0].clone()];
    ctx.progress("the model on the CPU", total - 2, total);
    let cpu = model()?;
    ctx.event(Event::BenchModel(time_model(&cpu, &window, runs, "cpu (burn flex)").await));
    ctx.progress("the model on WebGPU", total - 1, total);
    let gpu = async {
        let device = crate::machine::gpu_device().await?;
        KwsCnn::load_bundled(&device).map_err(model_error)
    }
    .await;
    let row = match gpu {
        Ok(g) => time_model(&g, &window, runs, "webgpu (burn wgpu)").await,
        Err(e) => BenchModel { backend: "webgpu (burn wgpu)".into(), ms_per_window: None, runs: 0, error: Some(e.to_string()) },
    };
    ctx.event(Event::BenchModel(row));
    ctx.event(Event::BenchDone);
    Ok(())
}

/// Median time of one window through the model (features included), after a warm-up call.
async fn time_model(m: &KwsCnn, window: &[Vec<f32>], runs: usize, backend: &str) -> BenchModel {
    if let Err(e) = m.predictions_async(window).await {
        return BenchModel { backend: backend.into(), ms_per_window: None, runs: 0, error: Some(e.to_string()) };
    }
    let mut times = Vec::new();
    for _ in 0..runs.max(5) {
        let t = js::now_ms();
        if let Err(e) = m.predictions_async(window).await {
            return BenchModel { backend: backend.into(), ms_per_window: None, runs: 0, error: Some(e.to_string()) };
        }
        times.push(js::now_ms() - t);
    }
    BenchModel { backend: backend.into(), ms_per_window: Some(mpq_metrics::median(&mut times)), runs: times.len(), error: None }
}
