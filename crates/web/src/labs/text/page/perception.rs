//! The text lab's machine-perception panels, page side: the classifier (a sentence's nearest
//! neighbours under a codec's NCD, and the accuracy of a method over the bundled split, shared
//! over the pool of workers), the lossy panel (the shown text with the dropped words marked, and
//! the sweep over the kept fraction), and the log panel (what the log codec finds in the shown
//! text, beside gzip, `zstd -19` and `xz -9`).
//!
//! Their jobs run on the same pool, one at a time, after the codec table and the surprisal
//! view ([`next`] is called by the page's `pump`). The panels' settings are part of the link.

use mpq_core::experiment::text::{ClassifyPanel, LossyPanel};
use mpq_core::target::TargetReport;
use mpq_core::{ParamValue, Params};
use mpq_metrics::classify::Confusion;
use mpq_metrics::lossy_text::{DEFAULT_FRACTIONS, LossyTextPoint, LossyTextSweep, LossyView, Strategy, VIEW_TEXT_BYTES};
use mpq_metrics::text::LogSummary;
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlButtonElement, HtmlElement, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement, KeyboardEvent};

use super::super::{Classified, Event as LabEvent, LOSSY_CLASSIFIER, Request};
use super::{Job, Outcome, Page, RunKey, with_page};
use crate::bridge::{JobId, Notice};
use crate::ui::dom::{Row, json};
use crate::ui::history::Step;
use crate::ui::{self, append, by_id, el, on, set_data, table, text_el};
use crate::{format, js};


/// A job of these panels.
pub(super) enum PJob {
    Classify { key: ClassifyPanel, job: JobId },
    Eval(EvalRun),
    Lossy { key: LossyPanel, sha: String, job: JobId },
    /// Jobs as (job, worker, point): job ids are counted per worker.
    Sweep { jobs: Vec<(JobId, usize, usize)>, points: Vec<Option<LossyTextPoint>>, progress: Vec<f64> },
    Logs { sha: String, job: JobId },
}

pub(super) struct EvalRun {
    task: String,
    method: String,
    /// Per worker (the index): its job, records done and total, finished.
    shares: Vec<(JobId, f64, f64, bool)>,
    confusion: Option<Confusion>,
    started_ms: f64,
    worker_ms: f64,
}

/// One measured method.
struct EvalRow {
    task: String,
    method: String,
    confusion: Confusion,
    wall_ms: f64,
    workers: usize,
}

#[derive(Default)]
pub(super) struct State {
    /// The classification on screen (or its failure), for the panel's settings it answers.
    classified: Option<(ClassifyPanel, Result<Classified, String>)>,
    evals: Vec<EvalRow>,
    /// (task, method) asked to be measured, until it is.
    eval_wanted: Option<(String, String)>,
    /// The lossy view (or its failure), for its settings and the text's hash.
    /// The view, with the target's search when the panel aimed for a size.
    lossy: Option<(LossyPanel, String, Result<(LossyView, Option<TargetReport>), String>)>,
    sweep_wanted: bool,
    sweep_points: Vec<LossyTextPoint>,
    sweep_failed: Option<String>,
    /// The log panel's findings (or failure), for the text's hash.
    logs: Option<(String, Result<(LogSummary, usize), String>)>,
}

fn text_of<T: JsCast>(id: &str, f: impl Fn(&T) -> String) -> String {
    by_id::<T>(id).map(|e| f(&e)).unwrap_or_default()
}

pub(super) fn wire() {
    let on_change = |id: &str, f: fn(&mut Page, String)| {
        if let Some(s) = by_id::<HtmlSelectElement>(id) {
            on::<Event>(&s, "change", move |e| {
                let v = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
                with_page(|p| f(p, v));
            });
        }
    };
    on_change("tx-clf-task", |p, v| {
        p.exp.classify.task = v;
        changed(p, Step::Push);
    });
    on_change("tx-clf-method", |p, v| {
        p.exp.classify.method = v;
        changed(p, Step::Push);
    });
    on_change("tx-lossy-strategy", |p, v| {
        p.exp.lossy.strategy = v;
        changed(p, Step::Push);
    });
    if let Some(r) = by_id::<HtmlInputElement>("tx-lossy-keep") {
        on::<Event>(&r, "input", |e| {
            let v = e.target().map(|t| t.unchecked_into::<HtmlInputElement>().value_as_number()).unwrap_or(f64::NAN);
            if v.is_finite() && (1.0..=20.0).contains(&v) {
                with_page(|p| {
                    p.exp.lossy.keep_twentieths = v as u8;
                    changed(p, Step::Gesture);
                });
            }
        });
    }
    let click = |id: &str, f: fn(&mut Page)| {
        if let Some(b) = by_id::<HtmlButtonElement>(id) {
            on::<Event>(&b, "click", move |_| {
                with_page(f);
            });
        }
    };
    click("tx-clf-run", use_query);
    click("tx-clf-eval", |p| {
        p.perception.eval_wanted = Some((p.exp.classify.task.clone(), p.exp.classify.method.clone()));
        eval_status("waiting for the workers…", "running");
        p.pump();
    });
    click("tx-lossy-sweep", |p| {
        let s = &mut p.perception;
        s.sweep_wanted = true;
        s.sweep_points.clear();
        s.sweep_failed = None;
        render_sweep(p);
        p.pump();
    });
    if let Some(t) = by_id::<HtmlTextAreaElement>("tx-clf-query") {
        on::<KeyboardEvent>(&t, "keydown", |e| {
            if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                e.prevent_default();
                with_page(use_query);
            }
        });
    }
}

