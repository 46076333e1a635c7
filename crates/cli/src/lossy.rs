//! `mpqlab sweep --model lossy-text`: the text lab's lossy-text curve natively — each strategy
//! (the language model's predictable words, random words, every n-th word) at each kept
//! fraction, judged by the language identifier's agreement over the committed language-ID test
//! split and by the language model's next-byte verdict on held-out prose continuations. The
//! same code as the page's workers (`mpq_models::lossy_text`).
//!
//! ```text
//! mpqlab sweep --model lossy-text --csv lossy.csv --svg lossy.svg > lossy.json
//! mpqlab sweep --model lossy-text --classifier gzip --fractions 1,0.8,0.6,0.4
//! ```

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use mpq_metrics::lossy_text::{LossyTextSweep, Strategy};
use mpq_models::lossy_text::{self, DEFAULT_FRACTIONS, LossySweep};
use mpq_models::text_classify::{self, Method};

/// The prose the model's verdict reads: the gallery's held-out sample (never trained on).
pub const DEFAULT_PROSE: &str = "www/gallery/text/heldout-sample.txt";
/// Prose items: windows of 800 bytes of prefix and 200 of continuation (the page's too).
use mpq_models::lossy_text::{PROSE_CONTINUATION as CONTINUATION, PROSE_PREFIX as PREFIX};

pub struct LossyArgs<'a> {
    pub classifier: &'a str,
    pub fractions: Option<&'a str>,
    pub prose: Option<&'a Path>,
    pub prose_items: usize,
    pub csv: Option<&'a Path>,
    pub svg: Option<&'a Path>,
    /// Only this shard's points, printed as a shard file (with the sweep's settings).
    pub shard: Option<(crate::shard::Shard, serde_json::Value)>,
}

pub fn parse_fractions(list: Option<&str>) -> Result<Vec<f64>> {
    let Some(list) = list else { return Ok(DEFAULT_FRACTIONS.to_vec()) };
    list.split(',')
        .map(|f| {
            let v: f64 = f.trim().parse().with_context(|| format!("--fractions: '{f}' is not a number"))?;
            if !(0.0..=1.0).contains(&v) {
                bail!("--fractions: {v} is not between 0 and 1");
            }
            Ok(v)
        })
        .collect()
}

pub fn sweep(args: &LossyArgs<'_>) -> Result<()> {
    let fractions = parse_fractions(args.fractions)?;
    let lang = text_classify::bundled_set("lang")?;
    let classifier = Method::parse(args.classifier, "lang")?;
    let path = args.prose.unwrap_or(Path::new(DEFAULT_PROSE));
    let prose_text = crate::text::read_text(path)?.bytes;
    let prose = lossy_text::prose_items(&prose_text, args.prose_items, PREFIX, CONTINUATION);
    if prose.len() < args.prose_items {
        bail!("{}: {} bytes hold no {} windows of {} bytes", path.display(), prose_text.len(), args.prose_items, PREFIX + CONTINUATION);
    }
    let net = lossy_text::sweep_net()?;
    let runner = LossySweep { net, lang: &lang, classifier: classifier.clone(), prose };
    let full: Vec<(Strategy, f64)> = Strategy::ALL.into_iter().flat_map(|s| fractions.iter().map(move |&f| (s, f))).collect();
    let indices = crate::shard::indices(args.shard.as_ref().map(|(s, _)| *s), full.len());
    let plan: Vec<(Strategy, f64)> = indices.iter().map(|&k| full[k]).collect();
    let t = Instant::now();
    // Points are independent: one thread per core takes every n-th.
    let threads = std::thread::available_parallelism().map(|c| c.get()).unwrap_or(1).min(plan.len()).max(1);
    let mut results: Vec<Option<mpq_core::Result<mpq_metrics::lossy_text::LossyTextPoint>>> = (0..plan.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let runner = &runner;
                let plan = &plan;
                s.spawn(move || {
                    (k..plan.len()).step_by(threads).map(|i| (i, runner.point(plan[i].0, plan[i].1, &mut |_, _| {}))).collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, r) in h.join().expect("a sweep thread panicked") {
                results[i] = Some(r);
            }
        }
    });
    let mut points = Vec::with_capacity(plan.len());
    for r in results {
        let p = r.expect("every point ran").map_err(anyhow::Error::from)?;
        eprintln!(
            "{:<24} keep {:.2} (kept {:.3}): {} bpb, language ID agrees {}, next byte top-1 {}, KL {} bits",
            p.strategy.name(),
            p.fraction,
            p.kept_bytes,
            p.bits_per_byte.map_or("–".into(), |b| format!("{b:.3}")),
            p.lang_agreement.map_or("–".into(), |a| format!("{a:.3}")),
            p.lm_top1_agreement.map_or("–".into(), |a| format!("{a:.3}")),
            p.lm_kl_bits.map_or("–".into(), |k| format!("{k:.3}")),
        );
        points.push(p);
    }
    let result = LossyTextSweep { classifier: classifier.label(), model: mpq_codecs::text::lm::bundled::DEFAULT.into(), points };
    if let Some((shard, settings)) = &args.shard {
        let file = crate::shard::ShardFile::new(crate::shard::Kind::LossyText, *shard, full.len(), settings.clone(), indices, &result)?;
        println!("{}", file.to_json());
        return Ok(());
    }
    for s in Strategy::ALL {
        match result.lowest_fraction_with_agreement(s, 0.9) {
            Some(f) => eprintln!("{}: language ID agrees ≥ 90 % down to a kept fraction of {f}", s.name()),
            None => eprintln!("{}: language ID agrees < 90 % at every fraction swept", s.name()),
        }
    }
    eprintln!("{} points in {:.1} s on {threads} threads", result.points.len(), t.elapsed().as_secs_f64());
    if let Some(path) = args.csv {
        std::fs::write(path, result.to_csv()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = args.svg {
        std::fs::write(path, result.plot_svg()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("{}", result.to_json());
    Ok(())
}
