//! The model lab's page side: accuracy against bits per weight for each bundled model (table
//! and plot), our kernels checked against their CPU references on this browser's GPU, and the
//! kernels timed there with the adapter's name. Its settings (and what was run) are its
//! experiment; it has its own worker, so the image lab stays responsive; one job at a time.

use std::cell::RefCell;

use mpq_core::Experiment;
use mpq_core::experiment::model::{KernelBackend, ModelExperiment, ModelRun};
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlButtonElement, HtmlElement, HtmlInputElement, HtmlProgressElement, HtmlSelectElement};

use super::{AdapterInfo, BenchInfo, CheckRow, Event as LabEvent, KernelTiming, Lab, ModelInfo, QuantRow, Request};
use crate::bridge::page::{Bridge, Incoming};
use crate::bridge::{JobId, Notice};
use crate::format;
use crate::js;
use crate::ui::dom::Row;
use crate::ui::history::{self, Step};
use crate::ui::{self, LabEntry, append, by_id, on, set_data, table, text_el};

struct Page {
    exp: ModelExperiment,
    models: Option<Vec<ModelInfo>>,
    bridge: Bridge<Lab>,
    catalog_job: Option<JobId>,
    job: Option<(JobId, ModelRun)>,
    started_ms: f64,
    /// What the results on screen were made with.
    shown: Option<ModelExperiment>,
    quant_rows: Vec<QuantRow>,
    checks: Vec<CheckRow>,
    timings: Vec<KernelTiming>,
}

thread_local! {
    static PAGE: RefCell<Option<Page>> = const { RefCell::new(None) };
}

fn with_page<R>(f: impl FnOnce(&mut Page) -> R) -> Option<R> {
    ui::with_state(&PAGE, f)
}

pub fn entry() -> LabEntry {
    LabEntry {
        id: "model",
        title: "Model lab",
        mount,
        apply: |e| {
            if let Experiment::Model(e) = e {
                with_page(|p| p.apply(e));
            }
        },
        current: || Experiment::Model(with_page(|p| p.exp.clone()).unwrap_or_default()),
        visible: |_| {},
    }
}

fn mount(root: &HtmlElement) {
    // Our own static markup, compiled in.
    root.set_inner_html(include_str!("page.html"));
    let mut bridge = Bridge::new(|generation, incoming| {
        with_page(|p| p.on_incoming(generation, incoming));
    });
    let catalog_job = bridge.submit(Request::Catalog);
    let page = Page {
        exp: ModelExperiment::default(),
        models: None,
        bridge,
        catalog_job: Some(catalog_job),
        job: None,
        started_ms: js::now_ms(),
        shown: None,
        quant_rows: Vec::new(),
        checks: Vec::new(),
        timings: Vec::new(),
    };
    PAGE.with(|p| *p.borrow_mut() = Some(page));
    wire();
    if let Some(slot) = by_id::<HtmlElement>("lab-export") {
        let bar = ui::export::bar("lab", Some("Plot (PNG)"), |kind| {
            with_page(|p| p.export(kind));
        });
        append(&slot, &[&bar]);
    }
    with_page(|p| p.render_controls());
}

fn input_u32(id: &str, default: u32) -> u32 {
    by_id::<HtmlInputElement>(id).and_then(|i| i.value().trim().parse().ok()).unwrap_or(default)
}

fn set_status(text: &str, state: &str) {
    if let Some(s) = by_id::<HtmlElement>("lab-status") {
        s.set_text_content(Some(text));
        set_data(&s, "state", state);
    }
}

fn set_running(running: bool) {
    // The kernel buttons stay off in a browser without WebGPU.
    ui::set_running(&["lab-run", "kcheck-run", "kbench-run"], "lab-cancel", "lab-progress", running, |id| id != "lab-run" && !ui::has_webgpu());
}