fn use_query(p: &mut Page) {
    let q = text_of::<HtmlTextAreaElement>("tx-clf-query", |t| t.value());
    if q.trim().is_empty() {
        ui::show_error("Nothing to classify: type or paste a sentence first.");
        return;
    }
    if q.len() > mpq_core::experiment::text::MAX_PASTE_BYTES {
        ui::show_error(&format!("The classifier takes up to {} bytes here (a sentence or a paragraph).", mpq_core::experiment::text::MAX_PASTE_BYTES));
        return;
    }
    p.exp.classify.query = q;
    changed(p, Step::Push);
}

/// A panel setting changed: into the link, on screen, and the next job.
fn changed(p: &mut Page, step: Step) {
    p.commit(step);
    render(p);
    p.pump();
}

/// The methods the classifier panel offers: every text codec but `lm` and `logs` (on records
/// without fields it is its back-end plus a header), then `lm` and the n-gram baseline.
fn methods(p: &Page) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = p
        .codecs
        .iter()
        .flatten()
        .filter(|c| !["lm", "logs"].contains(&c.id.as_str()))
        .map(|c| (c.id.clone(), format!("{} (NCD)", c.name)))
        .collect();
    out.push(("lm".into(), "the language model's code length (NCD, 10 records per label)".into()));
    out.push(("ngram".into(), "baseline: character n-gram naive Bayes".into()));
    out
}

/// Replaces a method this page does not know by the default (called when the catalog is in).
pub(super) fn validate(p: &mut Page, problems: &mut Vec<String>) {
    if p.codecs.is_none() {
        return;
    }
    let id = p.exp.classify.method.split(':').next().unwrap_or_default().to_string();
    if !methods(p).iter().any(|(m, _)| *m == id) {
        problems.push(format!("there is no classifier method '{id}'"));
        p.exp.classify.method = ClassifyPanel::default().method;
    }
}

/// Extra runs for the log panel's comparison: the reference tools' strongest settings.
pub(super) fn extra_runs(p: &Page) -> Vec<RunKey> {
    [("zstd", 19), ("xz", 9)]
        .into_iter()
        .filter_map(|(id, level)| p.run_key(&mpq_core::experiment::image::Side::new(id, Params::from([("level".into(), ParamValue::Int(level))]))))
        .collect()
}

/// Starts the next job these panels need, if any.
pub(super) fn next(p: &mut Page) -> bool {
    let Some(sha) = p.shown.as_ref().map(|s| s.sha256.clone()) else { return false };
    let q = p.exp.classify.clone();
    if !q.query.is_empty() && p.perception.classified.as_ref().is_none_or(|(k, _)| *k != q) {
        classify_status("classifying…", "running");
        let job = p.submit(0, Request::Classify { task: q.task.clone(), method: q.method.clone(), query: q.query.clone() });
        p.job = Some(Job::Perception(PJob::Classify { key: q, job }));
        return true;
    }
    let l = p.exp.lossy.clone();
    if p.perception.lossy.as_ref().is_none_or(|(k, s, _)| *k != l || *s != sha) {
        let text = p.shown.as_ref().map(|s| s.bytes[..s.bytes.len().min(VIEW_TEXT_BYTES)].to_vec()).unwrap_or_default();
        lossy_status("dropping words…", "running");
        let job = p.submit(0, Request::Lossy { text, strategy: l.strategy.clone(), fraction: l.fraction(), target: l.target });
        p.job = Some(Job::Perception(PJob::Lossy { key: l, sha, job }));
        return true;
    }
    if p.perception.logs.as_ref().is_none_or(|(s, _)| *s != sha) {
        let text = p.shown.as_ref().map(|s| s.bytes.clone()).unwrap_or_default();
        logs_status("finding templates…", "running");
        let job = p.submit(0, Request::Logs { text });
        p.job = Some(Job::Perception(PJob::Logs { sha, job }));
        return true;
    }
    if let Some((task, method)) = p.perception.eval_wanted.take() {
        let n = p.pool.len();
        let shares = (0..n).map(|k| (p.submit(k, Request::ClassifyEval { task: task.clone(), method: method.clone(), shard: k as u32, shards: n as u32 }), 0.0, 0.0, false)).collect();
        eval_status(&format!("{method}: classifying the test split in {n} workers…"), "running");
        p.job = Some(Job::Perception(PJob::Eval(EvalRun { task, method, shares, confusion: None, started_ms: js::now_ms(), worker_ms: 0.0 })));
        return true;
    }
    if p.perception.sweep_wanted && p.perception.sweep_points.is_empty() && p.perception.sweep_failed.is_none() {
        let n = p.pool.len();
        let plan: Vec<(Strategy, f64)> = Strategy::ALL.into_iter().flat_map(|s| DEFAULT_FRACTIONS.iter().map(move |&f| (s, f))).collect();
        let jobs = plan.iter().enumerate().map(|(i, (s, f))| (p.submit(i % n, Request::LossyPoint { strategy: s.id().into(), fraction: *f }), i % n, i)).collect();
        sweep_status(&format!("{} points in {n} workers…", plan.len()), "running");
        p.job = Some(Job::Perception(PJob::Sweep { jobs, points: vec![None; plan.len()], progress: vec![0.0; plan.len()] }));
        return true;
    }
    false
}

