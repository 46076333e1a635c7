//! The audio lab's sweep panel: codecs and settings (part of the experiment), a pool of
//! workers running the points (each takes every n-th), progress with an ETA, cancel (the
//! workers are terminated), the plot (keyword accuracy and STOI against kbit/s, the same SVG
//! as `mpqlab sweep --model kws-cnn --svg`), the table and CSV/JSON/SVG exports.

use mpq_core::experiment::audio::{AudioSweepSettings, AudioSweepSpec, DEFAULT_SWEEP};
use mpq_metrics::sweep::{SweepPoint, SweepResult};
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlAnchorElement, HtmlButtonElement, HtmlElement, HtmlInputElement, HtmlProgressElement};

use super::super::{CodecInfo, Event as LabEvent, Lab, Request};
use super::with_page;
use crate::bridge::page::{Bridge, Incoming, pool_size};
use crate::bridge::{JobId, Notice};
use crate::js;
use crate::ui::dom::Row;
use crate::ui::{self, append, by_id, el, on, set_data, table};

/// What a sweep was run with (its results are shown for exactly this).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub specs: Vec<String>,
    pub items: u32,
}

struct Shard {
    job: JobId,
    done: f64,
    total: f64,
    finished: bool,
}

struct Run {
    started_ms: f64,
    shards: Vec<Shard>,
    items: u32,
    reference_accuracy: Option<f64>,
}

/// The panel's state. The pool stays warm between sweeps (model and windows loaded); a cancel
/// or a failure drops it, so the next sweep spawns fresh workers.
#[derive(Default)]
pub struct SweepPanel {
    pool: Vec<Bridge<Lab>>,
    run: Option<Run>,
    /// (index in plan order, point), sorted by index.
    points: Vec<(usize, SweepPoint)>,
    /// The plan the points shown belong to (complete or not).
    pub shown: Option<Plan>,
    items_done: u32,
}

pub fn wire() {
    if let Some(b) = by_id::<HtmlButtonElement>("au-sweep-run") {
        on::<Event>(&b, "click", |_| {
            with_page(|p| p.run_sweep());
        });
    }
    if let Some(b) = by_id::<HtmlButtonElement>("au-sweep-cancel") {
        on::<Event>(&b, "click", |_| {
            with_page(|p| p.stop_sweep("cancelled"));
        });
    }
    if let Some(items) = by_id::<HtmlInputElement>("au-sweep-items") {
        on::<Event>(&items, "input", |_| {
            with_page(|p| p.sweep_settings_changed());
        });
    }
}

/// The ticked specs in the experiment's order, then the default codecs not among them, unticked.
fn rows_for(settings: &AudioSweepSettings) -> Vec<(String, bool)> {
    let codec_of = |s: &str| s.split(':').next().unwrap_or("").trim().to_string();
    let mut rows: Vec<(String, bool)> = settings.specs.iter().map(|s| (s.clone(), true)).collect();
    for d in DEFAULT_SWEEP.iter().chain(["bandlimit:rate=8000"].iter()) {
        if !rows.iter().any(|(s, _)| codec_of(s) == codec_of(d)) {
            rows.push((d.to_string(), false));
        }
    }
    rows
}

