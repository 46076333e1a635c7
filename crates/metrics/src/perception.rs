//! Machine-perceptual quality: how much a compressed input changes what a *model* sees, rather
//! than what a person sees. Each item is run through the same model twice, once uncompressed
//! (the *reference*) and once compressed (the *other*); these metrics compare the two outputs.
//! Plain data only (probabilities and activations as `f32` slices), so this crate stays free of
//! any model framework and the CLI and the page compute the same numbers.
//!
//! Per item ([`compare`] → [`ItemVerdict`]):
//!
//! * **Top-1 agreement**: the model's class for the compressed input equals its class for the
//!   original. This is the task-level question "does compression change the decision?", and it
//!   needs no labels: the uncompressed model output stands in for the ground truth.
//! * **Top-5 agreement**: the reference's class is still among the compressed input's five most
//!   probable classes (all classes when there are fewer than five): a softer form of the above.
//! * **Accuracy** (when the item has a label): the compressed input's class is the true class.
//!   Compared with the reference accuracy it shows how much of the model's skill compression
//!   costs; unlike agreement it cannot distinguish "wrong in a new way" from "wrong as before".
//! * **True-class confidence**: the probability the model gives the true class on the
//!   compressed input. It falls before the decision flips, so it shows damage earlier than
//!   accuracy.
//! * **KL divergence** `KL(reference ‖ other)` in nats: how far the whole output distribution
//!   moved, including the classes that were not chosen. 0 when nothing changed. Probabilities
//!   are clamped to at least 10⁻⁷ and renormalised so that a class the compressed input rules
//!   out entirely gives a large but finite value.
//! * **Feature distance**: an LPIPS-like distance between intermediate activations, without
//!   LPIPS's learned channel weights. At each spatial position the channel vector is scaled to
//!   unit length (so only the *pattern* of channel responses counts, not its overall
//!   strength), the squared Euclidean distance between the two unit vectors is averaged over
//!   positions, then over layers. 0 for identical activations, at most 4 (opposite vectors);
//!   orthogonal patterns give 2. It measures how much of the model's internal representation
//!   survived, which can change long before the output does.
//!
//! Over a test set ([`SetAccumulator`] → [`SetSummary`]) each is averaged over items.
//!
//! Nothing here panics on any input: shape mismatches are [`Error::Invalid`].

use mpq_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// One layer's activations of one item, channel-major: `values.len() == channels * positions`
/// (positions = H·W, 1 for a dense layer).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activation {
    pub channels: usize,
    pub values: Vec<f32>,
}

/// A model's output for one item: class probabilities (summing to 1) and activations of some
/// layers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    pub probs: Vec<f32>,
    pub features: Vec<Activation>,
}

/// Floor applied to probabilities before taking logarithms.
const PROB_FLOOR: f64 = 1e-7;
/// Added to a channel vector's norm so that an all-zero vector stays all zero.
const NORM_EPS: f64 = 1e-10;

/// Orders NaN below every number, so a NaN never wins a ranking.
fn rank_key(x: f32) -> f32 {
    if x.is_nan() { f32::NEG_INFINITY } else { x }
}

/// Index of the largest probability, the first one on ties; 0 for an empty slice.
pub fn argmax(p: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in p.iter().enumerate().skip(1) {
        if rank_key(x) > rank_key(p[best]) {
            best = i;
        }
    }
    best
}

/// Indices of the `k` largest probabilities (fewer if `p` is shorter), most probable first,
/// lower index first on ties.
pub fn top_k(p: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    // A stable sort keeps equal probabilities in index order.
    idx.sort_by(|&a, &b| rank_key(p[b]).total_cmp(&rank_key(p[a])));
    idx.truncate(k);
    idx
}

/// `KL(reference ‖ other)` in nats, after clamping each probability to at least 10⁻⁷ (non-finite
/// values count as 10⁻⁷) and renormalising, so that it is finite. 0 for identical inputs; NaN
/// when the lengths differ or are 0 (there is no distribution to compare; [`compare`] reports
/// that as an error).
pub fn kl_divergence(reference: &[f32], other: &[f32]) -> f64 {
    if reference.len() != other.len() || reference.is_empty() {
        return f64::NAN;
    }
    let floored = |x: f32| {
        let x = x as f64;
        if x.is_finite() && x > PROB_FLOOR { x } else { PROB_FLOOR }
    };
    let total_r: f64 = reference.iter().map(|&x| floored(x)).sum();
    let total_o: f64 = other.iter().map(|&x| floored(x)).sum();
    let kl: f64 = reference
        .iter()
        .zip(other)
        .map(|(&r, &o)| {
            let (r, o) = (floored(r) / total_r, floored(o) / total_o);
            r * (r / o).ln()
        })
        .sum();
    // KL is never negative; rounding can leave a few ulps below 0.
    kl.max(0.0)
}

