//! Every lab's exports: its results as CSV and JSON that carry the experiment's link, mpqlab's
//! version, the page's build and the crates' versions (`mpq_core::export`), plots as SVG and
//! PNG, and side-by-side views as PNG. Files are made when the button is pressed, so they hold
//! what is on screen then and the link as it stands.
//!
//! Test ids: `PREFIX-export-csv`, `PREFIX-export-json`, `PREFIX-export-png` (where a lab has a
//! side-by-side view).

use std::cell::RefCell;

use mpq_core::export::{self, Provenance};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlAnchorElement, HtmlCanvasElement, HtmlElement};

use super::{append, el, on, text_el};

thread_local! {
    /// The page's build (build.json's `build`, written by scripts/pwa.mjs), once fetched.
    static BUILD: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Fetches the build's id for the exports (once, at start; exports made before it arrives, or
/// in a page built without it, say `build` empty).
pub fn load_build() {
    wasm_bindgen_futures::spawn_local(async {
        // The same fetch of build.json as the worker module's download size.
        let id = crate::bridge::page::build_field("build").await;
        BUILD.with(|b| *b.borrow_mut() = id);
    });
}

/// Where an export made now comes from: the page's address (the experiment's link) and build.
pub fn provenance() -> Provenance {
    let link = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    BUILD.with(|b| Provenance::new(&link, b.borrow().as_deref()))
}

/// Hands `parts` to the browser as a download named `file`, of type `mime`.
pub fn download(parts: &js_sys::Array, mime: &str, file: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(a) = doc.create_element("a") else { return };
    let a: HtmlAnchorElement = a.unchecked_into();
    super::set_download(&a, parts, mime, file, "");
    let url = a.href();
    if !url.starts_with("blob:") {
        return; // the blob could not be made
    }
    a.click();
    // The download has its bytes once the click is handled; the URL is freed a little later.
    let free = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(free.unchecked_ref(), 60_000);
    }
}

/// A file name without its extension (`coffee.png` → `coffee`), for the names of what a lab
/// saves from it.
pub fn file_stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(b, _)| b)
}

pub fn download_text(text: &str, mime: &str, file: &str) {
    download(&js_sys::Array::of1(&JsValue::from_str(text)), mime, file);
}

/// The JSON export of `result` (a JSON text, of `kind`), named `{stem}.json`.
pub fn download_json(kind: &str, stem: &str, result: &str) {
    download_text(&export::json(kind, &provenance(), result), "application/json", &format!("{stem}.json"));
}

/// The CSV export of `rows` (JSON texts of objects, flattened: nested objects become
/// `outer.inner` columns, arrays their JSON text, `null` an empty cell; the columns are every
/// key seen, in the order first seen), named `{stem}.csv`.
pub fn download_csv(stem: &str, rows: &[String]) {
    let flat: Vec<Vec<(String, String)>> = rows
        .iter()
        .map(|text| {
            let mut out = Vec::new();
            if let Ok(v) = js_sys::JSON::parse(text) {
                flatten("", &v, &mut out);
            }
            out
        })
        .collect();
    let mut columns: Vec<String> = Vec::new();
    for row in &flat {
        for (k, _) in row {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let cells: Vec<Vec<String>> = flat
        .iter()
        .map(|row| columns.iter().map(|c| row.iter().find(|(k, _)| k == c).map(|(_, v)| v.clone()).unwrap_or_default()).collect())
        .collect();
    let header: Vec<&str> = columns.iter().map(String::as_str).collect();
    download_csv_text(stem, &export::table_csv(&header, &cells));
}

/// A parsed JSON value's cells (through the browser's JSON: the UI module carries no JSON
/// values of its own).
fn flatten(prefix: &str, v: &JsValue, out: &mut Vec<(String, String)>) {
    if v.is_null() || v.is_undefined() {
        out.push((prefix.to_string(), String::new()));
    } else if let Some(s) = v.as_string() {
        out.push((prefix.to_string(), s));
    } else if js_sys::Array::is_array(v) || !v.is_object() {
        let text = js_sys::JSON::stringify(v).ok().and_then(|t| t.as_string()).unwrap_or_default();
        out.push((prefix.to_string(), text));
    } else {
        for entry in js_sys::Object::entries(v.unchecked_ref()).iter() {
            let pair: js_sys::Array = entry.unchecked_into();
            let key = pair.get(0).as_string().unwrap_or_default();
            let key = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
            flatten(&key, &pair.get(1), out);
        }
    }
}

/// `{"side": NAME, …text's fields}`: a side's result (a JSON object's text) with its name first.
pub fn named(name: &str, text: &str) -> String {
    match text.strip_prefix('{') {
        Some(rest) if rest.trim_start() != "}" => format!("{{\"side\":\"{name}\",{rest}"),
        _ => format!("{{\"side\":\"{name}\"}}"),
    }
}

/// A JSON string literal of `s`.
pub fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[wasm_bindgen(inline_js = r#"
// An SVG drawn at `scale` into a canvas, as a PNG blob (the plot as a picture for slides).
export function svg_to_png(svg, scale) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
    const img = new Image();
    img.onload = () => {
      const c = document.createElement('canvas');
      c.width = Math.max(1, Math.round(img.naturalWidth * scale));
      c.height = Math.max(1, Math.round(img.naturalHeight * scale));
      const ctx = c.getContext('2d');
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, c.width, c.height);
      ctx.drawImage(img, 0, 0, c.width, c.height);
      URL.revokeObjectURL(url);
      c.toBlob((b) => (b ? resolve(b) : reject(new Error('the plot could not be drawn'))), 'image/png');
    };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error('the plot could not be drawn')); };
    img.src = url;
  });
}
// A canvas as a PNG blob.
export function canvas_to_png(canvas) {
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the view could not be drawn'))), 'image/png'));
}
"#)]
extern "C" {
    pub(crate) fn svg_to_png(svg: &str, scale: f64) -> js_sys::Promise;
    fn canvas_to_png(canvas: &HtmlCanvasElement) -> js_sys::Promise;
}

