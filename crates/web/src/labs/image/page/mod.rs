//! The image lab's page side. The page renders from its [`ImageExperiment`] and writes every
//! change to the URL; the worker is brought in line with it by [`Page::pump`].
//!
//! Reconciliation: the page remembers what the worker holds (`ui::lab_worker`: forgotten when the
//! worker restarts) and what each side shows (the [`SideKey`] of its result). When the worker
//! is free, `pump` sends the first thing that differs from the experiment: the input, then the
//! left and right side. So a setting moved quickly queues nothing (stale settings are never
//! encoded), a result that arrives after its side changed is dropped, and after any failure or
//! restart the page and the worker agree again on what is loaded: a refused file puts the
//! experiment back to the input that is shown, which the worker then reloads if it lost it.

use mpq_core::experiment::image::{Backend, FileRef, ImageExperiment, Input, Side as SideSpec, Zoom};
use mpq_core::{Experiment, ParamValue};
use mpq_metrics::perception::Verdict;
use std::cell::RefCell;

use wasm_bindgen::JsCast;
use web_sys::{
    CanvasRenderingContext2d, Event, HtmlAnchorElement, HtmlButtonElement, HtmlCanvasElement, HtmlElement,
    HtmlSelectElement, KeyboardEvent, PointerEvent, WheelEvent,
};

mod input;
mod side;
mod view;

use input::*;
use side::*;
use view::*;

use super::bench::BenchPanel;
use super::sweep::SweepPanel;
use super::{AgreementReport, Catalog, CodecInfo, DatasetThumbs, Encoded, Event as LabEvent, Judge, Lab, Loaded, Request, Source};
use crate::bridge::{Notice, WorkerModule};
use crate::bridge::page::Incoming;
use crate::ui::lab_worker::LabWorker;
use crate::ui::history::{self, Step};
use crate::ui::input::{GalleryItem, UserFiles};
use crate::ui::{self, append, by_id, el, on, set_data, set_style, text_el};
use crate::viewport::Viewport;
use crate::{format, js};

crate::lab_page!(Page, "image", "Image lab", Image);

/// What the worker runs now.
#[derive(Debug, Clone, PartialEq)]
enum Job {
    Catalog,
    Thumbs,
    Load(Input),
    Encode(usize, SideKey),
    Agreement,
    Bench,
}

/// Everything a side's result depends on: a result is shown only while this is still wanted.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SideKey {
    input: Input,
    side: SideSpec,
    model: String,
    backend: Backend,
}

/// The input the page displays.
struct Shown {
    input: Input,
    width: u32,
    height: u32,
    name: String,
    description: String,
    /// What was lost reading it (a damaged or cut file the decoder could still show).
    warning: Option<String>,
}

struct SideView {
    select: HtmlSelectElement,
    params_el: HtmlElement,
    /// The stage line, and the keys of the result on screen and of one that failed.
    slot: ui::sides::SideSlot<SideKey>,
    cancel: HtmlButtonElement,
    metrics: HtmlElement,
    perception: HtmlElement,
    download: HtmlAnchorElement,
    canvas: HtmlCanvasElement,
    tag: HtmlElement,
    /// How near the target size the search came (hidden without a target).
    target_line: HtmlElement,
    /// The result on screen as the exports (and `mpqlab run`) write a side: JSON text, from
    /// the worker.
    result: Option<String>,
    /// Its bits per pixel, for the side-by-side caption.
    bpp: Option<f64>,
}

pub(super) struct Page {
    pub(super) exp: ImageExperiment,
    pub(super) catalog: Option<Catalog>,
    catalog_failed: bool,
    /// The data-set gallery's items, asked for once the first comparison is on screen.
    thumbs: Option<Vec<DatasetThumbs>>,
    thumbs_asked: bool,
    browser_support: Vec<(String, bool)>,
    gallery: Option<Vec<GalleryItem>>,
    /// The worker and its job.
    worker: LabWorker<Lab, Job, Input>,
    shown: Option<Shown>,
    /// The user's files (a restarted worker reloads one from here).
    files: UserFiles,
    /// Inputs that failed to load: not tried again until the user picks them again.
    failed_inputs: Vec<Input>,
    sides: Vec<SideView>,
    view: Viewport,
    visible: bool,
    pub(super) sweep: SweepPanel,
    pub(super) bench: BenchPanel,
    agreement_wanted: bool,
}

