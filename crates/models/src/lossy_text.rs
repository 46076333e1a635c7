//! Lossy text judged by a machine: drop what the language model finds most predictable (after
//! Selective Context and LLMLingua) down to a kept fraction, and measure what machines still
//! perceive — the language identifier's agreement with its verdict on the original, and the
//! language model's next-byte distributions on a held-out continuation (top-1 agreement and KL
//! divergence) — beside two baselines that drop words at random and evenly spaced (every n-th).
//!
//! The unit dropped is the word (a run of non-space bytes with the spaces after it): dropping
//! bytes inside words would leave fragments no reader — person, n-gram model or compressor —
//! can use, and words are what Selective Context's phrases and LLMLingua's tokens mostly are in
//! a byte-level model. A word's cost is its self-information, the bits the `lm` coder spends on
//! its bytes in context; the cheapest go first (function words, the rest of a word the model
//! had guessed), until the kept bytes are at most the fraction asked.
//!
//! Bits per byte of a lossy text: what the `lm` coder spends on the kept text (its code length,
//! without the stream's header) over the original's bytes.

use mpq_codecs::text::lm::{self, bundled, net::Weights};
use mpq_core::codec::{ParamSpec, ParamValue, Params};
use mpq_core::target::{Aim, Target, TargetReport};
use mpq_core::{Error, Media, Result, Text};
use mpq_metrics::classify::LabelledSet;
pub use mpq_metrics::lossy_text::{DEFAULT_FRACTIONS, VIEW_CONTINUATION, VIEW_PREFIX};
use mpq_metrics::lossy_text::{LossyTextPoint, LossyView, Strategy};
use serde::{Deserialize, Serialize};

use crate::text_classify::{Classifier, DEFAULT_K, Method, training_subset};

/// A word's span in the text: `start..end` holds the word and the spaces after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Word {
    pub start: usize,
    pub end: usize,
}

/// The text's words (leading spaces belong to no word and are always kept).
pub fn words(text: &[u8]) -> Vec<Word> {
    let mut out = Vec::new();
    let mut i = text.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(text.len());
    while i < text.len() {
        let start = i;
        while i < text.len() && !text[i].is_ascii_whitespace() {
            i += 1;
        }
        while i < text.len() && text[i].is_ascii_whitespace() {
            i += 1;
        }
        out.push(Word { start, end: i });
    }
    out
}

/// Each byte's cost in bits under the `lm` coder's predictor (one chunk from a fresh state).
pub fn byte_bits(net: &Weights, text: &[u8]) -> Vec<f32> {
    lm::surprisal(net, text).iter().map(|c| c.bits).collect()
}

/// The order in which a strategy drops the words. `bits` is each byte's cost (for
/// [`Strategy::Predictable`]); `seed` makes [`Strategy::Random`] repeatable.
pub fn drop_order(strategy: Strategy, words: &[Word], bits: &[f32], seed: u64) -> Vec<usize> {
    let n = words.len();
    match strategy {
        Strategy::Predictable => {
            // A word's self-information: the bits of its bytes (and of the spaces after it,
            // which the model predicts almost for free).
            let cost: Vec<f64> = words.iter().map(|w| bits[w.start.min(bits.len())..w.end.min(bits.len())].iter().map(|&b| b as f64).sum()).collect();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| cost[a].total_cmp(&cost[b]).then(a.cmp(&b)));
            order
        }
        Strategy::Random => {
            let mut order: Vec<usize> = (0..n).collect();
            let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for i in (1..n).rev() {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                order.swap(i, (s % (i as u64 + 1)) as usize);
            }
            order
        }
        Strategy::Regular => {
            // Bit-reversed (van der Corput) order, counted from the top: any prefix of it is
            // spread evenly over the text, so dropping half drops every second word (the 2nd,
            // 4th, …), a quarter every fourth.
            let bits_needed = usize::BITS - n.max(1).leading_zeros();
            let top = (1usize << bits_needed) - 1;
            (0..=top).map(|i| top - (i.reverse_bits() >> (usize::BITS - bits_needed))).filter(|&i| i < n).collect()
        }
    }
}

/// A lossy text: the kept bytes and which words were dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    pub text: Vec<u8>,
    /// Per word of the original, whether it was kept.
    pub kept: Vec<bool>,
    pub words: Vec<Word>,
}

