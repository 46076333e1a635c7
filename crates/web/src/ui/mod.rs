//! The image lab page. The static shell is in `index.html`; this module fills it in, keeps
//! the state, and talks to the worker. One [`App`] lives in a thread-local; event handlers
//! borrow it briefly and never call back into each other.
//!
//! Scheduling: the worker runs one message at a time. Each side remembers only whether it
//! *wants* a new encode; when the worker is free, [`App::pump`] sends the next wanted job with
//! the side's settings as they are *then*. So moving a slider quickly queues nothing: stale
//! settings are never encoded, and a result that arrives after its side changed again is
//! dropped (superseded). Cancel terminates the worker and starts a fresh one.

mod dom;
mod machine;
mod model_lab;
mod pool;

use std::cell::RefCell;

use mpq_core::{ParamKind, ParamSpec, ParamValue, Params};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    CanvasRenderingContext2d, DragEvent, Event, HtmlAnchorElement, HtmlButtonElement,
    HtmlCanvasElement, HtmlElement, HtmlInputElement, HtmlProgressElement, HtmlSelectElement,
    KeyboardEvent, PointerEvent, WheelEvent,
};

use self::dom::{append, by_id, document, el, on, set_style, text_el};
use self::pool::JobWorker;
use crate::js::{self, obj};
use crate::viewport::Viewport;
use crate::{browser_codec, format};

thread_local! {
    static APP: RefCell<Option<App>> = const { RefCell::new(None) };
}

/// Runs `f` on the app. Handlers never nest (JS is single-threaded and nothing here
/// dispatches events synchronously), so a failed borrow would be a bug; it is logged, not
/// a panic that kills the page.
fn with_app<R>(f: impl FnOnce(&mut App) -> R) -> Option<R> {
    APP.with(|cell| match cell.try_borrow_mut() {
        Ok(mut guard) => guard.as_mut().map(f),
        Err(_) => {
            web_sys::console::warn_1(&"mpqlab: re-entrant UI event ignored".into());
            None
        }
    })
}

/// What the worker is doing now.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Task {
    Load,
    Encode(usize),
    Bench,
    Agreement,
}

/// What the lab compares: a file (gallery photo, picked, dropped or pasted) or a test item of
/// one of the models' data sets.
#[derive(Clone, PartialEq, Debug)]
enum Input {
    File(Vec<u8>, String),
    Item { task: String, index: u32, name: String },
}

impl Input {
    fn name(&self) -> &str {
        match self {
            Input::File(_, name) | Input::Item { name, .. } => name,
        }
    }
}

struct Side {
    index: usize,
    codec: String,
    params: Params,
    select: HtmlSelectElement,
    params_el: HtmlElement,
    progress: HtmlProgressElement,
    stage: HtmlElement,
    cancel: HtmlButtonElement,
    metrics: HtmlElement,
    /// What the model makes of this side's result.
    perception: HtmlElement,
    download: HtmlAnchorElement,
    canvas: HtmlCanvasElement,
    tag: HtmlElement,
    /// Settings changed since the last encode was sent: encode again when the worker is free.
    wanted: bool,
    blob_url: Option<String>,
}

struct Source {
    name: String,
    width: u32,
    height: u32,
    description: String,
}

