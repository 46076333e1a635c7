//! `mpqlab sweep`: a rate–perception sweep natively, the same loop the page runs in its worker
//! (`mpq_models::sweep`), so the two give the same numbers for the same settings.
//!
//! ```text
//! mpqlab sweep --model fashion-cnn --items 1000 \
//!     --codec jpeg:quality=1..95:8 --codec webp-ll-down:scale=10..100:8 \
//!     --csv sweep.csv --svg sweep.svg > sweep.json
//! mpqlab sweep --model kws-cnn --codec opus:bitrate=6000..32000:6 --codec mulaw --svg kws.svg
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mpq_core::sweep::CodecSweep;
use mpq_core::{Error, Image, Media, Params};
use mpq_metrics::sweep::{PointAccumulator, SweepResult};
use mpq_models::sweep::{DEFAULT_CODEC_SWEEPS, ItemCodec, RoundTrip, SweepRunner};
use mpq_models::{Classifier, ModelId, classifier::block_on, cpu_device, data};

use crate::shard::{Kind, Shard, ShardFile};

#[derive(clap::Args)]
pub struct SweepArgs {
    /// Model id: fashion-cnn, fashion-cnn-jpeg, cats-dogs-cnn, kws-cnn (the keyword spotter:
    /// an audio sweep over its test windows, accuracy and STOI against kbit/s), lm (the text
    /// coder's checkpoints: bits per byte on held-out prose against a cloze test's accuracy), or
    /// lossy-text (dropping the words the language model predicts best, beside random and every
    /// n-th word: language-ID agreement and the model's next-byte verdict per kept fraction).
    #[arg(long, default_value = "fashion-cnn")]
    model: String,
    /// Test items (the first N of the model's committed test subset).
    #[arg(long, default_value_t = 1000)]
    items: usize,
    /// A codec and the range of one parameter: `jpeg:quality=1..95:8` (8 evenly spaced points),
    /// `jpeg:quality=5,10,20`, extra `name=value` pairs fixed. Repeatable; default: the page's
    /// default sweep.
    #[arg(long = "codec", value_name = "SPEC")]
    codecs: Vec<String>,
    /// Also write the points as CSV here.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Also write the plots (accuracy and PSNR vs bits per pixel) as SVG here.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// The model's weights from this burnpack file (as `mpqlab train --out` writes it)
    /// instead of the bundled ones.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// lm: the books' folder (default data/text/books, from scripts/fetch-text-data.py).
    #[arg(long)]
    data: Option<PathBuf>,
    /// lm: bits per byte on this text instead of the books (with --cloze: the page's plot).
    #[arg(long)]
    text: Option<PathBuf>,
    /// lm: the cloze items from this JSON file (as --write-cloze writes them) instead of the books.
    #[arg(long)]
    cloze: Option<PathBuf>,
    /// lm: write the cloze items built from the books (--items of them) to this file and stop.
    #[arg(long)]
    write_cloze: Option<PathBuf>,
    /// lossy-text: the language identifier whose agreement is measured (a `classify` method:
    /// ngram, gzip, ppmd, …).
    #[arg(long, default_value = "ngram")]
    classifier: String,
    /// lossy-text: the kept fractions, comma-separated (default 1,0.9,…,0.2).
    #[arg(long)]
    fractions: Option<String>,
    /// lossy-text: prose windows (800 bytes of prefix, 200 of continuation) for the language
    /// model's verdict, from --text (default the gallery's held-out sample).
    #[arg(long, default_value_t = mpq_models::lossy_text::PROSE_ITEMS)]
    prose_items: usize,
    /// Run only shard I of N (counted from 0): every N-th point of the plan, starting at the
    /// I-th, printed as a shard file for `mpqlab merge` (which writes the CSV and SVG). For a
    /// scheduler's array jobs: `--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Write encode and decode times as 0: two runs of the same sweep, or its shards merged,
    /// then give byte-identical files (the times are the only numbers that vary between runs).
    #[arg(long)]
    no_timings: bool,
}

