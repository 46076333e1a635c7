//! The audio lab's page side. The page renders from its [`AudioExperiment`] and writes every
//! change to the URL; [`Page::pump`] brings the worker in line with it, as the image lab does:
//! the page remembers what the worker holds (`worker_input`, forgotten when the worker
//! restarts) and the key of each side's result, and when the worker is free it sends the
//! first thing that differs (the input, then the left and the right side). A result that
//! arrives after its side changed is dropped; a refused file puts the experiment back to the
//! clip that is shown.

mod draw;
mod player;
mod record;
mod sweep;

use std::cell::RefCell;

use mpq_core::experiment::audio::{AudioExperiment, KWS_DATASET};
use mpq_core::experiment::image::{FileRef, Input, Side as SideSpec, param_from_text};
use mpq_core::{Experiment, ParamValue};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DragEvent, Event, HtmlAnchorElement, HtmlButtonElement, HtmlCanvasElement, HtmlElement, HtmlInputElement, HtmlProgressElement, HtmlSelectElement, KeyboardEvent};

use super::{BenchModel, BenchRow, ClipView, CodecInfo, Encoded, Event as LabEvent, Keywords, Lab, Loaded, Request, Source, bytes_f32};
use crate::bridge::page::{Bridge, Incoming};
use crate::bridge::{JobId, Notice};
use crate::ui::dom::{Row, bars, json, metric};
use crate::ui::history::{self, Step};
use crate::ui::{self, LabEntry, append, by_id, el, on, set_data, table, text_el};
use crate::{format, js};
use player::{ORIGINAL, Player};
use sweep::SweepPanel;

/// The model's log-mel bands (its input is frames × this).
const MEL_BANDS: usize = 40;
/// Spectrograms show this many dB below the original's loudest cell.
const SPEC_RANGE_DB: f64 = 90.0;
/// Seconds the record button records.
const RECORD_SECONDS: f64 = 2.0;

thread_local! {
    static PAGE: RefCell<Option<Page>> = const { RefCell::new(None) };
}

pub(super) fn with_page<R>(f: impl FnOnce(&mut Page) -> R) -> Option<R> {
    ui::with_state(&PAGE, f)
}

