//! The page's model lab: accuracy against bits per weight for each bundled model (table and
//! plot), our kernels checked against their CPU references on this browser's GPU, and the
//! kernels timed there with the adapter's name. It has its own worker ([`JobWorker`]) so the
//! image lab stays responsive; one job at a time, cancellable.

use std::cell::RefCell;

use mpq_models::ModelId;
use serde_json::Value;
use wasm_bindgen::JsValue;
use web_sys::{Event, HtmlButtonElement, HtmlElement, HtmlInputElement, HtmlProgressElement, HtmlSelectElement};

use super::dom::{append, by_id, on, text_el};
use super::pool::JobWorker;
use super::machine::{esc, has_webgpu};
use super::show_error;
use crate::js::{self, obj};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Job {
    Evaluate,
    Check,
    Bench,
}

#[derive(Default)]
struct Lab {
    /// Spawned for the first job; dropped after a cancel or a failure, so the next job gets
    /// a fresh one.
    worker: Option<JobWorker>,
    job: f64,
    running: Option<Job>,
    started_ms: f64,
    quant_rows: Vec<Value>,
    checks: Vec<Value>,
    timings: Vec<Value>,
}

thread_local! {
    static LAB: RefCell<Lab> = RefCell::new(Lab::default());
}

fn with_lab<R>(f: impl FnOnce(&mut Lab) -> R) -> Option<R> {
    LAB.with(|l| match l.try_borrow_mut() {
        Ok(mut lab) => Some(f(&mut lab)),
        Err(_) => None,
    })
}

fn input_u32(id: &str, default: u32) -> u32 {
    by_id::<HtmlInputElement>(id).and_then(|i| i.value().trim().parse().ok()).unwrap_or(default)
}

fn set_status(text: &str, state: &str) {
    if let Some(s) = by_id::<HtmlElement>("lab-status") {
        s.set_text_content(Some(text));
        let _ = s.set_attribute("data-state", state);
    }
}

fn set_running(running: bool) {
    for id in ["lab-run", "kcheck-run", "kbench-run"] {
        if let Some(b) = by_id::<HtmlButtonElement>(id) {
            b.set_disabled(running);
        }
    }
    if let Some(b) = by_id::<HtmlButtonElement>("lab-cancel") {
        b.set_hidden(!running);
    }
    if let Some(p) = by_id::<HtmlProgressElement>("lab-progress") {
        p.set_hidden(!running);
        p.set_value(0.0);
    }
}

