//! The audio lab's sweep panel: codecs and settings (part of the experiment), a pool of
//! workers running the points (each takes every n-th), progress with an ETA, cancel (the
//! workers are terminated), the plot (keyword accuracy and STOI against kbit/s, the same SVG
//! as `mpqlab sweep --model kws-cnn --svg`), the table and CSV/JSON/SVG exports.

use mpq_core::experiment::audio::{AudioSweepSettings, AudioSweepSpec, DEFAULT_SWEEP};
use mpq_metrics::sweep::{SweepPoint, SweepResult};
use web_sys::HtmlElement;

use super::super::{CodecInfo, Event as LabEvent, Lab, Request};
use super::{Page, with_page};
use crate::bridge::page::Incoming;
use crate::ui::dom::Row;
use crate::ui::sweep::{self as panel, SweepPool};
use crate::ui::{self, by_id, set_data, table};

/// The panel's element ids begin with this (`ui::sweep`).
const P: &str = "au-sweep-";

/// What a sweep was run with (its results are shown for exactly this).
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub specs: Vec<String>,
    pub items: u32,
}

/// The panel's state: its pool of workers, and the points of the plan shown.
#[derive(Default)]
pub struct SweepPanel {
    pool: SweepPool<Lab>,
    /// (index in plan order, point), sorted by index.
    points: Vec<(usize, SweepPoint)>,
    /// The plan the points shown belong to (complete or not).
    pub shown: Option<Plan>,
    items_done: u32,
    reference_accuracy: Option<f64>,
}

pub fn wire() {
    ui::sweep::wire(P, act);
}

fn act(a: ui::sweep::Action) {
    with_page(|p| ui::sweep::dispatch(p, a, Page::run_sweep, |p| p.stop_sweep("cancelled"), Page::sweep_settings_changed));
}

/// The panel's specs as ticked and typed.
pub fn read_specs() -> Vec<String> {
    ui::sweep::read_specs(P)
}

pub fn read_items() -> u32 {
    ui::sweep::read_items(P, 144, 1000)
}

pub fn specs_parse(specs: &[String]) -> bool {
    specs.iter().all(|s| AudioSweepSpec::parse(s).is_ok())
}

impl SweepPanel {
    /// Shows `settings`; a sweep the experiment says was run is run again unless its results
    /// are already here.
    pub fn apply(&mut self, settings: &AudioSweepSettings, codecs: Option<&[CodecInfo]>) {
        let defaults: Vec<&str> = DEFAULT_SWEEP.iter().copied().chain(["bandlimit:rate=8000"]).collect();
        let name_of = |id: &str| codecs.and_then(|c| c.iter().find(|x| x.id == id)).map_or(id.to_string(), |c| c.name.clone());
        ui::sweep::render_rows(P, "Codecs and settings", &ui::sweep::rows_for(&settings.specs, &defaults), name_of, "Settings for", act);
        ui::sweep::set_items(P, settings.items);
        let plan = Plan { specs: settings.specs.clone(), items: settings.items };
        if settings.run && codecs.is_some() && self.shown.as_ref() != Some(&plan) {
            self.start(plan);
        }
    }

    pub fn start(&mut self, plan: Plan) {
        self.points.clear();
        self.items_done = 0;
        self.reference_accuracy = None;
        self.shown = Some(plan.clone());
        ui::sweep::set_running(P, true);
        ui::sweep::hide_exports(P);
        let route = |k, generation, incoming| {
            with_page(|p| p.sweep_incoming(k, generation, incoming));
        };
        let n = self.pool.start(route, |shard, shards| Request::Sweep { items: plan.items, specs: plan.specs.clone(), shard, shards });
        self.render();
        ui::sweep::set_status(P, &format!("starting {n} workers…"), "running");
    }

    pub fn is_running(&self) -> bool {
        self.pool.is_running()
    }

    pub fn stop(&mut self, why: &str) {
        self.pool.stop();
        self.shown = None;
        ui::sweep::set_running(P, false);
        ui::sweep::set_status(P, &format!("Stopped ({why}) after {} points.", self.points.len()), "stopped");
    }

    /// Worker `shard`'s messages; a failure's message is returned.
    pub fn incoming(&mut self, shard: usize, generation: u32, incoming: Incoming) -> Option<String> {
        for step in self.pool.incoming(P, "window runs", shard, generation, incoming) {
            match step {
                panel::Step::Event(LabEvent::SweepPoint { index, point }) => {
                    ui::sweep::insert_point(&mut self.points, index as usize, point);
                    self.render();
                }
                panel::Step::Event(LabEvent::SweepDone { items, reference_accuracy, .. }) => {
                    self.items_done = items;
                    self.reference_accuracy = Some(reference_accuracy);
                }
                panel::Step::Event(_) => {}
                panel::Step::Finished => self.on_done(),
                panel::Step::Failed(message) => return Some(message),
            }
        }
        None
    }

    fn result(&self) -> SweepResult {
        let items = if self.items_done > 0 { self.items_done } else { self.shown.as_ref().map_or(0, |p| p.items) };
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
        let elapsed_ms = self.pool.elapsed_ms();
        let workers = self.pool.workers();
        self.pool.stop_keeping_workers();
        let result = self.result();
        let json = ui::sweep::set_exports(P, &result, &format!("mpqlab-sweep-kws-cnn-{}", result.items));
        let reference = self.reference_accuracy.map_or(String::new(), |a| format!("; uncompressed accuracy {:.1} %", 100.0 * a));
        let status = format!("Done: {} points × {} windows in {:.1} s on {workers} workers{reference}.", result.points.len(), result.items, elapsed_ms / 1000.0);
        ui::sweep::set_running(P, false);
        ui::sweep::set_status(P, &status, "done");
        if let Some(s) = by_id::<HtmlElement>("au-sweep-status") {
            set_data(&s, "elapsed-ms", &elapsed_ms.to_string());
            set_data(&s, "json", &json);
            if let Some(a) = self.reference_accuracy {
                set_data(&s, "reference-accuracy", &a.to_string());
            }
        }
    }
}
