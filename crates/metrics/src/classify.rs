//! Labelled text sets and how well a classifier does on them: the set (a fixed, committed
//! training/test split, as `www/gallery/text/classify/*.json` holds), the confusion matrix and
//! its accuracy. The classifiers are [`crate::ncd`] (a compressor's k nearest neighbours) and
//! [`crate::ngram`] (the character n-gram baseline).

use mpq_core::{Error, Result, limits};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// At most this many records in a set (train and test together), and this many labels: a set is
/// read before anything is sized from it.
pub const MAX_RECORDS: usize = 100_000;
pub const MAX_LABELS: usize = 64;
/// A record's text at most 64 KiB: the distances concatenate two of them.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// One labelled text: `[label, text]` in the set's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record(pub String, pub String);

impl Record {
    pub fn label(&self) -> &str {
        &self.0
    }
    pub fn text(&self) -> &str {
        &self.1
    }
}

/// A classification task with its fixed split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledSet {
    /// `lang` or `dna`.
    pub task: String,
    pub title: String,
    pub version: u32,
    /// The labels in the order the confusion matrix lists them.
    pub labels: Vec<String>,
    /// Each label's name for people.
    pub names: BTreeMap<String, String>,
    /// Where each label's records came from and under what licence.
    pub sources: serde_json::Value,
    /// How the split was made.
    pub split: String,
    pub train: Vec<Record>,
    pub test: Vec<Record>,
}

impl LabelledSet {
    /// Reads a set's JSON, checking its size, its labels and every record's length first.
    pub fn from_json(bytes: &[u8]) -> Result<LabelledSet> {
        limits::check_file_size(bytes.len())?;
        let set: LabelledSet = serde_json::from_slice(bytes).map_err(|e| Error::Invalid(format!("not a labelled set: {e}")))?;
        set.check()?;
        Ok(set)
    }

    fn check(&self) -> Result<()> {
        if self.labels.is_empty() || self.labels.len() > MAX_LABELS {
            return Err(Error::Invalid(format!("a set needs 1–{MAX_LABELS} labels, this one has {}", self.labels.len())));
        }
        if self.train.len() + self.test.len() > MAX_RECORDS {
            return Err(Error::Invalid(format!("a set holds at most {MAX_RECORDS} records")));
        }
        if self.train.is_empty() {
            return Err(Error::Invalid("the set has no training records".into()));
        }
        for r in self.train.iter().chain(&self.test) {
            if self.label_index(r.label()).is_none() {
                return Err(Error::Invalid(format!("record labelled {:?}, which is not among the set's labels", r.label())));
            }
            if r.text().len() > MAX_RECORD_BYTES {
                return Err(Error::Invalid(format!("a record is {} bytes; at most {MAX_RECORD_BYTES}", r.text().len())));
            }
        }
        Ok(())
    }

    pub fn label_index(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }

    /// The training records' label indices, in order.
    pub fn train_labels(&self) -> Vec<usize> {
        self.train.iter().map(|r| self.label_index(r.label()).expect("checked on reading")).collect()
    }

    pub fn train_texts(&self) -> Vec<&[u8]> {
        self.train.iter().map(|r| r.text().as_bytes()).collect()
    }

    /// The label's name for people (the label itself where the set names none).
    pub fn name(&self, label: &str) -> String {
        self.names.get(label).cloned().unwrap_or_else(|| label.to_string())
    }
}

/// Counts of (true label, predicted label) over a test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confusion {
    pub labels: Vec<String>,
    /// `counts[truth][predicted]`.
    pub counts: Vec<Vec<u64>>,
}

impl Confusion {
    pub fn new(labels: &[String]) -> Confusion {
        Confusion { labels: labels.to_vec(), counts: vec![vec![0; labels.len()]; labels.len()] }
    }

    pub fn add(&mut self, truth: usize, predicted: usize) {
        self.counts[truth][predicted] += 1;
    }

    /// Adds another matrix over the same labels (the page's workers each count a share).
    pub fn merge(&mut self, other: &Confusion) -> Result<()> {
        if other.labels != self.labels {
            return Err(Error::Invalid("the confusion matrices have different labels".into()));
        }
        for (row, o) in self.counts.iter_mut().zip(&other.counts) {
            for (c, x) in row.iter_mut().zip(o) {
                *c += x;
            }
        }
        Ok(())
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    pub fn correct(&self) -> u64 {
        (0..self.labels.len()).map(|i| self.counts[i][i]).sum()
    }

    /// Top-1 accuracy: the share of test records whose one predicted label is the true one.
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total().max(1) as f64
    }

    /// Each label's recall (right among the records that have it); `None` for a label the test
    /// set does not hold.
    pub fn recall(&self) -> Vec<Option<f64>> {
        self.counts
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let n: u64 = row.iter().sum();
                (n > 0).then(|| row[i] as f64 / n as f64)
            })
            .collect()
    }

    /// The matrix as text, rows = true label, columns = predicted.
    pub fn to_text(&self) -> String {
        let w = self.labels.iter().map(|l| l.len()).max().unwrap_or(1).max(4);
        let mut out = format!("{:>w$} ", "true\\");
        for l in &self.labels {
            out += &format!("{l:>w$} ");
        }
        out += " recall\n";
        for (i, row) in self.counts.iter().enumerate() {
            out += &format!("{:>w$} ", self.labels[i]);
            for c in row {
                out += &format!("{c:>w$} ");
            }
            match self.recall()[i] {
                Some(r) => out += &format!(" {:.3}\n", r),
                None => out += "  –\n",
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        vec!["a".into(), "b".into()]
    }

    #[test]
    fn accuracy_counts_the_diagonal() {
        let mut c = Confusion::new(&labels());
        c.add(0, 0);
        c.add(0, 1);
        c.add(1, 1);
        c.add(1, 1);
        assert_eq!(c.total(), 4);
        assert_eq!(c.accuracy(), 0.75);
        assert_eq!(c.recall(), vec![Some(0.5), Some(1.0)]);
        let mut d = Confusion::new(&labels());
        d.add(1, 0);
        c.merge(&d).unwrap();
        assert_eq!(c.accuracy(), 0.6);
        assert!(c.merge(&Confusion::new(&["x".to_string()])).is_err());
    }

    #[test]
    fn sets_are_checked_on_reading() {
        let ok = br#"{"task":"t","title":"","version":1,"labels":["a","b"],"names":{},"sources":{},"split":"","train":[["a","x"],["b","y"]],"test":[["b","z"]]}"#;
        let set = LabelledSet::from_json(ok).unwrap();
        assert_eq!(set.train_labels(), vec![0, 1]);
        let bad = br#"{"task":"t","title":"","version":1,"labels":["a"],"names":{},"sources":{},"split":"","train":[["a","x"]],"test":[["c","z"]]}"#;
        assert!(LabelledSet::from_json(bad).unwrap_err().to_string().contains("\"c\""));
        assert!(LabelledSet::from_json(b"[1,2]").is_err());
    }
}