fn download_blob_promise(promise: js_sys::Promise, file: String) {
    wasm_bindgen_futures::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(blob) => download(&js_sys::Array::of1(&blob), "image/png", &file),
            Err(e) => super::show_error(&format!("Export: {}", crate::js::error_text(&e))),
        }
    });
}

/// A plot (SVG text) as a PNG at twice its size, named `file`.
pub fn download_svg_as_png(svg: &str, file: &str) {
    download_blob_promise(svg_to_png(svg, 2.0), file.to_string());
}

/// Two (or more) views side by side with a caption over each, as one PNG named `file`. Views
/// are drawn at their own pixel sizes, enlarged by a whole factor (nearest neighbour) when they
/// are small (a one-second spectrogram is 120 px wide), so the picture reads on a slide.
pub fn download_side_by_side(views: &[(&HtmlCanvasElement, &str)], file: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(c) = doc.create_element("canvas") else { return };
    let c: HtmlCanvasElement = c.unchecked_into();
    const CAPTION: u32 = 28;
    const GAP: u32 = 8;
    let tallest = views.iter().map(|(v, _)| v.height()).max().unwrap_or(1).max(1);
    let scale = (384 / tallest).max(1);
    let width: u32 = views.iter().map(|(v, _)| v.width() * scale).sum::<u32>() + GAP * (views.len().saturating_sub(1) as u32);
    let height = tallest * scale + CAPTION;
    c.set_width(width.max(1));
    c.set_height(height.max(1));
    let Ok(Some(ctx)) = c.get_context("2d") else { return };
    let ctx: web_sys::CanvasRenderingContext2d = ctx.unchecked_into();
    ctx.set_image_smoothing_enabled(false);
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, width as f64, height as f64);
    ctx.set_fill_style_str("#1b1f24");
    ctx.set_font("16px system-ui, sans-serif");
    let mut x = 0u32;
    for (view, caption) in views {
        let (w, h) = (view.width() * scale, view.height() * scale);
        let _ = ctx.fill_text(caption, x as f64 + 4.0, 19.0);
        let _ = ctx.draw_image_with_html_canvas_element_and_dw_and_dh(view, x as f64, CAPTION as f64, w as f64, h as f64);
        x += w + GAP;
    }
    download_blob_promise(canvas_to_png(&c), file.to_string());
}

/// The export buttons under a lab's results: "CSV", "JSON" and, with `png`, "Side by side
/// (PNG)"; each calls `on_export("csv" | "json" | "png")`.
pub fn bar(prefix: &str, png: Option<&str>, on_export: impl Fn(&str) + Clone + 'static) -> HtmlElement {
    let mut kinds: Vec<(&'static str, &str)> = vec![("csv", "CSV"), ("json", "JSON (with the link)")];
    if let Some(label) = png {
        kinds.push(("png", label));
    }
    buttons(prefix, "Export the results:", &kinds, on_export)
}

/// The export buttons under a plot: its points as "CSV" and "JSON", the plot as "SVG" and
/// "PNG"; each calls `on_export("csv" | "json" | "svg" | "png")`. Test ids `PREFIX-export-KIND`.
pub fn plot_bar(prefix: &str, on_export: impl Fn(&str) + Clone + 'static) -> HtmlElement {
    buttons(prefix, "Export the points:", &[("csv", "CSV"), ("json", "JSON (with the link)"), ("svg", "Plot (SVG)"), ("png", "Plot (PNG)")], on_export)
}

/// `text`, a CSV table with a header line, with the provenance columns added, named `{stem}.csv`.
pub fn download_csv_text(stem: &str, text: &str) {
    download_text(&export::csv(text, &provenance()), "text/csv", &format!("{stem}.csv"));
}

/// A plot (SVG text) as `{stem}.svg`.
pub fn download_svg(stem: &str, svg: &str) {
    download_text(svg, "image/svg+xml", &format!("{stem}.svg"));
}

fn buttons(prefix: &str, heading: &str, kinds: &[(&'static str, &str)], on_export: impl Fn(&str) + Clone + 'static) -> HtmlElement {
    let wrap = el("p", "export-bar", &[("data-testid", &format!("{prefix}-export"))]);
    append(&wrap, &[&text_el("span", "field-name", heading)]);
    for &(kind, label) in kinds {
        let b = text_el("button", "export", label);
        let _ = b.set_attribute("type", "button");
        let _ = b.set_attribute("data-testid", &format!("{prefix}-export-{kind}"));
        let f = on_export.clone();
        on::<web_sys::Event>(&b, "click", move |_| f(kind));
        append(&wrap, &[&b]);
    }
    wrap
}
