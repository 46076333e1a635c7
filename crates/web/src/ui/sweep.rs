//! What the labs' sweep panels share: the codec rows (a tick and a range per codec, part of
//! the experiment), the buttons, status and exports, and the pool of workers that runs a
//! sweep's points (each worker takes every n-th point; a cancel terminates them). A panel's
//! elements are named by its prefix: `{p}run`, `{p}cancel`, `{p}progress`, `{p}status`,
//! `{p}codecs`, `{p}items`, `{p}csv`, `{p}json`, `{p}svg`.

use mpq_metrics::sweep::SweepResult;
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlAnchorElement, HtmlElement, HtmlInputElement, HtmlProgressElement};

use super::{append, by_id, el, on, set_data, text_el};
use crate::bridge::page::{Bridge, Incoming, pool_size};
use crate::bridge::{JobId, Notice, Protocol};
use crate::js;

/// What a user did in a sweep panel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    Run,
    Cancel,
    /// A codec row or the items box changed.
    Changed,
}

/// The panel's buttons and items box call `act`.
pub fn wire(prefix: &str, act: fn(Action)) {
    for (id, ev, a) in [("run", "click", Action::Run), ("cancel", "click", Action::Cancel), ("items", "input", Action::Changed)] {
        if let Some(e) = by_id::<HtmlElement>(&format!("{prefix}{id}")) {
            on::<Event>(&e, ev, move |_| act(a));
        }
    }
}

/// Calls the page's handler for `a`.
pub fn dispatch<T>(page: &mut T, a: Action, run: fn(&mut T), cancel: fn(&mut T), changed: fn(&mut T)) {
    match a {
        Action::Run => run(page),
        Action::Cancel => cancel(page),
        Action::Changed => changed(page),
    }
}

/// A sweep needs a codec: `false` (and a message) when none is ticked.
pub fn has_specs(specs: &[String]) -> bool {
    if specs.is_empty() {
        super::show_error("Sweep: tick at least one codec.");
    }
    !specs.is_empty()
}

fn codec_of(spec: &str) -> String {
    spec.split(':').next().unwrap_or("").trim().to_string()
}

/// The rows: the ticked specs in the experiment's order, then the defaults of codecs not among
/// them, unticked.
pub fn rows_for(specs: &[String], defaults: &[&str]) -> Vec<(String, bool)> {
    let mut rows: Vec<(String, bool)> = specs.iter().map(|s| (s.clone(), true)).collect();
    for d in defaults {
        if !rows.iter().any(|(s, _)| codec_of(s) == codec_of(d)) {
            rows.push((d.to_string(), false));
        }
    }
    rows
}

/// Draws the codec rows (`data-testid` `{p}use-ID`, `{p}spec-ID`); any edit calls `changed`.
pub fn render_rows(prefix: &str, legend: &str, rows: &[(String, bool)], name_of: impl Fn(&str) -> String, spec_label: &str, act: fn(Action)) {
    let Some(list) = by_id::<HtmlElement>(&format!("{prefix}codecs")) else { return };
    list.set_text_content(None);
    append(&list, &[&text_el("legend", "", legend)]);
    for (k, (spec, ticked)) in rows.iter().enumerate() {
        let id = codec_of(spec);
        let row = el("div", "sweep-codec", &[]);
        let check: HtmlInputElement =
            el("input", "", &[("type", "checkbox"), ("id", &format!("{prefix}use-{k}")), ("data-testid", &format!("{prefix}use-{id}"))]).unchecked_into();
        check.set_checked(*ticked);
        let label = text_el("label", "", &name_of(&id));
        let _ = label.set_attribute("for", &format!("{prefix}use-{k}"));
        let input: HtmlInputElement = el(
            "input",
            "sweep-spec",
            &[("type", "text"), ("spellcheck", "false"), ("data-testid", &format!("{prefix}spec-{id}")), ("aria-label", &format!("{spec_label} {id}"))],
        )
        .unchecked_into();
        input.set_value(spec);
        for (target, ev) in [(check.unchecked_ref::<web_sys::EventTarget>().clone(), "change"), (input.unchecked_ref::<web_sys::EventTarget>().clone(), "input")] {
            on::<Event>(&target, ev, move |_| act(Action::Changed));
        }
        append(&row, &[&check, &label, &input]);
        append(&list, &[&row]);
    }
}

