//! What a language-model checkpoint knows, beside how well it compresses: a cloze test on
//! held-out prose. Each item is a passage cut before a word and four candidate words — the
//! true one and three distractors of about the same frequency in the training text — and the
//! checkpoint scores each candidate by the probability its network gives the word's bytes and
//! the byte after it; the item is right when the true word scores strictly highest. Chance is
//! 0.25. "Compression represents intelligence linearly" (Huang et al. 2024) found such scores
//! rising linearly as bits per character fall; [`pearson`] measures that over checkpoints.

use mpq_codecs::text::lm::net::Weights;
use serde::{Deserialize, Serialize};

#[cfg(feature = "train")]
use crate::train::SplitMix64;

/// Bytes of passage before each blank.
pub const CONTEXT_BYTES: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClozeItem {
    /// The passage up to the blank (ends with a space).
    pub context: String,
    /// The four candidates, the true one at `answer`.
    pub choices: Vec<String>,
    pub answer: usize,
    /// The byte after the true word (a space or punctuation), scored after every candidate.
    pub after: String,
}

#[cfg(feature = "train")]
fn words(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < text.len() && !text[i].is_ascii_lowercase() {
            i += 1;
        }
        if i >= text.len() {
            return None;
        }
        let start = i;
        while i < text.len() && text[i].is_ascii_lowercase() {
            i += 1;
        }
        Some((start, &text[start..i]))
    })
}

/// `n` items from `test` (seeded), with distractors by frequency in `train` (building them
/// is native work: the page reads items written by `mpqlab sweep --model lm --write-cloze`).
#[cfg(feature = "train")]
pub fn cloze_items(test: &[u8], train: &[u8], n: usize, seed: u64) -> Vec<ClozeItem> {
    let mut counts: std::collections::HashMap<&[u8], usize> = std::collections::HashMap::new();
    for (_, w) in words(train) {
        if w.len() >= 3 {
            *counts.entry(w).or_default() += 1;
        }
    }
    let mut vocab: Vec<(&[u8], usize)> = counts.into_iter().filter(|&(_, c)| c >= 5).collect();
    vocab.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let rank: std::collections::HashMap<&[u8], usize> = vocab.iter().enumerate().map(|(i, (w, _))| (*w, i)).collect();
    // Blanks: lowercase words of 3+ letters after a space, followed by a space or punctuation,
    // with a whole passage before them and a rank in the training vocabulary.
    let blanks: Vec<(usize, &[u8])> = words(test)
        .filter(|&(at, w)| {
            at >= CONTEXT_BYTES
                && w.len() >= 3
                && test[at - 1] == b' '
                && test.get(at + w.len()).is_some_and(|&c| b" ,.;:!?".contains(&c))
                && rank.contains_key(w)
        })
        .collect();
    let mut rng = SplitMix64(seed ^ 0x636c_6f7a_65); // "cloze"
    let mut items = Vec::with_capacity(n);
    let mut used = std::collections::HashSet::new();
    while items.len() < n && used.len() < blanks.len() {
        let k = rng.below(blanks.len());
        if !used.insert(k) {
            continue;
        }
        let (at, word) = blanks[k];
        let r = rank[word];
        let (lo, hi) = ((r as f64 * 0.7) as usize, ((r as f64 * 1.4) as usize + 20).min(vocab.len()));
        let mut choices: Vec<&[u8]> = vec![word];
        let mut tries = 0;
        while choices.len() < 4 && tries < 100 {
            tries += 1;
            let d = vocab[lo + rng.below(hi - lo)].0;
            if !choices.contains(&d) {
                choices.push(d);
            }
        }
        if choices.len() < 4 {
            continue;
        }
        // The true word's place, drawn.
        let answer = rng.below(4);
        choices.swap(0, answer);
        let ctx = &test[at - CONTEXT_BYTES..at];
        items.push(ClozeItem {
            context: String::from_utf8_lossy(ctx).into_owned(),
            choices: choices.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect(),
            answer,
            after: (test[at + word.len()] as char).to_string(),
        });
    }
    items
}

