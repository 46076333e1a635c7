//! The text lab: one text through every text codec (a table and a bar chart of bits per
//! byte, the language-model coder among them), two sides compared, where the language model is
//! surprised (each byte's cost over the text, its top guesses on hover), and compression vs
//! intelligence over the bundled checkpoints (bits per byte against a cloze test's accuracy).
//!
//! The page holds the text (a gallery text it fetches, a paste, a file) and sends it with each
//! request, so a worker holds nothing a restart could lose. The `lm` coder's chunks are coded
//! by a pool of workers, each taking every n-th chunk ([`Request::LmEncode`], then
//! [`Request::LmAssemble`]; [`Request::LmDecode`]): any number of workers writes the same
//! stream, the one `mpqlab compress -c lm` writes.
//!
//! This file is the lab's protocol (compiled everywhere, tested natively); `page/` is its page
//! side, `worker.rs` its worker side.

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod page;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod worker;

use mpq_core::target::{Target, TargetReport};
use mpq_core::{ParamSpec, Params};
use mpq_metrics::text::TextReport;
use serde::{Deserialize, Serialize};

use crate::bridge::WorkerModule;

/// The text lab (its [`Protocol`](crate::bridge::Protocol) is made by the registry).
pub struct Lab;

/// The first bytes of an `lm` stream (`mpq_codecs::text::lm::MAGIC`; a test checks they agree):
/// the page decodes such a file with its pool of workers.
pub const LM_MAGIC: &[u8; 4] = b"MPLM";

/// The surprisal view shows at most this many bytes of the text (one element per character).
pub const SURPRISAL_BYTES: usize = 16 << 10;

/// The text and cloze items of the compression-vs-intelligence plot, in the page's gallery
/// (`mpqlab sweep --model lm --text www/gallery/text/heldout-sample.txt --cloze
/// www/gallery/text/cloze-heldout.json` gives the same numbers).
pub const PLOT_TEXT: &str = "gallery/text/heldout-sample.txt";
pub const PLOT_CLOZE: &str = "gallery/text/cloze-heldout.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// The text codecs with their schemas, and the language model's checkpoints.
    Catalog,
    /// One codec (not `lm`) on `text`: encode, decode, measure; the stream and the decoded
    /// bytes come back (the page compares the decoded bytes' hash with the text's).
    Run {
        codec: String,
        params: Params,
        #[serde(with = "serde_bytes")]
        text: Vec<u8>,
    },
    /// This worker's share of an `lm` encode: chunks `shard`, `shard + shards`, … of `text`.
    LmEncode {
        model: String,
        chunk_len: u32,
        #[serde(with = "serde_bytes")]
        text: Vec<u8>,
        shard: u32,
        shards: u32,
    },
    /// The coded chunks (in order) as one stream.
    LmAssemble { model: String, text_len: u32, chunk_len: u32, chunks: Vec<serde_bytes::ByteBuf> },
    /// This worker's share of decoding an `lm` stream.
    LmDecode {
        #[serde(with = "serde_bytes")]
        stream: Vec<u8>,
        shard: u32,
        shards: u32,
    },
    /// A stream of any text codec back to its text (the codec told by its first bytes, or
    /// `codec`); `lm` streams go to [`Request::LmDecode`].
    Decompress {
        #[serde(with = "serde_bytes")]
        stream: Vec<u8>,
        codec: Option<String>,
    },
    /// Each byte's cost under checkpoint `model`, over the first [`SURPRISAL_BYTES`] of `text`.
    Surprisal {
        model: String,
        #[serde(with = "serde_bytes")]
        text: Vec<u8>,
    },
    /// One checkpoint's point of the compression-vs-intelligence plot ([`PLOT_TEXT`], [`PLOT_CLOZE`]).
    Point { model: String },
    /// The classifier panel: `query` classified by `method` (a `mpqlab classify -c` spec) over
    /// `task`'s bundled training split, with its [`NEIGHBOURS_LISTED`] nearest neighbours.
    Classify { task: String, method: String, query: String },
    /// This worker's share of the accuracy run: test records `shard`, `shard + shards`, ….
    ClassifyEval { task: String, method: String, shard: u32, shards: u32 },
    /// The lossy panel's view of the start of `text` (`mpq_models::lossy_text::view`); with
    /// `target`, at the kept fraction whose lm-coded size comes nearest it (`aim_view`).
    Lossy {
        #[serde(with = "serde_bytes")]
        text: Vec<u8>,
        strategy: String,
        fraction: f64,
        target: Option<Target>,
    },
    /// One point of the lossy-text sweep (the default `mpqlab sweep --model lossy-text`'s).
    LossyPoint { strategy: String, fraction: f64 },
    /// What the log codec finds in `text`, with the stream it writes.
    Logs {
        #[serde(with = "serde_bytes")]
        text: Vec<u8>,
    },
}