/// Drops words in `order` until at most `fraction` of the text's bytes are kept.
pub fn keep(text: &[u8], words: &[Word], order: &[usize], fraction: f64) -> Kept {
    let target = (fraction.clamp(0.0, 1.0) * text.len() as f64).floor() as usize;
    let mut kept = vec![true; words.len()];
    let mut size = text.len();
    for &i in order {
        if size <= target {
            break;
        }
        kept[i] = false;
        size -= words[i].end - words[i].start;
    }
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&text[..words.first().map_or(text.len(), |w| w.start)]);
    for (w, &k) in words.iter().zip(&kept) {
        if k {
            out.extend_from_slice(&text[w.start..w.end]);
        }
    }
    Kept { text: out, kept, words: words.to_vec() }
}

/// One strategy's lossy version of a text at a fraction.
pub fn compress(net: &Weights, text: &[u8], strategy: Strategy, fraction: f64, seed: u64) -> Kept {
    let w = words(text);
    let bits = if strategy == Strategy::Predictable { byte_bits(net, text) } else { Vec::new() };
    keep(text, &w, &drop_order(strategy, &w, &bits, seed), fraction)
}

/// A prose item for the language model's verdict: a prefix (what is compressed) and the
/// held-out continuation the model goes on to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProseItem {
    pub prefix: Vec<u8>,
    pub continuation: Vec<u8>,
}

/// Prose items cut from a text: `n` windows spread evenly, each a prefix of `prefix_len` bytes
/// and the `continuation_len` after it (cut at word edges).
pub fn prose_items(text: &[u8], n: usize, prefix_len: usize, continuation_len: usize) -> Vec<ProseItem> {
    let window = prefix_len + continuation_len;
    if text.len() < window || n == 0 {
        return Vec::new();
    }
    let step = (text.len() - window) / n.max(1);
    (0..n)
        .map(|i| {
            // Start after a space so that the prefix begins with a word.
            let mut s = i * step;
            while s > 0 && s < text.len() && !text[s - 1].is_ascii_whitespace() {
                s += 1;
            }
            let s = s.min(text.len() - window);
            ProseItem { prefix: text[s..s + prefix_len].to_vec(), continuation: text[s + prefix_len..s + window].to_vec() }
        })
        .collect()
}

/// The network's next-byte distributions over `continuation` after reading `prefix`.
fn continuation_probs(net: &Weights, prefix: &[u8], continuation: &[u8]) -> Vec<Vec<f32>> {
    let mut s = net.start();
    for &b in prefix {
        net.step(&mut s, b);
    }
    let mut out = Vec::with_capacity(continuation.len());
    for &b in continuation {
        out.push(s.probs.clone());
        net.step(&mut s, b);
    }
    out
}

fn argmax(p: &[f32]) -> usize {
    p.iter().enumerate().fold(0, |best, (i, &x)| if x > p[best] { i } else { best })
}

/// KL(p ‖ q) in bits, q floored at 1e-9 (the network never gives exactly 0).
fn kl_bits(p: &[f32], q: &[f32]) -> f64 {
    let kl: f64 = p.iter().zip(q).filter(|(a, _)| **a > 0.0).map(|(&a, &b)| a as f64 * (a as f64 / (b as f64).max(1e-9)).log2()).sum();
    // (Rounding can leave a hair below zero where the two are equal.)
    kl.max(0.0)
}

/// What the sweep runs on.
pub struct LossySweep<'a> {
    pub net: &'a Weights,
    pub lang: &'a LabelledSet,
    pub classifier: Method,
    pub prose: Vec<ProseItem>,
}

/// The sweep's prose items by default (`mpqlab sweep --model lossy-text` and the page): this
/// many windows of the held-out sample, each [`PROSE_PREFIX`] bytes compressed and
/// [`PROSE_CONTINUATION`] bytes read after it.
pub const PROSE_ITEMS: usize = 24;
pub const PROSE_PREFIX: usize = 800;
pub const PROSE_CONTINUATION: usize = 200;


/// What the lossy panel's view computes once per text and strategy: the prefix (cut after the
/// last whole word that fits [`VIEW_PREFIX`]), the continuation after it, its bytes' costs, its
/// words and their drop order.
struct ViewInput<'a> {
    prefix: &'a [u8],
    continuation: &'a [u8],
    bits: Vec<f32>,
    words: Vec<Word>,
    order: Vec<usize>,
}

