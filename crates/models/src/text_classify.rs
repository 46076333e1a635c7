//! The text lab's classifiers over a labelled set (language identification, DNA): a text
//! codec's NCD k nearest neighbours, the language model's NCD (its code length as C), and the
//! character n-gram baseline — one [`Method`] each, the same code in the page's workers and in
//! `mpqlab classify`.
//!
//! The language model's C is its network's code length, Σ −log₂ p(byte), in bits / 8: the
//! coder's mixing with context models adapts within one stream, which on records of a few
//! hundred bytes adds noise and no knowledge. C(xy) continues from the state the network
//! reached after the training record x (and the separator), so each training record is read
//! once and each distance costs only the query's length.

use mpq_codecs::text::lm::{bundled, net::State, net::Weights};
use mpq_core::{Codec, Error, Media, Params, Result, Text, codec::ResolvedParams};
use mpq_metrics::classify::{Confusion, LabelledSet};
use mpq_metrics::ncd::{self, Compressor, Decision, NcdIndex, SEPARATOR, TrainDistances};
use mpq_metrics::ngram::NaiveBayes;
use serde::{Deserialize, Serialize};

/// The committed sets (`www/gallery/text/classify/`, built by `scripts/make-classify-data.py`):
/// task id and JSON.
pub const BUNDLED_SETS: [(&str, &str); 2] = [
    ("lang", include_str!("../../../www/gallery/text/classify/lang.json")),
    ("dna", include_str!("../../../www/gallery/text/classify/dna.json")),
];

