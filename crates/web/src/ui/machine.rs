//! The page's machine-perception parts: the model bar (model, backend, CPU ↔ WebGPU check),
//! the data-set gallery, each side's verdict, and the sweep panel (progress, ETA, cancel,
//! plots, table, CSV/JSON/SVG export). The work itself runs in the worker (`crate::machine`).

use mpq_metrics::sweep::{SweepPoint, SweepResult};
use mpq_models::data::decode_subset;
use mpq_models::sweep::DEFAULT_CODEC_SWEEPS;
use mpq_models::{ModelId, Task as DataTask};
use serde_json::Value;
use wasm_bindgen::{Clamped, JsCast, JsValue};
use web_sys::{
    CanvasRenderingContext2d, Event, HtmlAnchorElement, HtmlButtonElement, HtmlCanvasElement, HtmlElement,
    HtmlInputElement, HtmlProgressElement, HtmlSelectElement,
};

use super::dom::{append, by_id, el, on, text_el};
use super::pool::{self, JobWorker};
use super::{Input, select_thumb, show_error, with_app};
use crate::js::{self, obj};

/// Test items of each data set shown in the gallery.
const GALLERY_ITEMS: usize = 10;

/// Text made safe for HTML (tables and labels built as markup).
pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Does this page's browser have the WebGPU API at all (it may still offer no adapter)?
pub(super) fn has_webgpu() -> bool {
    web_sys::window().is_some_and(|w| !js::get(&w.navigator(), "gpu").is_undefined())
}

// ---------------------------------------------------------------------------------------------
// Model bar.

pub fn wire() {
    if let Some(select) = by_id::<HtmlSelectElement>("model") {
        for m in ModelId::ALL {
            let opt = text_el("option", "", &format!("{} — {}", m.name(), m.task().name()));
            let _ = opt.set_attribute("value", m.id());
            append(&select, &[&opt]);
        }
        on::<Event>(&select, "change", |e| {
            let id = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
            with_app(|app| app.set_model(&id, None));
        });
    }
    if let Some(select) = by_id::<HtmlSelectElement>("backend") {
        if !has_webgpu() {
            if let Some(opt) = select.query_selector("option[value=webgpu]").ok().flatten() {
                let _ = opt.set_attribute("disabled", "");
                opt.set_text_content(Some("WebGPU — not available in this browser"));
            }
        }
        on::<Event>(&select, "change", |e| {
            let id = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
            with_app(|app| app.set_model(&app.model.clone(), Some(&id)));
        });
    }
    if let Some(b) = by_id::<HtmlButtonElement>("agreement-run") {
        if !has_webgpu() {
            b.set_disabled(true);
            b.set_title("This browser has no WebGPU.");
        }
        on::<Event>(&b, "click", |_| {
            with_app(|app| {
                app.agreement_wanted = true;
                agreement_progress("waiting for the worker");
                app.pump();
            });
        });
    }
    wire_sweep();
}

impl super::App {
    /// Switches the judging model and/or backend and judges both sides again.
    pub(super) fn set_model(&mut self, model: &str, backend: Option<&str>) {
        self.model = model.to_string();
        if let Some(b) = backend {
            self.backend = b.to_string();
        }
        if let Some(s) = by_id::<HtmlSelectElement>("model") {
            s.set_value(&self.model);
        }
        if let Some(s) = by_id::<HtmlSelectElement>("backend") {
            s.set_value(&self.backend);
        }
        for i in 0..self.sides.len() {
            self.request_encode(i);
        }
    }
}

pub fn agreement_progress(stage: &str) {
    if let Some(s) = by_id::<HtmlElement>("agreement-status") {
        s.set_text_content(Some(&format!("{stage}…")));
        let _ = s.set_attribute("data-state", "running");
    }
}

pub fn agreement_failed(message: &str) {
    if let Some(s) = by_id::<HtmlElement>("agreement-status") {
        s.set_text_content(Some(&format!("⚠ {message}")));
        let _ = s.set_attribute("data-state", "error");
    }
}

