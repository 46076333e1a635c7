//! `mpqlab quant`: how many bits does a weight need? A bundled model re-run with its weight
//! matrices in each format (our own forward pass, `mpq_models::quantized`), on its committed
//! test subset: bits per weight, bytes, accuracy, agreement and KL to the f32 model, as JSON.
//!
//! ```text
//! mpqlab quant --model fashion-cnn --formats f32,f16,q8_0,q4_0,q3_0 --search --svg quant.svg
//! mpqlab quant --model cats-dogs-cnn --gpu        # the matrix multiplies in our WGSL kernels
//! mpqlab quant --search --target-bpw 6            # plus a mix of formats per group of rows for 6 bits/weight
//! ```

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use mpq_core::target::Target;
use mpq_gpu::{Format, Gpu};
use mpq_models::quantized::{Backend, evaluate, plot_svg, variants};
use mpq_models::{Classifier, ModelId, cpu_device, data};

#[derive(clap::Args)]
pub struct QuantArgs {
    /// Model id: fashion-cnn, fashion-cnn-jpeg, cats-dogs-cnn.
    #[arg(long, default_value = "fashion-cnn")]
    model: String,
    /// Weight formats, comma-separated: f32, f16, q8_0, q4_0, q3_0.
    #[arg(long, default_value = "f32,f16,q8_0,q4_0,q3_0", value_delimiter = ',')]
    formats: Vec<String>,
    /// Also each block format with error-minimising scales (a second row per format).
    #[arg(long)]
    search: bool,
    /// Run the matrix multiplies in our WGSL kernels on the first GPU adapter (lavapipe
    /// without a GPU) instead of their CPU references.
    #[arg(long)]
    gpu: bool,
    /// Test items (the first N of the committed subset; default all).
    #[arg(long)]
    items: Option<usize>,
    /// Also write an accuracy-vs-bits-per-weight plot (SVG) here.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// The model's weights from this burnpack file (as `mpqlab train --out` writes it)
    /// instead of the bundled ones.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Also a row whose weights aim for this many bytes: a format per group of rows, chosen by
    /// an exact search for the least weight error (`mpq_models::weight_mix`); its `target`
    /// says how near it came.
    #[arg(long, value_name = "N", group = "aim")]
    target_bytes: Option<f64>,
    /// The same, in stored bits per weight (scales and padding included, as the table's).
    #[arg(long, value_name = "BITS", group = "aim")]
    target_bpw: Option<f64>,
}

pub fn run(args: QuantArgs) -> Result<()> {
    let model = crate::sweep::parse_model(&args.model)?;
    let mut formats = Vec::new();
    for name in &args.formats {
        let f = Format::parse(name).with_context(|| {
            let all: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
            format!("unknown weight format '{name}' (one of {})", all.join(", "))
        })?;
        if !formats.contains(&f) {
            formats.push(f);
        }
    }
    if formats.is_empty() {
        bail!("--formats is empty");
    }
    if args.items == Some(0) {
        bail!("--items must be at least 1");
    }
    let target = match (args.target_bytes, args.target_bpw) {
        (Some(b), _) => Some(mpq_core::target::Target::read(&format!("{b}B")).map_err(anyhow::Error::msg)?),
        (_, Some(b)) => Some(mpq_core::target::Target::read(&format!("{b}bpw")).map_err(anyhow::Error::msg)?),
        _ => None,
    };
    let classifier = crate::sweep::classifier(model, args.weights.as_deref())?;
    let (out, rows, items) = quant_with(&classifier, &formats, args.search, target, args.gpu, args.items)?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    if let Some(path) = &args.svg {
        let title = format!("{}: accuracy vs bits per weight ({items} items)", model.name());
        std::fs::write(path, plot_svg(&title, &rows)).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Every format of `formats` (and searched scales) of `model` over its first `items` test
/// items, on our kernels (`gpu`) or their CPU reference, with a line per row on stderr; the
/// JSON `mpqlab quant` prints, the rows and the number of items.
pub(crate) fn quant(model: ModelId, formats: &[Format], search: bool, target: Option<Target>, gpu: bool, items: Option<usize>) -> Result<QuantOut> {
    quant_with(&Classifier::load_bundled(model, &cpu_device())?, formats, search, target, gpu, items)
}

/// The JSON `mpqlab quant` prints, the rows and the number of items.
type QuantOut = (serde_json::Value, Vec<mpq_models::quantized::QuantRow>, usize);

fn quant_with(classifier: &Classifier, formats: &[Format], search: bool, target: Option<Target>, gpu: bool, items: Option<usize>) -> Result<QuantOut> {
    let model = classifier.id();
    let task = model.task();
    let mut set = data::decode_subset(task.bundled_test_subset())?;
    if let Some(n) = items {
        set = set.take(n);
    }
    let gpu = if gpu { Some(Gpu::new_blocking()?) } else { None };
    let backend = match &gpu {
        Some(g) => {
            eprintln!("adapter: {} ({:?}, {:?})", g.info.name, g.info.device_type, g.info.backend);
            Backend::Gpu(g)
        }
        None => Backend::Cpu,
    };
    let rows = evaluate(classifier, &variants(formats, search), target, &set, backend)?;
    for r in &rows {
        eprintln!(
            "{:>13}: {:6.3} bits/weight {:>7} bytes  weight rel. RMSE {:.4}  accuracy {:.4} (f32 {:.4})  agreement {:.4}  KL {:.2e}  {}",
            r.variant,
            r.bits_per_weight,
            r.weight_bytes,
            r.weight_rel_rmse,
            r.accuracy,
            r.reference_accuracy,
            r.top1_agreement,
            r.mean_kl,
            r.ms_per_1000.map_or(String::new(), |ms| format!("{ms:.0} ms/1000 items"))
        );
    }
    if let Some(r) = rows.iter().find_map(|r| r.target.as_ref()) {
        eprintln!(
            "aimed at {}: {} bytes ({:+.2} %) with {}{}",
            r.target,
            r.bytes,
            100.0 * r.relative_error,
            r.value.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            r.note.as_ref().map(|n| format!(" — {n}")).unwrap_or_default()
        );
    }
    if let Some(ms) = rows.first().and_then(|r| r.reference_ms_per_1000) {
        eprintln!("burn (flex, f32): {ms:.0} ms/1000 items");
    }
    let out = serde_json::json!({
        "model": model.id(),
        "dataset": task.id(),
        "items": set.len(),
        "backend": backend.name(),
        "rows": rows.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
    });
    Ok((out, rows, set.len()))
}