/// The worker module a request needs: the text lab runs everything on the CPU.
pub fn module(_request: &Request) -> WorkerModule {
    WorkerModule::Cpu
}

/// The classifier panel lists this many nearest neighbours (the first k vote).
pub const NEIGHBOURS_LISTED: usize = 5;

/// The classifier's language identifier for the lossy panel (the baseline: it is the most
/// accurate on the language split and the fastest).
pub const LOSSY_CLASSIFIER: &str = "ngram";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodecInfo {
    pub id: String,
    pub name: String,
    pub params: Vec<ParamSpec>,
    pub extension: String,
    pub mime: String,
}

/// One run's result: the numbers of `mpqlab eval TEXT -c CODEC`, the stream, the decoded bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ran {
    pub report: TextReport,
    #[serde(with = "serde_bytes")]
    pub encoded: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub decoded: Vec<u8>,
}

/// One byte's cost and the network's guesses there (`mpq_codecs::text::lm::ByteCost`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ByteCost {
    pub bits: f32,
    pub guesses: [(u8, f32); 3],
}

/// One checkpoint's point (`mpq_models::lm_eval::CheckpointPoint`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub model: String,
    pub bits_per_byte: f64,
    pub cloze_accuracy: f64,
    pub text_bytes: usize,
    pub cloze_items: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Catalog { codecs: Vec<CodecInfo>, checkpoints: Vec<String> },
    Ran(Box<Ran>),
    /// Coded chunks of an `lm` encode (index in the text, bytes).
    LmChunks(Vec<(u32, serde_bytes::ByteBuf)>),
    Stream(serde_bytes::ByteBuf),
    /// Decoded chunks of an `lm` decode (index, text), of the stream's `chunk_count`.
    LmDecoded { chunk_count: u32, chunks: Vec<(u32, serde_bytes::ByteBuf)> },
    Decompressed {
        codec: String,
        #[serde(with = "serde_bytes")]
        text: Vec<u8>,
    },
    Surprisal(Vec<ByteCost>),
    Point(Point),
    Classified(Classified),
    /// A share of the accuracy run: its confusion matrix and the milliseconds it took.
    Evaluated { confusion: mpq_metrics::classify::Confusion, ms: f64 },
    /// The lossy panel's view, and the target's search when it aimed for a size.
    Lossy { view: mpq_metrics::lossy_text::LossyView, target: Option<TargetReport> },
    LossyPoint(mpq_metrics::lossy_text::LossyTextPoint),
    Logs { summary: mpq_metrics::text::LogSummary, stream_len: usize },
}

/// One text classified (what `mpqlab classify FILE -c METHOD` prints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classified {
    pub task: String,
    pub method: String,
    pub label: String,
    pub name: String,
    /// For the NCD methods: k, whether the vote tied, each label's votes, the nearest neighbours.
    pub k: usize,
    pub tied: bool,
    pub votes: Vec<(String, u32)>,
    pub neighbours: Vec<Neighbour>,
    pub ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbour {
    pub label: String,
    pub distance: f64,
    pub text: String,
}

/// The shares of `chunks` chunks over `shards` workers: worker k takes k, k + shards, ….
pub fn share(chunks: usize, shard: usize, shards: usize) -> impl ExactSizeIterator<Item = usize> {
    (shard.min(chunks)..chunks).step_by(shards.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_every_chunk_once() {
        for (chunks, shards) in [(0, 3), (1, 3), (5, 3), (7, 1), (2, 6)] {
            let mut all: Vec<usize> = (0..shards).flat_map(|k| share(chunks, k, shards)).collect();
            all.sort();
            assert_eq!(all, (0..chunks).collect::<Vec<_>>(), "{chunks} chunks over {shards}");
        }
    }

    #[test]
    fn the_page_knows_the_lm_streams_magic() {
        assert_eq!(LM_MAGIC, mpq_codecs::text::lm::MAGIC);
        assert_eq!(SURPRISAL_BYTES, 16384);
    }

    #[test]
    fn the_panels_requests_and_answers_travel_as_tagged_messages() {
        let r = crate::labs::AnyRequest::text(Request::ClassifyEval { task: "dna".into(), method: "zstd".into(), shard: 1, shards: 3 });
        assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::json!({ "text": { "ClassifyEval": { "task": "dna", "method": "zstd", "shard": 1, "shards": 3 } } }));
        let c = mpq_metrics::classify::Confusion::new(&["a".into(), "b".into()]);
        let e = Event::Evaluated { confusion: c.clone(), ms: 2.5 };
        let back: Event = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        assert_eq!(LOSSY_CLASSIFIER, "ngram");
    }

    #[test]
    fn runs_travel_as_tagged_messages() {
        let r = crate::labs::AnyRequest::text(Request::Point { model: "gru256-e1".into() });
        assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::json!({ "text": { "Point": { "model": "gru256-e1" } } }));
    }
}
