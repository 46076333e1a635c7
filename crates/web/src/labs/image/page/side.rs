//! Each side's controls (generated from its codec's schema), numbers and verdict, and the model
//! bar with the CPU ↔ WebGPU check.

use super::*;
use crate::ui::dom::{json, metric};

impl Page {

    pub(super) fn render_all(&mut self) {
        for i in 0..self.sides.len() {
            self.fill_codec_select(i);
            self.render_params(i);
        }
        self.render_model_bar();
        self.render_input();
        self.apply_view();
    }

    pub(super) fn codec(&self, id: &str) -> Option<&CodecInfo> {
        self.catalog.as_ref()?.codecs.iter().find(|c| c.id == id)
    }

    pub(super) fn fill_codec_select(&self, i: usize) {
        let choices: Option<Vec<ui::sides::CodecChoice<'_>>> = self.catalog.as_ref().map(|catalog| {
            catalog
                .codecs
                .iter()
                .map(|c| {
                    let native = c.browser_mime.is_some();
                    ui::sides::CodecChoice {
                        id: &c.id,
                        name: &c.name,
                        lossless: c.lossless,
                        group: if native { "Browser-native encoders" } else { "mpqlab (same bytes as the CLI)" },
                        unsupported: native && !self.browser_support.iter().any(|(b, ok)| *b == c.id && *ok),
                    }
                })
                .collect()
        });
        ui::sides::fill_codecs(&self.sides[i].select, choices.as_deref(), &self.exp.sides[i].codec);
    }

    /// Builds the controls for side `i` from its codec's schema: no per-codec UI code.
    pub(super) fn render_params(&self, i: usize) {
        let on_change: ui::params::OnChange = std::rc::Rc::new(move |name: &str, v, step| {
            with_page(|p| p.set_param(i, name, v, step));
        });
        let codec = self.codec(&self.exp.sides[i].codec);
        let specs = codec.map(|c| c.params.as_slice());
        let params_el = &self.sides[i].params_el;
        ui::sides::render_params(params_el, specs, &self.exp.sides[i], &format!("param-{i}"), on_change);
        if let Some(c) = codec {
            let (units, target) = (&ui::target::IMAGE_UNITS, self.exp.sides[i].target);
            ui::target::attach(params_el, &format!("target-{i}"), &format!("param-{i}"), units, c.lossless, c.rate_param.as_deref(), target, move |t| {
                with_page(|p| p.set_target(i, t));
            });
        }
        self.update_tag(i);
    }

    pub(super) fn update_tag(&self, i: usize) {
        let spec = &self.exp.sides[i];
        let label = match self.codec(&spec.codec) {
            Some(codec) => {
                let settings: Vec<String> = codec
                    .params
                    .iter()
                    .map(|s| format!("{} {}", s.label.to_lowercase(), spec.params.get(&s.name).unwrap_or(&s.default)))
                    .collect();
                let name = format!("{}{}", codec.name, if codec.lossless { " (lossless)" } else { "" });
                match spec.target {
                    Some(t) => format!("{name} · aiming at {t}"),
                    None if settings.is_empty() => name,
                    None => format!("{name} · {}", settings.join(", ")),
                }
            }
            None => spec.to_link_value(),
        };
        self.sides[i].tag.set_text_content(Some(&label));
    }

    pub(super) fn render_model_bar(&self) {
        if let (Some(select), Some(catalog)) = (by_id::<HtmlSelectElement>("model"), &self.catalog) {
            if select.length() == 0 {
                for m in &catalog.models {
                    let dataset = catalog.datasets.iter().find(|d| d.id == m.dataset).map_or(m.dataset.as_str(), |d| d.name.as_str());
                    let opt = text_el("option", "", &format!("{} — {dataset}", m.name));
                    let _ = opt.set_attribute("value", &m.id);
                    append(&select, &[&opt]);
                }
            }
            select.set_value(&self.exp.model);
        }
        if let Some(select) = by_id::<HtmlSelectElement>("backend") {
            select.set_value(self.exp.backend.id());
        }
    }
}

pub(super) fn canvas_can_encode(mime: &str) -> bool {
    let canvas: HtmlCanvasElement = el("canvas", "", &[]).unchecked_into();
    canvas.set_width(1);
    canvas.set_height(1);
    canvas.to_data_url_with_type(mime).map(|u| u.starts_with(&format!("data:{mime}"))).unwrap_or(false)
}


// ---------------------------------------------------------------------------------------------
// Sides: codec choice, parameter controls generated from the schema, numbers, verdict.