/// Unlearned LPIPS-like distance between two items' activations (see the module docs): per
/// layer, the mean over positions of the squared distance between unit-length channel vectors,
/// then the mean over layers. In [0, 4]; 0 for identical activations and for no layers.
///
/// Layer counts, channel counts and value counts must match, every layer must hold a whole
/// number of positions, and every value must be finite; otherwise [`Error::Invalid`].
pub fn feature_distance(reference: &[Activation], other: &[Activation]) -> Result<f64> {
    if reference.len() != other.len() {
        return Err(Error::Invalid(format!(
            "feature distance: {} layers against {}",
            reference.len(),
            other.len()
        )));
    }
    if reference.is_empty() {
        return Ok(0.0);
    }
    let mut total = 0.0;
    for (layer, (r, o)) in reference.iter().zip(other).enumerate() {
        total += layer_distance(layer, r, o)?;
    }
    Ok(total / reference.len() as f64)
}

fn layer_distance(layer: usize, r: &Activation, o: &Activation) -> Result<f64> {
    let bad = |what: String| Error::Invalid(format!("feature distance, layer {layer}: {what}"));
    if r.channels != o.channels || r.values.len() != o.values.len() {
        return Err(bad(format!(
            "{} channels × {} values against {} × {}",
            r.channels,
            r.values.len(),
            o.channels,
            o.values.len()
        )));
    }
    let channels = r.channels;
    if channels == 0 || r.values.is_empty() || !r.values.len().is_multiple_of(channels) {
        return Err(bad(format!(
            "{} values do not make whole positions of {channels} channels",
            r.values.len()
        )));
    }
    if r.values.iter().chain(&o.values).any(|v| !v.is_finite()) {
        return Err(bad("activations contain NaN or infinity".into()));
    }
    let positions = r.values.len() / channels;
    let at = |v: &[f32], c: usize, p: usize| v[c * positions + p] as f64;
    let mut sum = 0.0;
    for p in 0..positions {
        let norm = |v: &[f32]| (0..channels).map(|c| at(v, c, p).powi(2)).sum::<f64>().sqrt();
        let (nr, no) = (norm(&r.values) + NORM_EPS, norm(&o.values) + NORM_EPS);
        sum += (0..channels)
            .map(|c| (at(&r.values, c, p) / nr - at(&o.values, c, p) / no).powi(2))
            .sum::<f64>();
    }
    Ok(sum / positions as f64)
}

/// How one compressed item fared against its uncompressed reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemVerdict {
    /// The model's class for the uncompressed input.
    pub reference_class: usize,
    /// The model's class for the compressed input.
    pub class: usize,
    pub top1_agree: bool,
    /// The reference's class is within the compressed input's top `min(5, classes)`.
    pub top5_agree: bool,
    pub true_class: Option<usize>,
    pub correct: Option<bool>,
    pub reference_correct: Option<bool>,
    /// The compressed input's probability of the true class.
    pub true_confidence: Option<f64>,
    pub reference_true_confidence: Option<f64>,
    pub kl: f64,
    pub feature_distance: f64,
}

/// Compares a model's output on a compressed item with its output on the original.
/// Probability vectors must have the same, non-zero length and `true_class` must be one of
/// its classes; features must match as for [`feature_distance`].
pub fn compare(
    reference: &Prediction,
    other: &Prediction,
    true_class: Option<usize>,
) -> Result<ItemVerdict> {
    let classes = reference.probs.len();
    if classes == 0 || other.probs.len() != classes {
        return Err(Error::Invalid(format!(
            "cannot compare predictions over {} and {} classes",
            classes,
            other.probs.len()
        )));
    }
    if let Some(t) = true_class.filter(|&t| t >= classes) {
        return Err(Error::Invalid(format!("true class {t} is not one of the {classes} classes")));
    }
    let feature_distance = feature_distance(&reference.features, &other.features)?;
    let reference_class = argmax(&reference.probs);
    let class = argmax(&other.probs);
    Ok(ItemVerdict {
        reference_class,
        class,
        top1_agree: class == reference_class,
        top5_agree: top_k(&other.probs, 5).contains(&reference_class),
        true_class,
        correct: true_class.map(|t| class == t),
        reference_correct: true_class.map(|t| reference_class == t),
        true_confidence: true_class.map(|t| other.probs[t] as f64),
        reference_true_confidence: true_class.map(|t| reference.probs[t] as f64),
        kl: kl_divergence(&reference.probs, &other.probs),
        feature_distance,
    })
}