fn view_input<'a>(net: &Weights, text: &'a [u8], strategy: Strategy) -> ViewInput<'a> {
    let mut prefix_len = text.len().min(VIEW_PREFIX);
    if prefix_len < text.len() {
        let cut = text[..prefix_len].iter().rposition(|b| b.is_ascii_whitespace()).map_or(prefix_len, |i| i + 1);
        prefix_len = cut;
    }
    let prefix = &text[..prefix_len];
    let continuation = &text[prefix_len..text.len().min(prefix_len + VIEW_CONTINUATION)];
    let bits = byte_bits(net, prefix);
    let words = words(prefix);
    let order = drop_order(strategy, &words, &bits, 0);
    ViewInput { prefix, continuation, bits, words, order }
}

/// The lossy panel's view: `strategy` at `fraction` on the start of `text` (seed 0), judged by
/// `classifier` (prepared on the language set) and the model.
pub fn view(net: &Weights, classifier: &Classifier<'_>, labels: &[String], text: &[u8], strategy: Strategy, fraction: f64) -> Result<LossyView> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(Error::Invalid(format!("a kept fraction is 0 … 1, not {fraction}")));
    }
    view_of(net, classifier, labels, &view_input(net, text, strategy), fraction)
}

fn view_of(net: &Weights, classifier: &Classifier<'_>, labels: &[String], input: &ViewInput<'_>, fraction: f64) -> Result<LossyView> {
    let ViewInput { prefix, continuation, bits, words: w, order } = input;
    let (prefix, continuation) = (*prefix, *continuation);
    let k = keep(prefix, w, order, fraction);
    let bits_kept = byte_bits(net, &k.text).iter().map(|&b| b as f64).sum();
    let label = |t: &[u8]| -> Result<String> { Ok(labels[classifier.classify(t, 0)?.label].clone()) };
    let (top1, kl) = if continuation.is_empty() {
        (None, None)
    } else {
        let original = continuation_probs(net, prefix, continuation);
        let after = continuation_probs(net, &k.text, continuation);
        let n = original.len() as f64;
        let top1 = original.iter().zip(&after).filter(|(p, q)| argmax(p) == argmax(q)).count() as f64 / n;
        let kl = original.iter().zip(&after).map(|(p, q)| kl_bits(p, q)).sum::<f64>() / n;
        (Some(top1), Some(kl))
    };
    Ok(LossyView {
        prefix_len: prefix.len(),
        kept_bytes: k.text.len(),
        bits_original: bits.iter().map(|&b| b as f64).sum(),
        bits_kept,
        label_original: label(prefix)?,
        label_kept: label(&k.text)?,
        continuation_len: continuation.len(),
        lm_top1_agreement: top1,
        lm_kl_bits: kl,
        words: k.words.iter().map(|w| [w.start, w.end]).collect(),
        kept: k.kept,
    })
}

/// The lossy panel aimed at a size: the kept fraction, in steps of 0.01, whose kept text the
/// `lm` coder (its default checkpoint, `mpqlab compress -c lm`) writes in the bytes nearest
/// `target` ([`Target::Bytes`]), found by `mpq_core::target`'s bisection; the view at that
/// fraction, the fraction, and the search's report (`param` = `keep %`).
pub fn aim_view(
    net: &Weights,
    classifier: &Classifier<'_>,
    labels: &[String],
    text: &[u8],
    strategy: Strategy,
    target: Target,
) -> Result<(LossyView, f64, TargetReport)> {
    if !matches!(target, Target::Bytes(_)) {
        return Err(Error::Invalid(format!("the lossy panel aims for bytes of the lm coder, not {target}")));
    }
    let input = view_input(net, text, strategy);
    let coder = mpq_codecs::codec("lm")?;
    let specs = [ParamSpec::int(KEEP_PERCENT, "Kept %", 1, 100, 70, "the share of the text's bytes kept")];
    let media = Media::Text(Text { bytes: input.prefix.to_vec() });
    let mut search = Aim::new("lossy text", "lossy-text", false, &specs, Some(KEEP_PERCENT), &Params::new(), &media, target)?;
    while let Some(p) = search.next() {
        let fraction = keep_fraction(&p);
        let kept = keep(input.prefix, &input.words, &input.order, fraction);
        search.record(coder.encode(&Media::Text(Text { bytes: kept.text }), &Params::new())?);
    }
    let (params, _, report) = search.finish();
    let fraction = keep_fraction(&params);
    Ok((view_of(net, classifier, labels, &input, fraction)?, fraction, report))
}

/// The parameter [`aim_view`] searches: the kept share of the text's bytes, in percent.
pub const KEEP_PERCENT: &str = "keep %";

fn keep_fraction(p: &Params) -> f64 {
    match p.get(KEEP_PERCENT) {
        Some(ParamValue::Int(k)) => *k as f64 / 100.0,
        _ => 1.0,
    }
}

