//! The text lab's page side. The page renders from its [`TextExperiment`] and writes every
//! change to the URL. It holds the text itself (fetched, pasted or opened) and its results by
//! run (codec and its resolved settings), so a side and the table's row with the same settings
//! share one run. [`Page::pump`] starts the next missing run when the pool of workers is free:
//! the left side, the right side, the table's rows in registry order, the surprisal view, the
//! checkpoints' plot (when asked). A run whose text is no longer shown is stopped; a failed or
//! cancelled run is not retried until its text or settings change.
//!
//! Every job runs on the pool (`pool[0]` for a single request): the `lm` coder's chunks are
//! shared over all of it, a classic codec's run takes one worker. Cancel terminates the pool's
//! running jobs (the only way to stop wasm work mid-way); the workers hold no state to lose.

mod perception;
mod view;

use mpq_core::experiment::image::{FileRef, Side};
use mpq_core::experiment::text::{MAX_PASTE_BYTES, TextExperiment, TextInput};
use mpq_core::{Experiment, ParamValue, Params};
use mpq_metrics::text::TextReport;
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlButtonElement, HtmlElement, HtmlInputElement, HtmlProgressElement, HtmlSelectElement, HtmlTextAreaElement, KeyboardEvent};

use super::{CodecInfo, Event as LabEvent, LM_MAGIC, Lab, Point, Ran, Request};
use crate::bridge::page::{Bridge, Incoming, pool_size};
use crate::bridge::{JobId, Notice};
use crate::ui::history::{self, Step};
use crate::ui::input::{self, FileSources, GalleryItem, UserFiles};
use crate::ui::{self, append, by_id, on, set_data};
use crate::{format, js};

crate::lab_page!(Page, "text", "Text lab", Text);

/// A run: a codec and every one of its settings (the schema's defaults filled in).
#[derive(Debug, Clone, PartialEq)]
struct RunKey {
    codec: String,
    params: Params,
}

/// A run's result.
#[derive(Debug, Clone)]
enum Outcome {
    Done { report: TextReport, encoded: Vec<u8> },
    Failed(String),
}

/// The text on screen.
struct Shown {
    input: TextInput,
    name: String,
    bytes: Vec<u8>,
    sha256: String,
}

/// What the pool runs now.
enum Job {
    Catalog(JobId),
    /// A classic codec's run on `pool[0]`; then the decoded bytes' hash is compared.
    Run { key: RunKey, job: JobId },
    /// An `lm` run, in phases.
    Lm(LmRun),
    Surprisal { model: String, job: JobId },
    /// Jobs as (job, worker, checkpoint): job ids are counted per worker.
    Plot { jobs: Vec<(JobId, usize, usize)>, points: Vec<Option<Point>> },
    Decompress(Decompress),
    /// The decoded bytes are being hashed (async, in the page): nothing runs on the pool.
    Hashing,
    /// A machine-perception panel's job (the classifier, lossy text, the log codec's findings).
    Perception(perception::PJob),
}

/// Progress of one worker's share.
struct Share {
    job: JobId,
    worker: usize,
    done: f64,
    total: f64,
    finished: bool,
}

enum LmPhase {
    Encode,
    Assemble,
    Decode,
}

struct LmRun {
    key: RunKey,
    phase: LmPhase,
    shares: Vec<Share>,
    chunk_len: usize,
    chunks: Vec<Option<Vec<u8>>>,
    stream: Vec<u8>,
    decoded: Vec<Option<Vec<u8>>>,
    started_ms: f64,
    encode_ms: f64,
    /// `Some`: a dropped stream being decompressed (no encode phase).
    decompress: bool,
}

impl LmRun {
    fn into_job(self) -> Job {
        if self.decompress { Job::Decompress(Decompress { job: None, lm: Some(self) }) } else { Job::Lm(self) }
    }
}

/// A dropped file decoded as a stream (by one worker, or an `lm` stream by the pool).
struct Decompress {
    job: Option<JobId>,
    lm: Option<LmRun>,
}

/// The checkpoints' plot: asked for, and its points when measured.
#[derive(Default)]
struct Plot {
    wanted: bool,
    points: Vec<Point>,
    failed: Option<String>,
}

struct SideView {
    select: HtmlSelectElement,
    params_el: HtmlElement,
    stage: HtmlElement,
    metrics: HtmlElement,
    download: web_sys::HtmlAnchorElement,
}

pub(super) struct Page {
    exp: TextExperiment,
    codecs: Option<Vec<CodecInfo>>,
    checkpoints: Vec<String>,
    catalog_failed: bool,
    gallery: Option<Vec<GalleryItem>>,
    files: UserFiles,
    failed_inputs: Vec<TextInput>,
    /// An input being fetched or hashed.
    loading: Option<TextInput>,
    shown: Option<Shown>,
    results: Vec<(RunKey, Outcome)>,
    pool: Vec<Bridge<Lab>>,
    workers: usize,
    job: Option<Job>,
    sides: Vec<SideView>,
    surprisal_model: String,
    /// (model, text hash) of the surprisal view on screen, or of one that failed.
    surprisal_done: Option<(String, String)>,
    plot: Plot,
    perception: perception::State,
    /// The decompressed text of the file shown, when asked (`None`: not asked or done).
    decompress_wanted: bool,
    visible: bool,
}