/// A class and the probability a model gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassProb {
    pub class: String,
    pub p: f32,
}

/// What a model makes of one compressed input, as the page shows it under a side and
/// `mpqlab run` prints it. For a test item of the model's own task, its classes and how they
/// moved; for anything else (a photo), only the feature distance of its convolution blocks,
/// with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Verdict {
    Classes {
        model: String,
        model_name: String,
        /// Where it ran (`cpu`, `webgpu`): set by the caller.
        backend: String,
        infer_ms: f64,
        /// Items per model call (original and compressed together).
        batch: usize,
        /// The item's index in its test subset.
        item: usize,
        true_class: String,
        reference_class: String,
        class: String,
        /// Top classes (at most 5) for the original and for the compressed input.
        reference_top: Vec<ClassProb>,
        top: Vec<ClassProb>,
        verdict: ItemVerdict,
    },
    Features {
        model: String,
        model_name: String,
        backend: String,
        infer_ms: f64,
        feature_distance: f64,
        /// The size both images were compared at (photos are shrunk first).
        width: u32,
        height: u32,
        why: String,
    },
}

impl Verdict {
    pub fn infer_ms(&self) -> f64 {
        match self {
            Verdict::Classes { infer_ms, .. } | Verdict::Features { infer_ms, .. } => *infer_ms,
        }
    }
    pub fn feature_distance(&self) -> f64 {
        match self {
            Verdict::Classes { verdict, .. } => verdict.feature_distance,
            Verdict::Features { feature_distance, .. } => *feature_distance,
        }
    }
}

/// The `k` most probable classes, most probable first.
pub fn top_classes(p: &Prediction, names: &[&str], k: usize) -> Vec<ClassProb> {
    top_k(&p.probs, k.min(names.len())).into_iter().map(|i| ClassProb { class: names[i].to_string(), p: p.probs[i] }).collect()
}

/// Machine-perceptual quality over a test set: each [`ItemVerdict`] field averaged over items
/// (accuracies and confidence over the labelled items only). All zero for no items.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SetSummary {
    pub items: usize,
    /// Share of labelled items the model gets right on compressed inputs; `None` without labels.
    pub accuracy: Option<f64>,
    /// The same on uncompressed inputs.
    pub reference_accuracy: Option<f64>,
    pub top1_agreement: f64,
    pub top5_agreement: f64,
    pub mean_kl: f64,
    pub mean_feature_distance: f64,
    pub mean_true_confidence: Option<f64>,
}

/// Running sums behind a [`SetSummary`], so a sweep need not keep every verdict.
#[derive(Debug, Clone, Default)]
pub struct SetAccumulator {
    items: usize,
    top1: usize,
    top5: usize,
    kl_sum: f64,
    feature_distance_sum: f64,
    labelled: usize,
    correct: usize,
    reference_correct: usize,
    true_confidence_sum: f64,
}

impl SetAccumulator {
    pub fn add(&mut self, v: &ItemVerdict) {
        self.items += 1;
        self.top1 += v.top1_agree as usize;
        self.top5 += v.top5_agree as usize;
        self.kl_sum += v.kl;
        self.feature_distance_sum += v.feature_distance;
        if v.true_class.is_some() {
            self.labelled += 1;
            self.correct += v.correct.unwrap_or(false) as usize;
            self.reference_correct += v.reference_correct.unwrap_or(false) as usize;
            self.true_confidence_sum += v.true_confidence.unwrap_or(0.0);
        }
    }

