//! The text lab's machine perception, worker side: the classifier panel (one text's nearest
//! neighbours, a share of the accuracy run), the lossy panel (one text's view, a point of the
//! sweep) and the log panel. The same `mpq_models` / `mpq_codecs` code as `mpqlab classify`,
//! `mpqlab sweep --model lossy-text` and `mpqlab eval LOG -c logs`.
//!
//! A worker keeps the classifier it prepared last (and the parsed sets, the held-out prose):
//! preparing one reads every training record, and a page asks the same one again and again as a
//! user types. Losing the cache (a terminated worker) only costs that time again.

use std::cell::RefCell;

use mpq_core::target::Target;
use mpq_core::{Error, Media, Result, Text};
use mpq_metrics::classify::LabelledSet;
use mpq_metrics::lossy_text::Strategy;
use mpq_models::lossy_text::{self, LossySweep, PROSE_CONTINUATION, PROSE_ITEMS, PROSE_PREFIX};
use mpq_models::text_classify::{self, Classifier, DEFAULT_K, Method};
use serde::Serialize;

use super::super::{Classified, Event, LOSSY_CLASSIFIER, NEIGHBOURS_LISTED, Neighbour, PLOT_TEXT, share};
use crate::bridge::worker::Ctx;
use crate::js;

struct Prepared {
    task: String,
    method: String,
    texts: Vec<&'static [u8]>,
    classifier: Classifier<'static>,
}

thread_local! {
    static SETS: RefCell<Vec<&'static LabelledSet>> = const { RefCell::new(Vec::new()) };
    static PREPARED: RefCell<Option<Prepared>> = const { RefCell::new(None) };
    static PROSE: RefCell<Option<&'static [u8]>> = const { RefCell::new(None) };
}

/// A bundled set, parsed once per worker (kept for the worker's life: two small sets).
fn set(task: &str) -> Result<&'static LabelledSet> {
    if let Some(s) = SETS.with(|s| s.borrow().iter().find(|s| s.task == task).copied()) {
        return Ok(s);
    }
    let s: &'static LabelledSet = Box::leak(Box::new(text_classify::bundled_set(task)?));
    SETS.with(|sets| sets.borrow_mut().push(s));
    Ok(s)
}

/// Runs `f` with `method` prepared over `task`'s default training records.
fn with_classifier<R>(ctx_progress: &dyn Fn(&str), task: &str, method: &str, f: impl FnOnce(&LabelledSet, &Prepared) -> Result<R>) -> Result<R> {
    let set = set(task)?;
    let cached = PREPARED.with(|p| p.borrow().as_ref().is_some_and(|p| p.task == task && p.method == method));
    if !cached {
        let m = Method::parse(method, task)?;
        ctx_progress(&format!("reading the {} training records", m.label()));
        let (texts, labels) = text_classify::default_training(set, &m);
        let classifier = Classifier::new(&m, texts.clone(), labels, set.labels.len(), DEFAULT_K)?;
        PREPARED.with(|p| *p.borrow_mut() = Some(Prepared { task: task.into(), method: method.into(), texts, classifier }));
    }
    PREPARED.with(|p| f(set, p.borrow().as_ref().expect("prepared above")))
}

pub(super) fn classify<W: Serialize + From<Event>>(ctx: &Ctx<W>, task: &str, method: &str, query: &str) -> Result<()> {
    if query.len() > mpq_metrics::classify::MAX_RECORD_BYTES {
        return Err(Error::Invalid(format!("the text to classify is longer than {} KiB; give a sentence or a paragraph", mpq_metrics::classify::MAX_RECORD_BYTES / 1024)));
    }
    let progress = |s: &str| ctx.progress(s, 0, 1);
    let classified = with_classifier(&progress, task, method, |set, p| {
        ctx.progress("classifying", 0, 1);
        let t = js::now_ms();
        let answer = p.classifier.classify(query.as_bytes(), NEIGHBOURS_LISTED)?;
        let ms = js::now_ms() - t;
        let label = set.labels[answer.label].clone();
        let (k, tied, votes, neighbours) = match &answer.decision {
            Some(d) => (
                DEFAULT_K,
                d.tied,
                set.labels.iter().zip(&d.votes).filter(|(_, v)| **v > 0).map(|(l, v)| (l.clone(), *v)).collect(),
                d.neighbours
                    .iter()
                    .map(|n| Neighbour { label: set.labels[n.label].clone(), distance: n.distance, text: String::from_utf8_lossy(p.texts[n.index]).into_owned() })
                    .collect(),
            ),
            None => (0, false, Vec::new(), Vec::new()),
        };
        Ok(Classified { task: task.into(), method: p.classifier.method.label(), name: set.name(&label), label, k, tied, votes, neighbours, ms })
    })?;
    ctx.event(Event::Classified(classified));
    Ok(())
}