fn mount(root: &HtmlElement) {
    // Our own static markup, compiled in (nothing from outside is parsed as HTML).
    root.set_inner_html(include_str!("page.html"));
    // `?workers=N` in the page's address (1…6) sets the starting value (benchmarks use it).
    let asked = ui::query_param("workers").and_then(|v| v.parse::<usize>().ok()).filter(|n| (1..=6).contains(n));
    let workers = asked.unwrap_or_else(|| pool_size().min(3));
    if let Some(w) = by_id::<HtmlInputElement>("tx-workers") {
        w.set_value(&workers.to_string());
    }
    let page = Page {
        exp: TextExperiment::default(),
        codecs: None,
        checkpoints: Vec::new(),
        catalog_failed: false,
        gallery: None,
        files: UserFiles::default(),
        failed_inputs: Vec::new(),
        loading: None,
        shown: None,
        results: Vec::new(),
        pool: Vec::new(),
        workers,
        job: None,
        sides: (0..2).map(view::build_side).collect(),
        surprisal_model: String::new(),
        surprisal_done: None,
        plot: Plot::default(),
        perception: perception::State::default(),
        decompress_wanted: false,
        visible: false,
    };
    PAGE.with(|cell| *cell.borrow_mut() = Some(page));
    wire();
    if let Some(slot) = by_id::<HtmlElement>("tx-export") {
        let bar = ui::export::bar("tx", None, |kind| {
            with_page(|p| p.export(kind));
        });
        append(&slot, &[&bar]);
    }
    // The perception panels' and the checkpoints' exports, shown once they have results.
    let panels = [
        ("tx-lossy-export", ui::export::plot_bar("tx-lossy", |kind| {
            with_page(|p| perception::export_lossy(p, kind));
        })),
        ("tx-logs-export", ui::export::bar("tx-logs", None, |kind| {
            with_page(|p| perception::export_logs(p, kind));
        })),
        ("tx-plot-export", ui::export::plot_bar("tx-plot", |kind| {
            with_page(|p| view::export_plot(p, kind));
        })),
    ];
    for (slot, bar) in panels {
        if let Some(slot) = by_id::<HtmlElement>(slot) {
            append(&slot, &[&bar]);
        }
    }
    with_page(|p| {
        p.render_all();
        p.pump();
    });
    wasm_bindgen_futures::spawn_local(load_gallery());
}

fn wire() {
    input::wire_files(FileSources {
        inputs: &["tx-file", "tx-needed-file"],
        drop_hint: None,
        visible: || with_page(|p| p.visible).unwrap_or(false),
        drop_what: "drop a file (any file is text to this lab)",
        paste: false,
        on_file: |file| {
            input::read_file(file, mpq_core::limits::MAX_TEXT_BYTES, |name, bytes, sha| {
                with_page(|p| p.take_file(name, bytes, sha));
            })
        },
    });
    let click = |id: &str, f: fn(&mut Page)| {
        if let Some(b) = by_id::<HtmlButtonElement>(id) {
            on::<Event>(&b, "click", move |_| {
                with_page(f);
            });
        }
    };
    perception::wire();
    click("tx-paste-use", Page::use_paste);
    click("tx-cancel", Page::cancel);
    click("tx-plot-run", |p| {
        p.plot = Plot { wanted: true, ..Plot::default() };
        view::render_plot(p);
        p.pump();
    });
    click("tx-decompress", |p| {
        p.decompress_wanted = true;
        view::decompress_status("waiting for the workers…", "running");
        p.pump();
    });
    if let Some(t) = by_id::<HtmlTextAreaElement>("tx-paste-text") {
        on::<KeyboardEvent>(&t, "keydown", |e| {
            if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
                e.prevent_default();
                with_page(Page::use_paste);
            }
        });
    }
    if let Some(w) = by_id::<HtmlInputElement>("tx-workers") {
        on::<Event>(&w, "input", |e| {
            let Some(w) = e.target().map(|t| t.unchecked_into::<HtmlInputElement>()) else { return };
            let n = w.value_as_number();
            if n.is_finite() && (1.0..=6.0).contains(&n) {
                with_page(|p| p.workers = n as usize);
            }
        });
    }
    if let Some(s) = by_id::<HtmlSelectElement>("tx-surprisal-model") {
        on::<Event>(&s, "change", |e| {
            let v = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
            with_page(|p| {
                p.surprisal_model = v;
                p.pump();
            });
        });
    }
    if let Some(view) = by_id::<HtmlElement>("tx-surprisal") {
        on::<web_sys::MouseEvent>(&view, "mouseover", |e| {
            let Some(span) = e.target().and_then(|t| t.dyn_into::<HtmlElement>().ok()) else { return };
            if let Some(info) = span.get_attribute("data-info") {
                if let Some(i) = by_id::<HtmlElement>("tx-surprisal-info") {
                    i.set_text_content(Some(&info));
                    set_data(&i, "at", &span.get_attribute("data-at").unwrap_or_default());
                }
            }
        });
    }
}