/// The panel's specs as ticked and typed.
pub fn read_specs() -> Vec<String> {
    let mut specs = Vec::new();
    if let Ok(rows) = ui::document().query_selector_all("#au-sweep-codecs .sweep-codec") {
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

pub fn read_items() -> u32 {
    by_id::<HtmlInputElement>("au-sweep-items").and_then(|i| i.value().trim().parse::<u32>().ok()).unwrap_or(144).clamp(1, 1000)
}

pub fn specs_parse(specs: &[String]) -> bool {
    specs.iter().all(|s| AudioSweepSpec::parse(s).is_ok())
}

impl SweepPanel {
    /// Shows `settings`; a sweep the experiment says was run is run again unless its results
    /// are already here.
    pub fn apply(&mut self, settings: &AudioSweepSettings, codecs: Option<&[CodecInfo]>) {
        self.render_rows(settings, codecs);
        if let Some(items) = by_id::<HtmlInputElement>("au-sweep-items") {
            if items.value() != settings.items.to_string() {
                items.set_value(&settings.items.to_string());
            }
        }
        let plan = Plan { specs: settings.specs.clone(), items: settings.items };
        if settings.run && codecs.is_some() && self.shown.as_ref() != Some(&plan) {
            self.start(plan);
        }
    }

    fn render_rows(&self, settings: &AudioSweepSettings, codecs: Option<&[CodecInfo]>) {
        let Some(list) = by_id::<HtmlElement>("au-sweep-codecs") else { return };
        list.set_text_content(None);
        append(&list, &[&ui::text_el("legend", "", "Codecs and settings")]);
        for (k, (spec, ticked)) in rows_for(settings).into_iter().enumerate() {
            let id = spec.split(':').next().unwrap_or("").trim().to_string();
            let name = codecs.and_then(|c| c.iter().find(|x| x.id == id)).map_or(id.clone(), |c| c.name.clone());
            let row = el("div", "sweep-codec", &[]);
            let check: HtmlInputElement =
                el("input", "", &[("type", "checkbox"), ("id", &format!("au-sweep-use-{k}")), ("data-testid", &format!("au-sweep-use-{id}"))]).unchecked_into();
            check.set_checked(ticked);
            let label = ui::text_el("label", "", &name);
            let _ = label.set_attribute("for", &format!("au-sweep-use-{k}"));
            let input: HtmlInputElement = el(
                "input",
                "sweep-spec",
                &[("type", "text"), ("spellcheck", "false"), ("data-testid", &format!("au-sweep-spec-{id}")), ("aria-label", &format!("Settings for {id}"))],
            )
            .unchecked_into();
            input.set_value(&spec);
            for (target, ev) in [(check.unchecked_ref::<web_sys::EventTarget>().clone(), "change"), (input.unchecked_ref::<web_sys::EventTarget>().clone(), "input")] {
                on::<Event>(&target, ev, |_| {
                    with_page(|p| p.sweep_settings_changed());
                });
            }
            append(&row, &[&check, &label, &input]);
            append(&list, &[&row]);
        }
    }

    pub fn start(&mut self, plan: Plan) {
        self.stop_workers();
        self.points.clear();
        self.items_done = 0;
        self.shown = Some(plan.clone());
        set_running(true);
        for id in ["au-sweep-csv", "au-sweep-json", "au-sweep-svg"] {
            if let Some(a) = by_id::<HtmlElement>(id) {
                a.set_hidden(true);
            }
        }
        let want = pool_size();
        if self.pool.len() != want {
            self.pool = (0..want)
                .map(|k| {
                    let mut b = Bridge::new(move |generation, incoming| {
                        with_page(|p| p.sweep_incoming(k, generation, incoming));
                    });
                    b.warm_up();
                    b
                })
                .collect();
        }
        let shards = self.pool.len() as u32;
        let jobs = self
            .pool
            .iter_mut()
            .enumerate()
            .map(|(k, w)| {
                let job = w.submit(Request::Sweep { items: plan.items, specs: plan.specs.clone(), shard: k as u32, shards });
                Shard { job, done: 0.0, total: 0.0, finished: false }
            })
            .collect();
        self.run = Some(Run { started_ms: js::now_ms(), shards: jobs, items: 0, reference_accuracy: None });
        self.render();
        set_status(&format!("starting {shards} workers…"), "running");
    }

    fn stop_workers(&mut self) {
        if self.run.take().is_some() {
            // Terminating is the only way to stop wasm work mid-way.
            self.pool.clear();
        }
    }

    pub fn is_running(&self) -> bool {
        self.run.is_some()
    }

    pub fn stop(&mut self, why: &str) {
        self.stop_workers();
        self.shown = None;
        set_running(false);
        set_status(&format!("Stopped ({why}) after {} points.", self.points.len()), "stopped");
    }

    pub fn incoming(&mut self, shard: usize, generation: u32, incoming: Incoming) -> Option<String> {
        let notices = self.pool.get_mut(shard)?.handle(generation, incoming);
        for n in notices {
            if let Some(message) = self.on_notice(shard, n) {
                return Some(message);
            }
        }
        None
    }

    fn on_notice(&mut self, shard: usize, notice: Notice<LabEvent>) -> Option<String> {
        let run = self.run.as_mut()?;
        let s = run.shards.get_mut(shard)?;
        if notice.job() != s.job {
            return None;
        }
        match notice {
            Notice::Progress { stage, done, total, .. } => {
                s.done = done;
                s.total = total;
                let (done, total) = run.shards.iter().fold((0.0, 0.0), |a, s| (a.0 + s.done, a.1 + s.total));
                let elapsed = (js::now_ms() - run.started_ms) / 1000.0;
                if let Some(p) = by_id::<HtmlProgressElement>("au-sweep-progress") {
                    p.set_hidden(false);
                    p.set_value(if total > 0.0 { done / total } else { 0.0 });
                }
                let eta = if done > 0.0 && total > done { format!(", about {:.0} s left", elapsed * (total - done) / done) } else { String::new() };
                let of = if total > 0.0 { format!(" — {done:.0} of {total:.0} window runs") } else { String::new() };
                set_status(&format!("{stage}{of} ({elapsed:.0} s{eta})"), "running");
            }
            Notice::Event { event: LabEvent::SweepPoint { index, point }, .. } => {
                let index = index as usize;
                let at = self.points.partition_point(|(i, _)| *i < index);
                self.points.insert(at, (index, point));
                self.render();
            }
            Notice::Event { event: LabEvent::SweepDone { items, reference_accuracy, .. }, .. } => {
                run.items = items;
                run.reference_accuracy = Some(reference_accuracy);
            }
            Notice::Event { .. } => {}
            Notice::Done { .. } => {
                s.finished = true;
                if run.shards.iter().all(|s| s.finished) {
                    self.on_done();
                }
            }
            Notice::Failed { message, .. } => return Some(message),
        }
        None
    }

    fn result(&self) -> SweepResult {
        let items = self.run.as_ref().map(|r| r.items).filter(|&n| n > 0).unwrap_or(self.items_done);
        let items = if items > 0 { items } else { self.shown.as_ref().map_or(0, |p| p.items) };
        SweepResult { model: "kws-cnn".into(), dataset: "kws-synth".into(), items: items as usize, points: self.points.iter().map(|p| p.1.clone()).collect() }
    }

    fn render(&self) {
        let result = self.result();
        if let Some(plot) = by_id::<HtmlElement>("au-sweep-plot") {
            // Our own SVG, made from numbers and our codec names (ids checked by the link parser).
            plot.set_inner_html(&if self.points.is_empty() { String::new() } else { result.plot_svg() });
        }
        let Some(t) = by_id::<HtmlElement>("au-sweep-table") else { return };
        let opt = |v: Option<f64>, digits: usize, unit: &str| v.map_or("–".to_string(), |x| format!("{x:.digits$}{unit}"));
        let rows: Vec<Row> = self
            .points
            .iter()
            .map(|(_, p)| {
                let a = p.audio.as_ref();
                let setting = if p.param.is_empty() {
                    "defaults".to_string()
                } else if p.value == 0.0 && p.param.contains('=') {
                    p.param.clone()
                } else {
                    format!("{}={}", p.param, p.value)
                };
                Row {
                    cells: vec![
                        p.codec_name.clone(),
                        setting,
                        opt(a.map(|a| a.kbps), 1, ""),
                        opt(p.accuracy.map(|x| 100.0 * x), 1, " %"),
                        format!("{:.1} %", 100.0 * p.top1_agreement),
                        opt(a.and_then(|a| a.stoi), 3, ""),
                        opt(a.and_then(|a| a.snr_db), 1, " dB"),
                        opt(a.and_then(|a| a.log_mel_distance), 3, ""),
                        format!("{:.4}", p.mean_kl),
                    ],
                    data: vec![
                        ("codec", p.codec.clone()),
                        ("value", p.value.to_string()),
                        ("kbps", a.map_or("null".into(), |a| a.kbps.to_string())),
                        ("accuracy", p.accuracy.map_or("null".into(), |x| x.to_string())),
                        ("stoi", a.and_then(|a| a.stoi).map_or("null".into(), |x| x.to_string())),
                    ],
                    note: None,
                }
            })
            .collect();
        table(&t, &["Codec", "Setting", "kbit/s", "Keyword accuracy", "Agreement", "STOI", "SNR", "Log-mel dist.", "Mean KL"], &rows);
    }

    fn on_done(&mut self) {
        let Some(run) = self.run.take() else { return };
        let elapsed_ms = js::now_ms() - run.started_ms;
        self.items_done = run.items;
        let result = self.result();
        let json = result.to_json();
        for (id, text, mime, ext) in [
            ("au-sweep-csv", result.to_csv(), "text/csv", "csv"),
            ("au-sweep-json", json.clone(), "application/json", "json"),
            ("au-sweep-svg", result.plot_svg(), "image/svg+xml", "svg"),
        ] {
            let Some(a) = by_id::<HtmlAnchorElement>(id) else { continue };
            let label = ext.to_uppercase();
            let parts = js_sys::Array::of1(&text.into());
            ui::set_download(&a, &parts, mime, &format!("mpqlab-sweep-kws-cnn-{}.{ext}", result.items), &label);
        }
        let reference = run.reference_accuracy.map_or(String::new(), |a| format!("; uncompressed accuracy {:.1} %", 100.0 * a));
        let status =
            format!("Done: {} points × {} windows in {:.1} s on {} workers{reference}.", result.points.len(), result.items, elapsed_ms / 1000.0, self.pool.len());
        set_running(false);
        set_status(&status, "done");
        if let Some(s) = by_id::<HtmlElement>("au-sweep-status") {
            set_data(&s, "elapsed-ms", &elapsed_ms.to_string());
            set_data(&s, "json", &json);
            if let Some(a) = run.reference_accuracy {
                set_data(&s, "reference-accuracy", &a.to_string());
            }
        }
    }
}

fn set_running(running: bool) {
    ui::set_running(&["au-sweep-run"], "au-sweep-cancel", "au-sweep-progress", running, |_| false);
}

pub fn set_status(text: &str, state: &str) {
    if let Some(s) = by_id::<HtmlElement>("au-sweep-status") {
        s.set_text_content(Some(text));
        set_data(&s, "state", state);
    }
}
