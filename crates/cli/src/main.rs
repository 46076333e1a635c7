//! `mpqlab`: the page's codecs and metrics on the command line.
//!
//! ```text
//! mpqlab codecs                                   list codecs and their parameters (JSON)
//! mpqlab info IN                                   decode a file: format, size, damage (JSON)
//! mpqlab compress IN -c jpeg -p quality=10 -o OUT  encode a file
//! mpqlab eval IN -c avif -p quality=40             encode, decode, measure: JSON
//! mpqlab eval CLIP.wav -c opus:bitrate=12000       audio: kbps, SNR, segSNR, LSD, STOI, log-mel
//!                                                 distance, the keyword model's top classes: JSON
//! mpqlab eval BOOK.txt -c xz                       text: bytes, bits per byte, round trip: JSON
//! mpqlab eval BOOK.txt --all                       every text codec on it: JSON
//! mpqlab decompress BOOK.txt.xz                     a text codec's stream back to its bytes
//! mpqlab classify - --task lang -c gzip -c ngram  a text's language by NCD k-NN: JSON
//! mpqlab classify --eval --task lang --all         accuracy per method, confusion matrices: JSON
//! mpqlab bench [IMAGES..] [--runs 3]               encode/decode time per codec: JSON
//! mpqlab bench gpu [--sizes 1024,4096]             WGSL matmul time per weight format: JSON
//! mpqlab sweep --model fashion-cnn --codec jpeg:quality=1..95:8   rate–perception sweep: JSON
//! mpqlab sweep --model lossy-text --svg l.svg      lossy text: what machines still perceive: JSON
//! mpqlab sweep … --shard 2/8 --no-timings > s2.json   one shard of a sweep (array jobs)
//! mpqlab merge s*.json --csv s.csv --svg s.svg      the shards joined, as the unsharded run
//! mpqlab quant --model fashion-cnn --search --svg q.svg  accuracy per weight format: JSON
//! mpqlab eval photo.png -c avif --target-bpp 0.5   the AVIF quality that gives 0.5 bpp: JSON
//! mpqlab run '#/image?v=1&in=gallery:coffee&l=jpeg:quality=10'   a share link's numbers: JSON
//! mpqlab train fashion --epochs 15 --seed 1        rebuild the bundled Fashion-MNIST CNN
//! mpqlab train catsdogs --epochs 60               rebuild the bundled CIFAR cats-vs-dogs CNN
//! mpqlab train fashion --augment-codec jpeg:q=5..50 --init W.bpk   fine-tune on JPEG'd images
//! mpqlab train kws --epochs 20                    rebuild the keyword spotter (scripts/make-kws-data.py first)
//! ```

mod audio;
mod bench;
mod classify;
mod kws;
mod lm;
mod lossy;
mod quant;
mod rd;
mod run;
mod shard;
mod sweep;
mod text;
mod train;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use mpq_core::{Image, Media, Params, codec::parse_param_pairs};
use mpq_metrics::ImageReport;