fn wire() {
    if !ui::has_webgpu() {
        if let Some(select) = by_id::<HtmlSelectElement>("lab-backend") {
            if let Some(opt) = select.query_selector("option[value=webgpu]").ok().flatten() {
                let _ = opt.set_attribute("disabled", "");
                opt.set_text_content(Some("our WGSL kernels — this browser has no WebGPU"));
            }
        }
        for id in ["kcheck-run", "kbench-run"] {
            if let Some(b) = by_id::<HtmlButtonElement>(id) {
                b.set_disabled(true);
                b.set_title("This browser has no WebGPU.");
            }
        }
        if let Some(p) = by_id::<HtmlElement>("lab-adapter") {
            p.set_text_content(Some("This browser has no WebGPU: the kernels cannot run here (the CPU reference still can)."));
        }
    }
    for (id, run) in [("lab-run", ModelRun::Eval), ("kcheck-run", ModelRun::Check), ("kbench-run", ModelRun::Bench)] {
        if let Some(b) = by_id::<HtmlButtonElement>(id) {
            on::<Event>(&b, "click", move |_| {
                with_page(|p| p.run(run));
            });
        }
    }
    if let Some(b) = by_id::<HtmlButtonElement>("lab-cancel") {
        on::<Event>(&b, "click", |_| {
            with_page(|p| p.stop("cancelled"));
        });
    }
    for (id, ev, step) in [
        ("lab-model", "change", Step::Push),
        ("lab-backend", "change", Step::Push),
        ("lab-search", "change", Step::Push),
        ("lab-items", "input", Step::Gesture),
        ("kbench-sizes", "input", Step::Gesture),
        ("kbench-batch", "input", Step::Gesture),
        ("kbench-repeats", "input", Step::Gesture),
        ("kbench-baseline", "change", Step::Push),
    ] {
        if let Some(e) = by_id::<web_sys::EventTarget>(id) {
            on::<Event>(&e, ev, move |_| {
                with_page(|p| p.read_controls(step));
            });
        }
    }
}

impl Page {
    /// The formats table's export (`mpqlab quant`'s rows) as CSV or JSON, or its plot as PNG.
    fn export(&self, kind: &str) {
        if self.quant_rows.is_empty() {
            ui::show_error("Export: evaluate the formats first.");
            return;
        }
        let stem = format!("mpqlab-model-{}-{}", self.exp.model, self.quant_rows.len());
        let rows: Vec<String> = self.quant_rows.iter().map(|r| serde_json::to_string(r).unwrap_or_else(|_| "{}".into())).collect();
        match kind {
            "csv" => ui::export::download_csv(&stem, &rows),
            "json" => {
                let result = format!("{{\"lab\":\"model\",\"model\":{},\"rows\":[{}]}}", ui::export::quoted(&self.exp.model), rows.join(","));
                ui::export::download_json("formats", &stem, &result);
            }
            _ => match by_id::<HtmlElement>("lab-plot").and_then(|p| p.query_selector("svg").ok().flatten()) {
                Some(svg) => ui::export::download_svg_as_png(&svg.outer_html(), &format!("{stem}.png")),
                None => ui::show_error("Export: there is no plot yet."),
            },
        }
    }

    fn commit(&self, step: Step) {
        history::commit(&Experiment::Model(self.exp.clone()), step);
    }

    /// Shows `exp`; something it says was run is run again unless its results are here.
    fn apply(&mut self, exp: ModelExperiment) {
        self.exp = exp;
        self.render_controls();
        if let Some(run) = self.exp.run {
            let running_same = self.job.as_ref().is_some_and(|(_, r)| *r == run);
            if !running_same && self.shown.as_ref() != Some(&self.exp) {
                self.start(run);
            }
        }
    }