pub fn agreement_done(data: &JsValue) {
    let Ok(r) = serde_json::from_str::<Value>(&js::get_str(data, "report")) else { return };
    if let Some(s) = by_id::<HtmlElement>("agreement-status") {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        s.set_text_content(Some(&format!(
            "{} items: same top-1 class for {:.1} %, largest probability difference {:.2e}, feature distance ≤ {:.1e}; {:.2} ms per item on the CPU, {:.2} ms on WebGPU.",
            r["items"],
            100.0 * f("top1_agreement"),
            f("max_abs_prob_diff"),
            f("max_feature_distance"),
            f("cpu_ms_per_item"),
            f("webgpu_ms_per_item"),
        )));
        let _ = s.set_attribute("data-state", "done");
        let _ = s.set_attribute("data-report", &r.to_string());
    }
}

// ---------------------------------------------------------------------------------------------
// Data-set gallery.

pub async fn load_dataset_gallery() {
    let Some(gallery) = by_id::<HtmlElement>("dataset-gallery") else { return };
    for task in DataTask::ALL {
        let url = format!("datasets/{}", task.subset_file());
        let set = match js::fetch_bytes(&url).await.map_err(|e| e.to_string()).and_then(|b| decode_subset(&b).map_err(|e| e.to_string())) {
            Ok(s) => s,
            Err(e) => {
                show_error(&format!("Cannot load the {} test items: {e}", task.name()));
                continue;
            }
        };
        let row = el("div", "dataset-row", &[("role", "group"), ("aria-label", task.name())]);
        append(&row, &[&text_el("span", "dataset-name", task.name())]);
        // The first items of each class in turn (the cats-vs-dogs subset lists all cats first).
        let per_class = (GALLERY_ITEMS / task.classes().len()).max(1);
        let mut shown = vec![0usize; task.classes().len()];
        let picks: Vec<usize> = (0..set.len())
            .filter(|&i| {
                let c = set.labels[i] as usize;
                let keep = shown.get(c).is_some_and(|&n| n < per_class);
                if keep {
                    shown[c] += 1;
                }
                keep
            })
            .take(GALLERY_ITEMS)
            .collect();
        for index in picks {
            let class = task.classes()[set.labels[index] as usize];
            let button = el(
                "button",
                "thumb item",
                &[
                    ("data-testid", &format!("item-{}-{index}", task.id())),
                    ("title", &format!("{} test item {index}: {class}", task.name())),
                    ("aria-label", &format!("{} test item {index}, a {class}", task.name())),
                    ("aria-pressed", "false"),
                ],
            );
            let canvas: HtmlCanvasElement = el("canvas", "", &[]).unchecked_into();
            canvas.set_width(set.cols as u32);
            canvas.set_height(set.rows as u32);
            let rgba: Vec<u8> = set
                .image(index)
                .chunks(set.channels)
                .flat_map(|p| if p.len() == 1 { [p[0], p[0], p[0], 255] } else { [p[0], p[1], p[2], 255] })
                .collect();
            if let Some(ctx) = canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
            {
                if let Ok(img) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), set.cols as u32, set.rows as u32) {
                    let _ = ctx.put_image_data(&img, 0.0, 0.0);
                }
            }
            append(&button, &[&canvas, &text_el("span", "", class)]);
            let name = format!("{} test item {index}", task.name());
            on::<Event>(&button, "click", move |e| {
                select_thumb(e.current_target());
                let name = name.clone();
                with_app(|app| {
                    // A test item is judged by a model of its own task.
                    if ModelId::parse(&app.model).map(|m| m.task()) != Some(task) {
                        if let Some(m) = ModelId::ALL.iter().find(|m| m.task() == task) {
                            app.model = m.id().to_string();
                            if let Some(s) = by_id::<HtmlSelectElement>("model") {
                                s.set_value(&app.model);
                            }
                        }
                    }
                    app.request_load(Input::Item { task: task.id().to_string(), index: index as u32, name });
                });
            });
            append(&row, &[&button]);
        }
        append(&gallery, &[&row]);
    }
}

// ---------------------------------------------------------------------------------------------
// Each side's verdict.