struct App {
    worker: JobWorker,
    sides: Vec<Side>,
    source: Option<Source>,
    /// What the current input is, kept to reload a restarted worker.
    source_file: Option<Input>,
    /// An input to load next (a new one, or the current one again after a worker restart).
    load_wanted: Option<Input>,
    /// The input the worker is loading now; it becomes `source_file` only once it loaded.
    loading: Option<Input>,
    busy: Option<(f64, Task)>,
    next_job: f64,
    view: Viewport,
    fit_mode: bool,
    bench_wanted: bool,
    bench_rows: Vec<Value>,
    browser_support: Vec<(&'static str, bool)>,
    /// The model judging both sides and the backend it runs on ("cpu" or "webgpu").
    model: String,
    backend: String,
    sweep: machine::SweepState,
    agreement_wanted: bool,
}

/// Every codec the page offers: ours, then the browser's own.
fn codec_choices() -> Vec<(String, String, Vec<ParamSpec>)> {
    let mut out: Vec<_> = mpq_codecs::registry()
        .iter()
        .map(|c| (c.id().to_string(), format!("{}{}", c.name(), if c.lossless() { " (lossless)" } else { "" }), c.params()))
        .collect();
    out.extend(browser_codec::BROWSER_CODECS.iter().map(|c| (c.id.to_string(), c.name.to_string(), c.params())));
    out
}

fn schema_of(id: &str) -> Vec<ParamSpec> {
    codec_choices().into_iter().find(|c| c.0 == id).map(|c| c.2).unwrap_or_default()
}

fn codec_label(id: &str) -> String {
    codec_choices().into_iter().find(|c| c.0 == id).map(|c| c.1).unwrap_or_else(|| id.to_string())
}

/// Can this browser's canvas encode `mime`? (It falls back to PNG when it cannot.)
fn canvas_can_encode(mime: &str) -> bool {
    let canvas: HtmlCanvasElement = el("canvas", "", &[]).unchecked_into();
    canvas.set_width(1);
    canvas.set_height(1);
    canvas.to_data_url_with_type(mime).map(|u| u.starts_with(&format!("data:{mime}"))).unwrap_or(false)
}

/// The lab's own worker: its messages go to [`App::on_worker_message`], a crash restarts it.
fn new_worker() -> Result<JobWorker, JsValue> {
    JobWorker::spawn(
        |data| {
            with_app(|app| app.on_worker_message(&data));
        },
        |msg| {
            with_app(|app| app.worker_crashed(&msg));
        },
    )
}

pub fn run() {
    let worker = match new_worker() {
        Ok(w) => w,
        Err(e) => {
            show_error(&format!("Cannot start the worker: {}", js::error_text(&e)));
            return;
        }
    };
    let browser_support =
        browser_codec::BROWSER_CODECS.iter().map(|c| (c.id, canvas_can_encode(c.mime))).collect();
    let initial = [("jpeg", vec![("quality", ParamValue::Int(20))]), ("avif", vec![])];
    let sides = initial.iter().enumerate().map(|(i, (codec, params))| build_side(i, codec, params)).collect();
    let app = App {
        worker,
        sides,
        source: None,
        source_file: None,
        load_wanted: None,
        loading: None,
        busy: None,
        next_job: 1.0,
        view: Viewport::default(),
        fit_mode: true,
        bench_wanted: false,
        bench_rows: Vec::new(),
        browser_support,
        model: mpq_models::ModelId::ALL[0].id().to_string(),
        backend: "cpu".to_string(),
        sweep: machine::SweepState::default(),
        agreement_wanted: false,
    };
    APP.with(|cell| *cell.borrow_mut() = Some(app));
    with_app(|app| {
        for i in 0..app.sides.len() {
            app.fill_codec_select(i);
            app.render_params(i);
            app.update_tag(i);
        }
        app.apply_view();
    });
    wire_input();
    wire_viewer();
    wire_bench();
    machine::wire();
    model_lab::wire();
    if let Some(b) = by_id::<HtmlButtonElement>("error-close") {
        on::<Event>(&b, "click", |_| hide_error());
    }
    wasm_bindgen_futures::spawn_local(load_gallery());
    wasm_bindgen_futures::spawn_local(machine::load_dataset_gallery());
    if let Some(status) = by_id::<HtmlElement>("app-status") {
        status.set_text_content(Some("ready"));
        let _ = status.set_attribute("data-ready", "1");
    }
}

// ---------------------------------------------------------------------------------------------
// Sides: codec choice, parameter controls generated from the schema, numbers.

fn build_side(index: usize, codec: &str, params: &[(&str, ParamValue)]) -> Side {
    let root: HtmlElement = by_id(&format!("side-{index}")).expect("side container in index.html");
    root.set_inner_html("");
    let title = text_el("h2", "side-title", if index == 0 { "Left" } else { "Right" });
    let label = el("label", "field", &[]);
    append(&label, &[&text_el("span", "field-name", "Codec")]);
    let select: HtmlSelectElement = el("select", "codec", &[("data-testid", &format!("codec-{index}"))]).unchecked_into();
    append(&label, &[&select]);
    let params_el = el("div", "params", &[]);
    let status = el("div", "status", &[("aria-live", "polite")]);
    let progress: HtmlProgressElement = el("progress", "", &[("max", "1")]).unchecked_into();
    progress.set_hidden(true);
    let stage = el("span", "stage", &[("data-testid", &format!("stage-{index}"))]);
    let cancel: HtmlButtonElement = text_el("button", "cancel", "Cancel").unchecked_into();
    cancel.set_hidden(true);
    append(&status, &[&progress, &stage, &cancel]);
    let metrics = el("dl", "metrics", &[("data-testid", &format!("metrics-{index}"))]);
    let perception = el("div", "perception", &[("data-testid", &format!("perception-{index}")), ("aria-live", "polite")]);
    let download: HtmlAnchorElement = text_el("a", "download", "Download").unchecked_into();
    download.set_hidden(true);
    append(&root, &[&title, &label, &params_el, &status, &metrics, &perception, &download]);

    on::<Event>(&select, "change", move |e| {
        let id = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
        with_app(|app| app.set_codec(index, &id));
    });
    on::<Event>(&cancel, "click", move |_| {
        with_app(|app| app.cancel_side(index));
    });

    Side {
        index,
        codec: codec.to_string(),
        params: params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        select,
        params_el,
        progress,
        stage,
        cancel,
        metrics,
        perception,
        download,
        canvas: by_id(&format!("canvas-{index}")).expect("canvas in index.html"),
        tag: by_id(&format!("tag-{index}")).expect("tag in index.html"),
        wanted: false,
        blob_url: None,
    }
}

impl App {
    fn fill_codec_select(&mut self, i: usize) {
        let side = &self.sides[i];
        side.select.set_inner_html("");
        let mut group_ours = None;
        for (id, name, _) in codec_choices() {
            let native = browser_codec::find(&id).is_some();
            let supported = !native || self.browser_support.iter().any(|(b, ok)| *b == id && *ok);
            let label = if supported { name } else { format!("{name} — not supported by this browser") };
            let opt = text_el("option", "", &label);
            let _ = opt.set_attribute("value", &id);
            if !supported {
                let _ = opt.set_attribute("disabled", "");
            }
            if id == side.codec {
                let _ = opt.set_attribute("selected", "");
            }
            let group_label = if native { "Browser-native encoders" } else { "mpqlab (same bytes as the CLI)" };
            let group = match &group_ours {
                Some((l, g)) if *l == group_label => g,
                _ => {
                    let g = el("optgroup", "", &[("label", group_label)]);
                    append(&side.select, &[&g]);
                    group_ours = Some((group_label, g));
                    &group_ours.as_ref().expect("just set").1
                }
            };
            append(group, &[&opt]);
        }
        side.select.set_value(&side.codec);
    }

    fn set_codec(&mut self, i: usize, id: &str) {
        if self.sides[i].codec == id {
            return;
        }
        self.sides[i].codec = id.to_string();
        self.sides[i].params.clear();
        self.render_params(i);
        self.request_encode(i);
    }

    /// Builds the controls for side `i` from its codec's schema: no per-codec UI code.
    fn render_params(&mut self, i: usize) {
        let schema = schema_of(&self.sides[i].codec);
        let side = &mut self.sides[i];
        side.params_el.set_inner_html("");
        if schema.is_empty() {
            append(&side.params_el, &[&text_el("p", "no-params", "This codec has no settings.")]);
        }
        for spec in schema {
            let value = side.params.get(&spec.name).cloned().unwrap_or_else(|| spec.default.clone());
            let control = param_control(side.index, &spec, &value);
            append(&side.params_el, &[&control]);
        }
        self.update_tag(i);
    }