pub fn entry() -> LabEntry {
    LabEntry {
        id: "audio",
        title: "Audio lab",
        mount,
        apply: |e| {
            if let Experiment::Audio(e) = e {
                with_page(|p| p.apply(e));
            }
        },
        current: || Experiment::Audio(with_page(|p| p.exp.clone()).unwrap_or_default()),
        visible: |v| {
            with_page(|p| p.set_visible(v));
        },
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Job {
    Catalog,
    Load(Input),
    Encode(usize, SideKey),
    Bench,
}

/// Everything a side's result depends on.
#[derive(Debug, Clone, PartialEq)]
struct SideKey {
    input: Input,
    side: SideSpec,
}

#[derive(serde::Deserialize, Clone)]
struct GalleryItem {
    id: String,
    file: String,
    title: String,
    credit: String,
    license: String,
    kind: String,
}

/// A file the user gave (or recorded), kept while the experiment may need it again.
struct UserFile {
    sha256: String,
    bytes: Vec<u8>,
}

/// The clip on screen.
struct Shown {
    input: Input,
    name: String,
    log_mel: Vec<f32>,
}

struct SideView {
    select: HtmlSelectElement,
    params_el: HtmlElement,
    progress: HtmlProgressElement,
    stage: HtmlElement,
    metrics: HtmlElement,
    keywords: HtmlElement,
    download: HtmlAnchorElement,
    wave: HtmlCanvasElement,
    spec: HtmlCanvasElement,
    mel: HtmlCanvasElement,
    diff: HtmlCanvasElement,
    shown: Option<SideKey>,
    failed: Option<SideKey>,
}

pub(super) struct Page {
    exp: AudioExperiment,
    codecs: Option<Vec<CodecInfo>>,
    catalog_failed: bool,
    gallery: Option<Vec<GalleryItem>>,
    bridge: Bridge<Lab>,
    worker_generation: u32,
    worker_input: Option<Input>,
    job: Option<(JobId, Job)>,
    shown: Option<Shown>,
    files: Vec<UserFile>,
    failed_inputs: Vec<Input>,
    sides: Vec<SideView>,
    player: Player,
    visible: bool,
    sweep: SweepPanel,
    bench_wanted: bool,
    bench_rows: Vec<BenchRow>,
    bench_models: Vec<BenchModel>,
    recording: bool,
}

fn mount(root: &HtmlElement) {
    // Our own static markup, compiled in (nothing from outside is parsed as HTML).
    root.set_inner_html(include_str!("page.html"));
    let bridge = Bridge::new(|generation, incoming| {
        with_page(|p| p.on_incoming(generation, incoming));
    });
    let page = Page {
        exp: AudioExperiment::default(),
        codecs: None,
        catalog_failed: false,
        gallery: None,
        bridge,
        worker_generation: 0,
        worker_input: None,
        job: None,
        shown: None,
        files: Vec::new(),
        failed_inputs: Vec::new(),
        sides: (0..2).map(build_side).collect(),
        player: Player::new(),
        visible: false,
        sweep: SweepPanel::default(),
        bench_wanted: false,
        bench_rows: Vec::new(),
        bench_models: Vec::new(),
        recording: false,
    };
    PAGE.with(|cell| *cell.borrow_mut() = Some(page));
    wire();
    sweep::wire();
    with_page(|p| {
        p.render_all();
        p.render_player();
        p.pump();
    });
    wasm_bindgen_futures::spawn_local(load_gallery());
    // The position readout follows playback.
    let tick = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(|| {
        with_page(|p| {
            if p.player.is_playing() {
                p.render_player();
            }
        });
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 100);
    }
    tick.forget();
}

fn build_side(index: usize) -> SideView {
    let root: HtmlElement = by_id(&format!("au-side-{index}")).expect("side container in page.html");
    let title = text_el("h3", "", if index == 0 { "A: left" } else { "B: right" });
    let label = el("label", "field", &[]);
    append(&label, &[&text_el("span", "field-name", "Codec")]);
    let select: HtmlSelectElement = el("select", "codec", &[("data-testid", &format!("au-codec-{index}"))]).unchecked_into();
    append(&label, &[&select]);
    let params_el = el("div", "params", &[]);
    let status = el("div", "status", &[("aria-live", "polite")]);
    let progress: HtmlProgressElement = el("progress", "", &[("max", "1")]).unchecked_into();
    progress.set_hidden(true);
    let stage = el("span", "stage", &[("data-testid", &format!("au-stage-{index}"))]);
    stage.set_text_content(Some("waiting…"));
    append(&status, &[&progress, &stage]);
    let canvas = |class: &str, w: &str, h: &str, what: &str| -> HtmlCanvasElement {
        el("canvas", class, &[("width", w), ("height", h), ("aria-label", &format!("{what} of side {}", if index == 0 { "A" } else { "B" }))]).unchecked_into()
    };
    let wave = canvas("au-wave", "600", "90", "Waveform");
    let spec = canvas("au-spec", "600", "128", "Spectrogram");
    let mel = canvas("au-mel", "388", "120", "The model's log-mel input");
    let diff = canvas("au-mel au-diff", "388", "120", "Difference of the model's input from the original's");
    let mel_title = text_el("h4", "", "What the model hears");
    let diff_title = text_el("h4", "", "… minus the original's");
    append(&diff_title, &[&text_el("span", "hint", " (blue: less energy, red: more; ±3 nats)")]);
    let keywords = el("div", "au-keywords perception", &[("data-testid", &format!("au-keywords-{index}")), ("aria-live", "polite")]);
    let metrics = el("dl", "metrics", &[("data-testid", &format!("au-metrics-{index}"))]);
    let download: HtmlAnchorElement = text_el("a", "download", "Download").unchecked_into();
    download.set_hidden(true);
    append(&root, &[&title, &label, &params_el, &status, &wave, &spec, &mel_title, &mel, &diff_title, &diff, &keywords, &metrics, &download]);
    on::<Event>(&select, "change", move |e| {
        let id = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
        with_page(|p| p.set_codec(index, &id));
    });
    SideView { select, params_el, progress, stage, metrics, keywords, download, wave, spec, mel, diff, shown: None, failed: None }
}

fn wire() {
    for (k, id) in [(0usize, "au-listen-0"), (1, "au-listen-1"), (ORIGINAL, "au-listen-2")] {
        if let Some(b) = by_id::<HtmlButtonElement>(id) {
            on::<Event>(&b, "click", move |_| {
                with_page(|p| p.listen(k));
            });
        }
    }
    if let Some(b) = by_id::<HtmlButtonElement>("au-play") {
        on::<Event>(&b, "click", |_| {
            with_page(|p| p.toggle_play());
        });
    }
    if let Some(b) = by_id::<HtmlButtonElement>("au-record") {
        on::<Event>(&b, "click", |_| {
            with_page(|p| p.record());
        });
    }
    if let Some(b) = by_id::<HtmlButtonElement>("au-bench-run") {
        on::<Event>(&b, "click", |_| {
            with_page(|p| {
                p.bench_rows.clear();
                p.bench_models.clear();
                p.render_bench();
                p.bench_wanted = true;
                b_status("waiting for the sides…", "running");
                p.pump();
            });
        });
    }
    for id in ["au-file", "au-needed-file"] {
        if let Some(input) = by_id::<HtmlInputElement>(id) {
            on::<Event>(&input, "change", |e| {
                let Some(input) = e.target().map(|t| t.unchecked_into::<HtmlInputElement>()) else { return };
                if let Some(file) = input.files().and_then(|f| f.get(0)) {
                    load_file(file);
                }
                input.set_value("");
            });
        }
    }
    let doc = ui::document();
    let visible = || with_page(|p| p.visible).unwrap_or(false);
    on::<DragEvent>(&doc, "dragover", move |e| {
        if visible() {
            e.prevent_default();
        }
    });
    on::<DragEvent>(&doc, "drop", move |e| {
        if !visible() {
            return;
        }
        e.prevent_default();
        match e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            Some(file) => load_file(file),
            None => ui::show_error("Nothing to open: drop a sound file."),
        }
    });
    // Keys for the player, while this lab is shown and no text field has the focus.
    on::<KeyboardEvent>(&doc, "keydown", move |e| {
        if !visible() || e.ctrl_key() || e.meta_key() || e.alt_key() {
            return;
        }
        let tag = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).map(|t| t.tag_name()).unwrap_or_default();
        let typing = matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA");
        // Space on a focused button presses that button, as everywhere.
        let on_button = tag == "BUTTON";
        let key = e.key();
        let action: Option<Box<dyn FnOnce(&mut Page)>> = match key.as_str() {
            " " if !typing && !on_button => Some(Box::new(|p: &mut Page| p.toggle_play())),
            "o" | "O" if !typing => Some(Box::new(|p: &mut Page| p.listen(ORIGINAL))),
            "a" | "A" if !typing => Some(Box::new(|p: &mut Page| p.listen(0))),
            "b" | "B" if !typing => Some(Box::new(|p: &mut Page| p.listen(1))),
            _ => None,
        };
        if let Some(f) = action {
            e.prevent_default();
            with_page(f);
        }
    });
}

fn b_status(text: &str, state: &str) {
    if let Some(s) = by_id::<HtmlElement>("au-bench-status") {
        s.set_text_content(Some(text));
        set_data(&s, "state", state);
    }
}

fn set_source_info(text: &str) {
    if let Some(e) = by_id::<HtmlElement>("au-source") {
        e.set_text_content(Some(text));
    }
}