pub(super) fn evaluate<W: Serialize + From<Event>>(ctx: &Ctx<W>, task: &str, method: &str, shard: usize, shards: usize) -> Result<()> {
    let progress = |s: &str| ctx.progress(s, 0, 1);
    let (confusion, ms) = with_classifier(&progress, task, method, |set, p| {
        let mine = share(set.test.len(), shard, shards);
        let total = mine.len() as u32;
        let t = js::now_ms();
        ctx.progress("classifying", 0, total);
        let confusion = p.classifier.evaluate(set, mine, &mut |n| ctx.progress("classifying", n as u32, total))?;
        Ok((confusion, js::now_ms() - t))
    })?;
    ctx.event(Event::Evaluated { confusion, ms });
    Ok(())
}

fn strategy(id: &str) -> Result<Strategy> {
    Strategy::parse(id).ok_or_else(|| Error::Invalid(format!("'{id}' is not a strategy (predictable, random, regular)")))
}

pub(super) fn lossy<W: Serialize + From<Event>>(ctx: &Ctx<W>, text: &[u8], strategy_id: &str, fraction: f64, target: Option<Target>) -> Result<()> {
    let strategy = strategy(strategy_id)?;
    let net = lossy_text::sweep_net()?;
    let progress = |s: &str| ctx.progress(s, 0, 1);
    let (view, target) = with_classifier(&progress, "lang", LOSSY_CLASSIFIER, |set, p| match target {
        None => {
            ctx.progress("dropping words and judging the rest", 0, 1);
            Ok((lossy_text::view(net, &p.classifier, &set.labels, text, strategy, fraction)?, None))
        }
        Some(t) => {
            ctx.progress("searching the kept fraction for the size, then judging the rest", 0, 1);
            let (view, _, report) = lossy_text::aim_view(net, &p.classifier, &set.labels, text, strategy, t)?;
            Ok((view, Some(report)))
        }
    })?;
    ctx.event(Event::Lossy { view, target });
    Ok(())
}

pub(super) async fn lossy_point<W: Serialize + From<Event>>(ctx: &Ctx<W>, strategy_id: &str, fraction: f64) -> Result<()> {
    let strategy = strategy(strategy_id)?;
    let prose = match PROSE.with(|p| *p.borrow()) {
        Some(p) => p,
        None => {
            ctx.progress("fetching the held-out prose", 0, 1);
            let bytes: &'static [u8] = Box::leak(super::fetch(PLOT_TEXT).await?.into_boxed_slice());
            PROSE.with(|p| *p.borrow_mut() = Some(bytes));
            bytes
        }
    };
    let items = lossy_text::prose_items(prose, PROSE_ITEMS, PROSE_PREFIX, PROSE_CONTINUATION);
    let sweep = LossySweep { net: lossy_text::sweep_net()?, lang: set("lang")?, classifier: Method::parse(LOSSY_CLASSIFIER, "lang")?, prose: items };
    let point = sweep.point(strategy, fraction, &mut |done, total| ctx.progress("classifying, then reading the continuations", done as u32, total as u32))?;
    ctx.event(Event::LossyPoint(point));
    Ok(())
}

pub(super) fn logs<W: Serialize + From<Event>>(ctx: &Ctx<W>, text: Vec<u8>) -> Result<()> {
    mpq_core::limits::check_text_len(text.len())?;
    ctx.progress("finding the templates and trying each back-end", 0, 1);
    let codec = mpq_codecs::codec("logs")?;
    let media = Media::Text(Text { bytes: text });
    let stream = codec.encode(&media, &mpq_core::Params::new())?;
    let Media::Text(text) = media else { unreachable!("made above") };
    let summary = mpq_codecs::text::logs::summary(&text.bytes, &stream, 12)?;
    ctx.event(Event::Logs { summary, stream_len: stream.len() });
    Ok(())
}