/// The specs as ticked and typed.
pub fn read_specs(prefix: &str) -> Vec<String> {
    let mut specs = Vec::new();
    if let Ok(rows) = super::document().query_selector_all(&format!("#{prefix}codecs .sweep-codec")) {
        for i in 0..rows.length() {
            let Some(row) = rows.item(i).and_then(|n| n.dyn_into::<HtmlElement>().ok()) else { continue };
            let check = row.query_selector("input[type=checkbox]").ok().flatten();
            let spec = row.query_selector("input.sweep-spec").ok().flatten();
            if let (Some(c), Some(s)) = (check, spec) {
                if c.unchecked_into::<HtmlInputElement>().checked() {
                    specs.push(s.unchecked_into::<HtmlInputElement>().value().trim().to_string());
                }
            }
        }
    }
    specs
}

/// The items box's number (`default` when it does not parse), within 1…`max`.
pub fn read_items(prefix: &str, default: u32, max: u32) -> u32 {
    by_id::<HtmlInputElement>(&format!("{prefix}items")).and_then(|i| i.value().trim().parse::<u32>().ok()).unwrap_or(default).clamp(1, max)
}

pub fn set_items(prefix: &str, items: u32) {
    if let Some(i) = by_id::<HtmlInputElement>(&format!("{prefix}items")) {
        if i.value() != items.to_string() {
            i.set_value(&items.to_string());
        }
    }
}

pub fn set_running(prefix: &str, running: bool) {
    super::set_running(&[&format!("{prefix}run")], &format!("{prefix}cancel"), &format!("{prefix}progress"), running, |_| false);
}

pub fn set_status(prefix: &str, text: &str, state: &str) {
    if let Some(s) = by_id::<HtmlElement>(&format!("{prefix}status")) {
        s.set_text_content(Some(text));
        set_data(&s, "state", state);
    }
}

pub fn hide_exports(prefix: &str) {
    for kind in ["csv", "json", "svg", "png"] {
        if let Some(a) = by_id::<HtmlElement>(&format!("{prefix}{kind}")) {
            a.set_hidden(true);
        }
    }
}

/// The CSV, JSON, SVG and PNG downloads of a finished sweep, named `{stem}.{ext}`; returns the
/// result's JSON (`mpqlab sweep`'s stdout). The CSV is `mpqlab sweep --csv`'s with the export's
/// provenance columns after it, the JSON the export format around the result
/// (`mpq_core::export`), the plot `--svg`'s, and the PNG that plot drawn at twice its size.
pub fn set_exports(prefix: &str, result: &SweepResult, stem: &str) -> String {
    let json = result.to_json();
    let provenance = super::export::provenance();
    let doc = mpq_core::export::json("sweep", &provenance, &json);
    let svg = result.plot_svg();
    for (kind, text, mime) in [
        ("csv", mpq_core::export::csv(&result.to_csv(), &provenance), "text/csv"),
        ("json", doc, "application/json"),
        ("svg", svg.clone(), "image/svg+xml"),
    ] {
        let Some(a) = by_id::<HtmlAnchorElement>(&format!("{prefix}{kind}")) else { continue };
        let label = a.text_content().unwrap_or_default();
        let parts = js_sys::Array::of1(&text.into());
        super::set_download(&a, &parts, mime, &format!("{stem}.{kind}"), &label);
    }
    if let Some(a) = by_id::<HtmlAnchorElement>(&format!("{prefix}png")) {
        let file = format!("{stem}.png");
        wasm_bindgen_futures::spawn_local(async move {
            if let Ok(blob) = wasm_bindgen_futures::JsFuture::from(super::export::svg_to_png(&svg, 2.0)).await {
                let label = a.text_content().unwrap_or_default();
                super::set_download(&a, &js_sys::Array::of1(&blob), "image/png", &file, &label);
            }
        });
    }
    json
}

/// What a sweep's workers said.
pub enum Step<E> {
    Event(E),
    /// Every worker finished its share.
    Finished,
    Failed(String),
}

/// Puts `point` among `points` (sorted by their index in plan order).
pub fn insert_point<T>(points: &mut Vec<(usize, T)>, index: usize, point: T) {
    let at = points.partition_point(|(i, _)| *i < index);
    points.insert(at, (index, point));
}

struct Shard {
    job: JobId,
    done: f64,
    total: f64,
    finished: bool,
}