async fn load_gallery() {
    let items: Vec<GalleryItem> = match js::fetch_bytes("gallery/audio/index.json").await {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
        Err(e) => {
            ui::show_error(&format!("Cannot load the sound gallery: {e}"));
            Vec::new()
        }
    };
    if let Some(gallery) = by_id::<HtmlElement>("au-gallery") {
        for item in &items {
            let title = format!("{} — {} ({})", item.title, item.credit, item.license);
            let button = el(
                "button",
                &format!("au-thumb {}", item.kind),
                &[("type", "button"), ("data-testid", &format!("au-gallery-{}", item.id)), ("title", &title), ("aria-pressed", "false")],
            );
            append(&button, &[&text_el("span", "au-kind", &item.kind), &text_el("span", "", &item.title)]);
            let id = item.id.clone();
            on::<Event>(&button, "click", move |_| {
                with_page(|p| p.choose_input(Input::Gallery { id: id.clone() }));
            });
            append(&gallery, &[&button]);
        }
    }
    // The keyword test subset's first window of each class (its list names the labels).
    #[derive(serde::Deserialize)]
    struct SubsetItem {
        label: String,
    }
    #[derive(serde::Deserialize)]
    struct SubsetList {
        items: Vec<SubsetItem>,
    }
    if let (Some(row), Ok(bytes)) = (by_id::<HtmlElement>("au-windows"), js::fetch_bytes("datasets/kws_test.json").await) {
        if let Ok(list) = serde_json::from_slice::<SubsetList>(&bytes) {
            append(&row, &[&text_el("span", "au-kind", "test windows")]);
            let mut seen: Vec<&str> = Vec::new();
            for (index, item) in list.items.iter().enumerate() {
                if seen.contains(&item.label.as_str()) {
                    continue;
                }
                seen.push(&item.label);
                let button = el(
                    "button",
                    "au-thumb au-window",
                    &[
                        ("type", "button"),
                        ("data-testid", &format!("au-window-{index}")),
                        ("title", &format!("Window {index} of the keyword test subset (held-out voices and accents): {}", item.label)),
                        ("aria-pressed", "false"),
                    ],
                );
                button.set_text_content(Some(&item.label));
                let index = index as u32;
                on::<Event>(&button, "click", move |_| {
                    with_page(|p| p.choose_input(Input::Item { dataset: KWS_DATASET.into(), index }));
                });
                append(&row, &[&button]);
            }
        }
    }
    with_page(|p| {
        p.gallery = Some(items);
        p.validate();
        p.render_input();
        p.pump();
    });
}

fn load_file(file: web_sys::File) {
    let name = file.name();
    let size = file.size();
    if size > mpq_core::limits::MAX_FILE_BYTES as f64 {
        ui::show_error(&format!("{name} is {:.1} MB; the lab accepts files up to {} MB.", size / 1e6, mpq_core::limits::MAX_FILE_BYTES / (1024 * 1024)));
        return;
    }
    if size == 0.0 {
        ui::show_error(&format!("Could not open {name}: the file is empty."));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let read = async {
            let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await?;
            let sha = js::sha256_hex(&buf).await?;
            Ok::<_, JsValue>((js_sys::Uint8Array::new(&buf).to_vec(), sha))
        };
        match read.await {
            Ok((bytes, sha)) => {
                with_page(|p| p.take_file(name, bytes, sha));
            }
            Err(e) => ui::show_error(&format!("Cannot read {name}: {}", js::error_text(&e))),
        }
    });
}

impl Page {
    fn key(&self, i: usize) -> SideKey {
        SideKey { input: self.exp.input.clone(), side: self.exp.sides[i].clone() }
    }

    fn commit(&self, step: Step) {
        history::commit(&Experiment::Audio(self.exp.clone()), step);
    }

    fn apply(&mut self, exp: AudioExperiment) {
        if exp.input != self.exp.input {
            self.failed_inputs.retain(|i| *i != exp.input);
        }
        self.exp = exp;
        self.validate();
        self.render_all();
        self.sweep.apply(&self.exp.sweep, self.codecs.as_deref());
        self.pump();
    }

    /// Replaces what this page cannot show (an unknown codec or gallery sound) by the defaults.
    fn validate(&mut self) {
        let d = AudioExperiment::default();
        let mut problems = Vec::new();
        if let Some(codecs) = &self.codecs {
            for (i, side) in self.exp.sides.iter_mut().enumerate() {
                if !codecs.iter().any(|c| c.id == side.codec) {
                    problems.push(format!("there is no audio codec '{}'", side.codec));
                    *side = d.sides[i].clone();
                }
            }
        }
        if let (Input::Gallery { id }, Some(gallery)) = (&self.exp.input, &self.gallery) {
            if !gallery.iter().any(|g| &g.id == id) {
                problems.push(format!("there is no gallery sound '{id}'"));
                self.exp.input = d.input.clone();
            }
        }
        if !problems.is_empty() {
            ui::show_error(&format!("Part of this link cannot be shown: {}; the defaults are used instead.", problems.join("; ")));
            self.commit(Step::Replace);
        }
    }

    fn set_visible(&mut self, visible: bool) {
        self.visible = visible;
        if !visible && self.player.is_playing() {
            self.player.pause();
            self.render_player();
        }
    }

    fn render_all(&mut self) {
        for i in 0..self.sides.len() {
            self.fill_codec_select(i);
            self.render_params(i);
        }
        self.render_input();
    }

    fn codec(&self, id: &str) -> Option<&CodecInfo> {
        self.codecs.as_ref()?.iter().find(|c| c.id == id)
    }

