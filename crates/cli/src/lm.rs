//! `mpqlab train lm`: trains the text lab's byte-level language model on the books of
//! `scripts/fetch-text-data.py` (the split is `mpq_models::data::books`'), seeded, and writes
//! the coder's weight file (`.lmw`, f16). Prints one JSON line per epoch, then a summary.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use mpq_codecs::text::lm::net::Weights;
use mpq_models::data::books;
use mpq_models::lm_train::{LmTrainOptions, network_bits_per_byte, train_lm};

use crate::train::TrainArgs;

pub fn train(args: TrainArgs) -> Result<()> {
    let dir = args.data.clone().unwrap_or_else(|| PathBuf::from("data/text/books"));
    let splits = books::load_splits(&dir).with_context(|| format!("reading the books in {} (run scripts/fetch-text-data.py)", dir.display()))?;
    let mut opts = LmTrainOptions { epochs: args.epochs, seed: args.seed, learning_rate: args.lr, batch: args.batch_size, ..Default::default() };
    if let Some(h) = args.hidden {
        anyhow::ensure!((8..=1024).contains(&h), "--hidden {h}: want 8…1024");
        opts.hidden = h;
    }
    if let Some(t) = args.seq {
        anyhow::ensure!((8..=4096).contains(&t), "--seq {t}: want 8…4096");
        opts.seq = t;
    }
    // The model's name, which every stream records: its size and how long it trained.
    let base = format!("gru{}", opts.hidden);
    let name = format!("{base}-e{}", opts.epochs);
    let init = match &args.init {
        Some(p) => {
            let w = Weights::from_bytes(&std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?)?;
            opts.hidden = w.hidden;
            Some(w)
        }
        None => None,
    };
    let train_text = match args.limit {
        Some(n) => &splits.train[..n.min(splits.train.len())],
        None => &splits.train[..],
    };
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("crates/models/weights/lm-{name}.lmw")));
    if opts.epochs == 0 && init.is_none() {
        bail!("nothing to train: --epochs 0 needs --init");
    }
    eprintln!(
        "train lm: {} training bytes, {} validation, {} held-out test, {} outside; hidden {}, {} streams × {} bytes, {} epochs",
        train_text.len(),
        splits.validation.len(),
        splits.test.len(),
        splits.outside.len(),
        opts.hidden,
        opts.batch,
        opts.seq,
        opts.epochs
    );
    let mut epochs = Vec::new();
    let model = train_lm(train_text, &splits.validation, &opts, init.as_ref(), &name, |r, model| {
        let line = serde_json::json!({
            "epoch": r.epoch, "train_bpb": r.train_bpb, "validation_bpb": r.validation_bpb,
            "train_seconds": r.train_seconds, "eval_seconds": r.eval_seconds,
        });
        println!("{line}");
        epochs.push(line);
        // Each epoch's weights beside the final file, to compare checkpoints of one run.
        if let Ok(w) = model.to_weights(&format!("{base}-e{}", r.epoch)) {
            let _ = std::fs::write(out.with_extension(format!("epoch{}.lmw", r.epoch)), w.to_bytes());
        }
    })?;
    let bytes = model.to_weights(&name)?.to_bytes();
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).ok();
    }
    std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    let w = Weights::from_bytes(&bytes)?;
    let summary = serde_json::json!({
        "model": name, "weights": out.display().to_string(), "bytes": bytes.len(),
        "hidden": opts.hidden, "epochs": opts.epochs, "seed": opts.seed, "streams": opts.batch, "seq": opts.seq,
        "learning_rate": opts.learning_rate, "train_bytes": train_text.len(),
        "validation_network_bpb": network_bits_per_byte(&w, &splits.validation[..splits.validation.len().min(opts.validation_bytes)]),
        "per_epoch": epochs,
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// `mpqlab sweep --model lm`: every bundled checkpoint's bits per byte (the lm coder's, and its
/// network's alone) on the held-out prose and on the outside author's book, its cloze accuracy
/// on `items` items from the held-out prose, and Pearson's r between the two over checkpoints.
/// With `text` and `cloze` (a text file and items as `--write-cloze` writes them) it needs no
/// books: the page's plot, the same numbers (`lm_eval::checkpoint_point`).
pub fn sweep(args: &LmSweepArgs<'_>) -> Result<()> {
    use mpq_codecs::text::lm::{self as coder, bundled};
    use mpq_metrics::text::checkpoint_plot_svg;
    use mpq_models::lm_eval::{ClozeItem, checkpoint_point, cloze_accuracy, cloze_items, pearson};
    if let (Some(text), Some(cloze)) = (args.text, args.cloze) {
        let bytes = crate::text::read_text(text)?.bytes;
        let items: Vec<ClozeItem> = serde_json::from_slice(&std::fs::read(cloze).with_context(|| format!("cannot read {}", cloze.display()))?)
            .with_context(|| format!("{}: not a list of cloze items", cloze.display()))?;
        let mut points = Vec::new();
        for name in bundled::names() {
            let p = checkpoint_point(name, &bytes, &items, &mut |_, _| {})?;
            eprintln!("sweep lm: {} {:.4} bpb, cloze {:.3}", p.model, p.bits_per_byte, p.cloze_accuracy);
            points.push(p);
        }
        let x: Vec<f64> = points.iter().map(|p| p.bits_per_byte).collect();
        let y: Vec<f64> = points.iter().map(|p| p.cloze_accuracy).collect();
        if let Some(path) = args.svg {
            let dots: Vec<(String, f64, f64)> = points.iter().map(|p| (p.model.clone(), p.bits_per_byte, p.cloze_accuracy)).collect();
            let label = format!("bits per byte on {} (lm coder) — lower is better", text.file_name().and_then(|n| n.to_str()).unwrap_or("the text"));
            std::fs::write(path, checkpoint_plot_svg(&dots, &label)).with_context(|| format!("cannot write {}", path.display()))?;
        }
        let out = serde_json::json!({ "text_bytes": bytes.len(), "cloze_items": items.len(), "points": points, "pearson_r": pearson(&x, &y) });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if args.text.is_some() || args.cloze.is_some() {
        bail!("--text and --cloze go together (a text and the cloze items to score)");
    }
    let dir = args.data.map(PathBuf::from).unwrap_or_else(|| PathBuf::from("data/text/books"));
    let splits = books::load_splits(&dir).with_context(|| format!("reading the books in {} (run scripts/fetch-text-data.py)", dir.display()))?;
    let cloze = cloze_items(&splits.test, &splits.train, args.items, 1);
    if let Some(path) = args.write_cloze {
        std::fs::write(path, serde_json::to_string_pretty(&cloze)? + "\n").with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {} cloze items to {}", cloze.len(), path.display());
        return Ok(());
    }
    let mut points = Vec::new();
    for name in bundled::names() {
        let (w, f) = bundled::checkpoint(name)?;
        let coded = |text: &[u8]| -> Result<f64> { Ok(8.0 * coder::encode(w, *f, text, 128 << 10)?.len() as f64 / text.len() as f64) };
        let t = std::time::Instant::now();
        let test_bpb = coded(&splits.test)?;
        let outside_bpb = coded(&splits.outside)?;
        let seconds = t.elapsed().as_secs_f64();
        let point = serde_json::json!({
            "model": name,
            "test_bpb": test_bpb,
            "outside_bpb": outside_bpb,
            "test_network_bpb": network_bits_per_byte(w, &splits.test),
            "cloze_accuracy": cloze_accuracy(w, &cloze),
            "encode_kb_per_s": (splits.test.len() + splits.outside.len()) as f64 / seconds / 1e3,
        });
        eprintln!("sweep lm: {point}");
        points.push(point);
    }
    let x: Vec<f64> = points.iter().map(|p| p["test_bpb"].as_f64().unwrap()).collect();
    let y: Vec<f64> = points.iter().map(|p| p["cloze_accuracy"].as_f64().unwrap()).collect();
    let r = pearson(&x, &y);
    if let Some(path) = args.svg {
        let dots: Vec<(String, f64, f64)> = points.iter().zip(x.iter().zip(&y)).map(|(p, (&x, &y))| (p["model"].as_str().unwrap_or("").to_string(), x, y)).collect();
        std::fs::write(path, checkpoint_plot_svg(&dots, "bits per byte on held-out prose (lm coder) — lower is better"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let out = serde_json::json!({
        "held_out_test_bytes": splits.test.len(), "outside_bytes": splits.outside.len(),
        "cloze_items": cloze.len(), "points": points, "pearson_r_test_bpb_vs_cloze": r,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// `mpqlab sweep --model lm`'s options.
pub struct LmSweepArgs<'a> {
    pub items: usize,
    pub data: Option<&'a std::path::Path>,
    pub svg: Option<&'a std::path::Path>,
    pub text: Option<&'a std::path::Path>,
    pub cloze: Option<&'a std::path::Path>,
    pub write_cloze: Option<&'a std::path::Path>,
}