    fn set_param(&mut self, i: usize, name: &str, value: ParamValue) {
        self.sides[i].params.insert(name.to_string(), value);
        self.update_tag(i);
        self.request_encode(i);
    }

    fn update_tag(&mut self, i: usize) {
        let side = &self.sides[i];
        let schema = schema_of(&side.codec);
        let settings: Vec<String> = schema
            .iter()
            .map(|s| {
                let v = side.params.get(&s.name).cloned().unwrap_or_else(|| s.default.clone());
                format!("{} {}", s.label.to_lowercase(), v)
            })
            .collect();
        let mut label = codec_label(&side.codec);
        if !settings.is_empty() {
            label = format!("{label} · {}", settings.join(", "));
        }
        side.tag.set_text_content(Some(&label));
    }

    fn request_encode(&mut self, i: usize) {
        if self.source.is_none() && self.load_wanted.is_none() && self.loading.is_none() {
            return;
        }
        let side = &mut self.sides[i];
        side.wanted = true;
        side.stage.set_text_content(Some("waiting…"));
        side.progress.set_hidden(false);
        side.progress.remove_attribute("value").ok();
        self.pump();
    }

    /// Sends the next wanted job when the worker is idle. Order: a new input, then the sides
    /// left to right, then the benchmark.
    fn pump(&mut self) {
        if self.busy.is_some() {
            return;
        }
        let job = self.next_job;
        if let Some(input) = self.load_wanted.take() {
            let msg = match &input {
                Input::File(bytes, name) => obj(&[
                    ("kind", "load".into()),
                    ("job", job.into()),
                    ("bytes", js::bytes(bytes).into()),
                    ("name", name.as_str().into()),
                ]),
                Input::Item { task, index, .. } => obj(&[
                    ("kind", "load-item".into()),
                    ("job", job.into()),
                    ("task", task.as_str().into()),
                    ("index", (*index).into()),
                ]),
            };
            self.loading = Some(input);
            self.post(&msg, Task::Load);
            return;
        }
        if self.source.is_some() {
            if let Some(i) = self.sides.iter().position(|s| s.wanted) {
                let side = &mut self.sides[i];
                side.wanted = false;
                let params = serde_json::to_string(&side.params).unwrap_or_else(|_| "{}".into());
                side.stage.set_text_content(Some("encoding…"));
                side.cancel.set_hidden(false);
                let msg = obj(&[
                    ("kind", "encode".into()),
                    ("job", job.into()),
                    ("side", (i as f64).into()),
                    ("codec", side.codec.as_str().into()),
                    ("params", params.into()),
                    ("model", self.model.as_str().into()),
                    ("backend", self.backend.as_str().into()),
                ]);
                self.post(&msg, Task::Encode(i));
                return;
            }
        }
        if self.agreement_wanted {
            self.agreement_wanted = false;
            let msg = obj(&[
                ("kind", "agreement".into()),
                ("job", job.into()),
                ("model", self.model.as_str().into()),
                ("items", 200.into()),
            ]);
            self.post(&msg, Task::Agreement);
            return;
        }
        if self.bench_wanted {
            self.bench_wanted = false;
            let urls: Vec<String> = BENCH_PHOTOS.iter().map(|n| format!("gallery/{n}.png")).collect();
            let msg = obj(&[
                ("kind", "bench".into()),
                ("job", job.into()),
                ("urls", serde_json::to_string(&urls).unwrap_or_default().into()),
                ("runs", bench_runs().into()),
            ]);
            self.post(&msg, Task::Bench);
        }
    }

    fn post(&mut self, msg: &js_sys::Object, task: Task) {
        let job = self.next_job;
        self.next_job += 1.0;
        match self.worker.post(msg) {
            Ok(()) => self.busy = Some((job, task)),
            Err(e) => show_error(&format!("Cannot reach the worker: {}", js::error_text(&e))),
        }
    }

    fn on_worker_message(&mut self, data: &JsValue) {
        let job = js::get_f64(data, "job");
        let current = self.busy.filter(|(j, _)| *j == job).map(|(_, t)| t);
        let kind = js::get_str(data, "kind");
        let Some(task) = current else {
            return; // from a job we no longer wait for (its worker was replaced)
        };
        match kind.as_str() {
            "progress" => self.on_progress(task, data),
            "loaded" => {
                self.busy = None;
                self.on_loaded(data);
            }
            "result" => {
                self.busy = None;
                if let Task::Encode(i) = task {
                    self.on_result(i, data);
                }
            }
            "bench-row" => {
                if let Ok(row) = serde_json::from_str::<Value>(&js::get_str(data, "row")) {
                    self.bench_rows.push(row);
                    render_bench_table(&self.bench_rows);
                }
            }
            "bench-done" => {
                self.busy = None;
                bench_finished(&self.bench_rows, None);
            }
            "agreement-done" => {
                self.busy = None;
                machine::agreement_done(data);
            }
            "error" => {
                self.busy = None;
                let message = js::get_str(data, "message");
                match task {
                    Task::Load => {
                        let failed = self.loading.take().map(|f| f.name().to_string()).unwrap_or_default();
                        show_error(&format!("Could not open {failed}: {message}"));
                        // The previous input stays (the worker keeps it too).
                        set_source_info(&self.source_description());
                    }
                    Task::Encode(i) => {
                        let side = &self.sides[i];
                        side.progress.set_hidden(true);
                        side.cancel.set_hidden(true);
                        if !side.wanted {
                            side.stage.set_text_content(Some(&format!("⚠ {message}")));
                            let _ = side.stage.set_attribute("data-state", "error");
                        }
                        show_error(&format!("{} side: {message}", if i == 0 { "Left" } else { "Right" }));
                    }
                    Task::Bench => {
                        show_error(&format!("Timing table: {message}"));
                        bench_finished(&self.bench_rows, Some(&message));
                    }
                    Task::Agreement => {
                        show_error(&format!("CPU ↔ WebGPU check: {message}"));
                        machine::agreement_failed(&message);
                    }
                }
                if js::get(data, "fatal").as_bool() == Some(true) {
                    self.restart_worker();
                }
            }
            _ => {}
        }
        self.pump();
    }

