//! What a language-model checkpoint knows, beside how well it compresses: a cloze test on
//! held-out prose. Each item is a passage cut before a word and four candidate words — the
//! true one and three distractors of about the same frequency in the training text — and the
//! checkpoint scores each candidate by the probability its network gives the word's bytes and
//! the byte after it; the item is right when the true word scores strictly highest. Chance is
//! 0.25. "Compression represents intelligence linearly" (Huang et al. 2024) found such scores
//! rising linearly as bits per character fall; [`pearson`] measures that over checkpoints.

use mpq_codecs::text::lm::net::Weights;
use serde::{Deserialize, Serialize};

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

/// `n` items from `test` (seeded), with distractors by frequency in `train`.
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

/// The network's log-probability (nats) of `bytes` after its current state.
fn log_prob(w: &Weights, state: &mpq_codecs::text::lm::net::State, bytes: &[u8]) -> f64 {
    let mut s = state.clone();
    let mut lp = 0f64;
    for &b in bytes {
        lp += (s.probs[b as usize] as f64).ln();
        w.step(&mut s, b);
    }
    lp
}

/// The share of items a checkpoint gets right (its network alone: what it learned in training).
pub fn cloze_accuracy(w: &Weights, items: &[ClozeItem]) -> f64 {
    let right = items
        .iter()
        .filter(|item| {
            let mut s = w.start();
            for &b in item.context.as_bytes() {
                w.step(&mut s, b);
            }
            let scores: Vec<f64> = item.choices.iter().map(|c| log_prob(w, &s, format!("{c}{}", item.after).as_bytes())).collect();
            let truth = scores[item.answer];
            scores.iter().enumerate().all(|(i, &x)| i == item.answer || x < truth)
        })
        .count();
    right as f64 / items.len().max(1) as f64
}

/// Pearson's correlation of two equally long series (`None` with fewer than 2 points or no spread).
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let (mx, my) = (x[..n].iter().sum::<f64>() / n as f64, y[..n].iter().sum::<f64>() / n as f64);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx).powi(2);
        syy += (y[i] - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_of_lines() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(pearson(&[1.0], &[1.0]), None);
    }

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