fn mount(root: &HtmlElement) {
    // Our own static markup, compiled in (nothing from outside is parsed as HTML).
    root.set_inner_html(include_str!("page.html"));
    let worker = LabWorker::new(|generation, incoming| {
        with_page(|p| p.on_incoming(generation, incoming));
    });
    let exp = ImageExperiment::default();
    let sides = (0..2).map(build_side).collect();
    let page = Page {
        exp,
        catalog: None,
        catalog_failed: false,
        thumbs: None,
        thumbs_asked: false,
        browser_support: Vec::new(),
        gallery: None,
        worker,
        shown: None,
        files: UserFiles::default(),
        failed_inputs: Vec::new(),
        sides,
        view: Viewport::default(),
        visible: false,
        sweep: SweepPanel::default(),
        bench: BenchPanel::default(),
        agreement_wanted: false,
    };
    PAGE.with(|cell| *cell.borrow_mut() = Some(page));
    wire_input();
    wire_viewer();
    wire_model_bar();
    if let Some(slot) = by_id::<HtmlElement>("image-export") {
        let bar = ui::export::bar("image", Some("Side by side (PNG)"), |kind| {
            with_page(|p| p.export(kind));
        });
        append(&slot, &[&bar]);
    }
    super::sweep::wire();
    super::bench::wire();
    with_page(|p| {
        p.render_all();
        p.pump();
    });
    wasm_bindgen_futures::spawn_local(load_gallery());
}

// ---------------------------------------------------------------------------------------------
// The state: applying an experiment, changing it, reconciling the worker with it.

impl Page {
    fn key(&self, i: usize) -> SideKey {
        SideKey { input: self.exp.input.clone(), side: self.exp.sides[i].clone(), model: self.exp.model.clone(), backend: self.exp.backend }
    }

    /// Shows `exp` (a link, or back/forward): every control is set from it, then the worker
    /// is brought in line.
    fn apply(&mut self, exp: ImageExperiment) {
        let input_changed = exp.input != self.exp.input;
        let view_changed = exp.view != self.exp.view;
        self.exp = exp;
        if input_changed {
            self.failed_inputs.retain(|i| *i != self.exp.input);
        }
        self.validate();
        if view_changed || input_changed {
            self.view.set_split(self.exp.view.split);
            self.refit();
        }
        self.render_all();
        self.sweep.apply(&self.exp.sweep, &self.exp.model, self.exp.backend, self.catalog.as_ref());
        self.pump();
    }

    /// Replaces what this page cannot show (an unknown codec or model from a link) by the
    /// defaults, and says so.
    fn validate(&mut self) {
        let Some(catalog) = &self.catalog else { return };
        let d = ImageExperiment::default();
        let mut problems = Vec::new();
        ui::sides::replace_unknown(&mut self.exp.sides, &d.sides, |id| catalog.codecs.iter().any(|c| c.id == id), "", &mut problems);
        if !catalog.models.iter().any(|m| m.id == self.exp.model) {
            problems.push(format!("there is no model '{}'", self.exp.model));
            self.exp.model = d.model.clone();
        }
        if let (Input::Gallery { id }, Some(gallery)) = (&self.exp.input, &self.gallery) {
            if !gallery.iter().any(|g| &g.id == id) {
                problems.push(format!("there is no gallery photo '{id}'"));
                self.exp.input = d.input.clone();
            }
        }
        if let Input::Item { dataset, .. } = &self.exp.input {
            if !catalog.datasets.iter().any(|s| &s.id == dataset) {
                problems.push(format!("there is no data set '{dataset}'"));
                self.exp.input = d.input.clone();
            }
        }
        if ui::link_problems(&problems) {
            self.commit(Step::Replace);
        }
    }

    fn commit(&self, step: Step) {
        history::commit(&Experiment::Image(self.exp.clone()), step);
    }

    fn set_visible(&mut self, visible: bool) {
        self.visible = visible;
        if visible {
            // Sizes are known only now (a hidden viewer has none).
            self.refit();
        }
    }

    /// A new input chosen by the user.
    fn choose_input(&mut self, input: Input) {
        if input != self.exp.input {
            self.exp.view.zoom = None; // a zoom belongs to the image it was made on
        }
        ui::input::choose(self, input);
    }

    fn set_codec(&mut self, i: usize, id: &str) {
        // A target size stays with the side (comparing codecs at one size is what it is for),
        // unless the new codec is lossless.
        let keep_target = self.codec(id).is_some_and(|c| !c.lossless);
        if !ui::sides::set_codec(&mut self.exp.sides[i], id, keep_target) {
            return;
        }
        self.render_params(i);
        self.commit(Step::Push);
        self.pump();
    }

    fn set_target(&mut self, i: usize, target: Option<mpq_core::target::Target>) {
        if self.exp.sides[i].target == target {
            return;
        }
        self.exp.sides[i].target = target;
        self.render_params(i);
        self.commit(Step::Push);
        self.pump();
    }

