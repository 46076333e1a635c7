//! `mpqlab train kws`: the keyword spotter, trained on the clips `scripts/make-kws-data.py`
//! synthesises (espeak-ng and flite; whole voices and accents held out for the test split),
//! seeded and reproducible; writes the f16 weights and, with `--export-test-subset`, the
//! committed test subset (1 s windows in one FLAC file + their labels in JSON).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mpq_core::{Audio, Media, Params};
use mpq_models::kws_cnn::{self, CLIP_SAMPLES, KWS_CLASSES, KwsCnn, SILENCE, label_of};
use mpq_models::kws_train::{KwsClips, KwsTrainOptions, eval_features, feature_stats, kws_accuracy, silence_clips, train_kws_distilled};

/// Seed of the test split's "silence" clips (fixed: the test split does not move with --seed).
const TEST_SILENCE_SEED: u64 = 2026;
/// Seed of the validation split's "silence" clips (`--validate`).
const VALIDATION_SILENCE_SEED: u64 = 2027;
/// The espeak-ng accent `--validate` holds out of the training split (the test split holds out
/// en-gb-scotland and en-us-nyc, which training never sees either way).
const VALIDATION_ACCENT: &str = "en-029";
/// The flite voice `--validate` holds out of the training split (the test split's is rms).
const VALIDATION_FLITE_VOICE: &str = "awb";

/// One row of the data set's manifest.
#[derive(Debug, Clone)]
pub struct ClipInfo {
    pub path: String,
    pub label: u8,
    pub split: String,
    pub engine: String,
    pub accent: String,
    pub voice: String,
    pub word: String,
}

/// Reads `DIR/manifest.tsv` and every clip it names (16 kHz mono WAVs).
pub fn load_data_set(dir: &Path) -> Result<Vec<(ClipInfo, Vec<f32>)>> {
    let manifest = dir.join("manifest.tsv");
    if !manifest.is_file() {
        bail!("no keyword data in {}: run `python3 scripts/make-kws-data.py --out {}` first", dir.display(), dir.display());
    }
    let text = std::fs::read_to_string(&manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 9 {
            bail!("{}:{}: expected 9 tab-separated fields", manifest.display(), n + 1);
        }
        let label = label_of(f[1]).with_context(|| format!("{}:{}: unknown label {}", manifest.display(), n + 1, f[1]))?;
        let audio = crate::audio::read_audio(&dir.join(f[0]))?;
        if audio.sample_rate != kws_cnn::SAMPLE_RATE || audio.channels != 1 {
            bail!("{}: {} Hz × {} channels; the data set is 16 kHz mono", f[0], audio.sample_rate, audio.channels);
        }
        let info = ClipInfo {
            path: f[0].into(),
            label,
            split: f[2].into(),
            engine: f[3].into(),
            accent: f[4].into(),
            voice: f[5].into(),
            word: f[8].into(),
        };
        out.push((info, audio.samples));
    }
    Ok(out)
}

/// `--validate`: moves the training rows of held-out *training* voices to a "validation" split
/// shaped like the test split (a held-out accent, held-out voice variants, a held-out flite
/// voice), so that recipes are compared without looking at the test split; drops the test rows.
pub fn split_validation(rows: &mut Vec<(ClipInfo, Vec<f32>)>) {
    rows.retain(|(i, _)| i.split == "train");
    let mut variants: Vec<&str> = rows.iter().filter(|(i, _)| i.engine == "espeak-ng").map(|(i, _)| i.voice.as_str()).collect();
    variants.sort_unstable();
    variants.dedup();
    // Every fifth from the third: the test split took every fifth from the fifth of all variants.
    let held: Vec<String> = variants.iter().skip(2).step_by(5).map(|v| v.to_string()).collect();
    for (info, _) in rows.iter_mut() {
        let out = match info.engine.as_str() {
            "espeak-ng" => info.accent == VALIDATION_ACCENT || held.contains(&info.voice),
            _ => info.voice == VALIDATION_FLITE_VOICE,
        };
        if out {
            info.split = "validation".into();
        }
    }
}

/// The "silence" rows of an evaluation split (made here, not synthesised).
fn silence_rows(count: usize, split: &str) -> Vec<(ClipInfo, Vec<f32>)> {
    let seed = if split == "test" { TEST_SILENCE_SEED } else { VALIDATION_SILENCE_SEED };
    silence_clips(count, seed)
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let info = ClipInfo {
                path: format!("silence-{i}"),
                label: SILENCE,
                split: split.into(),
                engine: "noise".into(),
                accent: "-".into(),
                voice: "-".into(),
                word: "".into(),
            };
            (info, c)
        })
        .collect()
}