#[derive(Parser)]
#[command(name = "mpqlab", version, about = "Compress media with many codecs and measure what survives")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every codec with its parameter schema, as JSON.
    Codecs,
    /// Decode an image file and say what it is: format, size, and what was lost if it is
    /// damaged or cut short but decodes (JSON). Bad files are refused with the reason.
    Info { input: PathBuf },
    /// Encode an image, audio or text file with a codec and write the encoded bytes.
    Compress {
        /// Input image (PNG, JPEG, WebP, QOI or AVIF), audio (WAV, FLAC, …) for an audio codec,
        /// any file for a text codec.
        input: PathBuf,
        #[command(flatten)]
        codec: CodecArgs,
        #[command(flatten)]
        target: TargetArgs,
        /// Output file (default: the input's name with the codec's extension).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Encode, decode and measure (JSON): images — bytes, bits per pixel, PSNR, SSIM, MS-SSIM;
    /// audio — bytes, bits per sample, kbps, delay, SNR, segmental SNR, log-spectral distance,
    /// STOI, log-mel distance, and the keyword model's top classes for both clips.
    /// Text — bytes, bits per byte, compression ratio, round trip, times; `--all` for every
    /// text codec at its defaults.
    Eval {
        input: PathBuf,
        /// Codec id with optional parameters (see `mpqlab codecs`); not with --all.
        #[arg(short, long, required_unless_present = "all")]
        codec: Option<String>,
        /// A parameter as name=value; repeatable.
        #[arg(short, long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Every text codec at its default settings on the file (a JSON array).
        #[arg(long, conflicts_with_all = ["codec", "params"])]
        all: bool,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Decode a text codec's stream back to the bytes it holds (the codec is told by the
    /// stream's first bytes unless given).
    Decompress {
        input: PathBuf,
        /// The codec (default: told by the stream's magic bytes).
        #[arg(short, long)]
        codec: Option<String>,
        /// Output file (default: the input's name without the codec's extension).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Compressors as classifiers: a text's language (or a DNA fragment's class) by the NCD
    /// nearest neighbours of a codec or the language model, beside an n-gram baseline;
    /// `--eval` for accuracy and confusion matrices over the committed test split (JSON).
    Classify(classify::ClassifyArgs),
    /// Time every codec (default parameters) on images: median encode and decode ms (JSON).
    Bench(bench::BenchArgs),
    /// Rate–perception sweep: codec settings over a model's test split (accuracy, agreement,
    /// KL, feature distance, PSNR and bits per pixel per point), JSON; CSV and SVG on request.
    Sweep(sweep::SweepArgs),
    /// Join the shard files of one sweep (`mpqlab sweep … --shard i/n`) into the JSON, CSV and
    /// SVG the unsharded run writes.
    Merge(shard::MergeArgs),
    /// Weight formats: a model re-run with its weights in f32/f16/Q8_0/Q4_0/Q3_0 (our kernels),
    /// bits per weight, accuracy, agreement and KL to the f32 model per format (JSON).
    Quant(quant::QuantArgs),
    /// Reproduce a share link's experiment (`#/image?v=1&…`, `#/model?…`) and print the page's
    /// numbers: each side's metrics and verdict, a sweep's points, a model-lab run (JSON).
    Run(run::RunArgs),
    /// Train a model on the CPU (seeded) and write its weights: `train fashion|catsdogs --epochs 5`.
    Train(train::TrainArgs),
    /// Internal: decodes an AVIF file in a child process (see `read_image`).
    #[command(name = "__decode-avif", hide = true)]
    DecodeAvif { input: PathBuf },
}

#[derive(clap::Args)]
struct CodecArgs {
    /// Codec id (see `mpqlab codecs`), optionally with parameters: `jpeg:quality=10,subsampling=4:4:4`.
    #[arg(short, long)]
    codec: String,
    /// A parameter as name=value; repeatable.
    #[arg(short, long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
}

/// "Aim for a size": the codec's size parameter found by bisection (`mpq_core::target`).
#[derive(clap::Args)]
struct TargetArgs {
    /// Aim for this many bytes: the lossy codec's size setting (JPEG/AVIF quality, the kept
    /// scale, a bit rate) is searched; the JSON's `target` says how near it came and why not.
    #[arg(long, value_name = "N", group = "aim")]
    target_bytes: Option<f64>,
    /// Aim for this many bits per pixel (images).
    #[arg(long, value_name = "BPP", group = "aim")]
    target_bpp: Option<f64>,
    /// Aim for this many kilobits per second (audio).
    #[arg(long, value_name = "KBPS", group = "aim")]
    target_kbps: Option<f64>,
}

impl TargetArgs {
    fn target(&self) -> Option<mpq_core::target::Target> {
        use mpq_core::target::Target;
        self.target_bytes.map(Target::Bytes).or(self.target_bpp.map(Target::BitsPerPixel)).or(self.target_kbps.map(Target::Kbps))
    }

    /// `params` with the size setting that comes nearest the target in place, with the stream
    /// at that setting and the search's report; `params` as they are without a target.
    fn aim(&self, codec: &dyn mpq_core::Codec, params: Params, media: &Media) -> Result<(Params, Option<(Vec<u8>, mpq_core::target::TargetReport)>)> {
        let Some(t) = self.target() else { return Ok((params, None)) };
        let (params, stream, report) = mpq_core::target::aim(codec, &params, media, t)?;
        eprintln!(
            "{} aimed at {t}: {} bytes ({:+.2} %){}{}",
            codec.id(),
            report.bytes,
            100.0 * report.relative_error,
            report.param.as_ref().zip(report.value.as_ref()).map(|(p, v)| format!(" with {p}={v}")).unwrap_or_default(),
            report.note.as_ref().map(|n| format!(" — {n}")).unwrap_or_default()
        );
        Ok((params, Some((stream, report))))
    }
}

impl CodecArgs {
    /// The codec id and the merged parameters of `--codec id:a=1,b=2` and `-p` flags.
    fn resolve(&self) -> Result<(Box<dyn mpq_core::Codec>, Params)> {
        let (id, inline) = match self.codec.split_once(':') {
            Some((id, rest)) => (id, split_inline_params(rest)),
            None => (self.codec.as_str(), Vec::new()),
        };
        let codec = mpq_codecs::codec(id)?;
        let mut params = parse_param_pairs(inline.iter().map(String::as_str))?;
        params.extend(parse_param_pairs(self.params.iter().map(String::as_str))?);
        // Validate now, so that a bad parameter is reported before any work, and report the
        // full typed set (defaults filled in), as the page does.
        let resolved = mpq_core::codec::ResolvedParams::resolve(codec.id(), &codec.params(), &params)?;
        Ok((codec, resolved.as_params().clone()))
    }
}

/// A codec spec `id[:a=1,b=2]` as `--codec` takes it: the codec and its validated parameters.
pub(crate) fn parse_codec_spec(spec: &str) -> Result<(Box<dyn mpq_core::Codec>, Params)> {
    CodecArgs { codec: spec.to_string(), params: Vec::new() }.resolve()
}

/// Splits `quality=10,subsampling=4:2:0` on commas that start a new `name=`.
fn split_inline_params(s: &str) -> Vec<String> {
    s.split(',').map(str::to_string).collect()
}

/// Reads the input a codec of `modality` takes: audio, any file as text, or an image.
fn read_media(modality: mpq_core::Modality, path: &Path) -> Result<Media> {
    Ok(match modality {
        mpq_core::Modality::Audio => Media::Audio(audio::read_audio(path)?),
        mpq_core::Modality::Text => Media::Text(text::read_text(path)?),
        mpq_core::Modality::Image => Media::Image(read_image(path)?),
    })
}

/// Reads an image file; a damaged file that still decodes is read with a warning on stderr.
pub(crate) fn read_image(path: &Path) -> Result<Image> {
    let (img, warning) = read_image_checked(path)?;
    if let Some(w) = warning {
        eprintln!("mpqlab: warning: {}: {w}", path.display());
    }
    Ok(img)
}

/// Reads an image file, and says what was lost if it is damaged or cut short but decodes.
pub(crate) fn read_image_checked(path: &Path) -> Result<(Image, Option<String>)> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    mpq_core::limits::check_file_size(meta.len().min(usize::MAX as u64) as usize)
        .with_context(|| format!("{}", path.display()))?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if mpq_codecs::image::sniff(&bytes) == Some(mpq_codecs::image::FileFormat::Avif) {
        return decode_avif_isolated(path).map(|img| (img, None));
    }
    mpq_codecs::image::load_checked(&bytes).with_context(|| format!("{}", path.display()))
}

/// Decodes a user's AVIF file in a child process. rav1d 1.1 panics inside its `extern "C"`
/// API on some corrupt AV1 streams (memorysafety/rav1d#1497), which aborts the process and
/// cannot be caught; a child that dies turns into an ordinary error here. Our own encoder's
/// output is decoded in-process (it is trusted).
fn decode_avif_isolated(path: &Path) -> Result<Image> {
    let exe = std::env::current_exe().context("cannot find the mpqlab executable")?;
    let out = std::process::Command::new(exe)
        .arg("__decode-avif")
        .arg(path)
        .stdin(std::process::Stdio::null())
        .output()
        .context("cannot start the AVIF decoder")?;
    if !out.status.success() {
        let reason = String::from_utf8_lossy(&out.stderr);
        let reason = reason.lines().find(|l| l.starts_with("mpqlab: error:")).map(|l| l.trim_start_matches("mpqlab: error: ").to_string());
        bail!(
            "{}: {}",
            path.display(),
            reason.unwrap_or_else(|| "not a valid AVIF file: the AV1 decoder stopped on corrupt data".into())
        );
    }
    // Header line "W H FORMAT", then the raw pixels.
    let split = out.stdout.iter().position(|&b| b == b'\n').context("bad reply from the AVIF decoder")?;
    let header = std::str::from_utf8(&out.stdout[..split]).context("bad reply from the AVIF decoder")?;
    let mut f = header.split_whitespace();
    let (w, h, format) = (f.next(), f.next(), f.next());
    let (Some(w), Some(h), Some(format)) = (w, h, format) else { bail!("bad reply from the AVIF decoder") };
    let format = match format {
        "gray8" => mpq_core::PixelFormat::Gray8,
        "rgb8" => mpq_core::PixelFormat::Rgb8,
        "rgba8" => mpq_core::PixelFormat::Rgba8,
        other => bail!("bad pixel format '{other}' from the AVIF decoder"),
    };
    Ok(Image::new(w.parse()?, h.parse()?, format, out.stdout[split + 1..].to_vec())?)
}

pub(crate) fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Encodes, decodes and measures one image: the same steps, in the same order, as the page.
pub(crate) fn evaluate(codec: &dyn mpq_core::Codec, params: &Params, image: &Image) -> Result<(Vec<u8>, Image, ImageReport)> {
    let media = Media::Image(image.clone());
    let t = Instant::now();
    let encoded = codec.encode(&media, params)?;
    let encode_ms = ms_since(t);
    let t = Instant::now();
    let decoded = codec.decode(&encoded)?.into_image()?;
    let decode_ms = ms_since(t);
    let report = ImageReport::measure(codec.id(), params, image, &decoded, encoded.len(), encode_ms, decode_ms)?;
    Ok((encoded, decoded, report))
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Codecs => {
            let list: Vec<_> = mpq_codecs::registry()
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.id(), "name": c.name(), "modality": c.modality(),
                        "lossless": c.lossless(), "extension": c.extension(), "params": c.params(),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Command::Info { input } => {
            let (image, warning) = read_image_checked(&input)?;
            let bytes = std::fs::metadata(&input)?.len();
            let format = std::fs::read(&input).ok().and_then(|b| mpq_codecs::image::sniff(&b)).map(|f| format!("{f:?}").to_lowercase());
            let info = serde_json::json!({
                "file": input.display().to_string(), "bytes": bytes, "format": format,
                "width": image.width(), "height": image.height(),
                "pixels": format!("{:?}", image.format()).to_lowercase(), "warning": warning,
            });
            println!("{}", serde_json::to_string_pretty(&info)?);
        }
        Command::Compress { input, codec, target, output } => {
            let (codec, params) = codec.resolve()?;
            let media = read_media(codec.modality(), &input)?;
            let bytes = match target.aim(codec.as_ref(), params, &media)? {
                (_, Some((aimed, _))) => aimed,
                (params, None) => codec.encode(&media, &params)?,
            };
            let output = output.unwrap_or_else(|| input.with_extension(codec.extension()));
            if output == input {
                bail!("refusing to overwrite the input {}; give --output", input.display());
            }
            std::fs::write(&output, &bytes).with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!("{} → {} ({} bytes)", input.display(), output.display(), bytes.len());
        }
        Command::Decompress { input, codec, output } => text::decompress(&input, codec.as_deref(), output.as_deref())?,
        Command::Eval { input, all: true, target, .. } => {
            if target.target().is_some() {
                bail!("a target size is for one lossy codec (-c), not --all");
            }
            let reports = text::evaluate_all(&text::read_text(&input)?)?;
            println!("{}", serde_json::to_string_pretty(&reports)?);
        }
        Command::Eval { input, codec, params, target, .. } => {
            let codec = CodecArgs { codec: codec.expect("clap requires --codec without --all"), params };
            let (codec, params) = codec.resolve()?;
            let media = read_media(codec.modality(), &input)?;
            // (A text codec with a target is refused here: `aim` refuses every lossless codec.)
            // The aimed stream is encoded again below, as without a target: eval times the encode.
            let (params, aimed) = target.aim(codec.as_ref(), params, &media)?;
            let mut json = match &media {
                Media::Text(t) => {
                    let (stream, report) = text::evaluate_text(codec.as_ref(), &params, t)?;
                    let mut json = serde_json::to_value(&report)?;
                    if codec.id() == "logs" {
                        json["structure"] = text::logs_summary(&t.bytes, &stream)?;
                    }
                    json
                }
                Media::Audio(clip) => {
                    let (_, decoded, report) = audio::evaluate_audio(codec.as_ref(), &params, clip)?;
                    let mut json = serde_json::to_value(&report)?;
                    json["keywords"] = audio::kws_verdict(clip, &decoded, report.delay_ms)?;
                    json
                }
                Media::Image(image) => serde_json::to_value(evaluate(codec.as_ref(), &params, image)?.2)?,
            };
            if let Some((_, report)) = aimed {
                json["target"] = serde_json::to_value(report)?;
            }
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        Command::Classify(args) => classify::run(args)?,
        Command::Bench(args) => bench::run(args)?,
        Command::Sweep(args) => sweep::run(args)?,
        Command::Merge(args) => shard::run(args)?,
        Command::Quant(args) => quant::run(args)?,
        Command::Run(args) => run::run(args)?,
        Command::Train(args) => train::run(args)?,
        Command::DecodeAvif { input } => {
            let bytes = std::fs::read(&input)?;
            let img = mpq_codecs::image::avif::decode_avif(&bytes)?;
            let format = match img.format() {
                mpq_core::PixelFormat::Gray8 => "gray8",
                mpq_core::PixelFormat::Rgb8 => "rgb8",
                mpq_core::PixelFormat::Rgba8 => "rgba8",
            };
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{} {} {format}", img.width(), img.height())?;
            out.write_all(img.data())?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so a write to a closed pipe (`mpqlab run LINK | head -c 600`) is
    // an error and println! panics on it. Restore the default: the process ends quietly, as
    // other command-line tools do when their reader goes away.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to the default before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mpqlab: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn inline_params_merge_with_flags() {
        let args = CodecArgs { codec: "jpeg:quality=10,subsampling=4:4:4".into(), params: vec!["quality=20".into()] };
        let (c, p) = args.resolve().unwrap();
        assert_eq!(c.id(), "jpeg");
        assert_eq!(p.get("quality").unwrap().to_string(), "20");
        assert_eq!(p.get("subsampling").unwrap().to_string(), "4:4:4");
        assert_eq!(p.get("quality"), Some(&mpq_core::ParamValue::Int(20)));
        let bad = CodecArgs { codec: "jpeg:quality=0".into(), params: vec![] };
        assert!(bad.resolve().is_err());
    }
}