/// A panel job after one notice from `worker` (`None`: finished or failed).
pub(super) fn advance(p: &mut Page, job: PJob, worker: usize, notice: Notice<LabEvent>) -> Option<Job> {
    let id = notice.job();
    let keep = |j: PJob| Some(Job::Perception(j));
    match job {
        PJob::Classify { key, job } if job == id && worker == 0 => match notice {
            Notice::Event { event: LabEvent::Classified(c), .. } => {
                p.perception.classified = Some((key.clone(), Ok(c)));
                render_classified(p);
                keep(PJob::Classify { key, job })
            }
            Notice::Failed { message, .. } => {
                p.perception.classified = Some((key, Err(message)));
                render_classified(p);
                None
            }
            Notice::Progress { stage, .. } => {
                classify_status(&format!("{stage}…"), "running");
                keep(PJob::Classify { key, job })
            }
            Notice::Done { .. } => None,
            _ => keep(PJob::Classify { key, job }),
        },
        PJob::Lossy { key, sha, job } if job == id && worker == 0 => match notice {
            Notice::Event { event: LabEvent::Lossy { view, target }, .. } => {
                p.perception.lossy = Some((key.clone(), sha.clone(), Ok((view, target))));
                render_lossy(p);
                keep(PJob::Lossy { key, sha, job })
            }
            Notice::Failed { message, .. } => {
                p.perception.lossy = Some((key, sha, Err(message)));
                render_lossy(p);
                None
            }
            Notice::Done { .. } => None,
            _ => keep(PJob::Lossy { key, sha, job }),
        },
        PJob::Logs { sha, job } if job == id && worker == 0 => match notice {
            Notice::Event { event: LabEvent::Logs { summary, stream_len }, .. } => {
                p.perception.logs = Some((sha.clone(), Ok((summary, stream_len))));
                render_logs(p);
                keep(PJob::Logs { sha, job })
            }
            Notice::Failed { message, .. } => {
                p.perception.logs = Some((sha, Err(message)));
                render_logs(p);
                None
            }
            Notice::Done { .. } => None,
            _ => keep(PJob::Logs { sha, job }),
        },
        PJob::Eval(mut run) => {
            let Some(share) = run.shares.get_mut(worker).filter(|s| s.0 == id) else { return keep(PJob::Eval(run)) };
            match notice {
                Notice::Progress { done, total, .. } => {
                    (share.1, share.2) = (done, total);
                    let (d, t) = run.shares.iter().fold((0.0, 0.0), |a, s| (a.0 + s.1, a.1 + s.2));
                    let rate = d / ((js::now_ms() - run.started_ms) / 1000.0).max(1e-3);
                    let text = format!("{}: {d:.0} of {t:.0} test records — {rate:.1} per second", run.method);
                    eval_status(&text, "running");
                    p.status(&text, "running", Some(if t > 0.0 { d / t } else { 0.0 }));
                }
                Notice::Event { event: LabEvent::Evaluated { confusion, ms }, .. } => {
                    run.worker_ms += ms;
                    match &mut run.confusion {
                        None => run.confusion = Some(confusion),
                        Some(c) => {
                            if let Err(e) = c.merge(&confusion) {
                                p.stop_pool_jobs();
                                eval_status(&format!("⚠ {e}"), "error");
                                return None;
                            }
                        }
                    }
                }
                Notice::Event { .. } => {}
                Notice::Done { .. } => {
                    share.3 = true;
                    if run.shares.iter().all(|s| s.3) {
                        let wall_ms = js::now_ms() - run.started_ms;
                        let Some(confusion) = run.confusion else { return None };
                        let row = EvalRow { task: run.task, method: run.method, confusion, wall_ms, workers: run.shares.len() };
                        eval_status(&format!("{}: {:.1} % of {} test records", row.method, 100.0 * row.confusion.accuracy(), row.confusion.total()), "done");
                        p.perception.evals.retain(|r| (r.task.as_str(), r.method.as_str()) != (row.task.as_str(), row.method.as_str()));
                        p.perception.evals.push(row);
                        render_evals(p);
                        p.status("", "idle", None);
                        return None;
                    }
                }
                Notice::Failed { message, .. } => {
                    p.stop_pool_jobs();
                    eval_status(&format!("⚠ {message}"), "error");
                    p.status("", "idle", None);
                    return None;
                }
            }
            keep(PJob::Eval(run))
        }
        PJob::Sweep { jobs, mut points, mut progress } => {
            let Some(i) = jobs.iter().find(|&&(j, w, _)| j == id && w == worker).map(|&(_, _, i)| i) else { return keep(PJob::Sweep { jobs, points, progress }) };
            match notice {
                Notice::Event { event: LabEvent::LossyPoint(pt), .. } => {
                    points[i] = Some(pt);
                    progress[i] = 1.0;
                    p.perception.sweep_points = points.iter().flatten().cloned().collect();
                    render_sweep(p);
                    if points.iter().all(Option::is_some) {
                        sweep_status(&format!("{} points measured", points.len()), "done");
                        p.status("", "idle", None);
                        return None;
                    }
                }
                Notice::Progress { done, total, .. } => {
                    progress[i] = done / total.max(1.0);
                    let f = progress.iter().sum::<f64>() / progress.len() as f64;
                    sweep_status(&format!("{} of {} points measured ({:.0} %)…", points.iter().flatten().count(), points.len(), 100.0 * f), "running");
                    p.status("lossy-text sweep…", "running", Some(f));
                }
                Notice::Failed { message, .. } => {
                    p.stop_pool_jobs();
                    p.perception.sweep_failed = Some(message.clone());
                    sweep_status(&format!("⚠ {message}"), "error");
                    return None;
                }
                _ => {}
            }
            keep(PJob::Sweep { jobs, points, progress })
        }
        other => keep(other),
    }
}

