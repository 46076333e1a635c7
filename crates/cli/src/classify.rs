//! `mpqlab classify`: compressors as classifiers on the command line — the text lab's
//! classifier panel (one text: its nearest neighbours and the predicted label) and its accuracy
//! table (`--eval`: every method over the committed test split, with confusion matrices), the
//! same code as the page's workers (`mpq_models::text_classify`).
//!
//! ```text
//! echo 'Der Hund schläft.' | mpqlab classify - --task lang -c gzip -c ngram
//! mpqlab classify --eval --task lang --all > lang.json        # accuracy per method (JSON)
//! mpqlab classify --eval --task dna -c zstd:level=19 -c ngram:6
//! ```

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mpq_metrics::classify::{Confusion, LabelledSet};
use mpq_models::text_classify::{self, Classifier, DEFAULT_K, LM_TRAIN_PER_LABEL, Method};
use serde_json::json;

#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// The text to classify: a file, or - for standard input (not with --eval).
    input: Option<PathBuf>,
    /// The task whose bundled set to use: lang (11 languages) or dna.
    #[arg(long, default_value = "lang")]
    task: String,
    /// A labelled set's JSON (as scripts/make-classify-data.py writes) instead of the bundled one.
    #[arg(long)]
    set: Option<PathBuf>,
    /// A method: a text codec with optional settings (gzip, zstd:level=19) for its NCD, lm or
    /// lm:CHECKPOINT for the language model's NCD, ngram or ngram:ORDER for the n-gram
    /// baseline. Repeatable; default gzip.
    #[arg(short = 'c', long = "codec", value_name = "METHOD")]
    methods: Vec<String>,
    /// Every text codec at its defaults, lm and the baseline.
    #[arg(long, conflicts_with = "methods")]
    all: bool,
    /// Neighbours that vote (ties go to the nearest neighbour's label: an honest top-1).
    #[arg(short, default_value_t = DEFAULT_K)]
    k: usize,
    /// Classify the set's whole test split and report accuracy and confusion matrices (JSON).
    #[arg(long, conflicts_with = "input")]
    eval: bool,
    /// Use only the first N training records of each label (default: all; lm: 10).
    #[arg(long)]
    train_per_label: Option<usize>,
    /// The language model's training records per label (its NCD is slow).
    #[arg(long, default_value_t = LM_TRAIN_PER_LABEL)]
    lm_train_per_label: usize,
    /// Classify only the first N test records of each label.
    #[arg(long)]
    test_per_label: Option<usize>,
    /// Neighbours to list for one text.
    #[arg(long, default_value_t = 5)]
    neighbours: usize,
    /// Threads for --eval (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

fn read_set(args: &ClassifyArgs) -> Result<LabelledSet> {
    match &args.set {
        Some(path) => {
            let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
            mpq_core::limits::check_file_size(meta.len().min(usize::MAX as u64) as usize).with_context(|| format!("{}", path.display()))?;
            Ok(LabelledSet::from_json(&std::fs::read(path)?).with_context(|| format!("{}", path.display()))?)
        }
        None => Ok(text_classify::bundled_set(&args.task)?),
    }
}

fn methods(args: &ClassifyArgs, task: &str) -> Result<Vec<Method>> {
    let specs: Vec<String> = if args.all {
        // Not `logs` (on records without fields it is its back-end, xz, plus a header).
        let mut v: Vec<String> = mpq_codecs::text::ids().into_iter().filter(|id| !["lm", "logs"].contains(id)).map(String::from).collect();
        v.push("lm".into());
        v.push("ngram".into());
        v
    } else if args.methods.is_empty() {
        vec!["gzip".into()]
    } else {
        args.methods.clone()
    };
    specs.iter().map(|s| Method::parse(s, task).with_context(|| format!("--codec {s}"))).collect()
}

fn per_label(args: &ClassifyArgs, method: &Method) -> Option<usize> {
    match method {
        Method::Lm { .. } => Some(args.train_per_label.unwrap_or(args.lm_train_per_label).min(args.lm_train_per_label)),
        _ => args.train_per_label,
    }
}

fn read_input(path: &std::path::Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let limit = mpq_metrics::classify::MAX_RECORD_BYTES;
    if path.as_os_str() == "-" {
        std::io::stdin().lock().take(limit as u64 + 1).read_to_end(&mut bytes).context("cannot read standard input")?;
    } else {
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    }
    if bytes.len() > limit {
        bail!("the text to classify is longer than {} KiB; give a sentence or a paragraph", limit / 1024);
    }
    Ok(bytes)
}