fn clips_of(rows: &[&(ClipInfo, Vec<f32>)]) -> KwsClips {
    let mut set = KwsClips::default();
    for (info, clip) in rows {
        set.push(clip.clone(), info.label);
    }
    set
}

/// The committed test subset: 1 s windows (fitted as the model sees them), one 16-bit FLAC
/// file of them end to end, and a JSON file with one entry per window.
pub fn write_subset(flac: &Path, rows: &[&(ClipInfo, Vec<f32>)]) -> Result<()> {
    let mut samples = Vec::with_capacity(rows.len() * CLIP_SAMPLES);
    for (_, clip) in rows {
        samples.extend(kws_cnn::fit_clip(clip));
    }
    let audio = Audio::new(kws_cnn::SAMPLE_RATE, 1, samples)?;
    let bytes = mpq_codecs::codec("flac")?.encode(&Media::Audio(audio), &Params::new())?;
    std::fs::write(flac, bytes).with_context(|| format!("cannot write {}", flac.display()))?;
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|(i, _)| serde_json::json!({"label": KWS_CLASSES[i.label as usize], "clip": i.path, "word": i.word, "engine": i.engine, "accent": i.accent, "voice": i.voice}))
        .collect();
    let json = serde_json::json!({
        "about": "mpqlab keyword test subset: 1 s windows at 16 kHz, end to end in the FLAC file of the same name; made by `mpqlab train kws --export-test-subset`",
        "sample_rate": kws_cnn::SAMPLE_RATE, "window_samples": CLIP_SAMPLES, "items": items,
    });
    let path = flac.with_extension("json");
    std::fs::write(&path, serde_json::to_string_pretty(&json)?).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Reads a subset written by [`write_subset`] (as the model crate reads the bundled one).
pub fn read_subset(flac: &Path) -> Result<KwsClips> {
    let bytes = std::fs::read(flac).with_context(|| format!("cannot read {}", flac.display()))?;
    let list = flac.with_extension("json");
    let json = std::fs::read_to_string(&list).with_context(|| format!("cannot read {}", list.display()))?;
    Ok(kws_cnn::decode_test_subset(&bytes, &json)?)
}

/// The model's answer (top class) for each of `rows`, computed once for all the tables below.
fn answers(model: &KwsCnn, rows: &[&(ClipInfo, Vec<f32>)]) -> Result<Vec<usize>> {
    let set = clips_of(rows);
    let probs = model.predict_probs(&eval_features(&set), set.len())?;
    Ok(probs.iter().map(|p| mpq_models::fashion_cnn::argmax(&p[..])).collect())
}

/// The test split's mistakes, counted per "label (word) → answer" (what the model confuses).
fn mistakes(rows: &[&(ClipInfo, Vec<f32>)], answers: &[usize]) -> BTreeMap<String, usize> {
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    for ((info, _), &answer) in rows.iter().zip(answers) {
        if answer != info.label as usize {
            let label = KWS_CLASSES[info.label as usize];
            let said = if info.word.is_empty() || info.word == label { label.to_string() } else { format!("{label} ({})", info.word) };
            *out.entry(format!("{said} → {}", KWS_CLASSES[answer])).or_default() += 1;
        }
    }
    out
}

/// Accuracy per group (class, engine, accent) of the `answers` to `rows`.
fn breakdown(rows: &[&(ClipInfo, Vec<f32>)], answers: &[usize], key: impl Fn(&ClipInfo) -> String) -> BTreeMap<String, (usize, usize)> {
    let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for ((info, _), &answer) in rows.iter().zip(answers) {
        let e = out.entry(key(info)).or_default();
        e.1 += 1;
        if answer == info.label as usize {
            e.0 += 1;
        }
    }
    out
}

/// What `mpqlab train kws` was asked.
pub struct KwsRun {
    pub data: Option<PathBuf>,
    pub opts: KwsTrainOptions,
    pub out: Option<PathBuf>,
    pub export: Option<PathBuf>,
    pub per_class: usize,
    pub init: Option<PathBuf>,
    /// Evaluate on held-out training voices ([`split_validation`]) instead of the test split.
    pub validate: bool,
    /// Weight files of the teachers to distil from (none: plain training).
    pub teachers: Vec<PathBuf>,
}