/// Cancel pressed during a panel's job: it is marked so, and not started again by itself.
pub(super) fn cancelled(p: &mut Page, job: PJob) {
    match job {
        PJob::Classify { key, .. } => p.perception.classified = Some((key, Err("cancelled — press Classify again".into()))),
        PJob::Lossy { key, sha, .. } => p.perception.lossy = Some((key, sha, Err("cancelled — move the slider to run it again".into()))),
        PJob::Logs { sha, .. } => p.perception.logs = Some((sha, Err("cancelled".into()))),
        PJob::Eval(_) => eval_status("cancelled", "cancelled"),
        PJob::Sweep { .. } => {
            p.perception.sweep_failed = Some("cancelled".into());
            sweep_status("cancelled", "cancelled");
        }
    }
    render(p);
}

fn stage(id: &str, text: &str, state: &str) {
    if let Some(s) = by_id::<HtmlElement>(id) {
        ui::sides::stage(&s, text, state);
    }
}
fn classify_status(text: &str, state: &str) {
    stage("tx-clf-status", text, state);
}
fn eval_status(text: &str, state: &str) {
    stage("tx-clf-eval-status", text, state);
}
fn lossy_status(text: &str, state: &str) {
    stage("tx-lossy-status", text, state);
}
fn sweep_status(text: &str, state: &str) {
    stage("tx-lossy-sweep-status", text, state);
}
fn logs_status(text: &str, state: &str) {
    stage("tx-logs-status", text, state);
}

/// Every panel from the page's state.
pub(super) fn render(p: &Page) {
    if let Some(s) = by_id::<HtmlSelectElement>("tx-clf-task") {
        s.set_value(&p.exp.classify.task);
    }
    if let Some(s) = by_id::<HtmlSelectElement>("tx-clf-method") {
        let mut options = methods(p);
        let m = &p.exp.classify.method;
        if !options.iter().any(|(id, _)| id == m) {
            options.push((m.clone(), m.clone()));
        }
        s.set_text_content(None);
        for (id, name) in &options {
            let o = text_el("option", "", name);
            let _ = o.set_attribute("value", id);
            append(&s, &[&o]);
        }
        s.set_value(m);
    }
    if let Some(t) = by_id::<HtmlTextAreaElement>("tx-clf-query") {
        if !p.exp.classify.query.is_empty() && t.value() != p.exp.classify.query {
            t.set_value(&p.exp.classify.query);
        }
    }
    if let Some(s) = by_id::<HtmlSelectElement>("tx-lossy-strategy") {
        s.set_value(&p.exp.lossy.strategy);
    }
    ui::target::field_in("tx-lossy-target-slot", "tx-lossy-target", &ui::target::TEXT_UNITS, p.exp.lossy.target, |t| {
        with_page(|p| {
            p.exp.lossy.target = t;
            changed(p, Step::Push);
        });
    });
    render_classified(p);
    render_evals(p);
    render_lossy(p);
    render_sweep(p);
    render_logs(p);
}