    fn set_param(&mut self, i: usize, name: &str, value: ParamValue, step: Step) {
        ui::sides::set_param(&mut self.exp.sides[i], name, &value);
        self.update_tag(i);
        self.commit(step);
        self.pump();
    }

    fn set_model(&mut self, model: Option<&str>, backend: Option<Backend>) {
        if let Some(m) = model {
            self.exp.model = m.to_string();
        }
        if let Some(b) = backend {
            self.exp.backend = b;
        }
        self.render_model_bar();
        self.commit(Step::Push);
        self.pump();
    }

    /// Where an input comes from, when the page has what it needs (the gallery's index, the
    /// user's file).
    fn source(&self, input: &Input) -> Option<Source> {
        match input {
            Input::Gallery { id } => {
                let item = self.gallery.as_ref()?.iter().find(|g| &g.id == id)?;
                Some(Source::Url { url: format!("gallery/{}", item.file), name: item.file.clone() })
            }
            Input::Item { dataset, index } => Some(Source::Item { dataset: dataset.clone(), index: *index }),
            Input::File(f) => {
                let bytes = self.files.get(&f.sha256)?;
                Some(Source::Bytes { bytes: bytes.to_vec(), name: f.name.clone() })
            }
        }
    }

    /// Sends the next thing the worker must do to match the experiment, when it is free.
    pub(super) fn pump(&mut self) {
        self.mark_waiting();
        // Work on an input that is no longer wanted is worthless: stop it.
        let want = self.exp.input.clone();
        if self.worker.cancel_if(|j| matches!(j, Job::Encode(_, SideKey { input, .. }) | Job::Load(input) if *input != want)) {
            for side in &mut self.sides {
                side.cancel.set_hidden(true);
                side.slot.stopped();
            }
        }
        if !self.worker.ready(self.catalog.is_some(), self.catalog_failed, || (Request::Catalog, Job::Catalog)) {
            return;
        }
        self.render_needs_file();
        // The model on WebGPU runs in the GPU worker module: the worker is replaced by one with
        // it (and given the input again) before the sides are sent.
        self.worker.require(if self.exp.backend == Backend::WebGpu { WorkerModule::Gpu } else { WorkerModule::Cpu });
        if !self.worker.holds(&want) {
            if !self.failed_inputs.contains(&want) {
                if let Some(source) = self.source(&want) {
                    // A restarted worker reloading what is on screen changes nothing the user sees.
                    if !self.is_shown(&want) {
                        set_source_info(&format!("Loading {}…", input_name(&want, self.gallery.as_deref())));
                    }
                    self.worker.submit(Request::Load { source }, Job::Load(want));
                    return;
                }
            }
            // Nothing to load now (a file a link asks for, or an input that failed): the
            // data-set gallery meanwhile.
            self.ask_thumbs();
            return;
        }
        for i in 0..self.sides.len() {
            let key = self.key(i);
            let side = &mut self.sides[i];
            if !side.slot.wants(&key) {
                continue;
            }
            side.slot.start(&key);
            side.cancel.set_hidden(false);
            let request = Request::Encode {
                codec: key.side.codec.clone(),
                params: key.side.params.clone(),
                target: key.side.target,
                judge: Some(Judge { model: key.model.clone(), backend: key.backend }),
            };
            self.worker.submit(request, Job::Encode(i, key));
            return;
        }
        if self.ask_thumbs() {
            return;
        }
        if self.agreement_wanted {
            self.agreement_wanted = false;
            self.worker.submit(Request::Agreement { model: self.exp.model.clone(), items: 200 }, Job::Agreement);
            return;
        }
        if let Some(request) = self.bench.take_request() {
            self.worker.submit(request, Job::Bench);
        }
    }

    /// Asks for the data-set gallery's items once (after the first comparison: they are a
    /// fetch of both test subsets). `true` when it was sent now.
    fn ask_thumbs(&mut self) -> bool {
        if self.thumbs_asked || !self.worker.is_idle() {
            return false;
        }
        self.thumbs_asked = true;
        self.worker.submit(Request::Thumbs, Job::Thumbs);
        true
    }

    /// A side whose result no longer matches the experiment says so at once (not only when its
    /// encode starts), so nobody reads an old result as the new one.
    fn mark_waiting(&self) {
        for (i, side) in self.sides.iter().enumerate() {
            side.slot.mark_waiting(&self.key(i));
        }
    }

    fn is_shown(&self, input: &Input) -> bool {
        self.shown.as_ref().is_some_and(|s| s.input == *input)
    }