/// The network's probability of `bytes` after its current state: a product of f64s (each
/// multiplication correctly rounded, no library logarithm), so it is the same number natively
/// and in the page. Words of a few bytes stay far above f64's smallest normal number.
fn prob(w: &Weights, state: &mpq_codecs::text::lm::net::State, bytes: &[u8]) -> f64 {
    let mut s = state.clone();
    let mut p = 1f64;
    for &b in bytes {
        p *= s.probs[b as usize] as f64;
        w.step(&mut s, b);
    }
    p
}

/// Whether a checkpoint gets one item right: the true word scores strictly highest.
pub fn cloze_right(w: &Weights, item: &ClozeItem) -> bool {
    let mut s = w.start();
    for &b in item.context.as_bytes() {
        w.step(&mut s, b);
    }
    let scores: Vec<f64> = item.choices.iter().map(|c| prob(w, &s, format!("{c}{}", item.after).as_bytes())).collect();
    let truth = scores[item.answer];
    scores.iter().enumerate().all(|(i, &x)| i == item.answer || x < truth)
}

/// The share of items a checkpoint gets right (its network alone: what it learned in training).
pub fn cloze_accuracy(w: &Weights, items: &[ClozeItem]) -> f64 {
    items.iter().filter(|item| cloze_right(w, item)).count() as f64 / items.len().max(1) as f64
}

/// One checkpoint's point of the compression-vs-intelligence plot on one text and one set of
/// cloze items: the page's plot and `mpqlab sweep --model lm --text FILE --cloze FILE` (the
/// same code, so the same numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointPoint {
    pub model: String,
    /// The `lm` coder's bits per byte on the text (chunks of [`POINT_CHUNK`] bytes).
    pub bits_per_byte: f64,
    pub cloze_accuracy: f64,
    pub text_bytes: usize,
    pub cloze_items: usize,
}

/// The chunk size of [`checkpoint_point`]'s coding (as `mpqlab sweep --model lm`).
pub const POINT_CHUNK: usize = 128 << 10;

/// [`CheckpointPoint`] of the bundled checkpoint `name`; `progress(items done, items)` after
/// the coding (counted as one item per cloze item's worth of text) and after every 20 items.
pub fn checkpoint_point(name: &str, text: &[u8], items: &[ClozeItem], progress: &mut dyn FnMut(usize, usize)) -> mpq_core::Result<CheckpointPoint> {
    use mpq_codecs::text::lm::{bundled, encode};
    let (w, f) = bundled::checkpoint(name)?;
    let total = 2 * items.len().max(1);
    let coded = encode(w, *f, text, POINT_CHUNK)?;
    progress(items.len().max(1), total);
    let mut right = 0;
    for (k, item) in items.iter().enumerate() {
        right += cloze_right(w, item) as usize;
        if k % 20 == 19 {
            progress(items.len().max(1) + k + 1, total);
        }
    }
    Ok(CheckpointPoint {
        model: name.to_string(),
        bits_per_byte: if text.is_empty() { 0.0 } else { 8.0 * coded.len() as f64 / text.len() as f64 },
        cloze_accuracy: right as f64 / items.len().max(1) as f64,
        text_bytes: text.len(),
        cloze_items: items.len(),
    })
}

pub use mpq_metrics::text::pearson;

#[cfg(all(test, feature = "train"))]
mod tests {
    use super::*;

    #[test]
    fn items_hold_the_true_word_and_three_others() {
        let train = "the cat sat on the mat and the dog sat on the log while the bird sang ".repeat(40);
        let test = "a long passage where the cat sat quietly beside the dog and the bird sang a song ".repeat(10);
        let items = cloze_items(test.as_bytes(), train.as_bytes(), 20, 1);
        assert!(!items.is_empty());
        for it in &items {
            assert_eq!(it.choices.len(), 4);
            assert_eq!(it.context.len(), CONTEXT_BYTES);
            let mut c = it.choices.clone();
            c.sort();
            c.dedup();
            assert_eq!(c.len(), 4);
        }
        assert_eq!(items, cloze_items(test.as_bytes(), train.as_bytes(), 20, 1), "seeded");
    }
}