async fn load_gallery() {
    let items = input::gallery_buttons("gallery/text/index.json", "tx-gallery", "tx-gallery-", "text gallery", |id| {
        with_page(|p| p.choose_input(TextInput::Gallery { id }));
    })
    .await;
    with_page(|p| input::gallery_loaded(p, items));
}

crate::file_page!(Page, TextInput, TextInput::File);

impl Page {
    /// The codec table's export: every codec's result on the text shown (the JSON also names
    /// the text by its SHA-256), as CSV or JSON.
    fn export(&self, kind: &str) {
        let Some(src) = &self.shown else {
            ui::show_error("Export: no text is shown yet.");
            return;
        };
        let base = ui::export::file_stem(&src.name);
        let stem = format!("mpqlab-text-{base}");
        let rows: Vec<String> = self
            .results
            .iter()
            .map(|(key, outcome)| {
                let params = serde_json::to_string(&key.params).unwrap_or_else(|_| "{}".into());
                match outcome {
                    Outcome::Done { report, .. } => {
                        let report = serde_json::to_string(report).unwrap_or_else(|_| "null".into());
                        format!("{{\"codec\":{},\"params\":{params},\"report\":{report}}}", ui::export::quoted(&key.codec))
                    }
                    Outcome::Failed(why) => format!("{{\"codec\":{},\"params\":{params},\"error\":{}}}", ui::export::quoted(&key.codec), ui::export::quoted(why)),
                }
            })
            .collect();
        if kind == "csv" {
            ui::export::download_csv(&stem, &rows);
        } else {
            let result = format!(
                "{{\"lab\":\"text\",\"input\":{{\"name\":{},\"bytes\":{},\"sha256\":\"{}\"}},\"codecs\":[{}]}}",
                ui::export::quoted(&src.name),
                src.bytes.len(),
                src.sha256,
                rows.join(",")
            );
            ui::export::download_json("codec-table", &stem, &result);
        }
    }

    fn commit(&self, step: Step) {
        history::commit(&Experiment::Text(self.exp.clone()), step);
    }

    fn apply(&mut self, exp: TextExperiment) {
        if exp.input != self.exp.input {
            self.failed_inputs.retain(|i| *i != exp.input);
        }
        self.exp = exp;
        if let TextInput::Paste { text } = &self.exp.input {
            if let Some(t) = by_id::<HtmlTextAreaElement>("tx-paste-text") {
                t.set_value(text);
            }
        }
        self.validate();
        self.render_all();
        self.pump();
    }

    fn set_visible(&mut self, visible: bool) {
        self.visible = visible;
    }

    /// Replaces what this page cannot show (an unknown codec or gallery text) by the defaults.
    fn validate(&mut self) {
        let d = TextExperiment::default();
        let mut problems = Vec::new();
        if let Some(codecs) = &self.codecs {
            ui::sides::replace_unknown(&mut self.exp.sides, &d.sides, |id| codecs.iter().any(|c| c.id == id), "text ", &mut problems);
        }
        if let (TextInput::Gallery { id }, Some(gallery)) = (&self.exp.input, &self.gallery) {
            if !gallery.iter().any(|g| &g.id == id) {
                problems.push(format!("there is no gallery text '{id}'"));
                self.exp.input = d.input.clone();
            }
        }
        perception::validate(self, &mut problems);
        if ui::link_problems(&problems) {
            self.commit(Step::Replace);
        }
    }

    fn render_all(&mut self) {
        for i in 0..2 {
            view::render_side_controls(self, i);
        }
        self.render_input();
        view::render_results(self);
        perception::render(self);
    }

    fn render_input(&self) {
        let wanted = match &self.exp.input {
            TextInput::Gallery { id } => format!("tx-gallery-{id}"),
            _ => String::new(),
        };
        input::mark_pressed("#tx-gallery .au-thumb", &wanted);
        input::render_needed("tx-", self.needed_file(), "a file");
        view::render_stream_box(self);
    }

    fn needed_file(&self) -> Option<&FileRef> {
        match &self.exp.input {
            TextInput::File(f) if !self.files.has(&f.sha256) && !self.is_shown(&self.exp.input) => Some(f),
            _ => None,
        }
    }

    fn is_shown(&self, input: &TextInput) -> bool {
        self.shown.as_ref().is_some_and(|s| s.input == *input)
    }

    fn codec(&self, id: &str) -> Option<&CodecInfo> {
        self.codecs.as_ref()?.iter().find(|c| c.id == id)
    }

