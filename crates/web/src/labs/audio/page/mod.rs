//! The audio lab's page side. The page renders from its [`AudioExperiment`] and writes every
//! change to the URL; [`Page::pump`] brings the worker in line with it, as the image lab does:
//! the page remembers what the worker holds (its `LabWorker`'s input, forgotten when the
//! worker restarts) and the key of each side's result, and when the worker is free it sends the
//! first thing that differs (the input, then the left and the right side). A result that
//! arrives after its side changed is dropped; a refused file puts the experiment back to the
//! clip that is shown.

mod draw;
mod player;
mod record;
mod sweep;

use mpq_core::experiment::audio::{AudioExperiment, KWS_DATASET};
use mpq_core::experiment::image::{FileRef, Input, Side as SideSpec};
use mpq_core::{Experiment, ParamValue};
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlAnchorElement, HtmlButtonElement, HtmlCanvasElement, HtmlElement, HtmlSelectElement, KeyboardEvent};

use super::{BenchModel, BenchRow, ClipView, CodecInfo, Encoded, Event as LabEvent, Keywords, Lab, Loaded, Request, Source, bytes_f32};
use crate::bridge::Notice;
use crate::bridge::page::Incoming;
use crate::ui::lab_worker::LabWorker;
use crate::ui::dom::{Row, bars, json, metric};
use crate::ui::history::{self, Step};
use crate::ui::input::{self, FileSources, GalleryItem, UserFiles};
use crate::ui::sides::{self, CodecChoice, SideSlot};
use crate::ui::{self, append, by_id, el, on, set_data, table, text_el};
use crate::{format, js};
use player::{ORIGINAL, Player};
use sweep::SweepPanel;

/// The model's log-mel bands (its input is frames × this).
const MEL_BANDS: usize = 40;
/// Spectrograms show this many dB below the original's loudest cell.
const SPEC_RANGE_DB: f64 = 90.0;
/// Seconds the record button records.
const RECORD_SECONDS: f64 = 2.0;

crate::lab_page!(Page, "audio", "Audio lab", Audio);

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

/// The clip on screen.
struct Shown {
    input: Input,
    name: String,
    log_mel: Vec<f32>,
}

struct SideView {
    select: HtmlSelectElement,
    params_el: HtmlElement,
    slot: SideSlot<SideKey>,
    metrics: HtmlElement,
    keywords: HtmlElement,
    download: HtmlAnchorElement,
    wave: HtmlCanvasElement,
    spec: HtmlCanvasElement,
    mel: HtmlCanvasElement,
    diff: HtmlCanvasElement,
    /// How near the target size the search came (hidden without a target).
    target_line: HtmlElement,
    /// The result on screen as the exports (and `mpqlab run`) write a side: JSON text, from
    /// the worker.
    result: Option<String>,
    /// Its codec and kbit/s, for the spectrograms' captions.
    caption: Option<String>,
}