    fn render_controls(&self) {
        if let Some(select) = by_id::<HtmlSelectElement>("lab-model") {
            if select.length() == 0 || self.models.is_some() && select.length() as usize != self.models.as_ref().map_or(0, Vec::len) {
                select.set_text_content(None);
                match &self.models {
                    Some(models) => {
                        for m in models {
                            let opt = text_el("option", "", &format!("{} — {}", m.name, m.dataset_name));
                            let _ = opt.set_attribute("value", &m.id);
                            append(&select, &[&opt]);
                        }
                    }
                    None => {
                        let opt = text_el("option", "", &self.exp.model);
                        let _ = opt.set_attribute("value", &self.exp.model);
                        append(&select, &[&opt]);
                    }
                }
            }
            select.set_value(&self.exp.model);
        }
        if let Some(s) = by_id::<HtmlSelectElement>("lab-backend") {
            let backend = if ui::has_webgpu() { self.exp.backend } else { KernelBackend::Cpu };
            s.set_value(backend.id());
        }
        if let Some(c) = by_id::<HtmlInputElement>("lab-search") {
            c.set_checked(self.exp.search);
        }
        if let Some(c) = by_id::<HtmlInputElement>("kbench-baseline") {
            c.set_checked(self.exp.baseline);
        }
        ui::target::field_in("lab-target", "lab-target", &ui::target::MODEL_UNITS, self.exp.target, |t| {
            with_page(|p| {
                p.exp.target = t;
                p.exp.run = None;
                p.commit(Step::Push);
            });
        });
        for (id, v) in [("lab-items", self.exp.items.to_string()), ("kbench-sizes", self.exp.sizes.clone()), ("kbench-batch", self.exp.batch.to_string()), ("kbench-repeats", self.exp.repeats.to_string())] {
            if let Some(i) = by_id::<HtmlInputElement>(id) {
                if i.value() != v {
                    i.set_value(&v);
                }
            }
        }
    }

    /// The controls changed: the experiment follows (nothing runs until a button is pressed).
    fn read_controls(&mut self, step: Step) {
        let mut e = self.exp.clone();
        if let Some(s) = by_id::<HtmlSelectElement>("lab-model") {
            e.model = s.value();
        }
        if let Some(b) = by_id::<HtmlSelectElement>("lab-backend").and_then(|s| KernelBackend::parse(&s.value())) {
            e.backend = b;
        }
        e.search = by_id::<HtmlInputElement>("lab-search").is_some_and(|c| c.checked());
        e.items = input_u32("lab-items", 1000).clamp(1, 1000);
        e.sizes = by_id::<HtmlInputElement>("kbench-sizes").map(|i| i.value()).unwrap_or_default().chars().take(64).collect();
        e.batch = input_u32("kbench-batch", 1).clamp(1, 256);
        e.repeats = input_u32("kbench-repeats", 5).clamp(1, 100);
        e.baseline = by_id::<HtmlInputElement>("kbench-baseline").is_some_and(|c| c.checked());
        e.run = None;
        let e = match Experiment::Model(e).normalized() {
            Experiment::Model(e) => e,
            _ => return,
        };
        if e != self.exp {
            self.exp = e;
            self.commit(step);
        }
    }

    fn run(&mut self, run: ModelRun) {
        if self.job.is_some() {
            return;
        }
        self.read_controls(Step::Push);
        self.exp.run = Some(run);
        self.commit(Step::Push);
        self.start(run);
    }

    fn start(&mut self, run: ModelRun) {
        if let Some((id, _)) = self.job.take() {
            self.bridge.cancel(id);
        }
        let e = &self.exp;
        let request = match run {
            ModelRun::Eval => {
                self.quant_rows.clear();
                render_quant(&self.quant_rows);
                if let Some(p) = by_id::<HtmlElement>("lab-plot") {
                    p.set_text_content(None);
                }
                let on_gpu = e.backend == KernelBackend::WebGpu && ui::has_webgpu();
                if let Some(line) = by_id::<HtmlElement>("lab-target-result") {
                    ui::target::show_result(&line, None);
                }
                Request::Evaluate { model: e.model.clone(), on_gpu, items: e.items, search: e.search, target: e.target }
            }
            ModelRun::Check => {
                self.checks.clear();
                render_checks(&self.checks);
                Request::CheckKernels
            }
            ModelRun::Bench => {
                self.timings.clear();
                render_timings(&self.timings);
                if let Some(p) = by_id::<HtmlElement>("kbench-info") {
                    p.set_text_content(Some(""));
                }
                Request::BenchKernels { sizes: e.sizes.clone(), batch: e.batch, repeats: e.repeats, baseline: e.baseline }
            }
        };
        self.shown = Some(self.exp.clone());
        let id = self.bridge.submit(request);
        self.job = Some((id, run));
        self.started_ms = js::now_ms();
        set_running(true);
        set_status("starting…", "running");
    }