    /// A side's run: its codec with every setting (defaults filled in from the schema).
    fn run_key(&self, side: &Side) -> Option<RunKey> {
        let codec = self.codec(&side.codec)?;
        let params = codec
            .params
            .iter()
            .map(|s| {
                let v = side.params.get(&s.name).cloned().unwrap_or_else(|| s.default.clone());
                (s.name.clone(), v)
            })
            .collect();
        Some(RunKey { codec: side.codec.clone(), params })
    }

    fn result(&self, key: &RunKey) -> Option<&Outcome> {
        self.results.iter().find(|(k, _)| k == key).map(|(_, o)| o)
    }

    fn choose_input(&mut self, input: TextInput) {
        input::choose(self, input);
    }

    fn use_paste(&mut self) {
        let Some(t) = by_id::<HtmlTextAreaElement>("tx-paste-text") else { return };
        let text = t.value();
        if text.is_empty() {
            ui::show_error("Nothing to use: the paste box is empty.");
            return;
        }
        if text.len() <= MAX_PASTE_BYTES {
            self.choose_input(TextInput::Paste { text });
            return;
        }
        // A long paste is named by its hash, as a file (a link cannot carry it).
        let bytes = text.into_bytes();
        wasm_bindgen_futures::spawn_local(async move {
            let buf = js_sys::Uint8Array::from(bytes.as_slice()).buffer();
            match js::sha256_hex(&buf.into()).await {
                Ok(sha) => {
                    with_page(|p| p.take_file("pasted text.txt".into(), bytes, sha));
                }
                Err(e) => ui::show_error(&format!("Cannot hash the pasted text: {}", js::error_text(&e))),
            }
        });
    }

    fn take_file(&mut self, name: String, bytes: Vec<u8>, sha256: String) {
        input::take_file(self, name, bytes, sha256, "text");
    }

    fn set_codec(&mut self, i: usize, id: &str) {
        if ui::sides::set_codec(&mut self.exp.sides[i], id, false) {
            view::render_side_controls(self, i);
            self.commit(Step::Push);
            view::render_results(self);
            self.pump();
        }
    }

    fn set_param(&mut self, i: usize, name: &str, value: ParamValue, step: Step) {
        ui::sides::set_param(&mut self.exp.sides[i], name, &value);
        self.commit(step);
        view::render_results(self);
        self.pump();
    }

    // ---- the pool ----

    /// The pool, grown or shrunk to the workers setting (a changed pool starts afresh).
    fn ensure_pool(&mut self, n: usize) {
        if self.pool.len() == n {
            return;
        }
        self.pool = (0..n)
            .map(|k| {
                let mut b = Bridge::new(move |generation, incoming| {
                    with_page(|p| p.on_incoming(k, generation, incoming));
                });
                b.warm_up();
                b
            })
            .collect();
    }

    fn submit(&mut self, worker: usize, request: Request) -> JobId {
        self.pool[worker].submit(request)
    }

    /// Sends the next thing the page needs, when nothing runs.
    fn pump(&mut self) {
        self.drop_stale_job();
        if self.job.is_some() {
            return;
        }
        if self.pool.is_empty() {
            self.ensure_pool(self.workers);
        }
        if self.codecs.is_none() {
            if !self.catalog_failed {
                let job = self.submit(0, Request::Catalog);
                self.job = Some(Job::Catalog(job));
            }
            return;
        }
        if !self.is_shown(&self.exp.input) {
            self.load_input();
            return;
        }
        let Some(shown) = &self.shown else { return };
        if self.decompress_wanted {
            self.decompress_wanted = false;
            let stream = shown.bytes.clone();
            self.start_decompress(stream);
            return;
        }
        // The sides first, then the table's rows.
        let mut wanted: Vec<RunKey> = self.exp.sides.iter().filter_map(|s| self.run_key(s)).collect();
        for c in self.codecs.as_deref().unwrap_or_default() {
            if let Some(k) = self.run_key(&Side::new(&c.id, Params::new())) {
                wanted.push(k);
            }
        }
        wanted.extend(perception::extra_runs(self));
        if let Some(key) = wanted.into_iter().find(|k| self.result(k).is_none()) {
            self.start_run(key);
            return;
        }
        let model = if self.surprisal_model.is_empty() { self.checkpoints.first().cloned().unwrap_or_default() } else { self.surprisal_model.clone() };
        let done = (model.clone(), shown.sha256.clone());
        if !model.is_empty() && self.surprisal_done.as_ref() != Some(&done) {
            let text = shown.bytes[..shown.bytes.len().min(super::SURPRISAL_BYTES)].to_vec();
            self.status(&format!("surprisal view ({model})…"), "running", None);
            let job = self.submit(0, Request::Surprisal { model: model.clone(), text });
            self.job = Some(Job::Surprisal { model, job });
            return;
        }
        if perception::next(self) {
            return;
        }
        if self.plot.wanted && self.plot.points.is_empty() && self.plot.failed.is_none() {
            let n = self.pool.len();
            let names = self.checkpoints.clone();
            let jobs = names.iter().enumerate().map(|(k, m)| (self.submit(k % n, Request::Point { model: m.clone() }), k % n, k)).collect();
            view::plot_status(&format!("measuring {} checkpoints in {} workers…", names.len(), n.min(names.len())), "running");
            self.job = Some(Job::Plot { jobs, points: vec![None; names.len()] });
            return;
        }
        self.status("", "idle", None);
    }