    pub fn summary(&self) -> SetSummary {
        if self.items == 0 {
            return SetSummary::default();
        }
        let n = self.items as f64;
        let per_labelled = |x: f64| (self.labelled > 0).then(|| x / self.labelled as f64);
        SetSummary {
            items: self.items,
            accuracy: per_labelled(self.correct as f64),
            reference_accuracy: per_labelled(self.reference_correct as f64),
            top1_agreement: self.top1 as f64 / n,
            top5_agreement: self.top5 as f64 / n,
            mean_kl: self.kl_sum / n,
            mean_feature_distance: self.feature_distance_sum / n,
            mean_true_confidence: per_labelled(self.true_confidence_sum),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn act(channels: usize, values: &[f32]) -> Activation {
        Activation { channels, values: values.to_vec() }
    }

    fn pred(probs: &[f32]) -> Prediction {
        Prediction { probs: probs.to_vec(), features: vec![act(2, &[1.0, 0.0, 0.0, 1.0])] }
    }

    #[test]
    fn argmax_and_top_k_break_ties_by_index() {
        assert_eq!(argmax(&[0.1, 0.4, 0.4, 0.1]), 1);
        assert_eq!(argmax(&[0.7, 0.1, 0.2]), 0);
        assert_eq!(argmax(&[f32::NAN, 0.1, 0.2]), 2);
        assert_eq!(argmax(&[]), 0);
        assert_eq!(top_k(&[0.1, 0.3, 0.3, 0.05, 0.25], 3), [1, 2, 4]);
        assert_eq!(top_k(&[0.2, 0.2, 0.2], 5), [0, 1, 2]);
        assert_eq!(top_k(&[0.5, f32::NAN, 0.1], 2), [0, 2]);
        assert!(top_k(&[0.5], 0).is_empty());
    }

    #[test]
    fn kl_matches_a_hand_computed_value() {
        let p = [0.5, 0.5];
        let q = [0.9, 0.1];
        let expected = 0.5 * (0.5f64 / 0.9).ln() + 0.5 * (0.5f64 / 0.1).ln();
        assert!((kl_divergence(&p, &q) - expected).abs() < 1e-6, "{}", kl_divergence(&p, &q));
        assert_eq!(kl_divergence(&q, &q), 0.0);
        // KL is asymmetric.
        assert!((kl_divergence(&q, &p) - kl_divergence(&p, &q)).abs() > 0.1);
        // A class ruled out entirely: large but finite.
        let k = kl_divergence(&[1.0, 0.0], &[0.0, 1.0]);
        assert!(k.is_finite() && k > 10.0, "{k}");
        assert!(kl_divergence(&[0.5, f32::NAN], &[0.5, 0.5]).is_finite());
        assert!(kl_divergence(&[1.0], &[0.5, 0.5]).is_nan());
        assert!(kl_divergence(&[], &[]).is_nan());
    }

    #[test]
    fn feature_distance_of_known_vectors() {
        // Position 0: same direction, different length (0); position 1: orthogonal (2).
        let a = [act(2, &[1.0, 0.0, 0.0, 1.0])]; // channel-major: c0 = [1, 0], c1 = [0, 1]
        let b = [act(2, &[3.0, 1.0, 0.0, 0.0])]; // c0 = [3, 1], c1 = [0, 0]
        let d = feature_distance(&a, &b).unwrap();
        assert!((d - 1.0).abs() < 1e-9, "{d}");
        assert_eq!(feature_distance(&a, &a).unwrap(), 0.0);
        // Opposite vectors give the maximum, 4.
        let c = [act(1, &[2.0]), act(3, &[1.0, 1.0, 1.0])];
        let e = [act(1, &[-5.0]), act(3, &[1.0, 1.0, 1.0])];
        assert!((feature_distance(&c, &e).unwrap() - 2.0).abs() < 1e-9); // (4 + 0) / 2 layers
        // An all-zero vector against a unit one.
        let z = [act(2, &[0.0, 0.0])];
        let u = [act(2, &[0.0, 7.0])];
        assert!((feature_distance(&z, &u).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(feature_distance(&[], &[]).unwrap(), 0.0);
    }

    #[test]
    fn feature_distance_rejects_mismatched_shapes() {
        let a = [act(2, &[1.0, 0.0, 0.0, 1.0])];
        for b in [
            vec![],
            vec![act(1, &[1.0, 0.0, 0.0, 1.0])],
            vec![act(2, &[1.0, 0.0])],
            vec![act(2, &[1.0, 0.0, 0.0, f32::NAN])],
        ] {
            assert!(matches!(feature_distance(&a, &b), Err(Error::Invalid(_))), "{b:?}");
        }
        for bad in [act(0, &[]), act(3, &[1.0, 2.0]), act(2, &[])] {
            let bad = [bad];
            assert!(matches!(feature_distance(&bad, &bad), Err(Error::Invalid(_))), "{bad:?}");
        }
    }

    #[test]
    fn compare_fills_every_field() {
        let reference = pred(&[0.1, 0.6, 0.2, 0.05, 0.05]);
        let other = Prediction {
            probs: vec![0.5, 0.3, 0.1, 0.05, 0.05],
            features: vec![act(2, &[1.0, 0.0, 0.0, -1.0])],
        };
        let v = compare(&reference, &other, Some(1)).unwrap();
        assert_eq!((v.reference_class, v.class), (1, 0));
        assert!(!v.top1_agree && v.top5_agree);
        assert_eq!((v.correct, v.reference_correct), (Some(false), Some(true)));
        assert!((v.true_confidence.unwrap() - 0.3).abs() < 1e-6);
        assert!((v.reference_true_confidence.unwrap() - 0.6).abs() < 1e-6);
        assert!(v.kl > 0.0);
        // Position 0 unchanged (0), position 1 reversed (4).
        assert!((v.feature_distance - 2.0).abs() < 1e-9, "{}", v.feature_distance);

        // Top-5 of more than five classes: class 1 is sixth here.
        let reference = pred(&[0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5]);
        let other = pred(&[0.2, 0.01, 0.2, 0.2, 0.2, 0.19, 0.0]);
        let v = compare(&reference, &other, None).unwrap();
        assert!(!v.top5_agree);
        assert_eq!((v.correct, v.true_confidence), (None, None));

        let same = compare(&reference, &reference, Some(6)).unwrap();
        assert!(same.top1_agree && same.kl == 0.0 && same.feature_distance == 0.0);
        assert_eq!(same.correct, Some(false)); // argmax is the first of the tied classes, 1
    }

    #[test]
    fn compare_rejects_bad_shapes() {
        let a = pred(&[0.5, 0.5]);
        assert!(compare(&a, &pred(&[1.0]), None).is_err());
        assert!(compare(&pred(&[]), &pred(&[]), None).is_err());
        assert!(compare(&a, &a, Some(2)).is_err());
        let no_features = Prediction { probs: vec![0.5, 0.5], features: vec![] };
        assert!(compare(&a, &no_features, None).is_err());
    }

    #[test]
    fn set_summary_averages_items() {
        assert_eq!(SetAccumulator::default().summary(), SetSummary::default());
        let mut acc = SetAccumulator::default();
        let reference = pred(&[0.2, 0.8]);
        acc.add(&compare(&reference, &pred(&[0.3, 0.7]), Some(1)).unwrap());
        acc.add(&compare(&reference, &pred(&[0.9, 0.1]), Some(1)).unwrap());
        acc.add(&compare(&reference, &pred(&[0.4, 0.6]), None).unwrap());
        let s = acc.summary();
        assert_eq!(s.items, 3);
        assert_eq!(s.accuracy, Some(0.5));
        assert_eq!(s.reference_accuracy, Some(1.0));
        assert!((s.top1_agreement - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.top5_agreement, 1.0);
        assert!((s.mean_true_confidence.unwrap() - 0.4).abs() < 1e-6);
        let kl = (kl_divergence(&[0.2, 0.8], &[0.3, 0.7])
            + kl_divergence(&[0.2, 0.8], &[0.9, 0.1])
            + kl_divergence(&[0.2, 0.8], &[0.4, 0.6]))
            / 3.0;
        assert!((s.mean_kl - kl).abs() < 1e-12);

        let mut unlabelled = SetAccumulator::default();
        unlabelled.add(&compare(&reference, &reference, None).unwrap());
        let s = unlabelled.summary();
        assert_eq!((s.accuracy, s.reference_accuracy, s.mean_true_confidence), (None, None, None));
        assert_eq!(s.top1_agreement, 1.0);
    }

    proptest! {
        #[test]
        fn metrics_stay_in_range(
            probs in proptest::collection::vec((0f32..1.0, 0f32..1.0), 1..12),
            feats in proptest::collection::vec((-10f32..10.0, -10f32..10.0), 3..=3),
        ) {
            let (p, q): (Vec<f32>, Vec<f32>) = probs.into_iter().unzip();
            let (a, b): (Vec<f32>, Vec<f32>) = feats.into_iter().unzip();
            prop_assert!(kl_divergence(&p, &q) >= 0.0);
            let d = feature_distance(&[act(3, &a)], &[act(3, &b)]).unwrap();
            prop_assert!((0.0..=4.0 + 1e-9).contains(&d), "{}", d);
            prop_assert!(top_k(&q, 5).contains(&argmax(&q)));
        }

        #[test]
        fn compare_never_panics(
            a in proptest::collection::vec(any::<f32>(), 0..8),
            b in proptest::collection::vec(any::<f32>(), 0..8),
            channels in 0usize..4,
            t in proptest::option::of(0usize..10),
        ) {
            let pa = Prediction { probs: a.clone(), features: vec![act(channels, &a)] };
            let pb = Prediction { probs: b.clone(), features: vec![act(channels, &b)] };
            let _ = compare(&pa, &pb, t);
        }
    }
}