    fn on_incoming(&mut self, generation: u32, incoming: Incoming) {
        for (job, notice) in self.worker.notices(generation, incoming) {
            self.on_notice(job, notice);
        }
        self.pump();
    }

    fn on_notice(&mut self, job: Job, notice: Notice<LabEvent>) {
        match notice {
            Notice::Progress { stage, done, total, .. } => self.on_progress(&job, &stage, done, total),
            Notice::Event { event, .. } => self.on_event(&job, event),
            Notice::Done { .. } => {
                if let Job::Encode(i, _) = job {
                    self.sides[i].cancel.set_hidden(true);
                }
            }
            Notice::Failed { message, crashed, .. } => self.on_failed(job, &message, crashed),
        }
    }

    fn on_progress(&mut self, job: &Job, stage: &str, done: f64, total: f64) {
        match job {
            Job::Encode(i, _) => self.sides[*i].slot.on_progress(stage, done, total),
            Job::Load(input) if !self.is_shown(input) => set_source_info(&format!("{}…", capitalized(stage))),
            Job::Load(_) => {}
            Job::Bench => self.bench.on_progress(stage, done, total),
            Job::Agreement => agreement_status(&format!("{stage}…"), "running"),
            Job::Catalog | Job::Thumbs => {}
        }
    }

    fn on_event(&mut self, job: &Job, event: LabEvent) {
        match (job, event) {
            (Job::Catalog, LabEvent::Catalog(c)) => self.set_catalog(c),
            (Job::Thumbs, LabEvent::Thumbs(t)) => {
                self.thumbs = Some(t);
                self.render_dataset_gallery();
            }
            (Job::Load(input), LabEvent::Loaded(l)) => self.on_loaded(input.clone(), l),
            (Job::Encode(i, key), LabEvent::Encoded(e)) => self.on_encoded(*i, key.clone(), &e),
            (Job::Agreement, LabEvent::Agreement(r)) => agreement_done(&r),
            (Job::Bench, LabEvent::BenchRow(row)) => self.bench.add_row(row, self.catalog.as_ref()),
            (Job::Bench, LabEvent::BenchDone) => self.bench.finish(None),
            _ => {}
        }
    }

    fn on_failed(&mut self, job: Job, message: &str, crashed: bool) {
        match job {
            Job::Thumbs => {
                if !crashed {
                    ui::show_error(&format!("Cannot show the data sets' test items: {message}"));
                }
            }
            Job::Catalog => {
                self.catalog_failed = true;
                if !crashed {
                    ui::show_error(&format!("The image lab cannot start: {message}"));
                }
            }
            Job::Load(input) => {
                let message = format!("Could not open {}: {message}", input_name(&input, self.gallery.as_deref()));
                ui::input::load_failed(self, input, &message, crashed, ImageExperiment::default().input);
            }
            Job::Encode(i, key) => {
                self.sides[i].cancel.set_hidden(true);
                self.sides[i].slot.fail(i, key, message, crashed);
            }
            Job::Bench => {
                if !crashed {
                    ui::show_error(&format!("Timing table: {message}"));
                }
                self.bench.finish(Some(message));
            }
            Job::Agreement => {
                if !crashed {
                    ui::show_error(&format!("CPU ↔ WebGPU check: {message}"));
                }
                agreement_status(&format!("⚠ {message}"), "error");
            }
        }
    }

    fn set_catalog(&mut self, catalog: Catalog) {
        self.browser_support = catalog
            .codecs
            .iter()
            .filter_map(|c| c.browser_mime.as_ref().map(|m| (c.id.clone(), canvas_can_encode(m))))
            .collect();
        self.catalog = Some(catalog);
        self.validate();
        self.render_all();
        self.sweep.apply(&self.exp.sweep, &self.exp.model, self.exp.backend, self.catalog.as_ref());
    }

    fn on_loaded(&mut self, input: Input, l: Loaded) {
        self.worker.loaded(input.clone());
        let name = input_name(&input, self.gallery.as_deref());
        let mut info = format!("{name} — {}×{}, {}", l.width, l.height, l.format.to_lowercase());
        if let Some(label) = &l.label {
            info.push_str(&format!(", true class: {label}"));
        }
        if let Some(note) = &l.note {
            info.push_str(&format!(" ({note})"));
        }
        set_source_info(&info);
        if self.shown.as_ref().is_some_and(|s| s.input == input) {
            return; // the worker reloaded what the page already shows
        }
        for side in &mut self.sides {
            draw(&side.canvas, l.width, l.height, &l.rgba);
            side.metrics.set_text_content(None);
            side.perception.set_text_content(None);
            side.download.set_hidden(true);
            ui::target::show_result(&side.target_line, None);
            side.result = None;
            side.bpp = None;
            side.slot.reset();
        }
        self.shown = Some(Shown { input, width: l.width, height: l.height, name, description: info, warning: l.warning.clone() });
        self.render_input();
        self.refit();
    }

