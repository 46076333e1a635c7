//! The image lab's sweep panel on the page: codecs and ranges (part of the experiment), a pool
//! of workers running the points (each takes every n-th), progress with an ETA, cancel, the
//! plots and table filling in point by point, and CSV/JSON/SVG exports. The numbers equal
//! `mpqlab sweep`'s: the page merges the workers' points in plan order and builds the exports
//! with the same code.

use mpq_core::experiment::image::{Backend, DEFAULT_SWEEP, SweepSettings};
use mpq_core::sweep::CodecSweep;
use mpq_metrics::sweep::{SweepPoint, SweepResult};
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlAnchorElement, HtmlButtonElement, HtmlElement, HtmlInputElement, HtmlProgressElement};

use super::page::{Page, with_page};
use super::{Catalog, Event as LabEvent, Lab, Request};
use crate::bridge::page::{Bridge, Incoming, pool_size};
use crate::bridge::{JobId, Notice};
use crate::ui::dom::Row;
use crate::ui::history::Step;
use crate::ui::{self, append, by_id, el, on, set_data, table};
use crate::js;
use crate::ui::history;

/// What a sweep was run with (its results are shown for exactly this).
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    specs: Vec<String>,
    items: u32,
    model: String,
    backend: Backend,
}

struct Shard {
    job: JobId,
    done: f64,
    total: f64,
    finished: bool,
}

struct Run {
    plan: Plan,
    started_ms: f64,
    shards: Vec<Shard>,
    items: u32,
}

/// The panel's state. The pool stays warm between sweeps (models and test items loaded); a
/// cancel or a failure drops it, so the next sweep spawns fresh workers.
#[derive(Default)]
pub struct SweepPanel {
    pool: Vec<Bridge<Lab>>,
    run: Option<Run>,
    /// (index in plan order, point), sorted by index.
    points: Vec<(usize, SweepPoint)>,
    /// The plan the points shown belong to (complete or not).
    shown: Option<Plan>,
    /// The model's data set, for the exports.
    dataset: String,
}

pub fn wire() {
    if let Some(b) = by_id::<HtmlButtonElement>("sweep-run") {
        on::<Event>(&b, "click", |_| {
            with_page(|p| p.run_sweep());
        });
    }
    if let Some(b) = by_id::<HtmlButtonElement>("sweep-cancel") {
        on::<Event>(&b, "click", |_| {
            with_page(|p| p.stop_sweep("cancelled"));
        });
    }
    if let Some(items) = by_id::<HtmlInputElement>("sweep-items") {
        on::<Event>(&items, "input", |_| {
            with_page(|p| p.sweep_settings_changed());
        });
    }
}

/// The panel's rows: the ticked specs in the experiment's order, then the default codecs not
/// among them, unticked.
fn rows_for(settings: &SweepSettings) -> Vec<(String, bool)> {
    let codec_of = |s: &str| s.split(':').next().unwrap_or("").trim().to_string();
    let mut rows: Vec<(String, bool)> = settings.specs.iter().map(|s| (s.clone(), true)).collect();
    for d in DEFAULT_SWEEP {
        if !rows.iter().any(|(s, _)| codec_of(s) == codec_of(d)) {
            rows.push((d.to_string(), false));
        }
    }
    rows
}

impl SweepPanel {
    /// Shows `settings` in the panel; a sweep the experiment says was run is run again unless
    /// its results are already here.
    pub fn apply(&mut self, settings: &SweepSettings, model: &str, backend: Backend, catalog: Option<&Catalog>) {
        self.render_rows(settings, catalog);
        if let Some(items) = by_id::<HtmlInputElement>("sweep-items") {
            items.set_value(&settings.items.to_string());
        }
        let plan = Plan { specs: settings.specs.clone(), items: settings.items, model: model.to_string(), backend };
        let have = self.run.as_ref().map(|r| &r.plan).or(self.shown.as_ref());
        if settings.run && catalog.is_some() && have != Some(&plan) {
            self.start(plan, catalog);
        }
    }