pub(crate) fn parse_model(id: &str) -> Result<ModelId> {
    ModelId::parse(id).with_context(|| {
        let ids: Vec<_> = ModelId::ALL.iter().map(|m| m.id()).collect();
        format!("unknown model '{id}' (one of {})", ids.join(", "))
    })
}

/// The sweep of `specs` over the first `items` test items of `model`'s subset, with progress on
/// stderr: the loop of the page's sweep workers, natively.
pub(crate) fn sweep(model: ModelId, items: usize, specs: &[String]) -> Result<SweepResult> {
    Ok(sweep_with(&Classifier::load_bundled(model, &cpu_device())?, items, specs, None)?.0)
}

/// `model` with the bundled weights, or with those of `weights` (a burnpack file; checked:
/// another network's file, other shapes or a damaged file are refused with the reason).
pub(crate) fn classifier(model: ModelId, weights: Option<&std::path::Path>) -> Result<Classifier> {
    let Some(path) = weights else { return Ok(Classifier::load_bundled(model, &cpu_device())?) };
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > mpq_models::MAX_WEIGHT_FILE_BYTES as u64 {
        bail!("{}: the file is {} bytes; weight files here are at most {}", path.display(), meta.len(), mpq_models::MAX_WEIGHT_FILE_BYTES);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Classifier::load_weights(model, &bytes, &cpu_device()).with_context(|| format!("{} as weights of {}", path.display(), model.id()))
}

/// The sweep, or only `shard`'s points of it; with the plan's length and the points' indices in it.
fn sweep_with(classifier: &Classifier, items: usize, specs: &[String], shard: Option<Shard>) -> Result<(SweepResult, usize, Vec<usize>)> {
    let model = classifier.id();
    let sweeps = specs.iter().map(|s| CodecSweep::parse(s)).collect::<Result<Vec<_>, _>>()?;
    // Resolve every codec and value before any work, so a typo fails at once. The plan is the
    // points in order (what `--shard` counts).
    let mut points: Vec<(&CodecSweep, f64)> = Vec::new();
    for sweep in &sweeps {
        let codec = mpq_codecs::codec(&sweep.codec)?;
        points.extend(sweep.resolved_values(&codec.params())?.into_iter().map(|v| (sweep, v)));
    }

    let task = model.task();
    let set = data::decode_subset(task.bundled_test_subset())?;
    let t_all = Instant::now();
    let runner = block_on(SweepRunner::new(classifier, &set, items))?;
    let mut result = SweepResult {
        model: model.id().to_string(),
        dataset: task.id().to_string(),
        items: runner.len(),
        points: Vec::new(),
    };
    let indices = crate::shard::indices(shard, points.len());
    let total = indices.len();
    for &(sweep, value) in indices.iter().map(|&k| &points[k]) {
        let codec = mpq_codecs::codec(&sweep.codec)?;
        let params = sweep.params_for(&codec.params(), value)?;
        let name = codec.name().to_string();
        let point = PointAccumulator::new(&sweep.codec, &name, &sweep.param, value);
        let native = NativeCodec { codec, params, target: sweep.target_at(value) };
        let t = Instant::now();
        let point = block_on(runner.run_point(&native, point, |_| {}))?;
        eprintln!(
            "[{}/{total}] {} {}={}: {:.3} bpp, accuracy {}, PSNR {} ({:.1} s)",
            result.points.len() + 1,
            sweep.codec,
            sweep.param,
            value,
            point.bits_per_pixel,
            point.accuracy.map_or("–".into(), |a| format!("{a:.4}")),
            point.psnr_db.map_or("∞".into(), |p| format!("{p:.2} dB")),
            t.elapsed().as_secs_f64()
        );
        result.points.push(point);
    }
    let times = runner.stage_times();
    eprintln!(
        "{} points over {} items in {:.1} s (codecs {:.1} s, model {:.1} s, metrics {:.1} s)",
        result.points.len(),
        result.items,
        t_all.elapsed().as_secs_f64(),
        times.codec_ms / 1e3,
        times.model_ms / 1e3,
        times.metrics_ms / 1e3
    );
    Ok((result, points.len(), indices))
}

/// One of our codecs at one setting, or aimed at one size item by item (`target`: a sweep at
/// equal sizes, `params` then the fixed settings only).
struct NativeCodec {
    codec: Box<dyn mpq_core::Codec>,
    params: Params,
    target: Option<mpq_core::target::Target>,
}

impl ItemCodec for NativeCodec {
    async fn round_trip(&self, item: &Image) -> Result<RoundTrip, Error> {
        let t = Instant::now();
        let media = Media::Image(item.clone());
        let encoded = match self.target {
            None => self.codec.encode(&media, &self.params)?,
            Some(target) => mpq_core::target::aim(self.codec.as_ref(), &self.params, &media, target)?.1,
        };
        let encode_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let decoded = self.codec.decode(&encoded)?.into_image()?;
        let decode_ms = t.elapsed().as_secs_f64() * 1e3;
        Ok(RoundTrip { bytes: encoded.len(), decoded, encode_ms, decode_ms })
    }
}

/// The audio sweep (`--model kws-cnn`): codec settings over the keyword test subset. A codec
/// without parameters (`mulaw`, `ima-adpcm`) is one point.
pub(crate) fn kws_sweep(items: usize, specs: &[String]) -> Result<SweepResult> {
    Ok(kws_sweep_shard(items, specs, None)?.0)
}

/// The audio sweep, or only `shard`'s points of it; with the plan's length and the indices.
fn kws_sweep_shard(items: usize, specs: &[String], shard: Option<Shard>) -> Result<(SweepResult, usize, Vec<usize>)> {
    use mpq_models::kws_cnn::{KwsCnn, bundled_test_subset};
    use mpq_models::kws_sweep::KwsSweep;
    let plan = mpq_models::kws_sweep::plan(specs)?;
    let model = KwsCnn::load_bundled(&cpu_device())?;
    let set = bundled_test_subset()?;
    let t_all = Instant::now();
    let runner = KwsSweep::new(&model, &set, items)?;
    eprintln!("keyword sweep over {} windows; uncompressed accuracy {:.4}", runner.len(), runner.reference_accuracy());
    let mut result = SweepResult { model: "kws-cnn".into(), dataset: "kws-synth".into(), items: runner.len(), points: Vec::new() };
    let indices = crate::shard::indices(shard, plan.len());
    let total = indices.len();
    for p in indices.iter().map(|&k| &plan[k]) {
        let (id, param, value) = (&p.codec, &p.param, &p.value);
        let codec = mpq_codecs::codec(id)?;
        let t = Instant::now();
        let point = runner.run_point(codec.as_ref(), &p.params, p.target, param, *value, |_, _| true)?;
        let a = point.audio.clone().context("an audio point")?;
        eprintln!(
            "[{}/{total}] {id} {param}={value}: {:.1} kbps, accuracy {}, STOI {}, SNR {} ({:.1} s)",
            result.points.len() + 1,
            a.kbps,
            point.accuracy.map_or("–".into(), |a| format!("{a:.4}")),
            a.stoi.map_or("–".into(), |s| format!("{s:.3}")),
            a.snr_db.map_or("∞".into(), |s| format!("{s:.1} dB")),
            t.elapsed().as_secs_f64()
        );
        result.points.push(point);
    }
    eprintln!("{} points over {} windows in {:.1} s", result.points.len(), result.items, t_all.elapsed().as_secs_f64());
    Ok((result, plan.len(), indices))
}

/// What defines a sweep, for its shards' files (shards of different settings are not merged).
fn settings(args: &SweepArgs, specs: &[String]) -> Result<serde_json::Value> {
    let weights = args.weights.as_deref().map(crate::shard::file_sha256).transpose()?;
    Ok(serde_json::json!({
        "model": args.model,
        "items": args.items,
        "codecs": specs,
        "weights_sha256": weights,
        "classifier": args.classifier,
        "fractions": args.fractions,
        "text": args.text,
        "prose_items": args.prose_items,
        "no_timings": args.no_timings,
    }))
}

/// The sweep's output: the result (JSON, CSV, SVG), or with `--shard` the shard file.
fn finish(args: &SweepArgs, specs: &[String], (mut result, plan_points, indices): (SweepResult, usize, Vec<usize>)) -> Result<()> {
    if args.no_timings {
        for p in &mut result.points {
            p.encode_ms = 0.0;
            p.decode_ms = 0.0;
        }
    }
    if let Some(shard) = args.shard {
        let file = ShardFile::new(Kind::RatePerception, shard, plan_points, settings(args, specs)?, indices, &result)?;
        println!("{}", file.to_json());
        return Ok(());
    }
    let (csv, svg) = (result.to_csv(), result.plot_svg());
    crate::shard::write_outputs(&result.to_json(), args.csv.as_deref().map(|p| (p, csv.as_str())), args.svg.as_deref().map(|p| (p, svg.as_str())))
}

pub fn run(args: SweepArgs) -> Result<()> {
    if args.shard.is_some() && (args.csv.is_some() || args.svg.is_some()) {
        bail!("--shard prints one shard's points as JSON; `mpqlab merge` joins the shards and writes --csv and --svg");
    }
    if args.model == "lossy-text" {
        if args.weights.is_some() || !args.codecs.is_empty() {
            bail!("sweep --model lossy-text drops words by the bundled language model; it takes --classifier, --fractions, --text, --prose-items, --csv, --svg, --shard");
        }
        let shard = match args.shard {
            Some(s) => Some((s, settings(&args, &[])?)),
            None => None,
        };
        return crate::lossy::sweep(&crate::lossy::LossyArgs {
            classifier: &args.classifier,
            fractions: args.fractions.as_deref(),
            prose: args.text.as_deref(),
            prose_items: args.prose_items,
            csv: args.csv.as_deref(),
            svg: args.svg.as_deref(),
            shard,
        });
    }
    if args.model == "lm" {
        if args.shard.is_some() {
            bail!("sweep --model lm runs its few checkpoints in one process; --shard is for the model and lossy-text sweeps");
        }
        if args.weights.is_some() || !args.codecs.is_empty() {
            bail!("sweep --model lm runs every bundled checkpoint of the lm coder; it takes --items (cloze items), --data, --svg");
        }
        return crate::lm::sweep(&crate::lm::LmSweepArgs {
            items: args.items,
            data: args.data.as_deref(),
            svg: args.svg.as_deref(),
            text: args.text.as_deref(),
            cloze: args.cloze.as_deref(),
            write_cloze: args.write_cloze.as_deref(),
        });
    }
    if args.model == "kws-cnn" {
        if args.weights.is_some() {
            bail!("--weights is for the image models; the keyword sweep uses the bundled kws_cnn");
        }
        let specs: Vec<String> = if args.codecs.is_empty() {
            mpq_models::kws_sweep::DEFAULT_AUDIO_SWEEPS.iter().map(|s| s.to_string()).collect()
        } else {
            args.codecs.clone()
        };
        if args.items == 0 {
            bail!("--items must be at least 1");
        }
        let swept = kws_sweep_shard(args.items, &specs, args.shard)?;
        return finish(&args, &specs, swept);
    }
    let model = parse_model(&args.model)?;
    if args.items == 0 {
        bail!("--items must be at least 1");
    }
    let specs: Vec<String> = if args.codecs.is_empty() {
        DEFAULT_CODEC_SWEEPS.iter().map(|s| s.to_string()).collect()
    } else {
        args.codecs.clone()
    };
    let classifier = classifier(model, args.weights.as_deref())?;
    let swept = sweep_with(&classifier, args.items, &specs, args.shard)?;
    finish(&args, &specs, swept)
}