    fn stop(&mut self, why: &str) {
        let Some((id, _)) = self.job.take() else { return };
        self.bridge.cancel(id);
        self.shown = None;
        set_running(false);
        set_status(&format!("Stopped ({why})."), "stopped");
        self.exp.run = None;
        self.commit(Step::Replace);
    }

    fn finish(&mut self, text: &str) {
        self.job = None;
        set_running(false);
        set_status(text, "done");
    }

    fn on_incoming(&mut self, generation: u32, incoming: Incoming) {
        for notice in self.bridge.handle(generation, incoming) {
            self.on_notice(notice);
        }
    }

    fn on_notice(&mut self, notice: Notice<LabEvent>) {
        if self.catalog_job == Some(notice.job()) {
            match notice {
                Notice::Event { event, .. } => self.on_event(event),
                Notice::Failed { message, .. } => {
                    self.catalog_job = None;
                    ui::show_error(&format!("The model lab cannot start: {message}"));
                }
                Notice::Done { .. } => {
                    self.catalog_job = None;
                    self.render_controls();
                }
                Notice::Progress { .. } => {}
            }
            return;
        }
        let Some((id, run)) = self.job else { return };
        if notice.job() != id {
            return;
        }
        let elapsed = (js::now_ms() - self.started_ms) / 1000.0;
        match notice {
            Notice::Progress { stage, done, total, .. } => {
                if let Some(p) = by_id::<HtmlProgressElement>("lab-progress") {
                    p.set_value(if total > 0.0 { done / total } else { 0.0 });
                }
                set_status(&format!("{stage} — {done:.0} of {total:.0} ({elapsed:.0} s)"), "running");
            }
            Notice::Event { event, .. } => self.on_event(event),
            Notice::Done { .. } => {
                let text = match run {
                    ModelRun::Eval => {
                        let on = self.quant_rows.first().map_or(String::new(), |r| r.backend.clone());
                        format!("Evaluated {} formats in {elapsed:.1} s ({on}).", self.quant_rows.len())
                    }
                    ModelRun::Check => {
                        let failed = self.checks.iter().filter(|c| !c.passed).count();
                        if failed == 0 {
                            format!("All {} kernel runs equal their CPU reference ({elapsed:.1} s).", self.checks.len())
                        } else {
                            format!("{failed} of {} kernel runs differ from their CPU reference.", self.checks.len())
                        }
                    }
                    ModelRun::Bench => {
                        if let Some(t) = by_id::<HtmlElement>("kbench-table") {
                            set_data(&t, "json", &serde_json::to_string(&self.timings).unwrap_or_default());
                        }
                        format!("Timed {} kernels in {elapsed:.1} s.", self.timings.len())
                    }
                };
                self.finish(&text);
            }
            Notice::Failed { message, .. } => {
                self.job = None;
                ui::show_error(&format!("Model lab: {message}"));
                set_running(false);
                set_status(&format!("Stopped ({message})."), "stopped");
                self.shown = None;
                self.exp.run = None;
                self.commit(Step::Replace);
            }
        }
    }

