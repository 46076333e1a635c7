//! Compressors as classifiers: the normalized compression distance and k nearest neighbours
//! over it (Cilibrasi & Vitányi 2005; Jiang et al. 2023, "Less is More: parameter-free text
//! classification with gzip").
//!
//! NCD(x, y) = (C(xy) − min(C(x), C(y))) / max(C(x), C(y)), with C any compressor's length of
//! its stream (a codec's bytes, or a language model's code length). Here x is a training record
//! and y the query, and xy is x, one space, y: the training record first, so that a model-based
//! C can code each training record once and go on from its state (see
//! `mpq_codecs::text::ncd`).
//!
//! The decision is an honest top-1: the k nearest training records vote; where two or more
//! labels have the most votes, the label of the nearest neighbour among them wins. (Jiang et
//! al.'s published k = 2 figures counted a query right when either of two tied labels was the
//! true one — a top-2 score; this module never does.) Ties in distance are broken by the
//! training record's index, so the neighbours are the same on every platform.

use mpq_core::Result;
use serde::{Deserialize, Serialize};

/// What separates the two records in C(xy).
pub const SEPARATOR: &[u8] = b" ";

/// A compressor's length of a text, in bytes (fractional where C is a model's code length).
pub trait Compressor: Sync {
    fn compressed_len(&self, bytes: &[u8]) -> Result<f64>;
}

impl<C: Compressor + ?Sized> Compressor for &C {
    fn compressed_len(&self, bytes: &[u8]) -> Result<f64> {
        (**self).compressed_len(bytes)
    }
}

/// Distances from a query to every training record, in training order.
pub trait TrainDistances: Sync {
    fn distances(&self, query: &[u8]) -> Result<Vec<f64>>;
}

/// NCD from the three lengths.
pub fn ncd(cx: f64, cy: f64, cxy: f64) -> f64 {
    let max = cx.max(cy);
    if max <= 0.0 {
        return 0.0;
    }
    (cxy - cx.min(cy)) / max
}

/// The training records with their compressed lengths, computed once.
pub struct NcdIndex<'a, C> {
    compressor: C,
    train: Vec<&'a [u8]>,
    train_len: Vec<f64>,
}

impl<'a, C: Compressor> NcdIndex<'a, C> {
    pub fn new(compressor: C, train: Vec<&'a [u8]>) -> Result<NcdIndex<'a, C>> {
        let train_len = train.iter().map(|t| compressor.compressed_len(t)).collect::<Result<Vec<_>>>()?;
        Ok(NcdIndex { compressor, train, train_len })
    }
}

/// `x`, the separator, `y`.
pub fn joined(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut xy = Vec::with_capacity(x.len() + SEPARATOR.len() + y.len());
    xy.extend_from_slice(x);
    xy.extend_from_slice(SEPARATOR);
    xy.extend_from_slice(y);
    xy
}

impl<C: Compressor> TrainDistances for NcdIndex<'_, C> {
    fn distances(&self, query: &[u8]) -> Result<Vec<f64>> {
        let cy = self.compressor.compressed_len(query)?;
        let mut xy = Vec::new();
        self.train
            .iter()
            .zip(&self.train_len)
            .map(|(x, &cx)| {
                xy.clear();
                xy.extend_from_slice(x);
                xy.extend_from_slice(SEPARATOR);
                xy.extend_from_slice(query);
                Ok(ncd(cx, cy, self.compressor.compressed_len(&xy)?))
            })
            .collect()
    }
}

/// One neighbour of a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbour {
    /// The training record's index.
    pub index: usize,
    pub label: usize,
    pub distance: f64,
}

/// A k-NN decision: the predicted label, the nearest neighbours (nearest first: the first k
/// voted, any after them are listed for people) and each label's votes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub label: usize,
    pub neighbours: Vec<Neighbour>,
    pub votes: Vec<u32>,
    /// More than one label had the most votes (the nearest neighbour's label among them won).
    pub tied: bool,
}