/// A bundled set by its task id (`lang`, `dna`), parsed and checked.
pub fn bundled_set(task: &str) -> Result<LabelledSet> {
    let (_, json) = BUNDLED_SETS.iter().find(|(t, _)| *t == task).ok_or_else(|| {
        Error::Invalid(format!("no classification task '{task}' (there are: {})", BUNDLED_SETS.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")))
    })?;
    LabelledSet::from_json(json.as_bytes())
}

/// The neighbours that vote, unless a method says otherwise.
pub const DEFAULT_K: usize = 3;

/// How a text is classified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Method {
    /// NCD with a text codec's stream length as C.
    Codec { codec: String, params: Params },
    /// NCD with a bundled language model's code length as C.
    Lm { checkpoint: String },
    /// The baseline: character n-gram naive Bayes, orders 1 … `max_order`.
    Ngram { max_order: usize },
}

impl Method {
    /// `gzip`, `zstd:level=19`, `lm`, `lm:gru256-e1`, `ngram`, `ngram:5` (`ngram` alone: the
    /// task's usual order, [`ngram_order`]).
    pub fn parse(spec: &str, task: &str) -> Result<Method> {
        let (id, rest) = spec.split_once(':').unwrap_or((spec, ""));
        match id {
            "ngram" => {
                let max_order = if rest.is_empty() { ngram_order(task) } else { rest.parse().map_err(|_| Error::Invalid(format!("ngram:{rest}: the order is a number")))? };
                if !(1..=8).contains(&max_order) {
                    return Err(Error::Invalid("the n-gram order is 1 … 8".into()));
                }
                Ok(Method::Ngram { max_order })
            }
            "lm" if !rest.contains('=') => {
                let checkpoint = if rest.is_empty() { bundled::DEFAULT.to_string() } else { rest.to_string() };
                bundled::checkpoint(&checkpoint)?;
                Ok(Method::Lm { checkpoint })
            }
            _ => {
                let codec = mpq_codecs::codec(id)?;
                if codec.modality() != mpq_core::Modality::Text {
                    return Err(Error::Invalid(format!("{id} is not a text codec")));
                }
                let params = mpq_core::codec::parse_param_pairs(rest.split(','))?;
                ResolvedParams::resolve(id, &codec.params(), &params)?;
                Ok(Method::Codec { codec: id.to_string(), params })
            }
        }
    }

    /// The method's name in tables: the spec it was parsed from, normalised.
    pub fn label(&self) -> String {
        match self {
            Method::Codec { codec, params } if params.is_empty() => codec.clone(),
            Method::Codec { codec, params } => {
                format!("{codec}:{}", params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
            }
            Method::Lm { checkpoint } if checkpoint == bundled::DEFAULT => "lm".into(),
            Method::Lm { checkpoint } => format!("lm:{checkpoint}"),
            Method::Ngram { max_order } => format!("ngram:{max_order}"),
        }
    }
}

/// The baseline's n-gram order for a task: characters up to 3 for language identification
/// (as Cavnar & Trenkle), bases up to 8 for DNA (the RDP classifier's 8-mers).
pub fn ngram_order(task: &str) -> usize {
    if task == "dna" { 8 } else { 3 }
}

/// A text codec's stream length.
pub struct CodecLength {
    codec: Box<dyn Codec>,
    params: Params,
}

impl CodecLength {
    pub fn new(id: &str, params: &Params) -> Result<CodecLength> {
        Ok(CodecLength { codec: mpq_codecs::codec(id)?, params: params.clone() })
    }
}

impl Compressor for CodecLength {
    fn compressed_len(&self, bytes: &[u8]) -> Result<f64> {
        Ok(self.codec.encode(&Media::Text(Text { bytes: bytes.to_vec() }), &self.params)?.len() as f64)
    }
}

/// The network's code length of `bytes` in bits, going on from `state`.
fn code_bits(w: &Weights, state: &mut State, bytes: &[u8]) -> f64 {
    let mut bits = 0.0f64;
    for &b in bytes {
        bits -= (state.probs[b as usize] as f64).max(1e-12).log2();
        w.step(state, b);
    }
    bits
}

/// NCD with the language model as C, the training records read once (see the module's note).
pub struct LmDistances {
    weights: &'static Weights,
    /// Per training record: C(x) in bytes and the state after x and the separator.
    train: Vec<(f64, f64, State)>,
}

impl LmDistances {
    pub fn new(checkpoint: &str, train: &[&[u8]]) -> Result<LmDistances> {
        let (weights, _) = bundled::checkpoint(checkpoint)?;
        let train = train
            .iter()
            .map(|x| {
                let mut s = weights.start();
                let cx = code_bits(weights, &mut s, x);
                let sep = code_bits(weights, &mut s, SEPARATOR);
                (cx / 8.0, sep / 8.0, s)
            })
            .collect();
        Ok(LmDistances { weights, train })
    }
}

impl TrainDistances for LmDistances {
    fn distances(&self, query: &[u8]) -> Result<Vec<f64>> {
        let cy = code_bits(self.weights, &mut self.weights.start(), query) / 8.0;
        Ok(self
            .train
            .iter()
            .map(|(cx, sep, state)| {
                let cxy = cx + sep + code_bits(self.weights, &mut state.clone(), query) / 8.0;
                ncd::ncd(*cx, cy, cxy)
            })
            .collect())
    }
}

/// A method made ready over a set's training split.
pub enum Prepared<'a> {
    Distances { index: Box<dyn TrainDistances + 'a>, k: usize },
    Ngram(NaiveBayes),
}

/// The training records a method uses: all of them, or the first `per_label` of each label
/// (in split order) where it is given — the language model's NCD reads each query once per
/// training record at a few tens of kB/s, so its runs use fewer.
pub fn training_subset(set: &LabelledSet, per_label: Option<usize>) -> (Vec<&[u8]>, Vec<usize>) {
    let mut taken = vec![0usize; set.labels.len()];
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for (r, l) in set.train.iter().zip(set.train_labels()) {
        if per_label.is_some_and(|n| taken[l] >= n) {
            continue;
        }
        taken[l] += 1;
        texts.push(r.text().as_bytes());
        labels.push(l);
    }
    (texts, labels)
}

/// How many training records of each label a method uses by default (the page's and the
/// CLI's): all of them (`None`), the language model's first [`LM_TRAIN_PER_LABEL`].
pub fn default_per_label(method: &Method) -> Option<usize> {
    matches!(method, Method::Lm { .. }).then_some(LM_TRAIN_PER_LABEL)
}

/// The training records a method uses by default ([`default_per_label`]).
pub fn default_training<'a>(set: &'a LabelledSet, method: &Method) -> (Vec<&'a [u8]>, Vec<usize>) {
    training_subset(set, default_per_label(method))
}

/// The set with only the first `per_label` test records of each label (split order).
pub fn test_subset(set: &LabelledSet, per_label: usize) -> LabelledSet {
    let mut taken = vec![0usize; set.labels.len()];
    let mut out = set.clone();
    out.test.retain(|r| {
        let l = set.label_index(r.label()).expect("checked on reading");
        taken[l] += 1;
        taken[l] <= per_label
    });
    out
}

/// One classification's answer, whichever the method.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub label: usize,
    /// For the NCD methods: the voting neighbours, nearest first.
    pub decision: Option<Decision>,
}

/// A method, prepared, with the labels of its training records.
pub struct Classifier<'a> {
    pub method: Method,
    prepared: Prepared<'a>,
    pub train_labels: Vec<usize>,
    pub n_labels: usize,
}