    fn on_event(&mut self, event: LabEvent) {
        match event {
            LabEvent::Catalog { models } => {
                if !models.iter().any(|m| m.id == self.exp.model) {
                    ui::show_error(&format!("Part of this link cannot be shown: there is no model '{}'; the default is used instead.", self.exp.model));
                    self.exp.model = ModelExperiment::default().model;
                    self.commit(Step::Replace);
                }
                self.models = Some(models);
            }
            LabEvent::Adapter(a) => show_adapter(&a),
            LabEvent::QuantRow(r) => {
                if let (Some(report), Some(line)) = (&r.target, by_id::<HtmlElement>("lab-target-result")) {
                    ui::target::show_result(&line, Some(report));
                }
                self.quant_rows.push(r);
                render_quant(&self.quant_rows);
            }
            LabEvent::QuantDone { svg, .. } => {
                if let Some(p) = by_id::<HtmlElement>("lab-plot") {
                    // Our own SVG (mpq_models::quantized::plot_svg), numbers and our labels only.
                    p.set_inner_html(&svg);
                }
            }
            LabEvent::CheckRow(r) => {
                self.checks.push(r);
                render_checks(&self.checks);
            }
            LabEvent::CheckDone { total, failed } => {
                if let Some(t) = by_id::<HtmlElement>("kcheck-table") {
                    set_data(&t, "total", &total.to_string());
                    set_data(&t, "failed", &failed.to_string());
                }
            }
            LabEvent::BenchInfo(i) => show_bench_info(&i),
            LabEvent::BenchRow(r) => {
                self.timings.push(r);
                render_timings(&self.timings);
            }
            LabEvent::BenchSkipped(s) => {
                if let Some(p) = by_id::<HtmlElement>("kbench-info") {
                    let before = p.text_content().unwrap_or_default();
                    p.set_text_content(Some(&format!("{before} Not run: {s}.")));
                }
            }
        }
    }
}

fn show_adapter(a: &AdapterInfo) {
    let mut line = format!("Adapter: {} ({}, {}", a.name, a.device_type, a.backend);
    if !a.driver.is_empty() {
        line.push_str(&format!(", {}", a.driver));
    }
    line.push(')');
    if let Some(p) = by_id::<HtmlElement>("lab-adapter") {
        p.set_text_content(Some(&line));
        set_data(&p, "name", &a.name);
    }
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn render_quant(rows: &[QuantRow]) {
    let Some(t) = by_id::<HtmlElement>("lab-table") else { return };
    let rows: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            cells: vec![
                r.variant.clone(),
                r.backend.clone(),
                format!("{:.2}", r.bits_per_weight),
                format::bytes(r.weight_bytes),
                format!("{:.3}", r.bytes_vs_f16),
                pct(r.accuracy),
                pct(r.top1_agreement),
                format!("{:.4}", r.mean_kl),
                format!("{:.4}", r.weight_rel_rmse),
            ],
            data: vec![
                ("variant", r.variant.clone()),
                ("bits", r.bits_per_weight.to_string()),
                ("accuracy", r.accuracy.to_string()),
                ("agreement", r.top1_agreement.to_string()),
                ("reference", r.reference_accuracy.to_string()),
                // The target's mix: its formats (the line above the table says them in words).
                ("formats", r.target.as_ref().and_then(|t| t.value.as_ref()).map(|v| v.to_string()).unwrap_or_default()),
            ],
            note: None,
        })
        .collect();
    table(
        &t,
        &["Weights", "Run on", "Bits per weight", "Weight bytes", "vs f16", "Accuracy", "Agreement with f32", "Mean KL", "Weight error (rel. RMS)"],
        &rows,
    );
}