    fn fill_codec_select(&self, i: usize) {
        let side = &self.sides[i];
        side.select.set_text_content(None);
        let Some(codecs) = &self.codecs else {
            let opt = text_el("option", "", &format!("{} (loading the codecs…)", self.exp.sides[i].codec));
            let _ = opt.set_attribute("value", &self.exp.sides[i].codec);
            append(&side.select, &[&opt]);
            side.select.set_disabled(true);
            return;
        };
        side.select.set_disabled(false);
        let mut group: Option<(&str, HtmlElement)> = None;
        for c in codecs {
            let mut label = format!("{}{}", c.name, if c.lossless { " (lossless)" } else { "" });
            if !c.supported {
                label.push_str(" — not supported by this browser");
            }
            let opt = text_el("option", "", &label);
            let _ = opt.set_attribute("value", &c.id);
            if !c.supported {
                let _ = opt.set_attribute("disabled", "");
            }
            let group_label = if c.browser_native { "Browser-native (WebCodecs)" } else { "mpqlab (same bytes as the CLI)" };
            if group.as_ref().is_none_or(|(l, _)| *l != group_label) {
                let g = el("optgroup", "", &[("label", group_label)]);
                append(&side.select, &[&g]);
                group = Some((group_label, g));
            }
            append(&group.as_ref().expect("just set").1, &[&opt]);
        }
        side.select.set_value(&self.exp.sides[i].codec);
    }

    fn render_params(&self, i: usize) {
        let side = &self.sides[i];
        side.params_el.set_text_content(None);
        let Some(codec) = self.codec(&self.exp.sides[i].codec) else { return };
        if codec.params.is_empty() {
            append(&side.params_el, &[&text_el("p", "no-params", "This codec has no settings.")]);
        }
        for spec in &codec.params {
            let value = self.exp.sides[i].params.get(&spec.name).cloned().unwrap_or_else(|| spec.default.clone());
            let on_change: ui::params::OnChange = std::rc::Rc::new(move |name: &str, v, step| {
                with_page(|p| p.set_param(i, name, v, step));
            });
            append(&side.params_el, &[&ui::params::control(&format!("au-param-{i}"), spec, &value, on_change)]);
        }
    }

    fn render_input(&self) {
        let wanted = match &self.exp.input {
            Input::Gallery { id } => format!("au-gallery-{id}"),
            Input::Item { index, .. } => format!("au-window-{index}"),
            Input::File(_) => String::new(),
        };
        if let Ok(list) = ui::document().query_selector_all("#au-gallery .au-thumb, #au-windows .au-thumb") {
            for k in 0..list.length() {
                if let Some(n) = list.item(k).and_then(|n| n.dyn_into::<HtmlElement>().ok()) {
                    let pressed = n.get_attribute("data-testid").as_deref() == Some(wanted.as_str());
                    let _ = n.set_attribute("aria-pressed", if pressed { "true" } else { "false" });
                }
            }
        }
        let (Some(boxed), Some(text), Some(label)) =
            (by_id::<HtmlElement>("au-needs-file"), by_id::<HtmlElement>("au-needs-file-text"), by_id::<HtmlElement>("au-needed-file-label"))
        else {
            return;
        };
        match self.needed_file() {
            Some(f) => {
                text.set_text_content(Some(&format!(
                    "This experiment was made with a sound of its author's: {} ({}, SHA-256 {}…). Open your copy of it to continue, or pick another sound.",
                    f.name,
                    format::bytes(f.size as usize),
                    &f.sha256[..12]
                )));
                label.set_text_content(Some(&format!("Open {}…", f.name)));
                boxed.set_hidden(false);
            }
            None => boxed.set_hidden(true),
        }
    }

    fn needed_file(&self) -> Option<&FileRef> {
        match &self.exp.input {
            Input::File(f) if !self.files.iter().any(|u| u.sha256 == f.sha256) => Some(f),
            _ => None,
        }
    }

    fn input_name(&self, input: &Input) -> String {
        match input {
            Input::Gallery { id } => self.gallery.as_ref().and_then(|g| g.iter().find(|i| &i.id == id)).map_or_else(|| id.clone(), |i| i.file.clone()),
            Input::Item { index, .. } => format!("keyword test window {index}"),
            Input::File(f) => f.name.clone(),
        }
    }

    fn choose_input(&mut self, input: Input) {
        ui::hide_error();
        self.failed_inputs.retain(|i| *i != input);
        if input == self.exp.input {
            return;
        }
        self.exp.input = input;
        self.commit(Step::Push);
        self.render_input();
        self.pump();
    }

    fn take_file(&mut self, name: String, bytes: Vec<u8>, sha256: String) {
        let size = bytes.len() as u64;
        if let Some(needed) = self.needed_file().cloned() {
            if needed.sha256 != sha256 || needed.size != size {
                ui::show_error(&format!(
                    "{name} is not the file this experiment was made with: it has {} and SHA-256 {}…, the link asks for {} ({}) with SHA-256 {}….",
                    format::bytes(size as usize),
                    &sha256[..12],
                    needed.name,
                    format::bytes(needed.size as usize),
                    &needed.sha256[..12]
                ));
                return;
            }
            ui::hide_error();
            self.files.push(UserFile { sha256, bytes });
            self.failed_inputs.retain(|i| *i != self.exp.input);
            self.render_input();
            self.pump();
            return;
        }
        let shown_sha = match &self.shown {
            Some(Shown { input: Input::File(f), .. }) => Some(f.sha256.clone()),
            _ => None,
        };
        self.files.retain(|f| Some(&f.sha256) == shown_sha.as_ref());
        if !self.files.iter().any(|f| f.sha256 == sha256) {
            self.files.push(UserFile { sha256: sha256.clone(), bytes });
        }
        self.choose_input(Input::File(FileRef { sha256, size, name }));
    }