/// The language model's checkpoint the sweep uses (for the costs and the verdict).
pub fn sweep_net() -> Result<&'static Weights> {
    Ok(&bundled::checkpoint(bundled::DEFAULT)?.0)
}

impl LossySweep<'_> {
    /// One point: `strategy` at `fraction` over every test record of the language set and
    /// every prose item. `progress(done, total)` counts records and items.
    pub fn point(&self, strategy: Strategy, fraction: f64, progress: &mut dyn FnMut(usize, usize)) -> Result<LossyTextPoint> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(Error::Invalid(format!("a kept fraction is 0 … 1, not {fraction}")));
        }
        let (texts, labels) = training_subset(self.lang, None);
        let classifier = Classifier::new(&self.classifier, texts, labels, self.lang.labels.len(), DEFAULT_K)?;
        let total = self.lang.test.len() + self.prose.len();
        let (mut agree, mut kept_bytes, mut bytes) = (0usize, 0usize, 0usize);
        for (i, r) in self.lang.test.iter().enumerate() {
            let text = r.text().as_bytes();
            let lossy = compress(self.net, text, strategy, fraction, i as u64);
            let a = classifier.classify(text, 0)?.label;
            let b = classifier.classify(&lossy.text, 0)?.label;
            agree += (a == b) as usize;
            kept_bytes += lossy.text.len();
            bytes += text.len();
            progress(i + 1, total);
        }
        let (mut top1, mut kl, mut positions, mut bits, mut prose_bytes, mut prose_kept) = (0usize, 0f64, 0usize, 0f64, 0usize, 0usize);
        for (j, item) in self.prose.iter().enumerate() {
            let lossy = compress(self.net, &item.prefix, strategy, fraction, 1_000_000 + j as u64);
            let original = continuation_probs(self.net, &item.prefix, &item.continuation);
            let after = continuation_probs(self.net, &lossy.text, &item.continuation);
            for (p, q) in original.iter().zip(&after) {
                top1 += (argmax(p) == argmax(q)) as usize;
                kl += kl_bits(p, q);
                positions += 1;
            }
            bits += byte_bits(self.net, &lossy.text).iter().map(|&b| b as f64).sum::<f64>();
            prose_bytes += item.prefix.len();
            prose_kept += lossy.text.len();
            progress(self.lang.test.len() + j + 1, total);
        }
        // (`view` above measures one text the same way.)
        Ok(LossyTextPoint {
            strategy,
            fraction,
            kept_bytes: if bytes + prose_bytes == 0 { 1.0 } else { (kept_bytes + prose_kept) as f64 / (bytes + prose_bytes) as f64 },
            bits_per_byte: if prose_bytes == 0 { None } else { Some(bits / prose_bytes as f64) },
            lang_agreement: if self.lang.test.is_empty() { None } else { Some(agree as f64 / self.lang.test.len() as f64) },
            lm_top1_agreement: if positions == 0 { None } else { Some(top1 as f64 / positions as f64) },
            lm_kl_bits: if positions == 0 { None } else { Some(kl / positions as f64) },
            lang_items: self.lang.test.len(),
            prose_items: self.prose.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_spaces_and_leading_space_stays() {
        let t = b"  the cat  sat\n";
        let w = words(t);
        assert_eq!(w, vec![Word { start: 2, end: 6 }, Word { start: 6, end: 11 }, Word { start: 11, end: 15 }]);
        let k = keep(t, &w, &[1], 0.8);
        assert_eq!(k.text, b"  the sat\n");
        assert_eq!(k.kept, vec![true, false, true]);
        // Fraction 1 keeps everything; 0 drops every word.
        assert_eq!(keep(t, &w, &[0, 1, 2], 1.0).text, t);
        assert_eq!(keep(t, &w, &[0, 1, 2], 0.0).text, b"  ");
        assert!(words(b"").is_empty() && words(b"   ").is_empty());
    }

    #[test]
    fn orders_cover_every_word_once() {
        let text = b"one two three four five six seven eight nine ten eleven";
        let w = words(text);
        let bits: Vec<f32> = (0..text.len()).map(|i| (i % 7) as f32).collect();
        for s in [Strategy::Predictable, Strategy::Random, Strategy::Regular] {
            let mut o = drop_order(s, &w, &bits, 3);
            o.sort();
            assert_eq!(o, (0..w.len()).collect::<Vec<_>>(), "{s:?}");
        }
        // Evenly spaced: the first half of the order is every second word.
        let o = drop_order(Strategy::Regular, &w, &[], 0);
        let mut half: Vec<usize> = o[..w.len() / 2].to_vec();
        half.sort();
        assert!(half.windows(2).all(|p| p[1] - p[0] >= 2), "{half:?}");
    }

    #[test]
    fn the_model_drops_what_it_predicts() {
        let net = sweep_net().unwrap();
        let text = b"It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.";
        let k = compress(net, text, Strategy::Predictable, 0.6, 0);
        assert!(k.text.len() <= text.len() * 6 / 10 + 1);
        let kept = String::from_utf8(k.text).unwrap();
        // The repeated frame "it was the" is what the model predicts best.
        assert!(kept.matches("was").count() < 4, "{kept}");
    }

    #[test]
    fn the_view_marks_what_it_dropped_and_judges_the_rest() {
        let net = sweep_net().unwrap();
        let lang = crate::text_classify::bundled_set("lang").unwrap();
        let method = Method::parse("ngram", "lang").unwrap();
        let (texts, labels) = crate::text_classify::default_training(&lang, &method);
        let c = Classifier::new(&method, texts, labels, lang.labels.len(), DEFAULT_K).unwrap();
        let text = include_str!("../../../www/gallery/text/udhr-de.txt");
        let all = view(net, &c, &lang.labels, text.as_bytes(), Strategy::Predictable, 1.0).unwrap();
        // Cut at a word's end below 4096 bytes, the continuation after it.
        assert!(all.prefix_len <= VIEW_PREFIX && text.as_bytes()[all.prefix_len - 1].is_ascii_whitespace());
        assert_eq!((all.kept_bytes, all.continuation_len), (all.prefix_len, VIEW_CONTINUATION));
        assert_eq!((all.label_original.as_str(), all.label_kept.as_str()), ("de", "de"));
        assert_eq!((all.lm_top1_agreement, all.lm_kl_bits), (Some(1.0), Some(0.0)));
        let half = view(net, &c, &lang.labels, text.as_bytes(), Strategy::Random, 0.5).unwrap();
        assert!(half.kept_bytes <= half.prefix_len / 2 && half.kept.iter().any(|k| !k));
        assert!(half.bits_kept < half.bits_original && half.lm_kl_bits.unwrap() > 0.0, "{half:?}");
        assert!(view(net, &c, &lang.labels, b"", Strategy::Regular, 0.5).unwrap().lm_top1_agreement.is_none());
    }

    #[test]
    fn the_view_aims_for_the_lm_coders_bytes() {
        let net = sweep_net().unwrap();
        let lang = crate::text_classify::bundled_set("lang").unwrap();
        let method = Method::parse("ngram", "lang").unwrap();
        let (texts, labels) = crate::text_classify::default_training(&lang, &method);
        let c = Classifier::new(&method, texts, labels, lang.labels.len(), DEFAULT_K).unwrap();
        let text = include_str!("../../../www/gallery/text/udhr-de.txt").as_bytes();
        let lm = mpq_codecs::codec("lm").unwrap();
        let coded = |v: &LossyView| {
            let kept: Vec<u8> = v.words.iter().zip(&v.kept).filter(|(_, k)| **k).flat_map(|(w, _)| text[w[0]..w[1]].to_vec()).collect();
            lm.encode(&Media::Text(Text { bytes: kept }), &Params::new()).unwrap().len()
        };
        let whole = coded(&view(net, &c, &lang.labels, text, Strategy::Predictable, 1.0).unwrap());
        let goal = (whole as f64 * 0.5).round();
        let (v, fraction, r) = aim_view(net, &c, &lang.labels, text, Strategy::Predictable, Target::Bytes(goal)).unwrap();
        // The report's bytes are the lm coder's for the view's kept text, near the goal.
        assert_eq!(coded(&v), r.bytes, "{r:?}");
        assert!(r.relative_error.abs() < 0.05, "{r:?}");
        assert_eq!(r.value, Some(ParamValue::Int((fraction * 100.0).round() as i64)));
        assert!(fraction > 0.2 && fraction < 0.9, "{fraction}");
        assert!(r.encodes <= 9, "{r:?}");
        // A target above the whole text's size keeps it all and says so.
        let (all, f, r) = aim_view(net, &c, &lang.labels, text, Strategy::Random, Target::Bytes(1e6)).unwrap();
        assert_eq!((f, all.kept_bytes, r.reached), (1.0, all.prefix_len, false));
        assert!(r.note.unwrap().contains("highest"));
        assert!(aim_view(net, &c, &lang.labels, text, Strategy::Random, Target::BitsPerPixel(1.0)).is_err());
    }
}