/// One line per format and scale rule: how many shapes ran, how many passed, the worst error.
fn render_checks(rows: &[CheckRow]) {
    let Some(t) = by_id::<HtmlElement>("kcheck-table") else { return };
    if rows.is_empty() {
        let _ = t.unchecked_ref::<web_sys::Element>().remove_attribute("data-total");
    }
    // (format, inputs, scale, runs, passed, largest error, largest share)
    let mut groups: Vec<(String, String, String, usize, usize, f64, f64)> = Vec::new();
    for r in rows {
        let i = match groups.iter().position(|g| g.0 == r.format && g.1 == r.inputs && g.2 == r.scale) {
            Some(i) => i,
            None => {
                groups.push((r.format.clone(), r.inputs.clone(), r.scale.clone(), 0, 0, 0.0, 0.0));
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        g.3 += 1;
        g.4 += usize::from(r.passed);
        g.5 = g.5.max(r.max_abs_error);
        g.6 = g.6.max(r.share_of_tolerance);
    }
    let rows: Vec<Row> = groups
        .iter()
        .map(|(f, x, s, n, ok, err, share)| Row {
            cells: vec![
                f.clone(),
                inputs_label(x),
                s.clone(),
                n.to_string(),
                format!("{}{ok} of {n}", if ok == n { "✓ " } else { "✗ " }),
                format!("{err:.2e}"),
                format!("{share:.3}"),
            ],
            data: vec![("format", f.clone()), ("inputs", x.clone()), ("scale", s.clone()), ("runs", n.to_string()), ("passed", ok.to_string())],
            note: None,
        })
        .collect();
    table(&t, &["Format", "Inputs", "Scales", "Shapes run", "Equal to CPU", "Largest error", "Share of tolerance"], &rows);
}

/// How the tables name the kernels' inputs.
fn inputs_label(inputs: &str) -> String {
    match inputs {
        "int8" => "int8 (dot4I8Packed)".into(),
        other => other.into(),
    }
}

fn show_bench_info(i: &BenchInfo) {
    let Some(p) = by_id::<HtmlElement>("kbench-info") else { return };
    let peak = i.peak_gbps.map_or("its peak bandwidth is not in our table".to_string(), |g| format!("peak {g:.0} GB/s"));
    let reduction = if i.subgroups {
        "subgroup reductions"
    } else {
        "workgroup-memory reductions (no subgroups: wgpu 30's WebGPU backend does not pass the browser's subgroups through)"
    };
    let packed = match i.packed_dot.as_deref() {
        Some("browser") => {
            "packed dot products (dot4I8Packed) used in the int8-input rows (this browser's WGSL has them; whether the GPU runs them as one instruction is the browser's choice)".to_string()
        }
        Some(other) => format!("packed dot products (dot4I8Packed) used in the int8-input rows ({other})"),
        None => "packed dot products (dot4I8Packed) not used: this browser's WGSL lacks packed_4x8_integer_dot_product".into(),
    };
    p.set_text_content(Some(&format!(
        "{}: streaming-read ceiling {:.2} GB/s on {} MiB, {peak}; timed with {}; {reduction}; {packed}.",
        i.adapter,
        i.ceiling_gbps,
        i.ceiling_bytes >> 20,
        i.clock
    )));
    set_data(&p, "ceiling", &i.ceiling_gbps.to_string());
    set_data(&p, "clock", &i.clock);
    set_data(&p, "subgroups", if i.subgroups { "1" } else { "0" });
    set_data(&p, "packed-dot", i.packed_dot.as_deref().unwrap_or("none"));
}

fn render_timings(rows: &[KernelTiming]) {
    let Some(t) = by_id::<HtmlElement>("kbench-table") else { return };
    let ratio = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}×"));
    let out: Vec<Row> = rows
        .iter()
        .map(|r| {
            let size = format!("{}×{}{}", r.rows, r.cols, if r.batch > 1 { format!(" · batch {}", r.batch) } else { String::new() });
            let peak = r.share_of_peak.map_or("–".to_string(), |s| format!("{:.1} %", 100.0 * s));
            Row {
                cells: vec![
                    size,
                    r.format.clone(),
                    r.kernels.clone(),
                    inputs_label(&r.inputs),
                    format!("{:.3} ms", r.ms),
                    format!("{:.2}", r.weight_gbps),
                    format!("{:.1} %", 100.0 * r.share_of_ceiling),
                    peak,
                    ratio(r.vs_f32),
                    ratio(r.vs_v1),
                    ratio(r.vs_f32_inputs),
                ],
                data: vec![
                    ("format", r.format.clone()),
                    ("kernels", r.kernels.clone()),
                    ("inputs", r.inputs.clone()),
                    ("size", r.rows.to_string()),
                    ("ms", r.ms.to_string()),
                ],
                note: None,
            }
        })
        .collect();
    table(
        &t,
        &["Size", "Weights", "Kernels", "Inputs", "Time", "Weight GB/s", "Of ceiling", "Of peak", "Speed vs f32", "vs v1", "vs f32 inputs"],
        &out,
    );
}
