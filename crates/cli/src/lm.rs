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
    let name = format!("gru{}", opts.hidden);
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
        if let Ok(w) = model.to_weights(&name) {
            let _ = std::fs::write(out.with_extension(format!("epoch{}.lmw", r.epoch)), w.to_bytes());
        }
    })?;
    let bytes = model.to_weights(&name)?.to_bytes();
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).ok();
    }
    std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    let w = Weights::from_bytes(&bytes)?;
    if opts.epochs == 0 && init.is_none() {
        bail!("nothing to train: --epochs 0 needs --init");
    }
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