    fn record(&mut self) {
        if self.recording {
            return;
        }
        self.recording = true;
        if let Some(b) = by_id::<HtmlButtonElement>("au-record") {
            b.set_disabled(true);
        }
        record_status(&format!("recording {RECORD_SECONDS:.0} s…"), "recording");
        wasm_bindgen_futures::spawn_local(async {
            let result = record::record_wav(RECORD_SECONDS).await;
            let bytes = match result {
                Ok(bytes) => {
                    record_status(&format!("recorded {} — {}", format::bytes(bytes.len()), "now the lab's input"), "done");
                    Some(bytes)
                }
                Err(e) => {
                    record_status(&format!("⚠ {e}"), "error");
                    ui::show_error(&format!("Recording: {e}"));
                    None
                }
            };
            let sha = match &bytes {
                Some(b) => js::sha256_hex(&js_sys::Uint8Array::from(b.as_slice()).buffer().into()).await.ok(),
                None => None,
            };
            with_page(move |p| {
                p.recording = false;
                if let Some(b) = by_id::<HtmlButtonElement>("au-record") {
                    b.set_disabled(false);
                }
                if let (Some(bytes), Some(sha)) = (bytes, sha) {
                    let stamp = js_sys::Date::new_0().to_iso_string().as_string().unwrap_or_default().replace([':', '.'], "-");
                    p.take_file(format!("recording-{stamp}.wav"), bytes, sha);
                }
            });
        });
    }

    fn set_codec(&mut self, i: usize, id: &str) {
        if self.exp.sides[i].codec == id {
            return;
        }
        self.exp.sides[i] = SideSpec { codec: id.to_string(), params: Default::default() };
        self.render_params(i);
        self.commit(Step::Push);
        self.pump();
    }

    fn set_param(&mut self, i: usize, name: &str, value: ParamValue, step: Step) {
        self.exp.sides[i].params.insert(name.to_string(), param_from_text(&value.to_string()));
        self.commit(step);
        self.pump();
    }

    fn source(&self, input: &Input) -> Option<Source> {
        match input {
            Input::Gallery { id } => {
                let item = self.gallery.as_ref()?.iter().find(|g| &g.id == id)?;
                Some(Source::Url { url: format!("gallery/audio/{}", item.file), name: item.file.clone() })
            }
            Input::Item { dataset, index } if dataset == KWS_DATASET => Some(Source::Item { index: *index }),
            Input::Item { .. } => None,
            Input::File(f) => {
                let file = self.files.iter().find(|u| u.sha256 == f.sha256)?;
                Some(Source::Bytes { bytes: file.bytes.clone(), name: f.name.clone() })
            }
        }
    }

    fn submit(&mut self, request: Request, job: Job) {
        let id = self.bridge.submit(request);
        self.job = Some((id, job));
    }

    fn pump(&mut self) {
        if let Some((id, Job::Encode(_, SideKey { input, .. }) | Job::Load(input))) = &self.job {
            if *input != self.exp.input {
                let id = *id;
                self.bridge.cancel(id);
                self.job = None;
            }
        }
        if self.bridge.generation() != self.worker_generation {
            self.worker_generation = self.bridge.generation();
            self.worker_input = None;
        }
        self.mark_waiting();
        if !self.bridge.is_idle() {
            return;
        }
        if self.codecs.is_none() {
            if !self.catalog_failed {
                self.submit(Request::Catalog, Job::Catalog);
            }
            return;
        }
        let want = self.exp.input.clone();
        self.render_input();
        if self.worker_input.as_ref() != Some(&want) {
            if !self.failed_inputs.contains(&want) {
                if let Some(source) = self.source(&want) {
                    if !self.shown.as_ref().is_some_and(|s| s.input == want) {
                        set_source_info(&format!("Loading {}…", self.input_name(&want)));
                    }
                    self.submit(Request::Load { source }, Job::Load(want));
                }
            }
            return;
        }
        for i in 0..self.sides.len() {
            let key = self.key(i);
            let side = &self.sides[i];
            if side.shown.as_ref() == Some(&key) || side.failed.as_ref() == Some(&key) {
                continue;
            }
            side.stage.set_text_content(Some("encoding…"));
            set_data(&side.stage, "state", "running");
            side.progress.set_hidden(false);
            let request = Request::Encode { codec: key.side.codec.clone(), params: key.side.params.clone() };
            self.submit(request, Job::Encode(i, key));
            return;
        }
        if self.bench_wanted {
            self.bench_wanted = false;
            b_status("starting…", "running");
            self.submit(Request::Bench { seconds: 10, runs: bench_runs() }, Job::Bench);
        }
    }

    /// A side whose result no longer matches the experiment says so at once.
    fn mark_waiting(&self) {
        let running = match &self.job {
            Some((_, Job::Encode(i, key))) => Some((*i, key)),
            _ => None,
        };
        for i in 0..self.sides.len() {
            let key = self.key(i);
            let side = &self.sides[i];
            let encoding_it = running.is_some_and(|(j, k)| j == i && *k == key);
            if side.shown.as_ref() != Some(&key) && side.failed.as_ref() != Some(&key) && !encoding_it && side.stage.get_attribute("data-state").as_deref() != Some("waiting") {
                side.stage.set_text_content(Some("waiting…"));
                set_data(&side.stage, "state", "waiting");
            }
        }
    }

    fn on_incoming(&mut self, generation: u32, incoming: Incoming) {
        for notice in self.bridge.handle(generation, incoming) {
            self.on_notice(notice);
        }
        self.pump();
    }