fn render_classified(p: &Page) {
    let (Some(result), Some(nb)) = (by_id::<HtmlElement>("tx-clf-result"), by_id::<HtmlElement>("tx-clf-neighbours")) else { return };
    let q = &p.exp.classify;
    let shown = p.perception.classified.as_ref().filter(|(k, _)| k == q);
    match shown.map(|(_, r)| r) {
        None => {
            result.set_text_content(Some(if q.query.is_empty() { "Type or paste a sentence above and press Classify." } else { "" }));
            set_data(&result, "label", "");
            table(&nb, &[], &[]);
        }
        Some(Err(e)) => {
            result.set_text_content(Some(&format!("⚠ {e}")));
            set_data(&result, "label", "");
            table(&nb, &[], &[]);
            classify_status("", "error");
        }
        Some(Ok(c)) => {
            let votes: Vec<String> = c.votes.iter().map(|(l, v)| format!("{l} {v}")).collect();
            let how = if c.neighbours.is_empty() {
                format!("by {} in {:.0} ms", c.method, c.ms)
            } else {
                format!("by {}: the {} nearest of the training records voted ({}){} — {:.0} ms", c.method, c.k, votes.join(", "), if c.tied { ", a tie broken by the nearest" } else { "" }, c.ms)
            };
            result.set_text_content(Some(&format!("Predicted: {} ({}), {how}", c.name, c.label)));
            set_data(&result, "label", &c.label);
            set_data(&result, "method", &c.method);
            let rows: Vec<Row> = c
                .neighbours
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let excerpt: String = n.text.chars().take(120).collect();
                    let more = if excerpt.len() < n.text.len() { "…" } else { "" };
                    Row {
                        cells: vec![format!("{}{}", i + 1, if i < c.k { " ✓" } else { "" }), n.label.clone(), format!("{:.4}", n.distance), format!("{excerpt}{more}")],
                        data: vec![("label", n.label.clone()), ("distance", n.distance.to_string())],
                        note: None,
                    }
                })
                .collect();
            table(&nb, &["Neighbour (✓ voted)", "Label", "NCD", "Training record"], &rows);
            classify_status("", "done");
        }
    }
}

fn render_evals(p: &Page) {
    let task = &p.exp.classify.task;
    let rows: Vec<Row> = p
        .perception
        .evals
        .iter()
        .filter(|r| &r.task == task)
        .map(|r| {
            let per_s = r.confusion.total() as f64 / (r.wall_ms / 1000.0).max(1e-6);
            Row {
                cells: vec![r.method.clone(), format!("{:.1} %", 100.0 * r.confusion.accuracy()), r.confusion.total().to_string(), format!("{per_s:.1}"), r.workers.to_string()],
                data: vec![("method", r.method.clone()), ("accuracy", r.confusion.accuracy().to_string()), ("per-second", per_s.to_string())],
                note: None,
            }
        })
        .collect();
    if let Some(t) = by_id::<HtmlElement>("tx-clf-accuracy") {
        table(&t, &["Method", "Top-1 accuracy", "Test records", "Classifications / s", "Workers"], &rows);
    }
    // The confusion matrix of the panel's method, when measured.
    let Some(box_) = by_id::<HtmlElement>("tx-clf-confusion") else { return };
    box_.set_text_content(None);
    let Some(r) = p.perception.evals.iter().find(|r| &r.task == task && r.method == p.exp.classify.method) else { return };
    set_data(&box_, "method", &r.method);
    set_data(&box_, "accuracy", &r.confusion.accuracy().to_string());
    let c = &r.confusion;
    let t = el("table", "bench-table confusion", &[("aria-label", &format!("Confusion matrix of {}", r.method))]);
    let head = el("tr", "", &[]);
    append(&head, &[&text_el("th", "", "true ↓ · predicted →")]);
    for l in &c.labels {
        append(&head, &[&text_el("th", "", l)]);
    }
    append(&head, &[&text_el("th", "", "recall")]);
    append(&t, &[&head]);
    let recall = c.recall();
    for (i, l) in c.labels.iter().enumerate() {
        let tr = el("tr", "", &[]);
        append(&tr, &[&text_el("th", "", l)]);
        for j in 0..c.labels.len() {
            let n = c.counts[i][j];
            let cell = text_el("td", if i == j { "diag" } else if n > 0 { "off" } else { "" }, &n.to_string());
            append(&tr, &[&cell]);
        }
        append(&tr, &[&text_el("td", "", &recall[i].map_or("–".into(), |r| format!("{:.0} %", 100.0 * r)))]);
        append(&t, &[&tr]);
    }
    append(&box_, &[&text_el("h4", "", &format!("Confusion matrix: {}", r.method)), &t]);
}