/// The workers running one sweep, a job each. The pool stays warm between sweeps (models and
/// test items loaded); a stop drops it, so the next sweep spawns fresh workers.
pub struct SweepPool<P: Protocol> {
    pool: Vec<Bridge<P>>,
    shards: Vec<Shard>,
    started_ms: Option<f64>,
}

impl<P: Protocol> Default for SweepPool<P> {
    fn default() -> Self {
        SweepPool { pool: Vec::new(), shards: Vec::new(), started_ms: None }
    }
}

impl<P: Protocol> SweepPool<P> {
    /// Starts `request(shard, shards)` on each of `pool_size()` workers; `route(k, …)` gets
    /// worker k's messages. Returns the number of workers.
    pub fn start(&mut self, route: fn(usize, u32, Incoming), request: impl Fn(u32, u32) -> P::Request) -> usize {
        self.stop();
        let want = pool_size();
        if self.pool.len() != want {
            self.pool = (0..want)
                .map(|k| {
                    let mut b = Bridge::new(move |generation, incoming| route(k, generation, incoming));
                    b.warm_up();
                    b
                })
                .collect();
        }
        let shards = self.pool.len() as u32;
        self.shards = self
            .pool
            .iter_mut()
            .enumerate()
            .map(|(k, w)| Shard { job: w.submit(request(k as u32, shards)), done: 0.0, total: 0.0, finished: false })
            .collect();
        self.started_ms = Some(js::now_ms());
        self.pool.len()
    }

    /// Stops a running sweep (terminating is the only way to stop wasm work mid-way).
    pub fn stop(&mut self) {
        if self.started_ms.take().is_some() {
            self.pool.clear();
            self.shards.clear();
        }
    }

    /// The sweep finished: the workers stay warm for the next one.
    pub fn stop_keeping_workers(&mut self) {
        self.started_ms = None;
        self.shards.clear();
    }

    pub fn is_running(&self) -> bool {
        self.started_ms.is_some()
    }

    pub fn workers(&self) -> usize {
        self.pool.len()
    }

    pub fn elapsed_ms(&self) -> f64 {
        self.started_ms.map_or(0.0, |t| js::now_ms() - t)
    }

    /// Worker k's messages for this sweep (those of older jobs dropped): progress is shown in
    /// the panel `prefix` (counting `unit`), events are returned, then [`Step::Finished`] once
    /// every worker is done, or [`Step::Failed`].
    pub fn incoming(&mut self, prefix: &str, unit: &str, k: usize, generation: u32, incoming: Incoming) -> Vec<Step<P::Event>> {
        let Some(bridge) = self.pool.get_mut(k) else { return Vec::new() };
        let notices = bridge.handle(generation, incoming);
        let mut out = Vec::new();
        for n in notices {
            let Some(shard) = self.shards.get_mut(k) else { break };
            if n.job() != shard.job {
                continue;
            }
            match n {
                Notice::Progress { stage, done, total, .. } => {
                    shard.done = done;
                    shard.total = total;
                    self.show_progress(prefix, &stage, unit);
                }
                Notice::Event { event, .. } => out.push(Step::Event(event)),
                Notice::Done { .. } => {
                    shard.finished = true;
                    if self.all_finished() {
                        out.push(Step::Finished);
                    }
                }
                Notice::Failed { message, .. } => out.push(Step::Failed(message)),
            }
        }
        out
    }

    /// Every worker has finished its share.
    pub fn all_finished(&self) -> bool {
        !self.shards.is_empty() && self.shards.iter().all(|s| s.finished)
    }

    /// The progress bar and status over all workers: "STAGE — X of Y UNIT (T s, about R s left)".
    pub fn show_progress(&self, prefix: &str, stage: &str, unit: &str) {
        let (done, total) = self.shards.iter().fold((0.0, 0.0), |a, s| (a.0 + s.done, a.1 + s.total));
        let elapsed = self.elapsed_ms() / 1000.0;
        if let Some(p) = by_id::<HtmlProgressElement>(&format!("{prefix}progress")) {
            p.set_hidden(false);
            p.set_value(if total > 0.0 { done / total } else { 0.0 });
        }
        let eta = if done > 0.0 && total > done { format!(", about {:.0} s left", elapsed * (total - done) / done) } else { String::new() };
        let of = if total > 0.0 { format!(" — {done:.0} of {total:.0} {unit}") } else { String::new() };
        set_status(prefix, &format!("{stage}{of} ({elapsed:.0} s{eta})"), "running");
    }
}
