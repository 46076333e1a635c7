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
pub fn sweep(items: usize, data: Option<&std::path::Path>, svg: Option<&std::path::Path>) -> Result<()> {
    use mpq_codecs::text::lm::{self as coder, bundled};
    use mpq_models::lm_eval::{cloze_accuracy, cloze_items, pearson};
    let dir = data.map(PathBuf::from).unwrap_or_else(|| PathBuf::from("data/text/books"));
    let splits = books::load_splits(&dir).with_context(|| format!("reading the books in {} (run scripts/fetch-text-data.py)", dir.display()))?;
    let cloze = cloze_items(&splits.test, &splits.train, items, 1);
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
    if let Some(path) = svg {
        std::fs::write(path, scatter_svg(&points, r)).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let out = serde_json::json!({
        "held_out_test_bytes": splits.test.len(), "outside_bytes": splits.outside.len(),
        "cloze_items": cloze.len(), "points": points, "pearson_r_test_bpb_vs_cloze": r,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Bits per byte against cloze accuracy, one dot per checkpoint, with r.
fn scatter_svg(points: &[serde_json::Value], r: Option<f64>) -> String {
    let (w, h, m) = (560.0, 380.0, 60.0);
    let xs: Vec<f64> = points.iter().map(|p| p["test_bpb"].as_f64().unwrap()).collect();
    let ys: Vec<f64> = points.iter().map(|p| p["cloze_accuracy"].as_f64().unwrap()).collect();
    let span = |v: &[f64]| {
        let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        let pad = ((hi - lo) * 0.15).max(0.01);
        (lo - pad, hi + pad)
    };
    let ((x0, x1), (y0, y1)) = (span(&xs), span(&ys));
    let px = |x: f64| m + (x - x0) / (x1 - x0) * (w - 2.0 * m);
    let py = |y: f64| h - m - (y - y0) / (y1 - y0) * (h - 2.0 * m);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"14\">\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <line x1=\"{m}\" y1=\"{b}\" x2=\"{r_}\" y2=\"{b}\" stroke=\"black\"/><line x1=\"{m}\" y1=\"{m}\" x2=\"{m}\" y2=\"{b}\" stroke=\"black\"/>\
         <text x=\"{cx}\" y=\"{ty}\" text-anchor=\"middle\">bits per byte on held-out prose (lm coder) — lower is better</text>\
         <text x=\"18\" y=\"{cy}\" transform=\"rotate(-90 18 {cy})\" text-anchor=\"middle\">cloze accuracy (4 choices)</text>\
         <text x=\"{cx}\" y=\"30\" text-anchor=\"middle\" font-size=\"16\">Compression vs intelligence: Pearson r = {rr}</text>",
        b = h - m,
        r_ = w - m,
        cx = w / 2.0,
        ty = h - 18.0,
        cy = h / 2.0,
        rr = r.map(|r| format!("{r:.3}")).unwrap_or_else(|| "—".into())
    );
    for (p, (&x, &y)) in points.iter().zip(xs.iter().zip(&ys)) {
        s += &format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"6\" fill=\"#1f6feb\"/><text x=\"{:.1}\" y=\"{:.1}\">{} ({x:.3}, {y:.3})</text>",
            px(x),
            py(y),
            px(x) + 9.0,
            py(y) - 8.0,
            p["model"].as_str().unwrap_or("")
        );
    }
    s + "</svg>\n"
}