/// The kept-fraction slider and its number. With a target the slider is locked: the search
/// sets the kept fraction (shown once found).
fn render_keep(p: &Page) {
    let aimed = aimed_fraction(p);
    if let Some(r) = by_id::<HtmlInputElement>("tx-lossy-keep") {
        r.set_value(&p.exp.lossy.keep_twentieths.to_string());
        r.set_disabled(p.exp.lossy.target.is_some());
        r.set_title(if p.exp.lossy.target.is_some() { "Set by the target size" } else { "" });
    }
    if let Some(o) = by_id::<HtmlElement>("tx-lossy-keep-value") {
        let shown = match (p.exp.lossy.target, aimed) {
            (None, _) => format!("{:.2}", p.exp.lossy.fraction()),
            (Some(_), Some(f)) => format!("{f:.2}"),
            (Some(_), None) => "…".into(),
        };
        o.set_text_content(Some(&shown));
    }
}

/// The lossy panel's result for the panel's settings and the text on screen, if it is in.
fn current_lossy(p: &Page) -> Option<&Result<(LossyView, Option<TargetReport>), String>> {
    let sha = p.shown.as_ref().map(|s| s.sha256.as_str()).unwrap_or_default();
    p.perception.lossy.as_ref().filter(|(k, s, _)| *k == p.exp.lossy && s == sha).map(|(_, _, r)| r)
}

/// The kept fraction the target's search chose for the view on screen.
fn aimed_fraction(p: &Page) -> Option<f64> {
    match current_lossy(p)?.as_ref().ok()?.1.as_ref()?.value.as_ref()? {
        ParamValue::Int(pct) => Some(*pct as f64 / 100.0),
        _ => None,
    }
}

fn render_lossy(p: &Page) {
    let (Some(info), Some(view)) = (by_id::<HtmlElement>("tx-lossy-info"), by_id::<HtmlElement>("tx-lossy-text")) else { return };
    let current = current_lossy(p);
    view.set_text_content(None);
    for k in ["data-kept", "data-label-original", "data-label-kept", "data-top1"] {
        let _ = info.remove_attribute(k);
    }
    render_keep(p);
    let line = by_id::<HtmlElement>("tx-lossy-target-result");
    let report = current.and_then(|r| r.as_ref().ok()).and_then(|(_, t)| t.as_ref());
    if let Some(l) = &line {
        ui::target::show_result(l, report);
    }
    match current {
        None => {
            info.set_text_content(Some(""));
            lossy_status("", "idle");
        }
        Some(Err(e)) => {
            info.set_text_content(Some(&format!("⚠ {e}")));
            lossy_status("", "error");
        }
        Some(Ok((v, _))) => {
            let Some(bytes) = p.shown.as_ref().map(|s| &s.bytes[..v.prefix_len.min(s.bytes.len())]) else { return };
            let lead = v.words.first().map_or(bytes.len(), |w| w[0]);
            append(&view, &[&text_el("span", "", &String::from_utf8_lossy(&bytes[..lead]))]);
            for (w, &k) in v.words.iter().zip(&v.kept) {
                let part = String::from_utf8_lossy(&bytes[w[0].min(bytes.len())..w[1].min(bytes.len())]);
                append(&view, &[&text_el(if k { "span" } else { "del" }, "", &part)]);
            }
            let agree = if v.label_original == v.label_kept { "the same" } else { "changed" };
            let lm = match (v.lm_top1_agreement, v.lm_kl_bits) {
                (Some(t), Some(k)) => format!(" On the next {} of the text the model's most likely next byte is the same at {:.1} % of positions (KL {:.3} bits).", format::bytes(v.continuation_len), 100.0 * t, k),
                _ => " (The text has nothing after this part for the model's verdict.)".into(),
            };
            let n = v.prefix_len.max(1) as f64;
            info.set_text_content(Some(&format!(
                "Kept {} of {} ({:.1} %); the lm coder's bits per original byte {:.3} → {:.3}. Language identified ({LOSSY_CLASSIFIER}): {} → {} ({agree}).{lm}",
                format::bytes(v.kept_bytes),
                format::bytes(v.prefix_len),
                100.0 * v.kept_bytes as f64 / n,
                v.bits_original / n,
                v.bits_kept / n,
                v.label_original,
                v.label_kept,
            )));
            set_data(&info, "kept", &v.kept_bytes.to_string());
            set_data(&info, "label-original", &v.label_original);
            set_data(&info, "label-kept", &v.label_kept);
            set_data(&info, "top1", &json(&v.lm_top1_agreement));
            lossy_status("", "done");
        }
    }
}

/// The lossy sweep's points so far, as `mpqlab sweep --model lossy-text` writes them.
fn lossy_sweep(p: &Page) -> Option<LossyTextSweep> {
    let points = &p.perception.sweep_points;
    if points.is_empty() {
        return None;
    }
    let model = p.checkpoints.first().cloned().unwrap_or_default();
    Some(LossyTextSweep { classifier: format!("{LOSSY_CLASSIFIER}:3"), model, points: points.clone() })
}