/// The `k` nearest training records' vote, top-1 with ties broken by the nearest neighbour;
/// the nearest `max(k, listed)` are kept in the decision. `labels[i]` is training record i's
/// label index, below `n_labels`.
pub fn knn(distances: &[f64], labels: &[usize], n_labels: usize, k: usize, listed: usize) -> Decision {
    let k = k.max(1);
    let mut order: Vec<usize> = (0..distances.len()).collect();
    // NaN (never from `ncd` on finite lengths) sorts last.
    order.sort_by(|&a, &b| distances[a].total_cmp(&distances[b]).then(a.cmp(&b)));
    let neighbours: Vec<Neighbour> = order.iter().take(k.max(listed)).map(|&i| Neighbour { index: i, label: labels[i], distance: distances[i] }).collect();
    let mut votes = vec![0u32; n_labels];
    for n in neighbours.iter().take(k) {
        votes[n.label] += 1;
    }
    let most = votes.iter().copied().max().unwrap_or(0);
    let tied = votes.iter().filter(|&&v| v == most).count() > 1;
    // The nearest neighbour whose label has the most votes.
    let label = neighbours.iter().take(k).find(|n| votes[n.label] == most).map(|n| n.label).unwrap_or(0);
    Decision { label, neighbours, votes, tied }
}

/// Classifies one query.
pub fn classify(index: &dyn TrainDistances, labels: &[usize], n_labels: usize, k: usize, listed: usize, query: &[u8]) -> Result<Decision> {
    Ok(knn(&index.distances(query)?, labels, n_labels, k, listed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// C = the number of distinct bytes plus the length over 8: crude, but a compressor-like
    /// length that makes similar texts near.
    struct Distinct;
    impl Compressor for Distinct {
        fn compressed_len(&self, bytes: &[u8]) -> Result<f64> {
            let mut seen = [false; 256];
            bytes.iter().for_each(|&b| seen[b as usize] = true);
            Ok(seen.iter().filter(|&&s| s).count() as f64 + bytes.len() as f64 / 8.0)
        }
    }

    #[test]
    fn ncd_of_equal_lengths() {
        assert_eq!(ncd(10.0, 10.0, 10.0), 0.0);
        assert_eq!(ncd(10.0, 20.0, 30.0), 1.0);
        assert_eq!(ncd(0.0, 0.0, 0.0), 0.0);
    }

    #[test]
    fn a_tie_goes_to_the_nearest_neighbour_never_to_both() {
        // k = 2, one neighbour of each label: the nearer one's label, and `tied`.
        let d = knn(&[0.5, 0.2, 0.9], &[0, 1, 0], 2, 2, 3);
        assert_eq!(d.label, 1);
        assert!(d.tied);
        assert_eq!(d.neighbours.iter().map(|n| n.index).collect::<Vec<_>>(), vec![1, 0, 2]);
        assert_eq!(d.votes, vec![1, 1], "the listed third neighbour does not vote");
        // k = 3: label 0 has two votes against one, though label 1 is nearest.
        let d = knn(&[0.5, 0.2, 0.3], &[0, 1, 0], 2, 3, 0);
        assert_eq!((d.label, d.tied, d.votes.clone()), (0, false, vec![2, 1]));
        // Equal distances: the lower index first.
        let d = knn(&[0.4, 0.4], &[1, 0], 2, 1, 1);
        assert_eq!(d.label, 1);
    }

    #[test]
    fn near_texts_share_labels() {
        let train: Vec<&[u8]> = vec![b"aaaa abab baba", b"xyz zyx yzx zzy", b"abba baab aabb"];
        let index = NcdIndex::new(&Distinct, train).unwrap();
        let d = classify(&index, &[0, 1, 0], 2, 1, 1, b"ab ba ab").unwrap();
        assert_eq!(d.label, 0);
        let d = classify(&index, &[0, 1, 0], 2, 1, 1, b"zyx xyz").unwrap();
        assert_eq!(d.label, 1);
    }
}
