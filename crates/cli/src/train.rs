//! `mpqlab train fashion …`: trains a model on the CPU, seeded and reproducible, and writes
//! its weights (f16 burnpack). The data must already be in `data/` (`scripts/fetch-data.sh`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mpq_models::data::{self, Split};
use mpq_models::train::{TrainOptions, accuracy, train_fashion};
use mpq_models::{FashionCnn, FashionCnnConfig};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ModelName {
    /// The Fashion-MNIST CNN (`crates/models/src/fashion_cnn.rs`).
    Fashion,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Which model to train.
    model: ModelName,
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Peak learning rate (Adam, cosine decay to zero).
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Turn off the random left–right flips of training images.
    #[arg(long)]
    no_flip: bool,
    /// Train on the first N training images only (to time an epoch).
    #[arg(long)]
    limit: Option<usize>,
    /// Folder with the Fashion-MNIST IDX files.
    #[arg(long, default_value = "data/fashion-mnist")]
    data: PathBuf,
    /// Where to write the weights (f16 burnpack).
    #[arg(short, long, default_value = "crates/models/weights/fashion_cnn.bpk")]
    out: PathBuf,
    /// Also write the first N test images in the compact subset format to this file.
    #[arg(long)]
    export_test_subset: Option<PathBuf>,
    /// Number of test images for --export-test-subset.
    #[arg(long, default_value_t = 1000)]
    subset_size: usize,
}

pub fn run(args: TrainArgs) -> Result<()> {
    let ModelName::Fashion = args.model;
    if !args.data.join("train-images-idx3-ubyte.gz").is_file() {
        bail!("no Fashion-MNIST in {}: run scripts/fetch-data.sh first", args.data.display());
    }
    let t_all = Instant::now();
    let mut train = data::fashion_mnist(&args.data, Split::Train)?;
    let test = data::fashion_mnist(&args.data, Split::Test)?;
    if let Some(n) = args.limit {
        train = train.take(n);
    }
    let opts = TrainOptions {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        seed: args.seed,
        flip: !args.no_flip,
        config: FashionCnnConfig::default(),
    };
    eprintln!("training fashion_cnn on {} images, testing on {}: {opts:?}", train.len(), test.len());
    let t_train = Instant::now();
    let model = train_fashion(&train, &test, &opts, |r| {
        eprintln!(
            "epoch {:>2}: loss {:.4}  train acc {:.4}  test acc {:.4}  ({:.1} s train, {:.1} s test)",
            r.epoch, r.train_loss, r.train_accuracy, r.test_accuracy, r.train_seconds, r.eval_seconds
        );
    })?;
    let train_s = t_train.elapsed().as_secs_f64();
    let f32_acc = accuracy(&model, &test)?;

    let bytes = model.to_bytes()?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&args.out, &bytes).with_context(|| format!("cannot write {}", args.out.display()))?;
    // Read the f16 file back: the accuracy that the bundled weights will have.
    let reloaded = FashionCnn::load_file(&args.out, FashionCnnConfig::default(), &mpq_models::cpu_device())?;
    let f16_acc = accuracy(&reloaded, &test)?;

    let mut summary = serde_json::json!({
        "model": "fashion_cnn", "seed": args.seed, "epochs": args.epochs, "batch_size": args.batch_size,
        "lr": args.lr, "flip": !args.no_flip, "train_images": train.len(),
        "test_accuracy_f32": f32_acc, "test_accuracy_f16": f16_acc,
        "weights": args.out.display().to_string(), "weights_bytes": bytes.len(),
        "train_seconds": train_s, "total_seconds": t_all.elapsed().as_secs_f64(),
    });
    if let Some(path) = &args.export_test_subset {
        let subset = test.take(args.subset_size);
        std::fs::write(path, data::encode_subset(&subset))
            .with_context(|| format!("cannot write {}", path.display()))?;
        summary["subset"] = path.display().to_string().into();
        summary["subset_accuracy_f16"] = accuracy(&reloaded, &subset)?.into();
    }
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