    fn on_progress(&mut self, task: Task, data: &JsValue) {
        let stage = js::get_str(data, "stage");
        let (done, total) = (js::get_f64(data, "done"), js::get_f64(data, "total"));
        match task {
            Task::Encode(i) => {
                let side = &self.sides[i];
                side.stage.set_text_content(Some(&format!("{stage}…")));
                side.progress.set_hidden(false);
                if total > 0.0 {
                    side.progress.set_value(done / total);
                }
            }
            Task::Bench => {
                if let (Some(p), Some(s)) = (by_id::<HtmlProgressElement>("bench-progress"), by_id::<HtmlElement>("bench-status")) {
                    p.set_hidden(false);
                    p.set_value(if total > 0.0 { done / total } else { 0.0 });
                    s.set_text_content(Some(&format!("{} of {}: {stage}", done as u32 + 1, total as u32)));
                }
            }
            Task::Load => set_source_info("Decoding…"),
            Task::Agreement => machine::agreement_progress(&stage),
        }
    }

    fn on_loaded(&mut self, data: &JsValue) {
        let (w, h) = (js::get_u32(data, "width"), js::get_u32(data, "height"));
        let rgba = js::get_bytes(data, "rgba");
        if let Some(file) = self.loading.take() {
            self.source_file = Some(file);
        }
        let name = self.source_file.as_ref().map(|f| f.name().to_string()).unwrap_or_default();
        let mut info = format!("{name} — {w}×{h}, {}", js::get_str(data, "format").to_lowercase());
        if let Some(label) = js::get(data, "label").as_string() {
            info.push_str(&format!(", true class: {label}"));
        }
        if let Some(note) = js::get(data, "note").as_string() {
            info.push_str(&format!(" ({note})"));
        }
        set_source_info(&info);
        let reloading = self.source.as_ref().is_some_and(|s| s.name == name && s.width == w && s.height == h);
        self.source = Some(Source { name, width: w, height: h, description: info });
        if !reloading {
            // A new input: show it on both sides until their encodes arrive.
            for side in &self.sides {
                draw(&side.canvas, w, h, &rgba);
                side.metrics.set_inner_html("");
                side.perception.set_inner_html("");
                side.download.set_hidden(true);
            }
            self.fit_mode = true;
            self.refit();
            for i in 0..self.sides.len() {
                self.sides[i].wanted = true;
                self.sides[i].stage.set_text_content(Some("waiting…"));
            }
        }
    }

    fn on_result(&mut self, i: usize, data: &JsValue) {
        let Some(src) = &self.source else { return };
        let (w, h) = (src.width, src.height);
        let base = src.name.rsplit_once('.').map(|(b, _)| b.to_string()).unwrap_or_else(|| src.name.clone());
        let side = &mut self.sides[i];
        side.cancel.set_hidden(true);
        if side.wanted {
            return; // superseded: the settings changed while this ran; the newer job is next
        }
        side.progress.set_hidden(true);
        let Ok(report) = serde_json::from_str::<Value>(&js::get_str(data, "report")) else { return };
        draw(&side.canvas, w, h, &js::get_bytes(data, "rgba"));
        side.stage.set_text_content(Some("done"));
        let _ = side.stage.set_attribute("data-state", "done");
        render_metrics(&side.metrics, &report);
        if js::get(data, "browser_decoded").as_bool() == Some(true) {
            append(&side.metrics, &[&text_el("dd", "note", "Decoded by this browser's own decoder.")]);
        }
        machine::render_perception(&side.perception, i, data);
        // Download link for the encoded bytes (identical to `mpqlab compress` for our codecs).
        let encoded = js::get(data, "encoded");
        if let Some(url) = side.blob_url.take() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
        let parts = js_sys::Array::of1(&encoded);
        let bag = web_sys::BlobPropertyBag::new();
        bag.set_type(&js::get_str(data, "mime"));
        if let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &bag) {
            if let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) {
                side.download.set_href(&url);
                let settings: Vec<String> = report["params"]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| format!("{k}{}", v.to_string().trim_matches('"').replace(':', ""))).collect())
                    .unwrap_or_default();
                let file = format!("{base}-{}{}{}.{}", side.codec, if settings.is_empty() { "" } else { "-" }, settings.join("-"), js::get_str(data, "extension"));
                side.download.set_download(&file);
                side.download.set_text_content(Some(&format!("Download {} ({})", file, format::bytes(report["bytes"].as_u64().unwrap_or(0) as usize))));
                side.download.set_hidden(false);
                side.blob_url = Some(url);
            }
        }
    }

    fn source_description(&self) -> String {
        self.source.as_ref().map(|s| s.description.clone()).unwrap_or_else(|| "No image loaded.".into())
    }

    fn cancel_side(&mut self, i: usize) {
        let side = &mut self.sides[i];
        side.wanted = false;
        side.progress.set_hidden(true);
        side.cancel.set_hidden(true);
        side.stage.set_text_content(Some("cancelled — change a setting to encode again"));
        if self.busy.map(|b| b.1) == Some(Task::Encode(i)) {
            self.restart_worker();
        }
        self.pump();
    }

    /// Replaces the worker (the only way to stop wasm work mid-way) and reloads the input.
    fn restart_worker(&mut self) {
        self.worker.terminate();
        match new_worker() {
            Ok(w) => self.worker = w,
            Err(e) => {
                show_error(&format!("Cannot restart the worker: {}", js::error_text(&e)));
                return;
            }
        }
        self.busy = None;
        // The worker lost its input: load the file in flight, or else the current one, again.
        if self.load_wanted.is_none() {
            self.load_wanted = self.loading.take().or_else(|| self.source_file.clone());
        }
        self.loading = None;
    }

    fn worker_crashed(&mut self, msg: &str) {
        show_error(&format!("The worker stopped: {msg}. It has been restarted."));
        for side in &self.sides {
            side.progress.set_hidden(true);
            side.cancel.set_hidden(true);
        }
        self.restart_worker();
        self.pump();
    }

    fn request_load(&mut self, input: Input) {
        hide_error();
        set_source_info(&format!("Loading {}…", input.name()));
        self.load_wanted = Some(input);
        if matches!(self.busy, Some((_, Task::Encode(_)))) {
            // Work on the old input is worthless now.
            self.restart_worker();
        }
        self.pump();
    }

    // --- the comparison view -------------------------------------------------------------

    fn apply_view(&self) {
        let t = self.view.css_transform();
        for side in &self.sides {
            set_style(side.canvas.unchecked_ref(), "transform", &t);
        }
        let pct = self.view.split * 100.0;
        if let Some(layer) = by_id::<HtmlElement>("layer-1") {
            set_style(&layer, "clip-path", &format!("inset(0 0 0 {pct:.2}%)"));
        }
        if let Some(split) = by_id::<HtmlElement>("split") {
            set_style(&split, "left", &format!("{pct:.2}%"));
            let _ = split.set_attribute("aria-valuenow", &format!("{:.0}", pct));
            let _ = split.set_attribute("aria-valuetext", &format!("{:.0}% left, {:.0}% right", pct, 100.0 - pct));
        }
        if let Some(z) = by_id::<HtmlElement>("zoom-level") {
            z.set_text_content(Some(&format!("{:.0}%", self.view.scale * 100.0)));
        }
    }

    fn refit(&mut self) {
        if let (Some(src), Some(viewer)) = (&self.source, by_id::<HtmlElement>("viewer")) {
            let rect = viewer.get_bounding_client_rect();
            self.view.fit(rect.width(), rect.height(), src.width as f64, src.height as f64);
        }
        self.apply_view();
    }
}