    /// A run for a text no longer shown (or a pool of the wrong size) is stopped.
    fn drop_stale_job(&mut self) {
        let stale_text = self.shown.as_ref().is_none_or(|s| s.input != self.exp.input)
            && matches!(self.job, Some(Job::Run { .. } | Job::Lm(_) | Job::Surprisal { .. } | Job::Decompress(_)));
        if stale_text {
            self.stop_pool_jobs();
            self.job = None;
        }
    }

    fn stop_pool_jobs(&mut self) {
        for b in &mut self.pool {
            b.cancel_all();
        }
    }

    /// Gets the experiment's input on screen: a gallery text fetched, a paste, a user's file.
    fn load_input(&mut self) {
        let input = self.exp.input.clone();
        if self.loading.as_ref() == Some(&input) || self.failed_inputs.contains(&input) {
            return;
        }
        match &input {
            TextInput::Paste { text } => {
                let bytes = text.clone().into_bytes();
                self.loading = Some(input.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let buf = js_sys::Uint8Array::from(bytes.as_slice()).buffer();
                    let sha = js::sha256_hex(&buf.into()).await.unwrap_or_default();
                    with_page(|p| p.on_text(input, "pasted text".into(), bytes, sha));
                });
            }
            TextInput::File(f) => {
                if let Some(bytes) = self.files.get(&f.sha256) {
                    let (bytes, sha, name) = (bytes.to_vec(), f.sha256.clone(), f.name.clone());
                    self.on_text(input, name, bytes, sha);
                }
                // Else the needs-file box asks for it.
            }
            TextInput::Gallery { id } => {
                let Some(item) = self.gallery.as_ref().and_then(|g| g.iter().find(|g| &g.id == id)).cloned() else { return };
                self.loading = Some(input.clone());
                view::set_source_info(&format!("Loading {}…", item.file));
                wasm_bindgen_futures::spawn_local(async move {
                    match js::fetch_bytes(&format!("gallery/text/{}", item.file)).await {
                        Ok(bytes) => {
                            let buf = js_sys::Uint8Array::from(bytes.as_slice()).buffer();
                            let sha = js::sha256_hex(&buf.into()).await.unwrap_or_default();
                            with_page(|p| p.on_text(input, item.file.clone(), bytes, sha));
                        }
                        Err(e) => {
                            with_page(|p| p.on_load_failed(input, &format!("Could not open {}: {e}", item.file)));
                        }
                    }
                });
            }
        }
    }

    fn on_load_failed(&mut self, input: TextInput, message: &str) {
        self.loading = None;
        input::load_failed(self, input, message, false, TextExperiment::default().input);
        self.pump();
    }

    fn on_text(&mut self, input: TextInput, name: String, bytes: Vec<u8>, sha256: String) {
        self.loading = None;
        if input != self.exp.input {
            self.pump();
            return; // the user moved on meanwhile
        }
        if let Err(e) = mpq_core::limits::check_text_len(bytes.len()) {
            self.on_load_failed(input, &format!("Could not open {name}: {e}"));
            return;
        }
        self.results.clear();
        self.surprisal_done = None;
        self.shown = Some(Shown { input, name, bytes, sha256 });
        self.decompress_wanted = false;
        view::reset_stream_box();
        view::render_text(self);
        self.render_input();
        view::render_results(self);
        // The panels drop the last text's findings now, not at the next result: until then a
        // reader (or a test) would take the old log's templates for this text's.
        perception::render(self);
        self.pump();
    }

    // ---- runs ----

    fn start_run(&mut self, key: RunKey) {
        let Some(shown) = &self.shown else { return };
        let text = shown.bytes.clone();
        if key.codec == "lm" {
            let model = match key.params.get("model") {
                Some(ParamValue::Choice(m)) => m.clone(),
                _ => self.checkpoints.first().cloned().unwrap_or_default(),
            };
            let chunk_len = match key.params.get("chunk") {
                Some(ParamValue::Int(k)) => (*k as usize) << 10,
                _ => 64 << 10,
            };
            self.ensure_pool(self.workers);
            let n = self.pool.len();
            let chunks = text.len().div_ceil(chunk_len);
            let shares = (0..n.min(chunks.max(1)))
                .map(|k| {
                    let job = self.submit(
                        k,
                        Request::LmEncode { model: model.clone(), chunk_len: chunk_len as u32, text: text.clone(), shard: k as u32, shards: n.min(chunks.max(1)) as u32 },
                    );
                    Share { job, worker: k, done: 0.0, total: 0.0, finished: false }
                })
                .collect();
            let run = LmRun {
                key,
                phase: LmPhase::Encode,
                shares,
                chunk_len,
                chunks: vec![None; chunks],
                stream: Vec::new(),
                decoded: Vec::new(),
                started_ms: js::now_ms(),
                encode_ms: 0.0,
                decompress: false,
            };
            self.job = Some(Job::Lm(run));
        } else {
            self.status(&format!("{}: encoding and decoding…", key.codec), "running", None);
            let job = self.submit(0, Request::Run { codec: key.codec.clone(), params: key.params.clone(), text });
            self.job = Some(Job::Run { key, job });
        }
        view::render_results(self);
    }

    fn start_decompress(&mut self, stream: Vec<u8>) {
        if stream.starts_with(LM_MAGIC) {
            let n = self.workers;
            self.ensure_pool(n);
            let shares = (0..n)
                .map(|k| Share { job: self.submit(k, Request::LmDecode { stream: stream.clone(), shard: k as u32, shards: n as u32 }), worker: k, done: 0.0, total: 0.0, finished: false })
                .collect();
            let run = LmRun {
                key: RunKey { codec: "lm".into(), params: Params::new() },
                phase: LmPhase::Decode,
                shares,
                chunk_len: 0,
                chunks: Vec::new(),
                stream,
                decoded: Vec::new(),
                started_ms: js::now_ms(),
                encode_ms: 0.0,
                decompress: true,
            };
            self.job = Some(Job::Decompress(Decompress { job: None, lm: Some(run) }));
        } else {
            // The codec by the file's extension where it names one (a Brotli stream has no
            // magic bytes), else by the stream's first bytes.
            let ext = self.shown.as_ref().and_then(|s| s.name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()));
            let codec = ext.and_then(|e| self.codecs.as_ref()?.iter().find(|c| c.extension == e).map(|c| c.id.clone()));
            let job = self.submit(0, Request::Decompress { stream, codec });
            self.job = Some(Job::Decompress(Decompress { job: Some(job), lm: None }));
        }
        view::decompress_status("decompressing…", "running");
        self.status("decompressing…", "running", None);
    }

    fn cancel(&mut self) {
        let Some(job) = self.job.take() else { return };
        self.stop_pool_jobs();
        match job {
            Job::Run { key, .. } | Job::Lm(LmRun { key, .. }) => {
                self.results.push((key, Outcome::Failed("cancelled — change the text or a setting to run it again".into())));
            }
            Job::Surprisal { model, .. } => {
                if let Some(s) = &self.shown {
                    self.surprisal_done = Some((model, s.sha256.clone()));
                }
            }
            Job::Plot { .. } => {
                self.plot.failed = Some("cancelled".into());
                view::plot_status("cancelled", "cancelled");
            }
            Job::Decompress(_) => view::decompress_status("cancelled", "cancelled"),
            Job::Perception(j) => perception::cancelled(self, j),
            Job::Catalog(_) | Job::Hashing => {}
        }
        self.status("cancelled", "cancelled", None);
        view::render_results(self);
        self.pump();
    }

    /// The run line: text, state, progress (done of total) and whether Cancel shows.
    fn status(&self, text: &str, state: &str, progress: Option<f64>) {
        if let Some(s) = by_id::<HtmlElement>("tx-status") {
            ui::sides::stage(&s, text, state);
        }
        if let Some(p) = by_id::<HtmlProgressElement>("tx-progress") {
            p.set_hidden(progress.is_none());
            if let Some(x) = progress {
                p.set_value(x);
            }
        }
        if let Some(c) = by_id::<HtmlButtonElement>("tx-cancel") {
            c.set_hidden(state != "running");
        }
    }

    fn on_incoming(&mut self, worker: usize, generation: u32, incoming: Incoming) {
        let Some(bridge) = self.pool.get_mut(worker) else { return };
        for notice in bridge.handle(generation, incoming) {
            self.on_notice(worker, notice);
        }
        self.pump();
    }

    fn on_notice(&mut self, worker: usize, notice: Notice<LabEvent>) {
        let Some(job) = self.job.take() else { return };
        self.job = self.advance(job, worker, notice);
    }

    /// A job after one notice from `worker` (`None`: finished or failed).
    fn advance(&mut self, job: Job, worker: usize, notice: Notice<LabEvent>) -> Option<Job> {
        let id = notice.job();
        match job {
            Job::Catalog(j) if j == id => match notice {
                Notice::Event { event: LabEvent::Catalog { codecs, checkpoints }, .. } => {
                    self.codecs = Some(codecs);
                    self.checkpoints = checkpoints;
                    view::fill_checkpoints(self);
                    self.validate();
                    self.render_all();
                    Some(Job::Catalog(j))
                }
                Notice::Failed { message, .. } => {
                    self.catalog_failed = true;
                    ui::show_error(&format!("The text lab cannot start: {message}"));
                    None
                }
                Notice::Done { .. } => None,
                _ => Some(Job::Catalog(j)),
            },
            Job::Run { key, job: j } if j == id && worker == 0 => match notice {
                Notice::Progress { stage, .. } => {
                    self.status(&format!("{}: {stage}…", key.codec), "running", None);
                    Some(Job::Run { key, job: j })
                }
                Notice::Event { event: LabEvent::Ran(ran), .. } => {
                    self.check_round_trip(key, *ran);
                    Some(Job::Hashing)
                }
                Notice::Failed { message, .. } => {
                    self.run_failed(key, message);
                    None
                }
                Notice::Done { .. } | Notice::Event { .. } => Some(Job::Run { key, job: j }),
            },
            Job::Lm(run) | Job::Decompress(Decompress { lm: Some(run), .. }) => self.advance_lm(run, worker, notice),
            Job::Decompress(Decompress { job: Some(j), lm: None }) if j == id && worker == 0 => match notice {
                Notice::Event { event: LabEvent::Decompressed { codec, text }, .. } => {
                    view::show_decompressed(self, &codec, text);
                    None
                }
                Notice::Failed { message, .. } => {
                    view::decompress_status(&format!("⚠ {message}"), "error");
                    self.status("", "idle", None);
                    None
                }
                _ => Some(Job::Decompress(Decompress { job: Some(j), lm: None })),
            },
            Job::Surprisal { model, job: j } if j == id && worker == 0 => match notice {
                Notice::Event { event: LabEvent::Surprisal(costs), .. } => {
                    if let Some(s) = &self.shown {
                        self.surprisal_done = Some((model.clone(), s.sha256.clone()));
                    }
                    view::render_surprisal(self, &model, &costs);
                    Some(Job::Surprisal { model, job: j })
                }
                Notice::Failed { message, .. } => {
                    ui::show_error(&format!("Surprisal view: {message}"));
                    if let Some(s) = &self.shown {
                        self.surprisal_done = Some((model, s.sha256.clone()));
                    }
                    None
                }
                Notice::Done { .. } => None,
                _ => Some(Job::Surprisal { model, job: j }),
            },
            Job::Plot { jobs, mut points } => {
                let k = jobs.iter().find(|&&(j, w, _)| j == id && w == worker).map(|&(_, _, k)| k);
                let Some(k) = k else { return Some(Job::Plot { jobs, points }) };
                match notice {
                    Notice::Event { event: LabEvent::Point(p), .. } => {
                        points[k] = Some(p);
                        self.plot.points = points.iter().flatten().cloned().collect();
                        view::render_plot(self);
                        if points.iter().all(Option::is_some) {
                            view::plot_status(&format!("measured {} checkpoints", points.len()), "done");
                            return None;
                        }
                        view::plot_status(&format!("{} of {} checkpoints measured…", self.plot.points.len(), points.len()), "running");
                    }
                    Notice::Progress { stage, done, total, .. } => {
                        view::plot_status(&format!("{stage} ({:.0} %)…", 100.0 * done / total.max(1.0)), "running");
                    }
                    Notice::Failed { message, .. } => {
                        self.stop_pool_jobs();
                        self.plot.failed = Some(message.clone());
                        view::plot_status(&format!("⚠ {message}"), "error");
                        return None;
                    }
                    _ => {}
                }
                Some(Job::Plot { jobs, points })
            }
            Job::Perception(j) => perception::advance(self, j, worker, notice),
            other => Some(other),
        }
    }

    fn advance_lm(&mut self, mut run: LmRun, worker: usize, notice: Notice<LabEvent>) -> Option<Job> {
        let id = notice.job();
        let Some(share) = run.shares.iter_mut().find(|s| s.job == id && s.worker == worker) else { return Some(run.into_job()) };
        match notice {
            Notice::Progress { done, total, .. } => {
                share.done = done;
                share.total = total;
                self.lm_progress(&run);
            }
            Notice::Event { event: LabEvent::LmChunks(chunks), .. } => {
                for (i, c) in chunks {
                    if let Some(slot) = run.chunks.get_mut(i as usize) {
                        *slot = Some(c.into_vec());
                    }
                }
            }
            Notice::Event { event: LabEvent::Stream(s), .. } => run.stream = s.into_vec(),
            Notice::Event { event: LabEvent::LmDecoded { chunk_count, chunks }, .. } => {
                if run.decoded.len() != chunk_count as usize {
                    run.decoded = vec![None; chunk_count as usize];
                }
                for (i, c) in chunks {
                    if let Some(slot) = run.decoded.get_mut(i as usize) {
                        *slot = Some(c.into_vec());
                    }
                }
            }
            Notice::Event { .. } => {}
            Notice::Done { .. } => {
                share.finished = true;
                if run.shares.iter().all(|s| s.finished) {
                    return self.next_lm_phase(run);
                }
            }
            Notice::Failed { message, .. } => {
                self.stop_pool_jobs();
                if run.decompress {
                    view::decompress_status(&format!("⚠ {message}"), "error");
                    self.status("", "idle", None);
                } else {
                    self.run_failed(run.key, message);
                }
                return None;
            }
        }
        Some(run.into_job())
    }

    fn next_lm_phase(&mut self, mut run: LmRun) -> Option<Job> {
        let model = match run.key.params.get("model") {
            Some(ParamValue::Choice(m)) => m.clone(),
            _ => String::new(),
        };
        match run.phase {
            LmPhase::Encode => {
                let text_len = self.shown.as_ref().map_or(0, |s| s.bytes.len());
                let Some(chunks) = run.chunks.iter().cloned().collect::<Option<Vec<_>>>() else {
                    self.run_failed(run.key, "a worker did not return its chunks".into());
                    return None;
                };
                let job = self.submit(
                    0,
                    Request::LmAssemble { model, text_len: text_len as u32, chunk_len: run.chunk_len as u32, chunks: chunks.into_iter().map(serde_bytes::ByteBuf::from).collect() },
                );
                run.shares = vec![Share { job, worker: 0, done: 0.0, total: 0.0, finished: false }];
                run.phase = LmPhase::Assemble;
                Some(run.into_job())
            }
            LmPhase::Assemble => {
                run.encode_ms = js::now_ms() - run.started_ms;
                run.started_ms = js::now_ms();
                let n = self.pool.len();
                run.shares = (0..n)
                    .map(|k| Share {
                        job: self.submit(k, Request::LmDecode { stream: run.stream.clone(), shard: k as u32, shards: n as u32 }),
                        worker: k,
                        done: 0.0,
                        total: 0.0,
                        finished: false,
                    })
                    .collect();
                run.phase = LmPhase::Decode;
                Some(run.into_job())
            }
            LmPhase::Decode => {
                let decode_ms = js::now_ms() - run.started_ms;
                let Some(parts) = run.decoded.iter().cloned().collect::<Option<Vec<_>>>() else {
                    self.run_failed(run.key, "a worker did not return its chunks".into());
                    return None;
                };
                let decoded = parts.concat();
                if run.decompress {
                    self.status("", "idle", None);
                    view::show_decompressed(self, "lm", decoded);
                    return None;
                }
                let Some(shown) = &self.shown else { return None };
                let report = TextReport::measure("lm", &run.key.params, &shown.bytes, &decoded, run.stream.len(), run.encode_ms, decode_ms);
                self.check_round_trip(run.key, Ran { report, encoded: run.stream, decoded });
                Some(Job::Hashing)
            }
        }
    }

    fn lm_progress(&self, run: &LmRun) {
        let (done, total) = run.shares.iter().fold((0.0, 0.0), |a, s| (a.0 + s.done, a.1 + s.total));
        let seconds = (js::now_ms() - run.started_ms) / 1000.0;
        let what = match run.phase {
            LmPhase::Encode => "encoding",
            LmPhase::Assemble => "assembling",
            LmPhase::Decode => "decoding",
        };
        let rate = if seconds > 0.0 { done / 1000.0 / seconds } else { 0.0 };
        let text = format!(
            "{}: {what} {} of {} — {rate:.1} kB/s, {} worker{}",
            if run.decompress { "decompressing lm" } else { "lm" },
            format::bytes(done as usize),
            format::bytes(total as usize),
            run.shares.len(),
            if run.shares.len() == 1 { "" } else { "s" }
        );
        self.status(&text, "running", Some(if total > 0.0 { done / total } else { 0.0 }));
        if let Some(s) = by_id::<HtmlElement>("tx-status") {
            set_data(&s, "done", &done.to_string());
            set_data(&s, "total", &total.to_string());
        }
    }

    fn run_failed(&mut self, key: RunKey, message: String) {
        self.results.push((key, Outcome::Failed(message)));
        self.status("", "idle", None);
        view::render_results(self);
    }

    /// The decoded bytes hashed in the page and compared with the text's hash: the round trip.
    fn check_round_trip(&mut self, key: RunKey, ran: Ran) {
        let Some(sha) = self.shown.as_ref().map(|s| s.sha256.clone()) else { return };
        let Ran { mut report, encoded, decoded } = ran;
        wasm_bindgen_futures::spawn_local(async move {
            let buf = js_sys::Uint8Array::from(decoded.as_slice()).buffer();
            let same = js::sha256_hex(&buf.into()).await.map(|h| h == sha).unwrap_or(false);
            report.round_trip &= same;
            with_page(|p| {
                if matches!(p.job, Some(Job::Hashing)) {
                    p.job = None;
                }
                if p.shown.as_ref().is_some_and(|s| s.sha256 == sha) {
                    p.results.push((key, Outcome::Done { report, encoded }));
                    p.status("", "idle", None);
                    view::render_results(p);
                    perception::render_logs(p);
                }
                p.pump();
            });
        });
    }
}