    fn on_notice(&mut self, notice: Notice<LabEvent>) {
        let Some((id, job)) = self.job.clone() else { return };
        if notice.job() != id {
            return;
        }
        match notice {
            Notice::Progress { stage, done, total, .. } => match &job {
                Job::Encode(i, _) => {
                    let side = &self.sides[*i];
                    side.stage.set_text_content(Some(&format!("{stage}…")));
                    if total > 0.0 {
                        side.progress.set_value(done / total);
                    }
                }
                Job::Load(input) if !self.shown.as_ref().is_some_and(|s| s.input == *input) => set_source_info(&format!("{stage}…")),
                Job::Bench => b_status(&format!("{stage}… ({done:.0} of {total:.0})"), "running"),
                _ => {}
            },
            Notice::Event { event, .. } => match (&job, event) {
                (Job::Catalog, LabEvent::Catalog { codecs }) => {
                    self.codecs = Some(codecs);
                    self.validate();
                    self.render_all();
                    self.sweep.apply(&self.exp.sweep, self.codecs.as_deref());
                }
                (Job::Load(input), LabEvent::Loaded(l)) => self.on_loaded(input.clone(), *l),
                (Job::Encode(i, key), LabEvent::Encoded(e)) => self.on_encoded(*i, key.clone(), *e),
                (Job::Bench, LabEvent::BenchRow(r)) => {
                    self.bench_rows.push(r);
                    self.render_bench();
                }
                (Job::Bench, LabEvent::BenchModel(m)) => {
                    self.bench_models.push(m);
                    self.render_bench();
                }
                (Job::Bench, LabEvent::BenchDone) => self.finish_bench(),
                _ => {}
            },
            Notice::Done { .. } => self.job = None,
            Notice::Failed { message, crashed, .. } => {
                self.job = None;
                if crashed {
                    ui::show_error(&format!("{message} — the worker was restarted; what the page shows is kept."));
                }
                self.on_failed(job, &message, crashed);
            }
        }
    }

    fn on_failed(&mut self, job: Job, message: &str, crashed: bool) {
        match job {
            Job::Catalog => {
                self.catalog_failed = true;
                ui::show_error(&format!("The audio lab cannot start: {message}"));
            }
            Job::Load(input) => {
                let name = self.input_name(&input);
                if !crashed {
                    ui::show_error(&format!("Could not open {name}: {message}"));
                }
                self.failed_inputs.push(input.clone());
                if self.exp.input == input {
                    // The clip shown stays; the experiment (and the URL) say so again.
                    self.exp.input = match &self.shown {
                        Some(s) => s.input.clone(),
                        None => AudioExperiment::default().input,
                    };
                    self.commit(Step::Replace);
                }
                let keep = match &self.exp.input {
                    Input::File(f) => Some(f.sha256.clone()),
                    _ => None,
                };
                self.files.retain(|f| Some(&f.sha256) == keep.as_ref());
                match &self.shown {
                    Some(s) => set_source_info(&format!("{} (kept: {name} could not be opened)", s.name)),
                    None => set_source_info("No clip loaded."),
                }
                self.render_input();
            }
            Job::Encode(i, key) => {
                let side = &mut self.sides[i];
                side.progress.set_hidden(true);
                if side.failed.as_ref() != Some(&key) {
                    side.stage.set_text_content(Some(&format!("⚠ {message}")));
                    set_data(&side.stage, "state", "error");
                    if !crashed {
                        ui::show_error(&format!("{} side: {message}", if i == 0 { "Left" } else { "Right" }));
                    }
                }
                side.failed = Some(key);
            }
            Job::Bench => {
                b_status(&format!("⚠ {message}"), "stopped");
            }
        }
    }

    fn on_loaded(&mut self, input: Input, l: Loaded) {
        self.worker_input = Some(input.clone());
        if self.shown.as_ref().is_some_and(|s| s.input == input) {
            return; // a restarted worker reloaded what the page shows
        }
        let name = self.input_name(&input);
        let v = &l.view;
        let seconds = l.frames as f64 / v.sample_rate as f64;
        let mut info = format!(
            "{name} — {seconds:.2} s, {} Hz, {}",
            v.sample_rate,
            if v.channels == 1 { "mono".to_string() } else { format!("{} channels", v.channels) }
        );
        if let Some(label) = &l.label {
            info.push_str(&format!(", true class: {label}"));
        }
        if let Some(g) = match &input {
            Input::Gallery { id } => self.gallery.as_ref().and_then(|g| g.iter().find(|i| &i.id == id)),
            _ => None,
        } {
            info.push_str(&format!(". {} — {}", g.credit, g.license));
        }
        set_source_info(&info);
        let samples = bytes_f32(&v.samples);
        self.player.reset();
        if let Err(e) = self.player.set(ORIGINAL, Some((&samples, v.channels, v.sample_rate))) {
            ui::show_error(&format!("Playback: {e}"));
        }
        let canvas = |id: &str| by_id::<HtmlCanvasElement>(id);
        if let Some(c) = canvas("au-wave-2") {
            draw::waveform(&c, &samples, v.channels);
        }
        if let Some(c) = canvas("au-spec-2") {
            draw::spectrogram(&c, &v.spectrogram, SPEC_RANGE_DB);
        }
        let (lo, hi) = mel_range(&v.log_mel);
        if let Some(c) = canvas("au-mel-2") {
            draw::log_mel(&c, &v.log_mel, MEL_BANDS, lo, hi);
        }
        if let Some(root) = by_id::<HtmlElement>("au-classes-2") {
            root.set_text_content(None);
            let top: Vec<(String, f32)> = l.classes.iter().take(5).map(|c| (c.class.clone(), c.p)).collect();
            let head = text_el("p", "flag same", "The model hears: ");
            append(&head, &[&text_el("b", "", l.classes.first().map_or("", |c| c.class.as_str()))]);
            let t = text_el("p", "timing", &format!("kws-cnn on the CPU: {:.1} ms", l.infer_ms));
            append(&root, &[&head, &bars("The model's top classes for the original", "au-bars-original", &top), &t]);
        }
        if let Some(info) = by_id::<HtmlElement>("au-original-info") {
            info.set_text_content(Some(&format!("{seconds:.2} s · {} Hz · {} ch", v.sample_rate, v.channels)));
            set_data(&info, "frames", &l.frames.to_string());
            set_data(&info, "rate", &v.sample_rate.to_string());
        }
        for (k, side) in self.sides.iter_mut().enumerate() {
            side.shown = None;
            side.failed = None;
            side.metrics.set_text_content(None);
            side.keywords.set_text_content(None);
            side.download.set_hidden(true);
            let _ = self.player.set(k, None);
        }
        self.shown = Some(Shown { input, name, log_mel: v.log_mel.clone() });
        self.render_input();
        self.render_player();
    }