pub fn wire() {
    if let Some(select) = by_id::<HtmlSelectElement>("lab-model") {
        for m in ModelId::ALL {
            let opt = text_el("option", "", &format!("{} — {}", m.name(), m.task().name()));
            let _ = opt.set_attribute("value", m.id());
            append(&select, &[&opt]);
        }
    }
    if !has_webgpu() {
        if let Some(select) = by_id::<HtmlSelectElement>("lab-backend") {
            select.set_value("cpu");
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
    let button = |id: &str, job: Job| {
        if let Some(b) = by_id::<HtmlButtonElement>(id) {
            on::<Event>(&b, "click", move |_| {
                with_lab(|lab| lab.start(job));
            });
        }
    };
    button("lab-run", Job::Evaluate);
    button("kcheck-run", Job::Check);
    button("kbench-run", Job::Bench);
    if let Some(b) = by_id::<HtmlButtonElement>("lab-cancel") {
        on::<Event>(&b, "click", |_| {
            with_lab(|lab| lab.stop("cancelled"));
        });
    }
}

impl Lab {
    fn request(&self, job: Job) -> js_sys::Object {
        let id = self.job;
        match job {
            Job::Evaluate => {
                let model = by_id::<HtmlSelectElement>("lab-model").map(|s| s.value()).unwrap_or_default();
                let backend = by_id::<HtmlSelectElement>("lab-backend").map(|s| s.value()).unwrap_or_default();
                let search = by_id::<HtmlInputElement>("lab-search").is_some_and(|c| c.checked());
                obj(&[
                    ("kind", "quant-eval".into()),
                    ("job", id.into()),
                    ("model", model.as_str().into()),
                    ("backend", backend.as_str().into()),
                    ("items", input_u32("lab-items", 1000).clamp(1, 1000).into()),
                    ("search", search.into()),
                ])
            }
            Job::Check => obj(&[("kind", "kernel-check".into()), ("job", id.into())]),
            Job::Bench => {
                let sizes = by_id::<HtmlInputElement>("kbench-sizes").map(|i| i.value()).unwrap_or_default();
                obj(&[
                    ("kind", "kernel-bench".into()),
                    ("job", id.into()),
                    ("sizes", sizes.as_str().into()),
                    ("batch", input_u32("kbench-batch", 1).clamp(1, 256).into()),
                    ("repeats", input_u32("kbench-repeats", 5).clamp(1, 100).into()),
                    ("formats", "".into()),
                ])
            }
        }
    }

    fn start(&mut self, job: Job) {
        if self.running.is_some() {
            return;
        }
        if self.worker.is_none() {
            match JobWorker::spawn(
                |data| {
                    with_lab(|lab| lab.on_message(&data));
                },
                |msg| {
                    with_lab(|lab| lab.fail(&format!("the model-lab worker stopped: {msg}")));
                },
            ) {
                Ok(w) => self.worker = Some(w),
                Err(e) => {
                    show_error(&format!("Model lab: cannot start a worker: {}", js::error_text(&e)));
                    return;
                }
            }
        }
        self.job += 1.0;
        match job {
            Job::Evaluate => {
                self.quant_rows.clear();
                render_quant(&self.quant_rows);
                if let Some(p) = by_id::<HtmlElement>("lab-plot") {
                    p.set_inner_html("");
                }
            }
            Job::Check => {
                self.checks.clear();
                render_checks(&self.checks);
            }
            Job::Bench => {
                self.timings.clear();
                render_timings(&self.timings);
            }
        }
        let msg = self.request(job);
        let posted = self.worker.as_ref().map(|w| w.post(&msg));
        if let Some(Err(e)) = posted {
            show_error(&format!("Model lab: cannot reach its worker: {}", js::error_text(&e)));
            return;
        }
        self.running = Some(job);
        self.started_ms = js::now_ms();
        set_running(true);
        set_status("starting…", "running");
    }

    fn stop(&mut self, why: &str) {
        if self.running.take().is_none() {
            return;
        }
        self.worker = None;
        set_running(false);
        set_status(&format!("Stopped ({why})."), "stopped");
    }

    fn fail(&mut self, message: &str) {
        if self.running.is_none() {
            return;
        }
        show_error(&format!("Model lab: {message}"));
        // The worker reported the error itself and is still usable unless it crashed; a fresh
        // one costs little, so always replace it.
        self.stop(message);
    }

    fn finish(&mut self, text: &str) {
        self.running = None;
        set_running(false);
        set_status(text, "done");
    }

    fn on_message(&mut self, data: &JsValue) {
        if self.running.is_none() || js::get_f64(data, "job") != self.job {
            return;
        }
        let row = || serde_json::from_str::<Value>(&js::get_str(data, "row")).ok();
        let elapsed = (js::now_ms() - self.started_ms) / 1000.0;
        match js::get_str(data, "kind").as_str() {
            "progress" => {
                let (done, total) = (js::get_f64(data, "done"), js::get_f64(data, "total"));
                if let Some(p) = by_id::<HtmlProgressElement>("lab-progress") {
                    p.set_value(if total > 0.0 { done / total } else { 0.0 });
                }
                set_status(&format!("{} — {done:.0} of {total:.0} ({elapsed:.0} s)", js::get_str(data, "stage")), "running");
            }
            "adapter" => show_adapter(&js::get_str(data, "adapter")),
            "quant-row" => {
                if let Some(r) = row() {
                    self.quant_rows.push(r);
                    render_quant(&self.quant_rows);
                }
            }
            "quant-done" => {
                if let Some(p) = by_id::<HtmlElement>("lab-plot") {
                    p.set_inner_html(&js::get_str(data, "svg"));
                }
                let adapter = js::get_str(data, "adapter");
                if !adapter.is_empty() {
                    show_adapter(&adapter);
                }
                let on = self.quant_rows.first().and_then(|r| r["backend"].as_str()).unwrap_or("").to_string();
                self.finish(&format!("Evaluated {} formats in {elapsed:.1} s ({on}).", self.quant_rows.len()));
            }
            "check-row" => {
                if let Some(r) = row() {
                    self.checks.push(r);
                    render_checks(&self.checks);
                }
            }
            "check-done" => {
                let (total, failed) = (js::get_u32(data, "total"), js::get_u32(data, "failed"));
                let text = if failed == 0 {
                    format!("All {total} kernel runs equal their CPU reference ({elapsed:.1} s).")
                } else {
                    format!("{failed} of {total} kernel runs differ from their CPU reference.")
                };
                if let Some(t) = by_id::<HtmlElement>("kcheck-table") {
                    let _ = t.set_attribute("data-total", &total.to_string());
                    let _ = t.set_attribute("data-failed", &failed.to_string());
                }
                self.finish(&text);
            }
            "bench-kernel" => {
                if let Some(r) = row() {
                    self.timings.push(r);
                    render_timings(&self.timings);
                }
            }
            "bench-kernel-done" => {
                if let Some(t) = by_id::<HtmlElement>("kbench-table") {
                    let _ = t.set_attribute("data-json", &Value::Array(self.timings.clone()).to_string());
                }
                self.finish(&format!("Timed {} kernels in {elapsed:.1} s.", self.timings.len()));
            }
            "error" => self.fail(&js::get_str(data, "message")),
            _ => {}
        }
    }
}

fn show_adapter(text: &str) {
    let Ok(a) = serde_json::from_str::<Value>(text) else { return };
    let s = |k: &str| a[k].as_str().unwrap_or("").to_string();
    let name = s("name");
    let mut line = format!("Adapter: {name} ({}, {}", s("device_type"), s("backend"));
    if !s("driver").is_empty() {
        line.push_str(&format!(", {}", s("driver")));
    }
    line.push(')');
    if let Some(p) = by_id::<HtmlElement>("lab-adapter") {
        p.set_text_content(Some(&line));
        let _ = p.set_attribute("data-name", &name);
    }
}

fn pct(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |x| format!("{:.1} %", 100.0 * x))
}

fn render_quant(rows: &[Value]) {
    let Some(table) = by_id::<HtmlElement>("lab-table") else { return };
    if rows.is_empty() {
        table.set_inner_html("");
        return;
    }
    let mut html = String::from(
        "<thead><tr><th scope=col>Weights</th><th scope=col>Run on</th><th scope=col>Bits per weight</th><th scope=col>Weight bytes</th><th scope=col>vs f16</th><th scope=col>Accuracy</th><th scope=col>Agreement with f32</th><th scope=col>Mean KL</th><th scope=col>Weight error (rel. RMS)</th></tr></thead><tbody>",
    );
    for r in rows {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        html.push_str(&format!(
            "<tr data-variant=\"{}\" data-bits=\"{}\" data-accuracy=\"{}\" data-agreement=\"{}\" data-reference=\"{}\"><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td></tr>",
            esc(r["variant"].as_str().unwrap_or("")),
            f("bits_per_weight"),
            f("accuracy"),
            f("top1_agreement"),
            f("reference_accuracy"),
            esc(r["variant"].as_str().unwrap_or("")),
            esc(r["backend"].as_str().unwrap_or("")),
            f("bits_per_weight"),
            crate::format::bytes(r["weight_bytes"].as_u64().unwrap_or(0) as usize),
            f("bytes_vs_f16"),
            pct(&r["accuracy"]),
            pct(&r["top1_agreement"]),
            f("mean_kl"),
            f("weight_rel_rmse"),
        ));
    }
    html.push_str("</tbody>");
    table.set_inner_html(&html);
}

/// One line per format and scale rule: how many shapes ran, how many passed, the worst error.
fn render_checks(rows: &[Value]) {
    let Some(table) = by_id::<HtmlElement>("kcheck-table") else { return };
    if rows.is_empty() {
        table.set_inner_html("");
        let _ = table.remove_attribute("data-total");
        return;
    }
    let mut groups: Vec<(String, String, usize, usize, f64, f64)> = Vec::new();
    for r in rows {
        let (f, s) = (r["format"].as_str().unwrap_or("").to_string(), r["scale"].as_str().unwrap_or("").to_string());
        let i = match groups.iter().position(|g| g.0 == f && g.1 == s) {
            Some(i) => i,
            None => {
                groups.push((f, s, 0, 0, 0.0, 0.0));
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        g.2 += 1;
        g.3 += usize::from(r["passed"].as_bool() == Some(true));
        g.4 = g.4.max(r["max_abs_error"].as_f64().unwrap_or(f64::INFINITY));
        g.5 = g.5.max(r["share_of_tolerance"].as_f64().unwrap_or(f64::INFINITY));
    }
    let mut html = String::from(
        "<thead><tr><th scope=col>Format</th><th scope=col>Scales</th><th scope=col>Shapes run</th><th scope=col>Equal to CPU</th><th scope=col>Largest error</th><th scope=col>Share of tolerance</th></tr></thead><tbody>",
    );
    for (f, s, n, ok, err, share) in &groups {
        html.push_str(&format!(
            "<tr data-format=\"{}\" data-scale=\"{}\" data-runs=\"{n}\" data-passed=\"{ok}\"><td>{}</td><td>{}</td><td>{n}</td><td>{}{ok} of {n}</td><td>{err:.2e}</td><td>{share:.3}</td></tr>",
            esc(f),
            esc(s),
            esc(f),
            esc(s),
            if ok == n { "✓ " } else { "✗ " },
        ));
    }
    html.push_str("</tbody>");
    table.set_inner_html(&html);
}

fn render_timings(rows: &[Value]) {
    let Some(table) = by_id::<HtmlElement>("kbench-table") else { return };
    if rows.is_empty() {
        table.set_inner_html("");
        return;
    }
    let mut html = String::from(
        "<thead><tr><th scope=col>Size</th><th scope=col>Weights</th><th scope=col>Time</th><th scope=col>GFLOP/s</th><th scope=col>Weight GB/s</th><th scope=col>Speed vs f32</th></tr></thead><tbody>",
    );
    for r in rows {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        let (rows_, cols, batch) = (f("rows"), f("cols"), f("batch"));
        let f32_ms = rows
            .iter()
            .find(|o| o["format"] == "f32" && o["rows"] == r["rows"] && o["cols"] == r["cols"] && o["batch"] == r["batch"])
            .and_then(|o| o["ms"].as_f64());
        let speed = f32_ms.map_or("–".to_string(), |b| format!("{:.2}×", b / f("ms")));
        let format = r["format"].as_str().unwrap_or("");
        html.push_str(&format!(
            "<tr data-format=\"{}\" data-size=\"{rows_}\" data-ms=\"{}\"><td>{rows_}×{cols}{}</td><td>{}</td><td>{:.3} ms</td><td>{:.2}</td><td>{:.2}</td><td>{speed}</td></tr>",
            esc(format),
            f("ms"),
            if batch > 1.0 { format!(" · batch {batch}") } else { String::new() },
            esc(format),
            f("ms"),
            f("gflops"),
            f("weight_gbps"),
        ));
    }
    html.push_str("</tbody>");
    table.set_inner_html(&html);
}