pub fn render_perception(root: &HtmlElement, side: usize, data: &JsValue) {
    root.set_inner_html("");
    if let Some(err) = js::get(data, "perception_error").as_string() {
        append(root, &[&text_el("p", "perception-error", &format!("Model: {err}"))]);
        return;
    }
    let Ok(p) = serde_json::from_str::<Value>(&js::get_str(data, "perception")) else { return };
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let backend = if p["backend"] == "webgpu" { "WebGPU" } else { "CPU" };
    let timing = format!("{} on {backend}: {:.1} ms", p["model_name"].as_str().unwrap_or(""), f(&p["infer_ms"]));
    let mut html = String::new();
    if p["kind"] == "classes" {
        let v = &p["verdict"];
        let changed = v["top1_agree"] == false;
        let (class, reference) = (p["class"].as_str().unwrap_or(""), p["reference_class"].as_str().unwrap_or(""));
        html.push_str(&format!(
            "<p class=\"flag {}\" data-testid=\"flag-{side}\" data-changed=\"{changed}\">{}</p>",
            if changed { "changed" } else { "same" },
            if changed {
                format!("⚠ The model's answer changed: <b>{}</b> (original: {})", esc(class), esc(reference))
            } else {
                format!("✓ Same answer as for the original: <b>{}</b>", esc(class))
            }
        ));
        html.push_str(&format!(
            "<ol class=\"bars\" aria-label=\"The model's top classes for this side\" data-testid=\"bars-{side}\">"
        ));
        for t in p["top"].as_array().into_iter().flatten() {
            let prob = f(&t["p"]);
            let name = t["class"].as_str().unwrap_or("");
            html.push_str(&format!(
                "<li data-class=\"{}\" data-p=\"{prob}\"><span class=\"bar-label\">{}</span><span class=\"bar\"><span style=\"width:{:.1}%\"></span></span><span class=\"bar-value\">{:.1} %</span></li>",
                esc(name),
                esc(name),
                100.0 * prob,
                100.0 * prob
            ));
        }
        html.push_str("</ol><dl class=\"metrics perception-metrics\">");
        let rows = [
            ("true_class", "True class", esc(p["true_class"].as_str().unwrap_or("")), p["true_class"].to_string()),
            (
                "true_confidence",
                "Confidence in it",
                format!("{:.1} % (original {:.1} %)", 100.0 * f(&v["true_confidence"]), 100.0 * f(&v["reference_true_confidence"])),
                v["true_confidence"].to_string(),
            ),
            ("top5_agree", "Top-5 keeps original", if v["top5_agree"] == true { "yes".into() } else { "no".into() }, v["top5_agree"].to_string()),
            ("kl", "KL divergence", format!("{:.4} nats", f(&v["kl"])), v["kl"].to_string()),
            ("feature_distance", "Feature distance", format!("{:.4}", f(&v["feature_distance"])), v["feature_distance"].to_string()),
        ];
        for (key, label, text, raw) in rows {
            html.push_str(&format!("<dt>{label}</dt><dd data-metric=\"{key}\" data-value=\"{}\">{text}</dd>", esc(&raw)));
        }
        html.push_str("</dl>");
    } else {
        html.push_str(&format!(
            "<dl class=\"metrics perception-metrics\"><dt>Feature distance</dt><dd data-metric=\"feature_distance\" data-value=\"{}\">{:.4}</dd></dl><p class=\"why\">{} (Compared at {}×{}.)</p>",
            p["feature_distance"],
            f(&p["feature_distance"]),
            esc(p["why"].as_str().unwrap_or("")),
            p["width"],
            p["height"]
        ));
    }
    html.push_str(&format!("<p class=\"timing\" data-testid=\"infer-{side}\" data-ms=\"{}\">{}</p>", f(&p["infer_ms"]), esc(&timing)));
    root.set_inner_html(&html);
    if let Some(status) = by_id::<HtmlElement>("model-status") {
        let batch = p["batch"].as_u64().map(|b| format!(", batch of {b}")).unwrap_or_default();
        status.set_text_content(Some(&format!("{timing}{batch}")));
        let _ = status.set_attribute("data-backend", p["backend"].as_str().unwrap_or(""));
    }
}

// ---------------------------------------------------------------------------------------------
// Sweeps.

/// The codecs offered for a sweep, with their default ranges: ours (as `mpqlab sweep`), then
/// the browser's own encoders.
fn sweep_defaults() -> Vec<String> {
    let mut v: Vec<String> = DEFAULT_CODEC_SWEEPS.iter().map(|s| s.to_string()).collect();
    v.push("browser-jpeg:quality=1..95:8".into());
    v.push("browser-webp:quality=1..95:8".into());
    v
}