pub(super) fn build_side(index: usize) -> SideView {
    let root: HtmlElement = by_id(&format!("side-{index}")).expect("side container in page.html");
    let title = text_el("h2", "side-title", if index == 0 { "Left" } else { "Right" });
    let (label, select) = ui::sides::codec_field(&format!("codec-{index}"), move |id| {
        with_page(|p| p.set_codec(index, id));
    });
    let params_el = el("div", "params", &[]);
    let status = el("div", "status", &[("aria-live", "polite")]);
    let slot = ui::sides::SideSlot::new(&format!("stage-{index}"));
    let cancel: HtmlButtonElement = text_el("button", "cancel", "Cancel").unchecked_into();
    cancel.set_hidden(true);
    append(&status, &[&slot.progress, &slot.stage, &cancel]);
    let metrics = el("dl", "metrics", &[("data-testid", &format!("metrics-{index}"))]);
    let perception = el("div", "perception", &[("data-testid", &format!("perception-{index}")), ("aria-live", "polite")]);
    let download: HtmlAnchorElement = text_el("a", "download", "Download").unchecked_into();
    download.set_hidden(true);
    let target_line = ui::target::result_line(&format!("target-{index}"));
    append(&root, &[&title, &label, &params_el, &status, &target_line, &metrics, &perception, &download]);

    on::<Event>(&cancel, "click", move |_| {
        with_page(|p| p.cancel_side(index));
    });
    SideView {
        select,
        params_el,
        slot,
        cancel,
        metrics,
        perception,
        download,
        canvas: by_id(&format!("canvas-{index}")).expect("canvas in page.html"),
        tag: by_id(&format!("tag-{index}")).expect("tag in page.html"),
        target_line,
        result: None,
        bpp: None,
    }
}