fn param_control(side: usize, spec: &ParamSpec, value: &ParamValue) -> HtmlElement {
    let wrap = el("label", "field", &[("title", &spec.help)]);
    let name = text_el("span", "field-name", &spec.label);
    append(&wrap, &[&name]);
    let testid = format!("param-{side}-{}", spec.name);
    let pname = spec.name.clone();
    match &spec.kind {
        ParamKind::Int { .. } | ParamKind::Float { .. } => numeric_control(&wrap, side, spec, value, &testid),
        ParamKind::Choice { options } => {
            let select: HtmlSelectElement = el("select", "", &[("data-testid", &testid)]).unchecked_into();
            for o in options {
                let opt = text_el("option", "", o);
                let _ = opt.set_attribute("value", o);
                append(&select, &[&opt]);
            }
            select.set_value(&value.to_string());
            on::<Event>(&select, "change", move |e| {
                let v = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
                with_app(|app| app.set_param(side, &pname, ParamValue::Choice(v)));
            });
            append(&wrap, &[&select]);
        }
        ParamKind::Bool => {
            let input: HtmlInputElement = el("input", "", &[("type", "checkbox"), ("data-testid", &testid)]).unchecked_into();
            input.set_checked(matches!(value, ParamValue::Bool(true)));
            on::<Event>(&input, "change", move |e| {
                let v = e.target().map(|t| t.unchecked_into::<HtmlInputElement>().checked()).unwrap_or(false);
                with_app(|app| app.set_param(side, &pname, ParamValue::Bool(v)));
            });
            append(&wrap, &[&input]);
        }
    }
    if let Some(unit) = &spec.unit {
        append(&wrap, &[&text_el("span", "unit", unit)]);
    }
    wrap
}

/// A range slider with a number box beside it, kept in sync; either one sets the value.
fn numeric_control(wrap: &HtmlElement, side: usize, spec: &ParamSpec, value: &ParamValue, testid: &str) {
    let (min, max, step, is_int) = match spec.kind {
        ParamKind::Int { min, max, step } => (min as f64, max as f64, step as f64, true),
        ParamKind::Float { min, max, step } => (min, max, step, false),
        _ => return,
    };
    let v = match value {
        ParamValue::Int(i) => *i as f64,
        ParamValue::Float(x) => *x,
        _ => min,
    };
    let attrs = |kind: &str, id: String| {
        vec![("type", kind.to_string()), ("min", min.to_string()), ("max", max.to_string()), ("step", step.to_string()), ("data-testid", id), ("aria-label", spec.label.clone())]
    };
    let mk = |kind: &str, id: String| -> HtmlInputElement {
        let a = attrs(kind, id);
        let refs: Vec<(&str, &str)> = a.iter().map(|(k, v)| (*k, v.as_str())).collect();
        el("input", kind, &refs).unchecked_into()
    };
    let range = mk("range", testid.to_string());
    let number = mk("number", format!("{testid}-number"));
    range.set_value(&v.to_string());
    number.set_value(&v.to_string());
    for (src, other) in [(range.clone(), number.clone()), (number.clone(), range.clone())] {
        let pname = spec.name.clone();
        on::<Event>(&src, "input", move |e| {
            let input: HtmlInputElement = match e.target() {
                Some(t) => t.unchecked_into(),
                None => return,
            };
            let x = input.value_as_number();
            if !x.is_finite() || x < min || x > max {
                let _ = input.set_attribute("aria-invalid", "true");
                return; // an out-of-range number box is shown as invalid, not sent
            }
            let _ = input.remove_attribute("aria-invalid");
            other.set_value(&input.value());
            let value = if is_int { ParamValue::Int(x.round() as i64) } else { ParamValue::Float(x) };
            with_app(|app| app.set_param(side, &pname, value));
        });
    }
    append(wrap, &[&range, &number]);
}