    fn on_encoded(&mut self, i: usize, key: SideKey, e: Encoded) {
        if key != self.key(i) {
            return; // superseded: the side changed while this ran
        }
        let Some(src) = &self.shown else { return };
        let base = src.name.rsplit_once('.').map(|(b, _)| b.to_string()).unwrap_or_else(|| src.name.clone());
        let original_mel = src.log_mel.clone();
        let v: &ClipView = &e.view;
        let samples = bytes_f32(&v.samples);
        if let Err(err) = self.player.set(i, Some((&samples, v.channels, v.sample_rate))) {
            ui::show_error(&format!("Playback: {err}"));
        }
        let side = &mut self.sides[i];
        side.shown = Some(key);
        side.failed = None;
        side.progress.set_hidden(true);
        side.stage.set_text_content(Some("done"));
        set_data(&side.stage, "state", "done");
        draw::waveform(&side.wave, &samples, v.channels);
        draw::spectrogram(&side.spec, &v.spectrogram, SPEC_RANGE_DB);
        let (lo, hi) = mel_range(&original_mel);
        draw::log_mel(&side.mel, &v.log_mel, MEL_BANDS, lo, hi);
        draw::log_mel_difference(&side.diff, &v.log_mel, &original_mel, MEL_BANDS, 3.0);
        render_metrics(&side.metrics, &e.report);
        if let Some(check) = &e.browser_decoder {
            let (text, raw) = match check {
                Ok(c) => (
                    match c.snr_db {
                        Some(db) => format!("{db:.1} dB SNR (largest difference {:.1e})", c.max_abs_diff),
                        None => format!("identical over {} samples", c.frames),
                    },
                    json(c),
                ),
                Err(why) => (format!("– ({why})"), "null".to_string()),
            };
            metric(&side.metrics, "browser_decoder", "This browser's Opus decoder vs ours (48 kHz)", &text, &raw);
        }
        render_keywords(&side.keywords, i, &e.keywords);
        let settings: Vec<String> = e.report.params.iter().map(|(k, v)| format!("{k}{v}")).collect();
        let codec = &e.report.codec;
        let file = format!("{base}-{codec}{}{}.{}", if settings.is_empty() { "" } else { "-" }, settings.join("-"), e.extension);
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(e.encoded.as_slice()));
        ui::set_download(&side.download, &parts, &e.mime, &file, &format!("Download {file} ({})", format::bytes(e.report.bytes)));
        self.render_player();
    }

    fn toggle_play(&mut self) {
        let result = if self.player.is_playing() {
            self.player.pause();
            Ok(())
        } else {
            self.player.play()
        };
        if let Err(e) = result {
            ui::show_error(&format!("Playback: {e}"));
        }
        self.render_player();
    }

    fn listen(&mut self, k: usize) {
        if !self.player.has(k) {
            return;
        }
        if let Err(e) = self.player.switch(k) {
            ui::show_error(&format!("Playback: {e}"));
        }
        self.render_player();
    }

    fn render_player(&self) {
        let p = &self.player;
        if let Some(root) = by_id::<HtmlElement>("au-play") {
            root.set_text_content(Some(if p.is_playing() { "❚❚ Pause" } else { "▶ Play" }));
            set_data(&root, "playing", if p.is_playing() { "1" } else { "0" });
        }
        for k in [0, 1, ORIGINAL] {
            if let Some(b) = by_id::<HtmlButtonElement>(&format!("au-listen-{k}")) {
                let _ = b.set_attribute("aria-pressed", if p.which == k { "true" } else { "false" });
                b.set_disabled(!p.has(k));
            }
        }
        if let Some(pos) = by_id::<HtmlElement>("au-position") {
            let at = p.position();
            pos.set_text_content(Some(&format!("{at:.2} s")));
            set_data(&pos, "position", &at.to_string());
            set_data(&pos, "listening", match p.which {
                0 => "left",
                1 => "right",
                _ => "original",
            });
        }
    }

    fn render_bench(&self) {
        let Some(t) = by_id::<HtmlElement>("au-bench-table") else { return };
        let mut rows: Vec<Row> = self
            .bench_rows
            .iter()
            .map(|r| Row {
                cells: vec![
                    self.codec(&r.codec).map_or(r.codec.clone(), |c| c.name.clone()),
                    format!("{:.1}", r.kbps),
                    format::ms(r.encode_ms),
                    format!("{:.0}×", r.encode_x_realtime),
                    format::ms(r.decode_ms),
                    format!("{:.0}×", r.decode_x_realtime),
                ],
                data: vec![("codec", r.codec.clone()), ("encode-ms", r.encode_ms.to_string()), ("decode-ms", r.decode_ms.to_string())],
                note: None,
            })
            .collect();
        for m in &self.bench_models {
            rows.push(Row {
                cells: vec![format!("kws-cnn, {}", m.backend), "per 1 s window".into(), m.ms_per_window.map_or("–".into(), format::ms)],
                data: vec![("model", m.backend.clone()), ("ms", m.ms_per_window.map_or("null".into(), |x| x.to_string()))],
                note: m.error.as_ref().map(|e| (e.clone(), "err")),
            });
        }
        table(&t, &["Codec", "kbit/s", "Encode", "× real time", "Decode", "× real time"], &rows);
    }

    fn finish_bench(&mut self) {
        b_status(&format!("Timed {} codecs and the model.", self.bench_rows.len()), "done");
        if let Some(pre) = by_id::<HtmlElement>("au-bench-json") {
            let v = serde_json::json!({ "codecs": self.bench_rows, "model": self.bench_models });
            pre.set_text_content(Some(&v.to_string()));
        }
    }

    // ---- the sweep (the panel is `sweep.rs`) ----

    fn sweep_settings_changed(&mut self) {
        let specs = sweep::read_specs();
        let items = sweep::read_items();
        let changed = self.exp.sweep.specs != specs || self.exp.sweep.items != items;
        self.exp.sweep.specs = specs;
        self.exp.sweep.items = items;
        // A link must not carry settings that do not parse.
        if changed && sweep::specs_parse(&self.exp.sweep.specs) {
            self.exp.sweep.run = false;
            self.commit(Step::Gesture);
        }
    }

    fn run_sweep(&mut self) {
        self.sweep_settings_changed();
        if self.exp.sweep.specs.is_empty() {
            ui::show_error("Sweep: tick at least one codec.");
            return;
        }
        self.exp.sweep.run = true;
        if sweep::specs_parse(&self.exp.sweep.specs) {
            self.commit(Step::Push);
        }
        self.sweep.start(sweep::Plan { specs: self.exp.sweep.specs.clone(), items: self.exp.sweep.items });
    }

    fn stop_sweep(&mut self, why: &str) {
        self.sweep.stop(why);
        self.exp.sweep.run = false;
        self.commit(Step::Replace);
    }

    fn sweep_incoming(&mut self, shard: usize, generation: u32, incoming: Incoming) {
        if let Some(message) = self.sweep.incoming(shard, generation, incoming) {
            if self.sweep.is_running() {
                ui::show_error(&format!("Sweep: {message}"));
                self.stop_sweep(&message);
            }
        }
    }
}

