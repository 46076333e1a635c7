//! The image lab's sweep panel on the page: codecs and ranges (part of the experiment), a pool
//! of workers running the points (each takes every n-th), progress with an ETA, cancel, the
//! plots and table filling in point by point, and CSV/JSON/SVG exports. The numbers equal
//! `mpqlab sweep`'s: the page merges the workers' points in plan order and builds the exports
//! with the same code.

use mpq_core::experiment::image::{Backend, DEFAULT_SWEEP, SweepSettings};
use mpq_core::sweep::CodecSweep;
use mpq_metrics::sweep::{SweepPoint, SweepResult};
use web_sys::HtmlElement;

use super::page::{Page, with_page};
use super::{Catalog, Event as LabEvent, Lab, Request};
use crate::bridge::page::Incoming;
use crate::ui::dom::Row;
use crate::ui::history::{self, Step};
use crate::ui::sweep::{self as panel, SweepPool};
use crate::ui::{self, by_id, set_data, table};

/// What a sweep was run with (its results are shown for exactly this).
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    specs: Vec<String>,
    items: u32,
    model: String,
    backend: Backend,
}

/// The panel's element ids begin with this (`ui::sweep`).
const P: &str = "sweep-";

/// The panel's state: its pool of workers, and the points of the plan shown.
#[derive(Default)]
pub struct SweepPanel {
    pool: SweepPool<Lab>,
    /// The plan running, if any.
    running: Option<Plan>,
    /// (index in plan order, point), sorted by index.
    points: Vec<(usize, SweepPoint)>,
    /// The plan the points shown belong to (complete or not).
    shown: Option<Plan>,
    /// Items the workers said they ran.
    items_done: u32,
    /// The model's data set, for the exports.
    dataset: String,
}

pub fn wire() {
    ui::sweep::wire(P, act);
}

fn act(a: ui::sweep::Action) {
    with_page(|p| ui::sweep::dispatch(p, a, Page::run_sweep, |p| p.stop_sweep("cancelled"), Page::sweep_settings_changed));
}

impl SweepPanel {
    /// Shows `settings` in the panel; a sweep the experiment says was run is run again unless
    /// its results are already here.
    pub fn apply(&mut self, settings: &SweepSettings, model: &str, backend: Backend, catalog: Option<&Catalog>) {
        let name_of = |id: &str| catalog.and_then(|c| c.codecs.iter().find(|x| x.id == id)).map_or(id.to_string(), |c| c.name.clone());
        ui::sweep::render_rows(P, "Codecs and ranges", &ui::sweep::rows_for(&settings.specs, &DEFAULT_SWEEP), name_of, "Range for", act);
        ui::sweep::set_items(P, settings.items);
        let plan = Plan { specs: settings.specs.clone(), items: settings.items, model: model.to_string(), backend };
        let have = self.running.as_ref().or(self.shown.as_ref());
        if settings.run && catalog.is_some() && have != Some(&plan) {
            self.start(plan, catalog);
        }
    }

    fn start(&mut self, plan: Plan, catalog: Option<&Catalog>) {
        self.points.clear();
        self.items_done = 0;
        self.shown = Some(plan.clone());
        self.dataset = catalog
            .and_then(|c| c.models.iter().find(|m| m.id == plan.model))
            .map(|m| m.dataset.clone())
            .unwrap_or_default();
        ui::sweep::set_running(P, true);
        ui::sweep::hide_exports(P);
        let route = |k, generation, incoming| {
            with_page(|p| p.sweep_incoming(k, generation, incoming));
        };
        let n = self.pool.start(route, |shard, shards| Request::Sweep {
            model: plan.model.clone(),
            backend: plan.backend,
            items: plan.items,
            specs: plan.specs.clone(),
            shard,
            shards,
        });
        self.running = Some(plan);
        self.render();
        ui::sweep::set_status(P, &format!("starting {n} workers…"), "running");
    }

    /// Worker `shard`'s messages; a failure's message is returned.
    fn incoming(&mut self, shard: usize, generation: u32, incoming: Incoming) -> Option<String> {
        for step in self.pool.incoming(P, "item runs", shard, generation, incoming) {
            match step {
                panel::Step::Event(LabEvent::SweepPoint { index, point }) => {
                    ui::sweep::insert_point(&mut self.points, index as usize, point);
                    self.render();
                }
                panel::Step::Event(LabEvent::SweepDone { items, .. }) => self.items_done = items,
                panel::Step::Event(_) => {}
                panel::Step::Finished => self.on_done(),
                panel::Step::Failed(message) => return Some(message),
            }
        }
        None
    }

    fn result(&self) -> SweepResult {
        let (model, items) = self.shown.as_ref().map_or((String::new(), 0), |p| (p.model.clone(), p.items));
        let items = if self.items_done > 0 { self.items_done } else { items };
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
        let elapsed_ms = self.pool.elapsed_ms();
        let workers = self.pool.workers();
        self.pool.stop_keeping_workers();
        let Some(plan) = self.running.take() else { return };
        let result = self.result();
        let json = ui::sweep::set_exports(P, &result, &format!("mpqlab-sweep-{}-{}", result.model, result.items));
        let status = format!(
            "Done: {} points × {} items in {:.1} s on {workers} workers ({}).",
            result.points.len(),
            result.items,
            elapsed_ms / 1000.0,
            if plan.backend == Backend::WebGpu { "model on WebGPU" } else { "model on the CPU" }
        );
        ui::sweep::set_running(P, false);
        ui::sweep::set_status(P, &status, "done");
        if let Some(s) = by_id::<HtmlElement>("sweep-status") {
            set_data(&s, "elapsed-ms", &elapsed_ms.to_string());
            set_data(&s, "workers", &workers.to_string());
            set_data(&s, "json", &json);
        }
    }

    fn stop(&mut self, why: &str) {
        self.pool.stop();
        self.running = None;
        ui::sweep::set_running(P, false);
        ui::sweep::set_status(P, &format!("Stopped ({why}) after {} points.", self.points.len()), "stopped");
    }
}

impl Page {
    /// The panel's inputs changed: the experiment follows (the sweep runs only on a click).
    fn sweep_settings_changed(&mut self) {
        let specs = ui::sweep::read_specs(P);
        let items = ui::sweep::read_items(P, 1000, 1000);
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
        if !ui::sweep::has_specs(&self.exp.sweep.specs) {
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
        if let Some(message) = self.sweep.incoming(shard, generation, incoming) {
            if self.sweep.running.is_some() {
                ui::show_error(&format!("Sweep: {message}"));
                self.stop_sweep(&message);
            }
        }
    }
}