/// The sweep panel's state. A sweep runs on its own pool of workers ([`JobWorker`]), each
/// taking every `shards`-th point; the page merges their points in plan order.
#[derive(Default)]
pub struct SweepState {
    /// Workers kept warm between sweeps (models and test items loaded); dropped after a
    /// cancel or an error, so the next sweep spawns fresh ones.
    pool: Vec<JobWorker>,
    /// The current run's job id (messages from older runs are ignored); 0 = none.
    job: f64,
    running: Option<(String, u32, String)>,
    started_ms: f64,
    /// Per worker: items done, items in its share, finished.
    shards: Vec<(f64, f64, bool)>,
    /// (index in plan order, point), sorted by index.
    points: Vec<(usize, SweepPoint)>,
    urls: Vec<String>,
}

fn sweep_el<T: JsCast>(id: &str) -> Option<T> {
    by_id::<T>(id)
}

fn wire_sweep() {
    if let Some(list) = sweep_el::<HtmlElement>("sweep-codecs") {
        for (k, spec) in sweep_defaults().into_iter().enumerate() {
            let id = spec.split(':').next().unwrap_or("").to_string();
            let row = el("div", "sweep-codec", &[]);
            let check: HtmlInputElement =
                el("input", "", &[("type", "checkbox"), ("id", &format!("sweep-use-{k}")), ("data-testid", &format!("sweep-use-{id}"))])
                    .unchecked_into();
            check.set_checked(true);
            let label = el("label", "", &[("for", &format!("sweep-use-{k}"))]);
            label.set_text_content(Some(&super::codec_label(&id)));
            let input: HtmlInputElement = el(
                "input",
                "sweep-spec",
                &[("type", "text"), ("spellcheck", "false"), ("data-testid", &format!("sweep-spec-{id}")), ("aria-label", &format!("Range for {id}"))],
            )
            .unchecked_into();
            input.set_value(&spec);
            append(&row, &[&check, &label, &input]);
            append(&list, &[&row]);
        }
    }
    if let Some(b) = sweep_el::<HtmlButtonElement>("sweep-run") {
        on::<Event>(&b, "click", |_| {
            let mut specs = Vec::new();
            if let Ok(rows) = super::dom::document().query_selector_all("#sweep-codecs .sweep-codec") {
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
            let items = sweep_el::<HtmlInputElement>("sweep-items")
                .and_then(|i| i.value().parse::<u32>().ok())
                .unwrap_or(1000)
                .clamp(1, 1000);
            if specs.is_empty() {
                show_error("Sweep: tick at least one codec.");
                return;
            }
            with_app(|app| {
                let (model, backend) = (app.model.clone(), app.backend.clone());
                app.sweep.start(&model, &backend, items, specs);
            });
        });
    }
    if let Some(b) = sweep_el::<HtmlButtonElement>("sweep-cancel") {
        on::<Event>(&b, "click", |_| {
            with_app(|app| app.sweep.stop("cancelled"));
        });
    }
}

impl SweepState {
    /// Starts a sweep on the pool (spawning it if needed): shard k of W gets every W-th point.
    fn start(&mut self, model: &str, backend: &str, items: u32, specs: Vec<String>) {
        self.start_ui();
        self.job += 1.0;
        self.running = Some((model.to_string(), items, backend.to_string()));
        self.started_ms = js::now_ms();
        let want = pool::sweep_workers();
        if self.pool.len() != want {
            self.pool.clear();
            for k in 0..want {
                let spawned = JobWorker::spawn(
                    move |data| {
                        with_app(|app| app.sweep.on_message(k, &data));
                    },
                    |msg| {
                        with_app(|app| app.sweep.fail(&format!("a sweep worker stopped: {msg}")));
                    },
                );
                match spawned {
                    Ok(w) => self.pool.push(w),
                    Err(e) => {
                        self.fail(&format!("cannot start a worker: {}", js::error_text(&e)));
                        return;
                    }
                }
            }
        }
        self.shards = vec![(0.0, 0.0, false); self.pool.len()];
        let specs = serde_json::to_string(&specs).unwrap_or_default();
        for (k, w) in self.pool.iter().enumerate() {
            let msg = obj(&[
                ("kind", "sweep".into()),
                ("job", self.job.into()),
                ("model", model.into()),
                ("backend", backend.into()),
                ("items", items.into()),
                ("specs", specs.as_str().into()),
                ("shard", (k as u32).into()),
                ("shards", (self.pool.len() as u32).into()),
            ]);
            if let Err(e) = w.post(&msg) {
                self.fail(&format!("cannot reach a sweep worker: {}", js::error_text(&e)));
                return;
            }
        }
        set_status(&format!("starting {} workers…", self.pool.len()), "running");
    }

    fn on_message(&mut self, shard: usize, data: &JsValue) {
        if self.running.is_none() || js::get_f64(data, "job") != self.job || shard >= self.shards.len() {
            return; // from a run that was cancelled or replaced
        }
        match js::get_str(data, "kind").as_str() {
            "progress" => {
                let (done, total) = (js::get_f64(data, "done"), js::get_f64(data, "total"));
                self.shards[shard].0 = done;
                self.shards[shard].1 = total;
                let (done, total) = self.shards.iter().fold((0.0, 0.0), |a, s| (a.0 + s.0, a.1 + s.1));
                self.on_progress(&js::get_str(data, "stage"), done, total);
            }
            "sweep-point" => {
                let index = js::get_u32(data, "index") as usize;
                if let Ok(p) = serde_json::from_str::<SweepPoint>(&js::get_str(data, "point")) {
                    let at = self.points.partition_point(|(i, _)| *i < index);
                    self.points.insert(at, (index, p));
                    self.render();
                }
            }
            "sweep-done" => {
                self.shards[shard].2 = true;
                if let Some(r) = &mut self.running {
                    r.1 = js::get_u32(data, "items");
                }
                if self.shards.iter().all(|s| s.2) {
                    self.on_done();
                }
            }
            "error" => self.fail(&js::get_str(data, "message")),
            _ => {}
        }
    }

    /// Stops the pool (terminating is the only way to stop wasm work) and says why.
    fn stop(&mut self, why: &str) {
        if self.running.is_some() {
            self.pool.clear();
        }
        self.finish(Some(why));
    }

    fn fail(&mut self, message: &str) {
        if self.running.is_none() {
            return;
        }
        show_error(&format!("Sweep: {message}"));
        self.stop(message);
    }

    fn start_ui(&mut self) {
        self.points.clear();
        for u in self.urls.drain(..) {
            let _ = web_sys::Url::revoke_object_url(&u);
        }
        set_running(true);
        set_status("waiting for the worker…", "running");
        self.render();
        for id in ["sweep-csv", "sweep-json", "sweep-svg"] {
            if let Some(a) = sweep_el::<HtmlElement>(id) {
                a.set_hidden(true);
            }
        }
    }

    pub fn on_progress(&mut self, stage: &str, done: f64, total: f64) {
        if let Some(p) = sweep_el::<HtmlProgressElement>("sweep-progress") {
            p.set_hidden(false);
            p.set_value(if total > 0.0 { done / total } else { 0.0 });
        }
        let elapsed = (js::now_ms() - self.started_ms) / 1000.0;
        let eta = if done > 0.0 && total > done { format!(", about {:.0} s left", elapsed * (total - done) / done) } else { String::new() };
        let of = if total > 0.0 { format!(" — {:.0} of {:.0} item runs", done, total) } else { String::new() };
        set_status(&format!("{stage}{of} ({elapsed:.0} s{eta})"), "running");
    }

    fn result(&self) -> SweepResult {
        let (model, items, _) = self.running.clone().unwrap_or_default();
        let dataset = ModelId::parse(&model).map(|m| m.task().id().to_string()).unwrap_or_default();
        SweepResult { model, dataset, items: items as usize, points: self.points.iter().map(|p| p.1.clone()).collect() }
    }

    /// Plots and table from the points so far (the plot is the same code as `mpqlab sweep --svg`).
    fn render(&self) {
        let result = self.result();
        if let Some(plot) = sweep_el::<HtmlElement>("sweep-plot") {
            if self.points.is_empty() {
                plot.set_inner_html("");
            } else {
                plot.set_inner_html(&result.plot_svg());
            }
        }
        let Some(table) = sweep_el::<HtmlElement>("sweep-table") else { return };
        let mut html = String::from(
            "<thead><tr><th scope=col>Codec</th><th scope=col>Setting</th><th scope=col>bpp</th><th scope=col>Accuracy</th><th scope=col>Top-1 agreement</th><th scope=col>Mean KL</th><th scope=col>Feature distance</th><th scope=col>PSNR</th></tr></thead><tbody>",
        );
        let opt = |v: Option<f64>, scale: f64, digits: usize| v.map_or("–".to_string(), |x| format!("{:.*}", digits, x * scale));
        for (_, p) in &self.points {
            html.push_str(&format!(
                "<tr data-codec=\"{}\" data-value=\"{}\" data-bpp=\"{}\" data-accuracy=\"{}\" data-psnr=\"{}\"><td>{}</td><td>{}={}</td><td>{:.3}</td><td>{} %</td><td>{:.1} %</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
                esc(&p.codec),
                p.value,
                p.bits_per_pixel,
                p.accuracy.map_or("null".into(), |a| a.to_string()),
                p.psnr_db.map_or("null".into(), |a| a.to_string()),
                esc(&p.codec_name),
                esc(&p.param),
                p.value,
                p.bits_per_pixel,
                opt(p.accuracy, 100.0, 1),
                100.0 * p.top1_agreement,
                p.mean_kl,
                p.mean_feature_distance,
                p.psnr_db.map_or("∞".to_string(), |d| format!("{d:.2} dB")),
            ));
        }
        html.push_str("</tbody>");
        table.set_inner_html(&html);
    }

    /// Every worker finished: exports (the same code as `mpqlab sweep --csv/--json/--svg`)
    /// and the time from the click to the last point.
    fn on_done(&mut self) {
        let elapsed_ms = js::now_ms() - self.started_ms;
        let result = self.result();
        let json = result.to_json();
        for (id, text, mime, ext) in [
            ("sweep-csv", result.to_csv(), "text/csv", "csv"),
            ("sweep-json", json.clone(), "application/json", "json"),
            ("sweep-svg", result.plot_svg(), "image/svg+xml", "svg"),
        ] {
            let Some(a) = sweep_el::<HtmlAnchorElement>(id) else { continue };
            let parts = js_sys::Array::of1(&JsValue::from(text));
            let bag = web_sys::BlobPropertyBag::new();
            bag.set_type(mime);
            if let Ok(url) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag)
                .and_then(|b| web_sys::Url::create_object_url_with_blob(&b))
            {
                a.set_href(&url);
                a.set_download(&format!("mpqlab-sweep-{}-{}.{ext}", result.model, result.items));
                a.set_hidden(false);
                self.urls.push(url);
            }
        }
        let backend = self.running.as_ref().map(|r| r.2.clone()).unwrap_or_default();
        let status = format!(
            "Done: {} points × {} items in {:.1} s on {} workers ({}).",
            result.points.len(),
            result.items,
            elapsed_ms / 1000.0,
            self.pool.len(),
            if backend == "webgpu" { "model on WebGPU" } else { "model on the CPU" }
        );
        set_running(false);
        set_status(&status, "done");
        if let Some(s) = sweep_el::<HtmlElement>("sweep-status") {
            let _ = s.set_attribute("data-elapsed-ms", &elapsed_ms.to_string());
            let _ = s.set_attribute("data-workers", &self.pool.len().to_string());
            let _ = s.set_attribute("data-json", &json);
        }
        self.running = None;
    }

    fn finish(&mut self, problem: Option<&str>) {
        set_running(false);
        let text = match problem {
            Some(p) => format!("Stopped ({p}) after {} points.", self.points.len()),
            None => format!("Done: {} points.", self.points.len()),
        };
        set_status(&text, if problem.is_some() { "stopped" } else { "done" });
        self.running = None;
    }
}

fn set_running(running: bool) {
    if let Some(b) = sweep_el::<HtmlButtonElement>("sweep-run") {
        b.set_disabled(running);
    }
    if let Some(b) = sweep_el::<HtmlButtonElement>("sweep-cancel") {
        b.set_hidden(!running);
    }
    if let Some(p) = sweep_el::<HtmlProgressElement>("sweep-progress") {
        p.set_hidden(!running);
        p.set_value(0.0);
    }
}

fn set_status(text: &str, state: &str) {
    if let Some(s) = sweep_el::<HtmlElement>("sweep-status") {
        s.set_text_content(Some(text));
        let _ = s.set_attribute("data-state", state);
    }
}