    fn on_encoded(&mut self, i: usize, key: SideKey, e: &Encoded) {
        if key != self.key(i) {
            return; // superseded: the side changed while this ran; the newer job is next
        }
        let Some(src) = &self.shown else { return };
        let (w, h) = (src.width, src.height);
        let base = ui::export::file_stem(&src.name).to_string();
        let side = &mut self.sides[i];
        side.slot.done(key);
        side.cancel.set_hidden(true);
        draw(&side.canvas, w, h, &e.rgba);
        render_metrics(&side.metrics, &e.report);
        if e.browser_decoded {
            append(&side.metrics, &[&text_el("dd", "note", "Decoded by this browser's own decoder.")]);
        }
        render_perception(&side.perception, i, &e.verdict);
        ui::target::show_result(&side.target_line, e.target.as_ref());
        side.result = Some(e.export.clone());
        side.bpp = Some(e.report.bits_per_pixel);
        if let Some(t) = &e.target {
            if let Some(name) = &t.param {
                ui::target::lock_param(&side.params_el, &format!("param-{i}"), name, t.value.as_ref());
            }
        }
        // Download link for the encoded bytes (identical to `mpqlab compress` for our codecs).
        let settings: Vec<String> = e.report.params.iter().map(|(k, v)| format!("{k}{}", v.to_string().replace(':', ""))).collect();
        let codec = &e.report.codec;
        let file = format!("{base}-{codec}{}{}.{}", if settings.is_empty() { "" } else { "-" }, settings.join("-"), e.extension);
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(e.encoded.as_slice()));
        let label = format!("Download {file} ({})", format::bytes(e.report.bytes));
        ui::set_download(&side.download, &parts, &e.mime, &file, &label);
    }

    /// The comparison's export: both sides' results (as `mpqlab run` writes them) as CSV or
    /// JSON, or the two decoded images side by side as a PNG.
    fn export(&self, kind: &str) {
        let Some(src) = &self.shown else {
            ui::show_error("Export: no image is shown yet.");
            return;
        };
        let base = ui::export::file_stem(&src.name);
        let stem = format!("mpqlab-image-{base}");
        let sides: Vec<String> =
            self.sides.iter().enumerate().filter_map(|(i, s)| s.result.as_deref().map(|r| ui::export::named(&ui::sides::side_name(i).to_lowercase(), r))).collect();
        match kind {
            "csv" => ui::export::download_csv(&stem, &sides),
            "json" => {
                let result = format!(
                    "{{\"lab\":\"image\",\"input\":{{\"name\":{},\"width\":{},\"height\":{}}},\"model\":{},\"model_backend\":\"{}\",\"sides\":[{}]}}",
                    ui::export::quoted(&src.name),
                    src.width,
                    src.height,
                    ui::export::quoted(&self.exp.model),
                    self.exp.backend.id(),
                    sides.join(",")
                );
                ui::export::download_json("comparison", &stem, &result);
            }
            _ => {
                let captions: Vec<String> = self
                    .sides
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let tag = s.tag.text_content().unwrap_or_default();
                        let bpp = s.bpp.map(|b| format!(" — {b:.3} bpp")).unwrap_or_default();
                        format!("{}: {tag}{bpp}", ui::sides::side_name(i))
                    })
                    .collect();
                let views: Vec<(&HtmlCanvasElement, &str)> = self.sides.iter().zip(&captions).map(|(s, c)| (&s.canvas, c.as_str())).collect();
                ui::export::download_side_by_side(&views, &format!("{stem}-side-by-side.png"));
            }
        }
    }

    fn cancel_side(&mut self, i: usize) {
        if let Some(Job::Encode(j, key)) = self.worker.job().cloned() {
            if j == i {
                self.worker.cancel();
                self.sides[i].slot.failed = Some(key);
                self.sides[i].slot.stopped();
            }
        }
        let side = &self.sides[i];
        side.slot.progress.set_hidden(true);
        side.cancel.set_hidden(true);
        ui::sides::stage(&side.slot.stage, "cancelled — change a setting to encode again", "cancelled");
        self.pump();
    }

    /// Stops the timing table's run, if it runs.
    pub(super) fn cancel_bench(&mut self) {
        self.worker.cancel_if(|j| matches!(j, Job::Bench));
        self.pump();
    }
}