/// The lossy sweep's export (`kind`: csv, json, svg, png): the CLI's CSV, JSON and plot.
pub(super) fn export_lossy(p: &Page, kind: &str) {
    let Some(sweep) = lossy_sweep(p) else { return };
    let stem = "mpqlab-text-lossy-sweep";
    match kind {
        "csv" => ui::export::download_csv_text(stem, &sweep.to_csv()),
        "json" => ui::export::download_json("lossy-text-sweep", stem, &sweep.to_json()),
        "svg" => ui::export::download_svg(stem, &sweep.plot_svg()),
        _ => ui::export::download_svg_as_png(&sweep.plot_svg(), &format!("{stem}.png")),
    }
}

fn render_sweep(p: &Page) {
    let Some(plot) = by_id::<HtmlElement>("tx-lossy-plot") else { return };
    let sweep = lossy_sweep(p);
    if let Some(bar) = by_id::<HtmlElement>("tx-lossy-export") {
        bar.set_hidden(sweep.is_none());
    }
    let Some(sweep) = sweep else {
        plot.set_text_content(None);
        if let Some(t) = by_id::<HtmlElement>("tx-lossy-table") {
            table(&t, &[], &[]);
        }
        return;
    };
    // Our own SVG, made from numbers (the CLI's `--svg` writes the same).
    plot.set_inner_html(&sweep.plot_svg());
    let mut lowest = Vec::new();
    for st in Strategy::ALL {
        if let Some(f) = sweep.lowest_fraction_with_agreement(st, 0.9) {
            lowest.push(format!("{}: {f}", st.name()));
        }
    }
    set_data(&plot, "lowest", &lowest.join("; "));
    let opt = |v: Option<f64>, d: usize| v.map_or("–".into(), |x| format!("{x:.d$}"));
    let rows: Vec<Row> = sweep
        .points
        .iter()
        .map(|q| Row {
            cells: vec![
                q.strategy.name().into(),
                format!("{:.2}", q.fraction),
                format!("{:.3}", q.kept_bytes),
                opt(q.bits_per_byte, 3),
                opt(q.lang_agreement.map(|a| 100.0 * a), 1),
                opt(q.lm_top1_agreement.map(|a| 100.0 * a), 1),
                opt(q.lm_kl_bits, 3),
            ],
            // Each number as Rust prints an f64 (the shortest text that reads back the same).
            data: vec![
                ("strategy", q.strategy.id().into()),
                ("fraction", q.fraction.to_string()),
                ("kept", q.kept_bytes.to_string()),
                ("bpb", json(&q.bits_per_byte)),
                ("lang", json(&q.lang_agreement)),
                ("top1", json(&q.lm_top1_agreement)),
                ("kl", json(&q.lm_kl_bits)),
            ],
            note: None,
        })
        .collect();
    if let Some(t) = by_id::<HtmlElement>("tx-lossy-table") {
        table(&t, &["Dropped", "Keep", "Kept bytes", "Bits per byte", "Language ID agrees (%)", "Next byte top-1 (%)", "KL (bits)"], &rows);
    }
}

/// The log panel's findings for the text shown (none while they are another text's).
fn current_logs(p: &Page) -> Option<&Result<(LogSummary, usize), String>> {
    let sha = p.shown.as_ref().map(|s| s.sha256.as_str()).unwrap_or_default();
    p.perception.logs.as_ref().filter(|(s, _)| s == sha).map(|(_, r)| r)
}