impl<'a> Classifier<'a> {
    /// Prepares `method` on `texts`/`labels` (a set's training split or a subset of it).
    pub fn new(method: &Method, texts: Vec<&'a [u8]>, labels: Vec<usize>, n_labels: usize, k: usize) -> Result<Classifier<'a>> {
        let prepared = match method {
            Method::Codec { codec, params } => Prepared::Distances { index: Box::new(NcdIndex::new(CodecLength::new(codec, params)?, texts)?), k },
            Method::Lm { checkpoint } => Prepared::Distances { index: Box::new(LmDistances::new(checkpoint, &texts)?), k },
            Method::Ngram { max_order } => Prepared::Ngram(NaiveBayes::train(&texts, &labels, n_labels, *max_order)),
        };
        Ok(Classifier { method: method.clone(), prepared, train_labels: labels, n_labels })
    }

    /// Classifies one text; an NCD method's decision lists the nearest `listed` neighbours (at
    /// least the k that voted).
    pub fn classify(&self, query: &[u8], listed: usize) -> Result<Answer> {
        match &self.prepared {
            Prepared::Distances { index, k } => {
                let d = ncd::classify(index.as_ref(), &self.train_labels, self.n_labels, *k, listed, query)?;
                Ok(Answer { label: d.label, decision: Some(d) })
            }
            Prepared::Ngram(nb) => Ok(Answer { label: nb.classify(query).label, decision: None }),
        }
    }

    /// Classifies the test records of `set` at `indices` (those past its end are skipped),
    /// counting them into a confusion matrix; `progress(done)` after each.
    pub fn evaluate(&self, set: &LabelledSet, indices: impl IntoIterator<Item = usize>, progress: &mut dyn FnMut(usize)) -> Result<Confusion> {
        let mut confusion = Confusion::new(&set.labels);
        for (n, r) in indices.into_iter().filter_map(|i| set.test.get(i)).enumerate() {
            let truth = set.label_index(r.label()).expect("checked on reading");
            confusion.add(truth, self.classify(r.text().as_bytes(), 0)?.label);
            progress(n + 1);
        }
        Ok(confusion)
    }
}

/// The language model's runs use this many training records per label unless told otherwise.
pub const LM_TRAIN_PER_LABEL: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_sets_read() {
        let set = bundled_set("lang").unwrap();
        assert!(set.labels.len() >= 8);
        assert_eq!(set.task, "lang");
        assert!(bundled_set("nope").is_err());
    }

    #[test]
    fn gzip_and_the_baseline_tell_german_from_english() {
        let set = bundled_set("lang").unwrap();
        let (few, _) = training_subset(&set, Some(20));
        assert_eq!(few.len(), 20 * set.labels.len());
        let (texts, labels) = training_subset(&set, None);
        let de = set.label_index("de").unwrap();
        let sentence = "Die Katze sitzt auf dem Dach und schaut den Vögeln zu, die im Garten nach Würmern suchen.";
        for spec in ["gzip", "ngram:3"] {
            let c = Classifier::new(&Method::parse(spec, "lang").unwrap(), texts.clone(), labels.clone(), set.labels.len(), DEFAULT_K).unwrap();
            assert_eq!(c.classify(sentence.as_bytes(), 0).unwrap().label, de, "{spec}");
        }
    }

    #[test]
    fn the_lm_distances_continue_from_the_training_state() {
        // C(xy) from the cached state equals coding x, the separator and y in one pass.
        let (w, _) = bundled::checkpoint(bundled::DEFAULT).unwrap();
        let x = b"The cat sat on the mat.";
        let y = b"A dog sat on the log.";
        let lm = LmDistances::new(bundled::DEFAULT, &[x]).unwrap();
        let d = lm.distances(y).unwrap()[0];
        let whole = code_bits(w, &mut w.start(), &ncd::joined(x, y)) / 8.0;
        let cx = code_bits(w, &mut w.start(), x) / 8.0;
        let cy = code_bits(w, &mut w.start(), y) / 8.0;
        assert!((d - ncd::ncd(cx, cy, whole)).abs() < 1e-9, "{d}");
    }

    #[test]
    fn methods_parse_and_name_themselves() {
        let parse = |s| Method::parse(s, "lang");
        assert_eq!(parse("gzip").unwrap().label(), "gzip");
        assert_eq!(parse("zstd:level=19").unwrap().label(), "zstd:level=19");
        assert_eq!(parse("lm").unwrap().label(), "lm");
        assert_eq!(parse("lm:gru256-e1").unwrap().label(), "lm:gru256-e1");
        assert_eq!(parse("ngram:4").unwrap(), Method::Ngram { max_order: 4 });
        assert_eq!(parse("ngram").unwrap(), Method::Ngram { max_order: 3 });
        assert_eq!(Method::parse("ngram", "dna").unwrap(), Method::Ngram { max_order: 8 });
        assert!(parse("jpeg").is_err());
        assert!(parse("zstd:level=99").is_err());
        assert!(parse("lm:nope").is_err());
        assert!(parse("ngram:0").is_err());
    }
}