fn draw(canvas: &HtmlCanvasElement, w: u32, h: u32, rgba: &[u8]) {
    if rgba.len() != (w * h * 4) as usize {
        return;
    }
    canvas.set_width(w);
    canvas.set_height(h);
    set_style(canvas.unchecked_ref(), "width", &format!("{w}px"));
    set_style(canvas.unchecked_ref(), "height", &format!("{h}px"));
    let Ok(Some(ctx)) = canvas.get_context("2d") else { return };
    let ctx: CanvasRenderingContext2d = ctx.unchecked_into();
    if let Ok(data) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(wasm_bindgen::Clamped(rgba), w, h) {
        let _ = ctx.put_image_data(&data, 0.0, 0.0);
    }
}

/// The numbers under a side. Each value carries `data-metric` and the raw `data-value`, so
/// tests (and curious users with devtools) read exact numbers, not formatted text.
fn render_metrics(dl: &HtmlElement, r: &Value) {
    dl.set_inner_html("");
    let f = |k: &str| r[k].as_f64();
    let bytes = r["bytes"].as_u64().unwrap_or(0) as usize;
    let ms_scales = r["ms_ssim_scales"].as_u64().unwrap_or(0);
    let rows: Vec<(&str, &str, String)> = vec![
        ("bytes", "Size", format!("{} ({bytes} B)", format::bytes(bytes))),
        ("bits_per_pixel", "Bits per pixel", format!("{:.3} bpp", f("bits_per_pixel").unwrap_or(0.0))),
        ("compression_ratio", "Compression", format!("{:.1} : 1", f("compression_ratio").unwrap_or(0.0))),
        ("psnr_rgb", "PSNR (RGB)", format::db(f("psnr_rgb"))),
        ("psnr_y", "PSNR (luma)", format::db(f("psnr_y"))),
        ("ssim", "SSIM", format::index(f("ssim"))),
        (
            "ms_ssim",
            "MS-SSIM",
            match f("ms_ssim") {
                Some(v) if ms_scales < 5 => format!("{v:.4} ({ms_scales} scales: small image)"),
                other => format::index(other),
            },
        ),
        ("encode_ms", "Encode time", format::ms(f("encode_ms").unwrap_or(0.0))),
        ("decode_ms", "Decode time", format::ms(f("decode_ms").unwrap_or(0.0))),
    ];
    for (key, label, text) in rows {
        let dt = text_el("dt", "", label);
        let dd = text_el("dd", "", &text);
        let _ = dd.set_attribute("data-metric", key);
        let raw = match &r[key] {
            Value::Null => "null".to_string(),
            v => v.to_string(),
        };
        let _ = dd.set_attribute("data-value", &raw);
        append(dl, &[&dt, &dd]);
    }
    if r["exact"].as_bool() == Some(true) {
        append(dl, &[&text_el("dt", "", "Pixels"), &text_el("dd", "exact", "identical to the original")]);
    }
}

// ---------------------------------------------------------------------------------------------
// Input: gallery, file picker, drop, paste.

#[derive(serde::Deserialize)]
struct GalleryItem {
    id: String,
    file: String,
    title: String,
    credit: String,
}

async fn load_gallery() {
    let items: Vec<GalleryItem> = match js::fetch_bytes("gallery/index.json").await {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
        Err(e) => {
            show_error(&format!("Cannot load the gallery: {e}"));
            return;
        }
    };
    let Some(gallery) = by_id::<HtmlElement>("gallery") else { return };
    for item in &items {
        let button = el("button", "thumb", &[("data-testid", &format!("gallery-{}", item.id)), ("title", &item.credit), ("aria-pressed", "false")]);
        let img = el("img", "", &[("src", &format!("gallery/{}", item.file)), ("alt", ""), ("loading", "lazy")]);
        append(&button, &[&img, &text_el("span", "", &item.title)]);
        let file = item.file.clone();
        on::<Event>(&button, "click", move |e| {
            select_thumb(e.current_target());
            let file = file.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match js::fetch_bytes(&format!("gallery/{file}")).await {
                    Ok(bytes) => {
                        with_app(|app| app.request_load(Input::File(bytes, file)));
                    }
                    Err(e) => show_error(&format!("Cannot load {file}: {e}")),
                }
            });
        });
        append(&gallery, &[&button]);
    }
    // The first screen: the first photo, compressed both ways.
    if let Some(first) = gallery.query_selector("button.thumb").ok().flatten() {
        first.unchecked_into::<HtmlElement>().click();
    }
}

fn select_thumb(target: Option<web_sys::EventTarget>) {
    if let Ok(list) = document().query_selector_all(".gallery .thumb, .dataset-gallery .thumb") {
        for i in 0..list.length() {
            if let Some(n) = list.item(i) {
                let _ = n.unchecked_into::<HtmlElement>().set_attribute("aria-pressed", "false");
            }
        }
    }
    if let Some(t) = target {
        let _ = t.unchecked_into::<HtmlElement>().set_attribute("aria-pressed", "true");
    }
}

fn load_file(file: web_sys::File) {
    let name = file.name();
    let size = file.size();
    if size > mpq_core::limits::MAX_FILE_BYTES as f64 {
        show_error(&format!(
            "{name} is {:.1} MB; the lab accepts files up to {} MB.",
            size / 1e6,
            mpq_core::limits::MAX_FILE_BYTES / (1024 * 1024)
        ));
        return;
    }
    select_thumb(None);
    wasm_bindgen_futures::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
            Ok(buf) => {
                let bytes = js_sys::Uint8Array::new(&buf).to_vec();
                with_app(|app| app.request_load(Input::File(bytes, name)));
            }
            Err(e) => show_error(&format!("Cannot read {name}: {}", js::error_text(&e))),
        }
    });
}