/// The colour scale of the log-mel pictures: the original's 1st to 99th percentile.
fn mel_range(mel: &[f32]) -> (f32, f32) {
    if mel.is_empty() {
        return (-14.0, 2.0);
    }
    let mut v: Vec<f32> = mel.to_vec();
    v.sort_by(f32::total_cmp);
    (v[v.len() / 100], v[v.len() * 99 / 100].max(v[v.len() / 100] + 1.0))
}

fn record_status(text: &str, state: &str) {
    if let Some(s) = by_id::<HtmlElement>("au-record-status") {
        s.set_text_content(Some(text));
        set_data(&s, "state", state);
    }
}

fn bench_runs() -> u32 {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|q| q.trim_start_matches('?').split('&').find_map(|kv| kv.strip_prefix("runs=").map(str::to_string)))
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|r| (1..=20).contains(r))
        .unwrap_or(3)
}

/// The numbers under a side: each `dd` carries `data-metric` and the raw `data-value`.
fn render_metrics(dl: &HtmlElement, r: &mpq_metrics::audio::AudioReport) {
    dl.set_text_content(None);
    let opt = |v: Option<f64>, digits: usize, unit: &str| v.map_or("∞ (exact)".to_string(), |x| format!("{x:.digits$}{unit}"));
    metric(dl, "bytes", "Size", &format!("{} ({} B)", format::bytes(r.bytes), r.bytes), &json(&r.bytes));
    metric(dl, "kbps", "Rate", &format!("{:.2} kbit/s", r.kbps), &json(&r.kbps));
    metric(dl, "bits_per_sample", "Bits per sample", &format!("{:.3}", r.bits_per_sample), &json(&r.bits_per_sample));
    metric(dl, "snr_db", "SNR", &opt(r.snr_db, 2, " dB"), &json(&r.snr_db));
    metric(dl, "seg_snr_db", "Segmental SNR", &r.seg_snr_db.map_or("–".into(), |x| format!("{x:.2} dB")), &json(&r.seg_snr_db));
    metric(dl, "lsd_db", "Log-spectral distance", &r.lsd_db.map_or("–".into(), |x| format!("{x:.2} dB")), &json(&r.lsd_db));
    metric(dl, "stoi", "STOI (intelligibility)", &r.stoi.map_or("– (under 0.4 s of speech)".into(), |x| format!("{x:.4}")), &json(&r.stoi));
    metric(dl, "log_mel_distance", "Log-mel distance", &r.log_mel_distance.map_or("–".into(), |x| format!("{x:.4} nats")), &json(&r.log_mel_distance));
    metric(dl, "delay_ms", "Codec delay (aligned)", &format!("{:.2} ms", r.delay_ms), &json(&r.delay_ms));
    metric(dl, "encode_ms", "Encode time", &format::ms(r.encode_ms), &json(&r.encode_ms));
    metric(dl, "decode_ms", "Decode time", &format::ms(r.decode_ms), &json(&r.decode_ms));
    if r.exact {
        append(dl, &[&text_el("dt", "", "Samples"), &text_el("dd", "exact", "identical to the original")]);
    }
}

fn render_keywords(root: &HtmlElement, side: usize, k: &Result<Keywords, String>) {
    root.set_text_content(None);
    let k = match k {
        Ok(k) => k,
        Err(e) => {
            append(root, &[&text_el("p", "perception-error", &format!("Model: {e}"))]);
            return;
        }
    };
    let flag = el("p", if k.changed { "flag changed" } else { "flag same" }, &[("data-testid", &format!("au-flag-{side}"))]);
    set_data(&flag, "changed", &k.changed.to_string());
    set_data(&flag, "class", &k.decoded);
    let (lead, rest) = if k.changed { ("⚠ The model's answer changed: ", format!(" (original: {})", k.original)) } else { ("✓ Same answer as for the original: ", String::new()) };
    flag.set_text_content(Some(lead));
    append(&flag, &[&text_el("b", "", &k.decoded)]);
    let _ = flag.append_with_str_1(&rest);
    let top: Vec<(String, f32)> = k.decoded_classes.iter().take(5).map(|c| (c.class.clone(), c.p)).collect();
    let list = bars("The model's top classes for this side", &format!("au-bars-{side}"), &top);
    let dl = el("dl", "metrics perception-metrics", &[]);
    metric(&dl, "kl", "KL divergence", &format!("{:.4} nats", k.kl), &json(&k.kl));
    metric(&dl, "feature_distance", "Feature distance", &format!("{:.4}", k.feature_distance), &json(&k.feature_distance));
    let t = text_el("p", "timing", &format!("kws-cnn on the CPU: {:.1} ms", k.infer_ms));
    append(root, &[&flag, &list, &dl, &t]);
}