pub fn run(args: ClassifyArgs) -> Result<()> {
    let set = read_set(&args)?;
    let methods = methods(&args, &set.task)?;
    if args.k == 0 {
        bail!("-k must be at least 1");
    }
    if args.eval {
        return evaluate(&args, &set, &methods);
    }
    let Some(input) = &args.input else { bail!("give a text file (or - for standard input) to classify, or --eval") };
    let query = read_input(input)?;
    let mut out = Vec::new();
    for method in &methods {
        let row = classify_one(&set, method, per_label(&args, method), args.k, args.neighbours, &query)?;
        eprintln!("{:<14} {} ({})", method.label(), row["label"].as_str().unwrap_or_default(), row["name"].as_str().unwrap_or_default());
        out.push(row);
    }
    println!("{}", serde_json::to_string_pretty(&json!({ "task": set.task, "results": out }))?);
    Ok(())
}

/// One text classified by one method: its label and, for the NCD methods, the vote and the
/// nearest `listed` neighbours (what the page's classifier panel shows; `mpqlab run` prints it).
pub(crate) fn classify_one(set: &LabelledSet, method: &Method, per_label: Option<usize>, k: usize, listed: usize, query: &[u8]) -> Result<serde_json::Value> {
    let (texts, labels) = text_classify::training_subset(set, per_label);
    let c = Classifier::new(method, texts.clone(), labels, set.labels.len(), k)?;
    let answer = c.classify(query, listed)?;
    let label = &set.labels[answer.label];
    let mut row = json!({ "method": method.label(), "label": label, "name": set.name(label) });
    if let Some(d) = &answer.decision {
        row["k"] = json!(k);
        row["tied"] = json!(d.tied);
        row["votes"] = json!(set.labels.iter().zip(&d.votes).filter(|(_, v)| **v > 0).map(|(l, v)| (l.clone(), *v)).collect::<std::collections::BTreeMap<_, _>>());
        row["neighbours"] = json!(d
            .neighbours
            .iter()
            .map(|n| json!({ "label": set.labels[n.label], "distance": n.distance, "text": String::from_utf8_lossy(texts[n.index]) }))
            .collect::<Vec<_>>());
    }
    Ok(row)
}

fn evaluate(args: &ClassifyArgs, set: &LabelledSet, methods: &[Method]) -> Result<()> {
    let set = match args.test_per_label {
        Some(n) => text_classify::test_subset(set, n),
        None => set.clone(),
    };
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1)).max(1);
    let mut results = Vec::new();
    let mut best: Option<(f64, String, Confusion)> = None;
    for method in methods {
        let per = per_label(args, method);
        let (texts, labels) = text_classify::training_subset(&set, per);
        let t = Instant::now();
        let c = Classifier::new(method, texts.clone(), labels, set.labels.len(), args.k)?;
        let n = set.test.len();
        let share = n.div_ceil(threads);
        let parts: Vec<Result<Confusion>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|i| {
                let c = &c;
                let set = &set;
                s.spawn(move || c.evaluate(set, i * share..((i + 1) * share).min(n), &mut |_| {}))
            }).collect();
            handles
                .into_iter()
                .map(|h| match h.join() {
                    Ok(r) => r.map_err(anyhow::Error::from),
                    Err(_) => Err(anyhow::anyhow!("a classifying thread panicked")),
                })
                .collect()
        });
        let mut confusion = Confusion::new(&set.labels);
        for p in parts {
            confusion.merge(&p?)?;
        }
        let seconds = t.elapsed().as_secs_f64();
        let accuracy = confusion.accuracy();
        eprintln!(
            "{:<14} top-1 {:.3} ({}/{}) · {} training records · {:.1} s · {:.1} classifications/s on {threads} threads",
            method.label(), accuracy, confusion.correct(), confusion.total(), texts.len(), seconds, confusion.total() as f64 / seconds
        );
        results.push(json!({
            "method": method.label(), "k": args.k, "train_records": texts.len(), "train_per_label": per,
            "accuracy": accuracy, "correct": confusion.correct(), "total": confusion.total(),
            "seconds": seconds, "threads": threads, "classifications_per_second": confusion.total() as f64 / seconds,
            "confusion": confusion,
        }));
        if best.as_ref().is_none_or(|(a, _, _)| accuracy > *a) {
            best = Some((accuracy, method.label(), confusion));
        }
    }
    if let Some((a, label, confusion)) = &best {
        eprintln!("\nbest: {label} ({a:.3}); rows = true label, columns = predicted\n{}", confusion.to_text());
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "task": set.task, "title": set.title, "split": set.split,
            "test_records": set.test.len(), "labels": set.labels, "results": results,
        }))?
    );
    Ok(())
}