/// The reference tools' sizes beside the log codec's: the table's gzip, and the strongest zstd
/// and xz (`None` while they are coded).
fn reference_sizes(p: &Page) -> [(&'static str, Option<usize>); 3] {
    let gzip = p.run_key(&mpq_core::experiment::image::Side::new("gzip", Params::new()));
    let mut extra = extra_runs(p).into_iter();
    [("gzip -6", gzip), ("zstd -19", extra.next()), ("xz -9", extra.next())].map(|(label, key)| {
        let bytes = key.as_ref().and_then(|k| match p.result(k) {
            Some(Outcome::Done { encoded, .. }) => Some(encoded.len()),
            _ => None,
        });
        (label, bytes)
    })
}

/// The log panel's export (`kind`: csv, json): the sizes beside the reference tools', and (JSON)
/// the structure `mpqlab eval LOG -c logs` reports.
pub(super) fn export_logs(p: &Page, kind: &str) {
    let (Some(src), Some(Ok((summary, stream_len)))) = (p.shown.as_ref(), current_logs(p)) else { return };
    let stem = format!("mpqlab-text-{}-logs", ui::export::file_stem(&src.name));
    let text_len = src.bytes.len().max(1) as f64;
    let mut sizes = vec![("logs", Some(*stream_len))];
    sizes.extend(reference_sizes(p));
    if kind == "csv" {
        let rows: Vec<Vec<String>> = sizes
            .iter()
            .map(|(codec, b)| vec![codec.to_string(), b.map_or(String::new(), |b| b.to_string()), b.map_or(String::new(), |b| (8.0 * b as f64 / text_len).to_string())])
            .collect();
        ui::export::download_csv_text(&stem, &mpq_core::export::table_csv(&["codec", "bytes", "bits_per_byte"], &rows));
    } else {
        let sizes: Vec<String> = sizes.iter().map(|(codec, b)| format!("{{\"codec\":{},\"bytes\":{}}}", ui::export::quoted(codec), json(b))).collect();
        let result = format!(
            "{{\"input\":{{\"name\":{},\"bytes\":{},\"sha256\":\"{}\"}},\"codec\":\"logs\",\"bytes\":{stream_len},\"structure\":{},\"sizes\":[{}]}}",
            ui::export::quoted(&src.name),
            src.bytes.len(),
            src.sha256,
            serde_json::to_string(summary).unwrap_or_else(|_| "null".into()),
            sizes.join(",")
        );
        ui::export::download_json("log-structure", &stem, &result);
    }
}

pub(super) fn render_logs(p: &Page) {
    let (Some(info), Some(sizes), Some(tpl), Some(cols)) =
        (by_id::<HtmlElement>("tx-logs-info"), by_id::<HtmlElement>("tx-logs-sizes"), by_id::<HtmlElement>("tx-logs-templates"), by_id::<HtmlElement>("tx-logs-columns"))
    else {
        return;
    };
    let sha = p.shown.as_ref().map(|s| s.sha256.as_str()).unwrap_or_default();
    let current = current_logs(p);
    if let Some(bar) = by_id::<HtmlElement>("tx-logs-export") {
        bar.set_hidden(!matches!(current, Some(Ok(_))));
    }
    let clear = || {
        for t in [&sizes, &tpl, &cols] {
            table(t, &[], &[]);
        }
    };
    for k in ["data-layout", "data-bytes", "data-sha256"] {
        let _ = info.remove_attribute(k);
    }
    match current {
        None => {
            info.set_text_content(Some(""));
            clear();
        }
        Some(Err(e)) => {
            info.set_text_content(Some(&format!("⚠ {e}")));
            clear();
            logs_status("", "error");
        }
        Some(Ok((s, stream_len))) => {
            info.set_text_content(Some(&format!(
                "{} lines, {} templates ({} lines kept whole); the encoder kept {} through {}: {}.",
                s.lines,
                s.templates,
                s.whole_lines,
                s.layout,
                s.backend,
                format::bytes(*stream_len)
            )));
            set_data(&info, "layout", &s.layout);
            set_data(&info, "bytes", &stream_len.to_string());
            set_data(&info, "sha256", sha);
            // Our codec beside the reference tools' (the table's gzip, and the strongest zstd and xz).
            let text_len = p.shown.as_ref().map_or(1, |s| s.bytes.len().max(1));
            let mut rows = vec![Row {
                cells: vec!["logs (ours)".into(), stream_len.to_string(), format!("{:.3}", 8.0 * *stream_len as f64 / text_len as f64), "1.000".into()],
                data: vec![("codec", "logs".into()), ("bytes", stream_len.to_string())],
                note: None,
            }];
            for (label, bytes) in reference_sizes(p) {
                rows.push(match bytes {
                    Some(b) => Row {
                        cells: vec![label.into(), b.to_string(), format!("{:.3}", 8.0 * b as f64 / text_len as f64), format!("{:.3}", b as f64 / (*stream_len).max(1) as f64)],
                        data: vec![("codec", label.into()), ("bytes", b.to_string())],
                        note: None,
                    },
                    None => Row { cells: vec![label.into()], data: vec![("codec", label.into())], note: Some(("waiting…".into(), "")) },
                });
            }
            table(&sizes, &["Codec", "Bytes", "Bits per byte", "Size ÷ logs"], &rows);
            let rows: Vec<Row> = s
                .top_templates
                .iter()
                .map(|t| Row {
                    cells: vec![if t.template.is_empty() { "(an empty line)".into() } else { t.template.chars().take(200).collect() }, t.lines.to_string(), t.fields.to_string()],
                    data: vec![("lines", t.lines.to_string()), ("template", t.template.clone())],
                    note: None,
                })
                .collect();
            table(&tpl, &["Template (fields as <*>), most used first", "Lines", "Fields"], &rows);
            let rows: Vec<Row> = s
                .columns
                .iter()
                .map(|c| Row {
                    cells: vec![c.kind.clone(), c.columns.to_string(), c.value_bytes.to_string(), c.layout_bytes.to_string()],
                    data: vec![("kind", c.kind.clone())],
                    note: None,
                })
                .collect();
            table(&cols, &["Column kind", "Columns", "Value bytes", "Bytes in the layout"], &rows);
            logs_status("", "done");
        }
    }
}