pub fn run(args: KwsRun) -> Result<()> {
    let KwsRun { data, opts, out, export, per_class, init, validate, teachers } = args;
    let config = opts.net();
    let teachers: Vec<KwsCnn> = teachers
        .iter()
        .map(|p| -> Result<KwsCnn> {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read the teacher {}", p.display()))?;
            KwsCnn::load_bytes(&bytes, config, &mpq_models::cpu_device()).with_context(|| format!("teacher {}", p.display()))
        })
        .collect::<Result<_>>()?;
    let dir = data.unwrap_or_else(|| {
        PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| ".".into())).join(".cache/mpqlab/kws")
    });
    let out = out.unwrap_or_else(|| "crates/models/weights/kws_cnn.bpk".into());
    let t_all = Instant::now();
    let mut rows = load_data_set(&dir)?;
    // The split the model is evaluated on: "test", or "validation" (the summary's keys say which).
    let split = if validate { "validation" } else { "test" };
    if validate {
        split_validation(&mut rows);
    }
    let eval_words = rows.iter().filter(|(i, _)| i.split == split).count();
    rows.extend(silence_rows((eval_words / (KWS_CLASSES.len() - 1)).max(1), split));
    let train_rows: Vec<_> = rows.iter().filter(|(i, _)| i.split == "train").collect();
    let test_rows: Vec<_> = rows.iter().filter(|(i, _)| i.split == split).collect();
    let (train_set, test_set) = (clips_of(&train_rows), clips_of(&test_rows));
    let (mean, std) = feature_stats(&eval_features(&train_set));
    eprintln!(
        "training kws_cnn ({} parameters, {} multiply–adds per window) on {} clips (+ silence), evaluating on the {split} split's {}; training features: mean {mean:.3}, std {std:.3} (fixed in kws_cnn: {}, {})",
        config.parameters(),
        config.macs(),
        train_set.len(),
        test_set.len(),
        kws_cnn::MEAN,
        kws_cnn::STD
    );
    let (epochs, seed, batch_size, lr) = (opts.epochs, opts.seed, opts.batch_size, opts.learning_rate);
    let t_train = Instant::now();
    let mut per_epoch = Vec::new();
    let (bytes, out) = match (&init, epochs) {
        // `--init W --epochs 0`: evaluate W on the test split (nothing is written but the subset).
        (Some(w), 0) => (std::fs::read(w).with_context(|| format!("cannot read {}", w.display()))?, w.clone()),
        (Some(_), _) => bail!("train kws takes --init only with --epochs 0 (evaluating those weights)"),
        (None, _) => {
            let model = train_kws_distilled(&train_set, &test_set, &opts, &teachers, |r| {
                eprintln!(
                    "epoch {:>2}: loss {:.4}  train acc {:.4}  {split} acc {:.4}  ({:.1} s train, {:.1} s {split})",
                    r.epoch, r.train_loss, r.train_accuracy, r.test_accuracy, r.train_seconds, r.eval_seconds
                );
                per_epoch.push(r.test_accuracy);
            })?;
            let bytes = model.to_bytes()?;
            std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
            (bytes, out)
        }
    };
    let train_seconds = t_train.elapsed().as_secs_f64();
    let model = KwsCnn::load_bytes(&bytes, config, &mpq_models::cpu_device())?;
    let test_answers = answers(&model, &test_rows)?;
    let f16_acc = test_answers.iter().zip(&test_set.labels).filter(|(a, y)| **a == **y as usize).count() as f64 / test_set.len().max(1) as f64;
    let table = |m: BTreeMap<String, (usize, usize)>| -> serde_json::Value {
        m.into_iter().map(|(k, (c, n))| (k, serde_json::json!({"correct": c, "of": n, "accuracy": c as f64 / n as f64}))).collect()
    };
    let mut summary = serde_json::json!({
        "model": "kws_cnn", "seed": seed, "epochs": epochs, "batch_size": batch_size, "lr": lr,
        "data": dir.display().to_string(), "train_clips": train_set.len(), "evaluated_on": split,
        "feature_mean": mean, "feature_std": std,
        "augmentation": {"noise_prob": opts.noise_prob, "silence_share": opts.silence_share, "speed_prob": opts.speed_prob,
                          "speed_range": [opts.speed_range.0, opts.speed_range.1], "mask_prob": opts.mask_prob,
                          "label_smoothing": opts.label_smoothing, "unknown_ratio": opts.unknown_ratio,
                          "warp_prob": opts.warp_prob, "warp_range": [opts.warp_range.0, opts.warp_range.1],
                          "eq_prob": opts.eq_prob, "eq_db": opts.eq_db},
        "average_last": opts.average_last, "channels": opts.channels, "parameters": config.parameters(),
        "weights": out.display().to_string(), "weights_bytes": bytes.len(),
        "train_seconds": train_seconds, "total_seconds": t_all.elapsed().as_secs_f64(),
    });
    if !teachers.is_empty() {
        // The teachers' ensemble (their mean answer) on the same split: what the student learns from.
        let features = eval_features(&test_set);
        let mut mean = vec![[0f32; KWS_CLASSES.len()]; test_set.len()];
        for t in &teachers {
            for (m, p) in mean.iter_mut().zip(t.predict_probs(&features, test_set.len())?) {
                m.iter_mut().zip(p).for_each(|(m, p)| *m += p);
            }
        }
        let correct = mean.iter().zip(&test_set.labels).filter(|(p, y)| mpq_models::fashion_cnn::argmax(&p[..]) == **y as usize).count();
        summary["teachers"] = teachers.len().into();
        summary[format!("{split}_accuracy_of_the_teachers")] = (correct as f64 / test_set.len().max(1) as f64).into();
        summary["distillation"] = serde_json::json!({"weight": opts.distill_weight, "temperature": opts.distill_temperature});
    }
    // The evaluation's tables, named after the split they were measured on ("test_accuracy_f16",
    // "test_by_class", … or "validation_…").
    for (key, value) in [
        ("clips", test_set.len().into()),
        ("accuracy_f16", f16_acc.into()),
        ("per_epoch_accuracy", per_epoch.into()),
        ("by_class", table(breakdown(&test_rows, &test_answers, |i| KWS_CLASSES[i.label as usize].to_string()))),
        ("by_engine_accent", table(breakdown(&test_rows, &test_answers, |i| format!("{} {}", i.engine, i.accent)))),
        ("by_voice", table(breakdown(&test_rows, &test_answers, |i| format!("{} {}", i.engine, i.voice)))),
        ("mistakes", serde_json::to_value(mistakes(&test_rows, &test_answers))?),
    ] {
        summary[format!("{split}_{key}")] = value;
    }
    if let Some(path) = &export {
        // `per_class` windows of each class, spread over the split (every k-th of the class).
        let mut picked = Vec::new();
        for label in 0..KWS_CLASSES.len() as u8 {
            let of: Vec<_> = test_rows.iter().filter(|(i, _)| i.label == label).copied().collect();
            let step = (of.len() / per_class.max(1)).max(1);
            picked.extend(of.iter().step_by(step).take(per_class).copied());
        }
        write_subset(path, &picked)?;
        let subset = read_subset(path)?;
        let acc = kws_accuracy(&model, &eval_features(&subset), &subset.labels)?;
        summary["subset"] = path.display().to_string().into();
        summary["subset_size"] = subset.len().into();
        summary["subset_accuracy_f16"] = acc.into();
        summary["subset_bytes"] = std::fs::metadata(path)?.len().into();
    }
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(split: &str, engine: &str, accent: &str, voice: &str) -> (ClipInfo, Vec<f32>) {
        let info = ClipInfo { path: String::new(), label: 2, split: split.into(), engine: engine.into(), accent: accent.into(), voice: voice.into(), word: "yes".into() };
        (info, vec![])
    }

    #[test]
    fn validation_holds_out_training_voices_and_drops_the_test_split() {
        let variants = ["a", "b", "c", "d", "e", "f", "g", "h"];
        let mut rows: Vec<_> = variants.iter().map(|v| row("train", "espeak-ng", "en-us", v)).collect();
        rows.push(row("train", "espeak-ng", VALIDATION_ACCENT, "a"));
        rows.push(row("train", "flite", "en-us", VALIDATION_FLITE_VOICE));
        rows.push(row("train", "flite", "en-us", "kal"));
        rows.push(row("test", "espeak-ng", "en-us-nyc", "a"));
        split_validation(&mut rows);
        let held: Vec<String> = rows.iter().filter(|(i, _)| i.split == "validation").map(|(i, _)| format!("{} {}", i.accent, i.voice)).collect();
        // Variants c and h (every fifth from the third), the accent, the flite voice.
        assert_eq!(held, ["en-us c", "en-us h", "en-029 a", "en-us awb"]);
        assert_eq!(rows.len(), 11);
        assert!(rows.iter().all(|(i, _)| i.split != "test"));
    }
}
