//! The plain baseline beside the compressors: multinomial naive Bayes over character n-grams
//! (orders 1 … n, Laplace smoothing), trained on the same split. It is what a language
//! identifier of the textbook kind does (Cavnar & Trenkle's n-gram profiles, langid.py's
//! features), so a compressor that beats it has earned it.
//!
//! Characters are Unicode scalar values of the text read as UTF-8 (invalid bytes become
//! U+FFFD); each text is padded with one space on each side so that word edges are features.

use std::collections::HashMap;

use serde::Serialize;

#[derive(Debug, Clone)]
pub struct NaiveBayes {
    max_order: usize,
    n_labels: usize,
    /// Per label, each n-gram's count.
    counts: Vec<HashMap<Vec<char>, u32>>,
    /// Per label, the total n-gram count.
    totals: Vec<u64>,
    /// Per label, ln of its share of the training records.
    priors: Vec<f64>,
    /// Distinct n-grams over all labels (the smoothing's vocabulary).
    vocabulary: usize,
}

/// A baseline decision: the label and each label's log-likelihood (natural log, up to a
/// constant).
#[derive(Debug, Clone, Serialize)]
pub struct Scores {
    pub label: usize,
    pub log_likelihood: Vec<f64>,
}

fn grams(text: &[u8], max_order: usize, mut each: impl FnMut(&[char])) {
    let mut chars = vec![' '];
    chars.extend(String::from_utf8_lossy(text).chars());
    chars.push(' ');
    for n in 1..=max_order {
        for w in chars.windows(n) {
            each(w);
        }
    }
}

impl NaiveBayes {
    /// Trains on `texts[i]` labelled `labels[i]` (below `n_labels`).
    pub fn train(texts: &[&[u8]], labels: &[usize], n_labels: usize, max_order: usize) -> NaiveBayes {
        let mut counts = vec![HashMap::new(); n_labels];
        let mut totals = vec![0u64; n_labels];
        let mut records = vec![0usize; n_labels];
        for (t, &l) in texts.iter().zip(labels) {
            records[l] += 1;
            grams(t, max_order, |g| {
                *counts[l].entry(g.to_vec()).or_insert(0) += 1;
                totals[l] += 1;
            });
        }
        let mut all = std::collections::HashSet::new();
        for c in &counts {
            all.extend(c.keys().cloned());
        }
        let n = texts.len().max(1) as f64;
        let priors = records.iter().map(|&r| ((r as f64 + 1.0) / (n + n_labels as f64)).ln()).collect();
        NaiveBayes { max_order, n_labels, counts, totals, priors, vocabulary: all.len() }
    }

    pub fn classify(&self, text: &[u8]) -> Scores {
        let mut ll = self.priors.clone();
        let v = self.vocabulary as f64 + 1.0;
        grams(text, self.max_order, |g| {
            for l in 0..self.n_labels {
                let c = self.counts[l].get(g).copied().unwrap_or(0) as f64;
                ll[l] += ((c + 1.0) / (self.totals[l] as f64 + v)).ln();
            }
        });
        // The highest; ties (equal floats) to the lower label index.
        let label = (0..self.n_labels).fold(0, |best, l| if ll[l] > ll[best] { l } else { best });
        Scores { label, log_likelihood: ll }
    }

    pub fn max_order(&self) -> usize {
        self.max_order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_two_alphabets_and_two_spellings_apart() {
        let texts: Vec<&[u8]> = vec![
            "the cat sat on the mat with the hat".as_bytes(),
            "the weather is nice and the day is long".as_bytes(),
            "der Hund und die Katze sind nicht hier".as_bytes(),
            "die Sonne scheint und der Tag ist lang".as_bytes(),
            "кошка сидит на окне и смотрит".as_bytes(),
        ];
        let nb = NaiveBayes::train(&texts, &[0, 0, 1, 1, 2], 3, 3);
        assert_eq!(nb.classify("the dog and the cat".as_bytes()).label, 0);
        assert_eq!(nb.classify("der Tag und die Nacht".as_bytes()).label, 1);
        assert_eq!(nb.classify("собака сидит".as_bytes()).label, 2);
        // Invalid UTF-8 is a text too.
        let _ = nb.classify(&[0xff, 0xfe, b'a']);
    }
}