pub(super) fn draw(canvas: &HtmlCanvasElement, w: u32, h: u32, rgba: &[u8]) {
    if rgba.len() != (w as usize) * (h as usize) * 4 {
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

/// A `<dt>label</dt><dd data-metric=key data-value=raw>text</dd>` pair.
/// The numbers under a side. Each value carries `data-metric` and the raw `data-value`, so
/// tests (and curious users with devtools) read exact numbers, not formatted text.
pub(super) fn render_metrics(dl: &HtmlElement, r: &mpq_metrics::ImageReport) {
    dl.set_text_content(None);
    let ms_ssim = match r.ms_ssim {
        Some(v) if r.ms_ssim_scales.unwrap_or(5) < 5 => format!("{v:.4} ({} scales: small image)", r.ms_ssim_scales.unwrap_or(0)),
        other => format::index(other),
    };
    metric(dl, "bytes", "Size", &format!("{} ({} B)", format::bytes(r.bytes), r.bytes), &json(&r.bytes));
    metric(dl, "bits_per_pixel", "Bits per pixel", &format!("{:.3} bpp", r.bits_per_pixel), &json(&r.bits_per_pixel));
    metric(dl, "compression_ratio", "Compression", &format!("{:.1} : 1", r.compression_ratio), &json(&r.compression_ratio));
    metric(dl, "psnr_rgb", "PSNR (RGB)", &format::db(r.psnr_rgb), &json(&r.psnr_rgb));
    metric(dl, "psnr_y", "PSNR (luma)", &format::db(r.psnr_y), &json(&r.psnr_y));
    metric(dl, "ssim", "SSIM", &format::index(r.ssim), &json(&r.ssim));
    metric(dl, "ms_ssim", "MS-SSIM", &ms_ssim, &json(&r.ms_ssim));
    metric(dl, "encode_ms", "Encode time", &format::ms(r.encode_ms), &json(&r.encode_ms));
    metric(dl, "decode_ms", "Decode time", &format::ms(r.decode_ms), &json(&r.decode_ms));
    if r.exact {
        append(dl, &[&text_el("dt", "", "Pixels"), &text_el("dd", "exact", "identical to the original")]);
    }
}

/// What the model makes of a side: built as elements, every text from the worker as text.
pub(super) fn render_perception(root: &HtmlElement, side: usize, verdict: &Result<Verdict, String>) {
    root.set_text_content(None);
    let v = match verdict {
        Ok(v) => v,
        Err(e) => {
            append(root, &[&text_el("p", "perception-error", &format!("Model: {e}"))]);
            return;
        }
    };
    let (model_name, backend, batch) = match v {
        Verdict::Classes { model_name, backend, batch, .. } => (model_name, backend, Some(*batch)),
        Verdict::Features { model_name, backend, .. } => (model_name, backend, None),
    };
    let on = if backend == "webgpu" { "WebGPU" } else { "CPU" };
    let timing = format!("{model_name} on {on}: {:.1} ms", v.infer_ms());
    match v {
        Verdict::Classes { class, reference_class, top, verdict, true_class, .. } => {
            let changed = !verdict.top1_agree;
            let flag = el("p", if changed { "flag changed" } else { "flag same" }, &[("data-testid", &format!("flag-{side}"))]);
            set_data(&flag, "changed", &changed.to_string());
            let (lead, rest) = if changed { ("⚠ The model's answer changed: ", format!(" (original: {reference_class})")) } else { ("✓ Same answer as for the original: ", String::new()) };
            flag.set_text_content(Some(lead));
            append(&flag, &[&text_el("b", "", class)]);
            let _ = flag.append_with_str_1(&rest);
            let top: Vec<(String, f32)> = top.iter().map(|t| (t.class.clone(), t.p)).collect();
            let bars = ui::dom::bars("The model's top classes for this side", &format!("bars-{side}"), &top);
            let dl = el("dl", "metrics perception-metrics", &[]);
            metric(&dl, "true_class", "True class", true_class, &json(true_class));
            metric(
                &dl,
                "true_confidence",
                "Confidence in it",
                &format!(
                    "{:.1} % (original {:.1} %)",
                    100.0 * verdict.true_confidence.unwrap_or(f64::NAN),
                    100.0 * verdict.reference_true_confidence.unwrap_or(f64::NAN)
                ),
                &json(&verdict.true_confidence),
            );
            metric(&dl, "top5_agree", "Top-5 keeps original", if verdict.top5_agree { "yes" } else { "no" }, &json(&verdict.top5_agree));
            metric(&dl, "kl", "KL divergence", &format!("{:.4} nats", verdict.kl), &json(&verdict.kl));
            metric(&dl, "feature_distance", "Feature distance", &format!("{:.4}", verdict.feature_distance), &json(&verdict.feature_distance));
            append(root, &[&flag, &bars, &dl]);
        }
        Verdict::Features { feature_distance, why, width, height, .. } => {
            let dl = el("dl", "metrics perception-metrics", &[]);
            metric(&dl, "feature_distance", "Feature distance", &format!("{feature_distance:.4}"), &json(feature_distance));
            append(root, &[&dl, &text_el("p", "why", &format!("{why} (Compared at {width}×{height}.)"))]);
        }
    }
    let t = text_el("p", "timing", &timing);
    let _ = t.set_attribute("data-testid", &format!("infer-{side}"));
    set_data(&t, "ms", &v.infer_ms().to_string());
    append(root, &[&t]);
    if let Some(status) = by_id::<HtmlElement>("model-status") {
        let batch = batch.map(|b| format!(", batch of {b}")).unwrap_or_default();
        status.set_text_content(Some(&format!("{timing}{batch}")));
        set_data(&status, "backend", backend);
    }
}


// ---------------------------------------------------------------------------------------------
// Model bar and the CPU ↔ WebGPU check.

pub(super) fn wire_model_bar() {
    if let Some(select) = by_id::<HtmlSelectElement>("model") {
        on::<Event>(&select, "change", |e| {
            let id = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
            with_page(|p| p.set_model(Some(&id), None));
        });
    }
    if let Some(select) = by_id::<HtmlSelectElement>("backend") {
        if !ui::has_webgpu() {
            if let Some(opt) = select.query_selector("option[value=webgpu]").ok().flatten() {
                let _ = opt.set_attribute("disabled", "");
                opt.set_text_content(Some("WebGPU — not available in this browser"));
            }
        }
        on::<Event>(&select, "change", |e| {
            let id = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
            with_page(|p| p.set_model(None, Backend::parse(&id)));
        });
    }
    if let Some(b) = by_id::<HtmlButtonElement>("agreement-run") {
        if !ui::has_webgpu() {
            b.set_disabled(true);
            b.set_title("This browser has no WebGPU.");
        }
        on::<Event>(&b, "click", |_| {
            with_page(|p| {
                p.agreement_wanted = true;
                agreement_status("waiting for the worker…", "running");
                p.pump();
            });
        });
    }
}

pub(super) fn agreement_status(text: &str, state: &str) {
    if let Some(s) = by_id::<HtmlElement>("agreement-status") {
        s.set_text_content(Some(text));
        set_data(&s, "state", state);
    }
}

pub(super) fn agreement_done(r: &AgreementReport) {
    agreement_status(
        &format!(
            "{} items: same top-1 class for {:.1} %, largest probability difference {:.2e}, feature distance ≤ {:.1e}; {:.2} ms per item on the CPU, {:.2} ms on WebGPU.",
            r.items,
            100.0 * r.top1_agreement,
            r.max_abs_prob_diff,
            r.max_feature_distance,
            r.cpu_ms_per_item,
            r.webgpu_ms_per_item,
        ),
        "done",
    );
    if let Some(s) = by_id::<HtmlElement>("agreement-status") {
        set_data(&s, "report", &json(r));
    }
}