pub(super) struct Page {
    exp: AudioExperiment,
    codecs: Option<Vec<CodecInfo>>,
    catalog_failed: bool,
    gallery: Option<Vec<GalleryItem>>,
    /// The worker and its job.
    worker: LabWorker<Lab, Job, Input>,
    shown: Option<Shown>,
    /// The user's files (dropped, picked or recorded).
    files: UserFiles,
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
    let worker = LabWorker::new(|generation, incoming| {
        // The running job's notices, then the next job.
        with_page(|p| {
            for (job, notice) in p.worker.notices(generation, incoming) {
                p.on_notice(job, notice);
            }
            p.pump();
        });
    });
    let page = Page {
        exp: AudioExperiment::default(),
        codecs: None,
        catalog_failed: false,
        gallery: None,
        worker,
        shown: None,
        files: UserFiles::default(),
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
    if let Some(slot) = by_id::<HtmlElement>("au-export") {
        let bar = ui::export::bar("au", Some("Spectrograms side by side (PNG)"), |kind| {
            with_page(|p| p.export(kind));
        });
        append(&slot, &[&bar]);
    }
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
    let (label, select) = sides::codec_field(&format!("au-codec-{index}"), move |id| {
        with_page(|p| p.set_codec(index, id));
    });
    let params_el = el("div", "params", &[]);
    let status = el("div", "status", &[("aria-live", "polite")]);
    let slot = SideSlot::new(&format!("au-stage-{index}"));
    append(&status, &[&slot.progress, &slot.stage]);
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
    let target_line = ui::target::result_line(&format!("au-target-{index}"));
    append(&root, &[&title, &label, &params_el, &status, &target_line, &wave, &spec, &mel_title, &mel, &diff_title, &diff, &keywords, &metrics, &download]);
    SideView { select, params_el, slot, metrics, keywords, download, wave, spec, mel, diff, target_line, result: None, caption: None }
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
    input::wire_files(FileSources {
        inputs: &["au-file", "au-needed-file"],
        drop_hint: None,
        visible: || with_page(|p| p.visible).unwrap_or(false),
        drop_what: "drop a sound file",
        paste: false,
        on_file: |file| {
            input::read_file(file, mpq_core::limits::MAX_FILE_BYTES, |name, bytes, sha| {
                with_page(|p| p.take_file(name, bytes, sha));
            })
        },
    });
    let doc = ui::document();
    let visible = || with_page(|p| p.visible).unwrap_or(false);
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
    let items = input::gallery_buttons("gallery/audio/index.json", "au-gallery", "au-gallery-", "sound gallery", |id| {
        with_page(|p| p.choose_input(Input::Gallery { id }));
    })
    .await;
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
    with_page(|p| input::gallery_loaded(p, items));
}

crate::file_page!(Page, Input, Input::File);

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
            sides::replace_unknown(&mut self.exp.sides, &d.sides, |id| codecs.iter().any(|c| c.id == id), "audio ", &mut problems);
        }
        if let (Input::Gallery { id }, Some(gallery)) = (&self.exp.input, &self.gallery) {
            if !gallery.iter().any(|g| &g.id == id) {
                problems.push(format!("there is no gallery sound '{id}'"));
                self.exp.input = d.input.clone();
            }
        }
        if ui::link_problems(&problems) {
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
        let choices: Option<Vec<CodecChoice<'_>>> = self.codecs.as_ref().map(|codecs| {
            codecs
                .iter()
                .map(|c| CodecChoice {
                    id: &c.id,
                    name: &c.name,
                    lossless: c.lossless,
                    group: if c.browser_native { "Browser-native (WebCodecs)" } else { "mpqlab (same bytes as the CLI)" },
                    unsupported: !c.supported,
                })
                .collect()
        });
        sides::fill_codecs(&self.sides[i].select, choices.as_deref(), &self.exp.sides[i].codec);
    }

    fn render_params(&self, i: usize) {
        let on_change: ui::params::OnChange = std::rc::Rc::new(move |name: &str, v, step| {
            with_page(|p| p.set_param(i, name, v, step));
        });
        let codec = self.codec(&self.exp.sides[i].codec);
        let specs = codec.map(|c| c.params.as_slice());
        let params_el = &self.sides[i].params_el;
        sides::render_params(params_el, specs, &self.exp.sides[i], &format!("au-param-{i}"), on_change);
        if let Some(c) = codec {
            let (units, target) = (&ui::target::AUDIO_UNITS, self.exp.sides[i].target);
            ui::target::attach(params_el, &format!("au-target-{i}"), &format!("au-param-{i}"), units, c.lossless, c.rate_param.as_deref(), target, move |t| {
                with_page(|p| p.set_target(i, t));
            });
        }
    }

    fn render_input(&self) {
        let wanted = match &self.exp.input {
            Input::Gallery { id } => format!("au-gallery-{id}"),
            Input::Item { index, .. } => format!("au-window-{index}"),
            Input::File(_) => String::new(),
        };
        input::mark_pressed("#au-gallery .au-thumb, #au-windows .au-thumb", &wanted);
        input::render_needed("au-", self.needed_file(), "a sound");
    }

    fn needed_file(&self) -> Option<&FileRef> {
        match &self.exp.input {
            Input::File(f) if !self.files.has(&f.sha256) => Some(f),
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
        input::choose(self, input);
    }

    fn take_file(&mut self, name: String, bytes: Vec<u8>, sha256: String) {
        input::take_file(self, name, bytes, sha256, "sound");
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
        // A target size stays with the side, unless the new codec is lossless.
        let keep_target = self.codec(id).is_some_and(|c| !c.lossless);
        if !sides::set_codec(&mut self.exp.sides[i], id, keep_target) {
            return;
        }
        self.render_params(i);
        self.commit(Step::Push);
        self.pump();
    }

    /// The comparison's export: both sides' results (as `mpqlab run` writes them) as CSV or
    /// JSON, or the spectrograms of the original and both sides as one PNG.
    fn export(&self, kind: &str) {
        let Some(src) = &self.shown else {
            ui::show_error("Export: no clip is shown yet.");
            return;
        };
        let base = ui::export::file_stem(&src.name);
        let stem = format!("mpqlab-audio-{base}");
        let sides: Vec<String> =
            self.sides.iter().enumerate().filter_map(|(i, s)| s.result.as_deref().map(|r| ui::export::named(if i == 0 { "a" } else { "b" }, r))).collect();
        match kind {
            "csv" => ui::export::download_csv(&stem, &sides),
            "json" => {
                let result = format!("{{\"lab\":\"audio\",\"input\":{{\"name\":{}}},\"sides\":[{}]}}", ui::export::quoted(&src.name), sides.join(","));
                ui::export::download_json("comparison", &stem, &result);
            }
            _ => {
                let Some(original) = by_id::<HtmlCanvasElement>("au-spec-2") else { return };
                let label = |i: usize| format!("{}: {}", if i == 0 { "A" } else { "B" }, self.sides[i].caption.as_deref().unwrap_or("–"));
                let (a, b) = (label(0), label(1));
                let views = [(&original, "Original"), (&self.sides[0].spec, a.as_str()), (&self.sides[1].spec, b.as_str())];
                ui::export::download_side_by_side(&views, &format!("{stem}-spectrograms.png"));
            }
        }
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
        sides::set_param(&mut self.exp.sides[i], name, &value);
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
                let bytes = self.files.get(&f.sha256)?;
                Some(Source::Bytes { bytes: bytes.to_vec(), name: f.name.clone() })
            }
        }
    }

    fn pump(&mut self) {
        // Work on an input that is no longer wanted is worthless: stop it.
        let want = self.exp.input.clone();
        if self.worker.cancel_if(|j| matches!(j, Job::Encode(_, SideKey { input, .. }) | Job::Load(input) if *input != want)) {
            self.sides.iter_mut().for_each(|s| s.slot.stopped());
        }
        self.mark_waiting();
        if !self.worker.ready(self.codecs.is_some(), self.catalog_failed, || (Request::Catalog, Job::Catalog)) {
            return;
        }
        self.render_input();
        if !self.worker.holds(&want) {
            let source = if self.failed_inputs.contains(&want) { None } else { self.source(&want) };
            if let Some(source) = source {
                if !self.shown.as_ref().is_some_and(|s| s.input == want) {
                    set_source_info(&format!("Loading {}…", self.input_name(&want)));
                }
                self.worker.submit(Request::Load { source }, Job::Load(want));
            }
            return;
        }
        for i in 0..self.sides.len() {
            let key = self.key(i);
            if !self.sides[i].slot.wants(&key) {
                continue;
            }
            self.sides[i].slot.start(&key);
            let request = Request::Encode { codec: key.side.codec.clone(), params: key.side.params.clone(), target: key.side.target };
            self.worker.submit(request, Job::Encode(i, key));
            return;
        }
        if self.bench_wanted {
            self.bench_wanted = false;
            b_status("starting…", "running");
            self.worker.submit(Request::Bench { seconds: 10, runs: ui::bench_runs() }, Job::Bench);
        }
    }

    /// A side whose result no longer matches the experiment says so at once.
    fn mark_waiting(&self) {
        for (i, side) in self.sides.iter().enumerate() {
            side.slot.mark_waiting(&self.key(i));
        }
    }

    fn on_notice(&mut self, job: Job, notice: Notice<LabEvent>) {
        match notice {
            Notice::Progress { stage, done, total, .. } => match &job {
                Job::Encode(i, _) => self.sides[*i].slot.on_progress(&stage, done, total),
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
            Notice::Done { .. } => {}
            Notice::Failed { message, crashed, .. } => self.on_failed(job, &message, crashed),
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
                input::load_failed(self, input, &format!("Could not open {name}: {message}"), crashed, AudioExperiment::default().input);
                match &self.shown {
                    Some(s) => set_source_info(&format!("{} (kept: {name} could not be opened)", s.name)),
                    None => set_source_info("No clip loaded."),
                }
            }
            Job::Encode(i, key) => self.sides[i].slot.fail(i, key, message, crashed),
            Job::Bench => {
                b_status(&format!("⚠ {message}"), "stopped");
            }
        }
    }

    fn on_loaded(&mut self, input: Input, l: Loaded) {
        self.worker.loaded(input.clone());
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
            ui::target::show_result(&side.target_line, None);
            side.result = None;
            side.caption = None;
            side.slot.reset();
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
        let base = ui::export::file_stem(&src.name).to_string();
        let original_mel = src.log_mel.clone();
        let v: &ClipView = &e.view;
        let samples = bytes_f32(&v.samples);
        if let Err(err) = self.player.set(i, Some((&samples, v.channels, v.sample_rate))) {
            ui::show_error(&format!("Playback: {err}"));
        }
        let side = &mut self.sides[i];
        side.slot.done(key);
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
        ui::target::show_result(&side.target_line, e.target.as_ref());
        side.result = Some(e.export.clone());
        side.caption = Some(format!("{} — {:.1} kbit/s", e.report.codec, e.report.kbps));
        if let Some(name) = e.target.as_ref().and_then(|t| t.param.as_ref()) {
            ui::target::lock_param(&side.params_el, &format!("au-param-{i}"), name, e.target.as_ref().and_then(|t| t.value.as_ref()));
        }
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

    pub(super) fn sweep_settings_changed(&mut self) {
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


    pub(super) fn run_sweep(&mut self) {
        self.sweep_settings_changed();
        if !ui::sweep::has_specs(&self.exp.sweep.specs) {
            return;
        }
        self.exp.sweep.run = true;
        if sweep::specs_parse(&self.exp.sweep.specs) {
            self.commit(Step::Push);
        }
        self.sweep.start(sweep::Plan { specs: self.exp.sweep.specs.clone(), items: self.exp.sweep.items });
    }

    pub(super) fn stop_sweep(&mut self, why: &str) {
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