fn wire_input() {
    if let Some(input) = by_id::<HtmlInputElement>("file") {
        on::<Event>(&input, "change", |e| {
            let input: HtmlInputElement = match e.target() {
                Some(t) => t.unchecked_into(),
                None => return,
            };
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                load_file(file);
            }
            input.set_value(""); // so picking the same file again fires `change`
        });
    }
    let doc = document();
    let hint = by_id::<HtmlElement>("drop-hint");
    let h = hint.clone();
    on::<DragEvent>(&doc, "dragover", move |e| {
        e.prevent_default();
        if let Some(h) = &h {
            h.set_hidden(false);
        }
    });
    let h = hint.clone();
    on::<DragEvent>(&doc, "dragleave", move |e| {
        if e.related_target().is_none() {
            if let Some(h) = &h {
                h.set_hidden(true);
            }
        }
    });
    on::<DragEvent>(&doc, "drop", move |e| {
        e.prevent_default();
        if let Some(h) = &hint {
            h.set_hidden(true);
        }
        match e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            Some(file) => load_file(file),
            None => show_error("Nothing to open: drop an image file."),
        }
    });
    on::<web_sys::ClipboardEvent>(&doc, "paste", |e| {
        if let Some(file) = e.clipboard_data().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            e.prevent_default();
            load_file(file);
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The viewer: split (mouse, touch, keyboard), synchronized zoom and pan.

#[derive(Default)]
struct Drag {
    split: bool,
    pan: Option<(f64, f64)>,
}

thread_local! {
    static DRAG: RefCell<Drag> = RefCell::new(Drag::default());
}

fn viewer_point(viewer: &HtmlElement, x: i32, y: i32) -> (f64, f64, f64, f64) {
    let r = viewer.get_bounding_client_rect();
    (x as f64 - r.left(), y as f64 - r.top(), r.width(), r.height())
}

fn wire_viewer() {
    let (Some(viewer), Some(split)) = (by_id::<HtmlElement>("viewer"), by_id::<HtmlElement>("split")) else { return };

    on::<PointerEvent>(&split, "pointerdown", {
        let split = split.clone();
        move |e| {
            e.prevent_default();
            e.stop_propagation();
            let _ = split.set_pointer_capture(e.pointer_id());
            let _ = split.focus();
            DRAG.with(|d| d.borrow_mut().split = true);
        }
    });
    on::<PointerEvent>(&viewer, "pointerdown", {
        let viewer = viewer.clone();
        move |e| {
            if e.button() != 0 {
                return;
            }
            let _ = viewer.set_pointer_capture(e.pointer_id());
            DRAG.with(|d| d.borrow_mut().pan = Some((e.client_x() as f64, e.client_y() as f64)));
        }
    });
    on::<PointerEvent>(&viewer, "pointermove", {
        let viewer = viewer.clone();
        move |e| {
            let (split_drag, pan) = DRAG.with(|d| {
                let d = d.borrow();
                (d.split, d.pan)
            });
            if split_drag {
                let (x, _, w, _) = viewer_point(&viewer, e.client_x(), e.client_y());
                with_app(|app| {
                    app.view.set_split(x / w.max(1.0));
                    app.apply_view();
                });
            } else if let Some((lx, ly)) = pan {
                let (x, y) = (e.client_x() as f64, e.client_y() as f64);
                DRAG.with(|d| d.borrow_mut().pan = Some((x, y)));
                with_app(|app| {
                    app.fit_mode = false;
                    app.view.pan(x - lx, y - ly);
                    app.apply_view();
                });
            }
        }
    });
    for ev in ["pointerup", "pointercancel"] {
        on::<PointerEvent>(&viewer, ev, |_| DRAG.with(|d| *d.borrow_mut() = Drag::default()));
    }
    on::<WheelEvent>(&viewer, "wheel", {
        let viewer = viewer.clone();
        move |e| {
            e.prevent_default();
            let (x, y, _, _) = viewer_point(&viewer, e.client_x(), e.client_y());
            let factor = (-e.delta_y() * 0.0015).clamp(-1.0, 1.0).exp();
            with_app(|app| {
                app.fit_mode = false;
                app.view.zoom_at(factor, x, y);
                app.apply_view();
            });
        }
    });
    on::<KeyboardEvent>(&split, "keydown", |e| {
        let step = if e.shift_key() { 0.1 } else { 0.02 };
        let handled = with_app(|app| {
            let s = app.view.split;
            let new = match e.key().as_str() {
                "ArrowLeft" | "ArrowDown" => s - step,
                "ArrowRight" | "ArrowUp" => s + step,
                "PageDown" => s - 0.1,
                "PageUp" => s + 0.1,
                "Home" => 0.0,
                "End" => 1.0,
                _ => return false,
            };
            app.view.set_split(new);
            app.apply_view();
            true
        });
        if handled == Some(true) {
            e.prevent_default();
            e.stop_propagation();
        }
    });
    on::<KeyboardEvent>(&viewer, "keydown", {
        let viewer = viewer.clone();
        move |e| {
            let r = viewer.get_bounding_client_rect();
            let (cx, cy) = (r.width() / 2.0, r.height() / 2.0);
            let handled = with_app(|app| {
                match e.key().as_str() {
                    "+" | "=" => app.view.zoom_at(1.25, cx, cy),
                    "-" | "_" => app.view.zoom_at(0.8, cx, cy),
                    "0" => {
                        app.fit_mode = true;
                        app.refit();
                        return true;
                    }
                    "1" => app.view.actual_size(r.width(), r.height()),
                    "ArrowLeft" => app.view.pan(40.0, 0.0),
                    "ArrowRight" => app.view.pan(-40.0, 0.0),
                    "ArrowUp" => app.view.pan(0.0, 40.0),
                    "ArrowDown" => app.view.pan(0.0, -40.0),
                    _ => return false,
                }
                app.fit_mode = false;
                app.apply_view();
                true
            });
            if handled == Some(true) {
                e.prevent_default();
            }
        }
    });
    let zoom_button = |id: &str, f: fn(&mut App, f64, f64)| {
        if let Some(b) = by_id::<HtmlButtonElement>(id) {
            on::<Event>(&b, "click", move |_| {
                let Some(viewer) = by_id::<HtmlElement>("viewer") else { return };
                let r = viewer.get_bounding_client_rect();
                with_app(|app| {
                    f(app, r.width(), r.height());
                    app.apply_view();
                });
            });
        }
    };
    zoom_button("zoom-in", |app, w, h| {
        app.fit_mode = false;
        app.view.zoom_at(1.5, w / 2.0, h / 2.0)
    });
    zoom_button("zoom-out", |app, w, h| {
        app.fit_mode = false;
        app.view.zoom_at(1.0 / 1.5, w / 2.0, h / 2.0)
    });
    zoom_button("zoom-1", |app, w, h| {
        app.fit_mode = false;
        app.view.actual_size(w, h)
    });
    zoom_button("zoom-fit", |app, _, _| {
        app.fit_mode = true;
        app.refit()
    });
    if let Some(w) = web_sys::window() {
        on::<Event>(&w, "resize", |_| {
            with_app(|app| {
                if app.fit_mode {
                    app.refit();
                }
            });
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Timing table.

/// The photos timed in the page; `mpqlab bench` uses the same three by default.
const BENCH_PHOTOS: [&str; 3] = ["astronaut", "coffee", "chelsea"];

/// Runs per codec and photo: `?runs=N` in the page's address overrides the default 3.
fn bench_runs() -> f64 {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|q| q.trim_start_matches('?').split('&').find_map(|kv| kv.strip_prefix("runs=").map(str::to_string)))
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|r| (1.0..=20.0).contains(r))
        .unwrap_or(3.0)
}

fn wire_bench() {
    if let Some(b) = by_id::<HtmlButtonElement>("bench-run") {
        on::<Event>(&b, "click", |_| {
            with_app(|app| {
                app.bench_rows.clear();
                render_bench_table(&app.bench_rows);
                app.bench_wanted = true;
                set_bench_running(true);
                app.pump();
            });
        });
    }
    if let Some(b) = by_id::<HtmlButtonElement>("bench-cancel") {
        on::<Event>(&b, "click", |_| {
            with_app(|app| {
                app.bench_wanted = false;
                if app.busy.map(|b| b.1) == Some(Task::Bench) {
                    app.restart_worker();
                }
                bench_finished(&app.bench_rows, Some("cancelled"));
                app.pump();
            });
        });
    }
}

fn set_bench_running(running: bool) {
    if let Some(b) = by_id::<HtmlButtonElement>("bench-run") {
        b.set_disabled(running);
    }
    if let Some(b) = by_id::<HtmlButtonElement>("bench-cancel") {
        b.set_hidden(!running);
    }
    if let Some(p) = by_id::<HtmlProgressElement>("bench-progress") {
        p.set_hidden(!running);
        p.set_value(0.0);
    }
    if let Some(s) = by_id::<HtmlElement>("bench-status") {
        s.set_text_content(Some(if running { "starting…" } else { "" }));
    }
}

fn bench_finished(rows: &[Value], problem: Option<&str>) {
    set_bench_running(false);
    if let Some(s) = by_id::<HtmlElement>("bench-status") {
        let text = match problem {
            Some(p) => format!("Stopped ({p}) after {} rows.", rows.len()),
            None => format!("Done: {} rows, median of {} runs each.", rows.len(), bench_runs()),
        };
        s.set_text_content(Some(&text));
        let _ = s.set_attribute("data-state", if problem.is_some() { "stopped" } else { "done" });
    }
    if let Some(pre) = by_id::<HtmlElement>("bench-json") {
        pre.set_text_content(Some(&serde_json::to_string_pretty(rows).unwrap_or_default()));
    }
}

fn render_bench_table(rows: &[Value]) {
    let Some(table) = by_id::<HtmlElement>("bench-table") else { return };
    let mut html = String::from(
        "<thead><tr><th scope=col>Codec</th><th scope=col>Photo</th><th scope=col>Size</th><th scope=col>bpp</th><th scope=col>Encode (median)</th><th scope=col>Decode (median)</th></tr></thead><tbody>",
    );
    for r in rows {
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
        let codec = esc(&codec_label(r["codec"].as_str().unwrap_or("")));
        let image = esc(r["image"].as_str().unwrap_or(""));
        if let Some(err) = r["error"].as_str() {
            html.push_str(&format!("<tr><td>{codec}</td><td>{image}</td><td colspan=4 class=err>{}</td></tr>", esc(err)));
            continue;
        }
        html.push_str(&format!(
            "<tr><td>{codec}</td><td>{image}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td></tr>",
            format::bytes(r["bytes"].as_u64().unwrap_or(0) as usize),
            r["bits_per_pixel"].as_f64().unwrap_or(0.0),
            format::ms(r["encode_ms"].as_f64().unwrap_or(0.0)),
            format::ms(r["decode_ms"].as_f64().unwrap_or(0.0)),
        ));
    }
    html.push_str("</tbody>");
    table.set_inner_html(&html);
}

// ---------------------------------------------------------------------------------------------

fn set_source_info(text: &str) {
    if let Some(e) = by_id::<HtmlElement>("source-info") {
        e.set_text_content(Some(text));
    }
}

fn show_error(msg: &str) {
    if let (Some(b), Some(t)) = (by_id::<HtmlElement>("error"), by_id::<HtmlElement>("error-text")) {
        t.set_text_content(Some(msg));
        b.set_hidden(false);
    }
}

fn hide_error() {
    if let Some(b) = by_id::<HtmlElement>("error") {
        b.set_hidden(true);
    }
}