    fn render_rows(&self, settings: &SweepSettings, catalog: Option<&Catalog>) {
        let Some(list) = by_id::<HtmlElement>("sweep-codecs") else { return };
        list.set_text_content(None);
        append(&list, &[&ui::text_el("legend", "", "Codecs and ranges")]);
        for (k, (spec, ticked)) in rows_for(settings).into_iter().enumerate() {
            let id = spec.split(':').next().unwrap_or("").trim().to_string();
            let name = catalog.and_then(|c| c.codecs.iter().find(|x| x.id == id)).map_or(id.clone(), |c| c.name.clone());
            let row = el("div", "sweep-codec", &[]);
            let check: HtmlInputElement =
                el("input", "", &[("type", "checkbox"), ("id", &format!("sweep-use-{k}")), ("data-testid", &format!("sweep-use-{id}"))]).unchecked_into();
            check.set_checked(ticked);
            let label = ui::text_el("label", "", &name);
            let _ = label.set_attribute("for", &format!("sweep-use-{k}"));
            let input: HtmlInputElement = el(
                "input",
                "sweep-spec",
                &[("type", "text"), ("spellcheck", "false"), ("data-testid", &format!("sweep-spec-{id}")), ("aria-label", &format!("Range for {id}"))],
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

    fn start(&mut self, plan: Plan, catalog: Option<&Catalog>) {
        self.stop_workers_if_running();
        self.points.clear();
        self.shown = Some(plan.clone());
        self.dataset = catalog
            .and_then(|c| c.models.iter().find(|m| m.id == plan.model))
            .map(|m| m.dataset.clone())
            .unwrap_or_default();
        set_running(true);
        for id in ["sweep-csv", "sweep-json", "sweep-svg"] {
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
        let mut jobs = Vec::new();
        for (k, w) in self.pool.iter_mut().enumerate() {
            let job = w.submit(Request::Sweep {
                model: plan.model.clone(),
                backend: plan.backend,
                items: plan.items,
                specs: plan.specs.clone(),
                shard: k as u32,
                shards,
            });
            jobs.push(Shard { job, done: 0.0, total: 0.0, finished: false });
        }
        self.run = Some(Run { plan, started_ms: js::now_ms(), shards: jobs, items: 0 });
        self.render();
        set_status(&format!("starting {shards} workers…"), "running");
    }

    fn stop_workers_if_running(&mut self) {
        if self.run.take().is_some() {
            // Terminating is the only way to stop wasm work mid-way.
            self.pool.clear();
        }
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
                if let Some(p) = by_id::<HtmlProgressElement>("sweep-progress") {
                    p.set_hidden(false);
                    p.set_value(if total > 0.0 { done / total } else { 0.0 });
                }
                let eta = if done > 0.0 && total > done { format!(", about {:.0} s left", elapsed * (total - done) / done) } else { String::new() };
                let of = if total > 0.0 { format!(" — {done:.0} of {total:.0} item runs") } else { String::new() };
                set_status(&format!("{stage}{of} ({elapsed:.0} s{eta})"), "running");
            }
            Notice::Event { event: LabEvent::SweepPoint { index, point }, .. } => {
                let index = index as usize;
                let at = self.points.partition_point(|(i, _)| *i < index);
                self.points.insert(at, (index, point));
                self.render();
            }
            Notice::Event { event: LabEvent::SweepDone { items, .. }, .. } => run.items = items,
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
        let (model, items) = self.shown.as_ref().map_or((String::new(), 0), |p| (p.model.clone(), p.items));
        let items = self.run.as_ref().map(|r| r.items).filter(|&n| n > 0).unwrap_or(items);
        SweepResult { model, dataset: self.dataset.clone(), items: items as usize, points: self.points.iter().map(|p| p.1.clone()).collect() }
    }

    /// Plots and table from the points so far (the plot is the same code as `mpqlab sweep --svg`).
    fn render(&self) {
        let result = self.result();
        if let Some(plot) = by_id::<HtmlElement>("sweep-plot") {
            // Our own SVG, made from numbers and our codec names (ids checked by the link parser).
            plot.set_inner_html(&if self.points.is_empty() { String::new() } else { result.plot_svg() });
        }
        let Some(t) = by_id::<HtmlElement>("sweep-table") else { return };
        let opt = |v: Option<f64>, scale: f64, digits: usize| v.map_or("–".to_string(), |x| format!("{:.*}", digits, x * scale));
        let rows: Vec<Row> = self
            .points
            .iter()
            .map(|(_, p)| Row {
                cells: vec![
                    p.codec_name.clone(),
                    format!("{}={}", p.param, p.value),
                    format!("{:.3}", p.bits_per_pixel),
                    format!("{} %", opt(p.accuracy, 100.0, 1)),
                    format!("{:.1} %", 100.0 * p.top1_agreement),
                    format!("{:.4}", p.mean_kl),
                    format!("{:.4}", p.mean_feature_distance),
                    p.psnr_db.map_or("∞".to_string(), |d| format!("{d:.2} dB")),
                ],
                data: vec![
                    ("codec", p.codec.clone()),
                    ("value", p.value.to_string()),
                    ("bpp", p.bits_per_pixel.to_string()),
                    ("accuracy", p.accuracy.map_or("null".into(), |a| a.to_string())),
                    ("psnr", p.psnr_db.map_or("null".into(), |a| a.to_string())),
                ],
                note: None,
            })
            .collect();
        table(&t, &["Codec", "Setting", "bpp", "Accuracy", "Top-1 agreement", "Mean KL", "Feature distance", "PSNR"], &rows);
    }

    /// Every worker finished: exports (the same code as `mpqlab sweep --csv/--json/--svg`) and
    /// the time from the click to the last point.
    fn on_done(&mut self) {
        let Some(run) = self.run.take() else { return };
        let elapsed_ms = js::now_ms() - run.started_ms;
        self.run = Some(run);
        let result = self.result();
        let json = result.to_json();
        for (id, text, mime, ext) in [
            ("sweep-csv", result.to_csv(), "text/csv", "csv"),
            ("sweep-json", json.clone(), "application/json", "json"),
            ("sweep-svg", result.plot_svg(), "image/svg+xml", "svg"),
        ] {
            let Some(a) = by_id::<HtmlAnchorElement>(id) else { continue };
            let label = a.text_content().unwrap_or_default();
            let parts = js_sys::Array::of1(&text.into());
            ui::set_download(&a, &parts, mime, &format!("mpqlab-sweep-{}-{}.{ext}", result.model, result.items), &label);
        }
        let run = self.run.take().expect("set above");
        let status = format!(
            "Done: {} points × {} items in {:.1} s on {} workers ({}).",
            result.points.len(),
            result.items,
            elapsed_ms / 1000.0,
            self.pool.len(),
            if run.plan.backend == Backend::WebGpu { "model on WebGPU" } else { "model on the CPU" }
        );
        set_running(false);
        set_status(&status, "done");
        if let Some(s) = by_id::<HtmlElement>("sweep-status") {
            set_data(&s, "elapsed-ms", &elapsed_ms.to_string());
            set_data(&s, "workers", &self.pool.len().to_string());
            set_data(&s, "json", &json);
        }
    }

    fn stop(&mut self, why: &str) {
        self.stop_workers_if_running();
        set_running(false);
        set_status(&format!("Stopped ({why}) after {} points.", self.points.len()), "stopped");
    }
}

impl Page {
    /// The panel's inputs changed: the experiment follows (the sweep runs only on a click).
    fn sweep_settings_changed(&mut self) {
        let mut specs = Vec::new();
        if let Ok(rows) = ui::document().query_selector_all("#sweep-codecs .sweep-codec") {
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
        let items = by_id::<HtmlInputElement>("sweep-items").and_then(|i| i.value().trim().parse::<u32>().ok()).unwrap_or(1000).clamp(1, 1000);
        let changed = self.exp.sweep.specs != specs || self.exp.sweep.items != items;
        self.exp.sweep.specs = specs;
        self.exp.sweep.items = items;
        // A link must not ask to run settings that do not parse.
        if self.exp.sweep.specs.iter().all(|s| CodecSweep::parse(s).is_ok()) && changed {
            self.exp.sweep.run = false;
            self.commit_sweep(Step::Gesture);
        }
    }

    fn commit_sweep(&self, step: Step) {
        history::commit(&mpq_core::Experiment::Image(self.exp.clone()), step);
    }

    fn run_sweep(&mut self) {
        self.sweep_settings_changed();
        if self.exp.sweep.specs.is_empty() {
            ui::show_error("Sweep: tick at least one codec.");
            return;
        }
        self.exp.sweep.run = true;
        let plan = Plan {
            specs: self.exp.sweep.specs.clone(),
            items: self.exp.sweep.items,
            model: self.exp.model.clone(),
            backend: self.exp.backend,
        };
        // Settings that do not parse fail in the worker with the reason; they stay out of links.
        if self.exp.sweep.specs.iter().all(|s| CodecSweep::parse(s).is_ok()) {
            self.commit_sweep(Step::Push);
        }
        let catalog = self.catalog.clone();
        self.sweep.start(plan, catalog.as_ref());
    }

    fn stop_sweep(&mut self, why: &str) {
        self.sweep.stop(why);
        self.exp.sweep.run = false;
        self.commit_sweep(Step::Replace);
    }

    pub(super) fn sweep_incoming(&mut self, shard: usize, generation: u32, incoming: Incoming) {
        let Some(bridge) = self.sweep.pool.get_mut(shard) else { return };
        let notices = bridge.handle(generation, incoming);
        for notice in notices {
            if let Some(message) = self.sweep.on_notice(shard, notice) {
                if self.sweep.run.is_some() {
                    ui::show_error(&format!("Sweep: {message}"));
                    self.stop_sweep(&message);
                }
                return;
            }
        }
    }
}

fn set_running(running: bool) {
    ui::set_running(&["sweep-run"], "sweep-cancel", "sweep-progress", running, |_| false);
}

fn set_status(text: &str, state: &str) {
    if let Some(s) = by_id::<HtmlElement>("sweep-status") {
        s.set_text_content(Some(text));
        set_data(&s, "state", state);
    }
}

