//! What the text lab's page draws from its state: the sides' controls and numbers, the codec
//! table and its bar chart, the text with each character's cost, the checkpoints' plot, the
//! decompress box. Text always goes in as text (the user's text never as HTML).

use mpq_core::experiment::image::Side;
use mpq_core::experiment::text::TextInput;
use mpq_core::Params;
use mpq_metrics::text::TextReport;
use wasm_bindgen::JsCast;
use web_sys::{HtmlAnchorElement, HtmlElement, HtmlSelectElement};

use super::super::ByteCost;
use super::{Job, Outcome, Page, RunKey, SideView, with_page};
use crate::format;
use crate::ui::dom::{Row, json, metric};
use crate::ui::sides::{self, CodecChoice};
use crate::ui::{self, append, by_id, el, set_data, set_style, table, text_el};

pub(super) fn build_side(index: usize) -> SideView {
    let root: HtmlElement = by_id(&format!("tx-side-{index}")).expect("side container in page.html");
    let title = text_el("h3", "", if index == 0 { "A: left" } else { "B: right" });
    let (label, select) = sides::codec_field(&format!("tx-codec-{index}"), move |id| {
        with_page(|p| p.set_codec(index, id));
    });
    let params_el = el("div", "params", &[]);
    let stage = el("span", "stage", &[("data-testid", &format!("tx-stage-{index}"))]);
    sides::stage_waiting(&stage);
    let status = el("div", "status", &[("aria-live", "polite")]);
    append(&status, &[&stage]);
    let metrics = el("dl", "metrics", &[("data-testid", &format!("tx-metrics-{index}"))]);
    let download: HtmlAnchorElement = text_el("a", "download", "Download").unchecked_into();
    download.set_hidden(true);
    append(&root, &[&title, &label, &params_el, &status, &metrics, &download]);
    SideView { select, params_el, stage, metrics, download }
}

fn choices(p: &Page) -> Option<Vec<CodecChoice<'_>>> {
    let codecs = p.codecs.as_ref()?;
    Some(
        codecs
            .iter()
            .map(|c| CodecChoice {
                id: &c.id,
                name: &c.name,
                lossless: false,
                group: if c.id == "lm" { "A language model as the coder" } else { "Classic compressors (the reference tools' streams)" },
                unsupported: false,
            })
            .collect(),
    )
}

pub(super) fn render_side_controls(p: &Page, i: usize) {
    let side = &p.sides[i];
    sides::fill_codecs(&side.select, choices(p).as_deref(), &p.exp.sides[i].codec);
    let specs = p.codec(&p.exp.sides[i].codec).map(|c| c.params.as_slice());
    let on_change: ui::params::OnChange = std::rc::Rc::new(move |name: &str, v, step| {
        with_page(|p| p.set_param(i, name, v, step));
    });
    sides::render_params(&side.params_el, specs, &p.exp.sides[i], &format!("tx-param-{i}"), on_change);
}

pub(super) fn set_source_info(text: &str) {
    if let Some(e) = by_id::<HtmlElement>("tx-source") {
        e.set_text_content(Some(text));
    }
}

/// A run's settings as a short text ("level 9, window 22").
fn settings(p: &Page, key: &RunKey) -> String {
    let Some(codec) = p.codec(&key.codec) else { return String::new() };
    codec.params.iter().filter_map(|s| key.params.get(&s.name).map(|v| format!("{} {v}", s.label.to_lowercase()))).collect::<Vec<_>>().join(", ")
}

fn running_key(p: &Page) -> Option<&RunKey> {
    match &p.job {
        Some(Job::Run { key, .. }) => Some(key),
        Some(Job::Lm(run)) => Some(&run.key),
        _ => None,
    }
}

/// The table, the chart and both sides' numbers, from the results so far.
pub(super) fn render_results(p: &Page) {
    let Some(codecs) = &p.codecs else { return };
    let running = running_key(p);
    let mut rows = Vec::new();
    let mut bars: Vec<(String, String, f64)> = Vec::new();
    for c in codecs {
        let Some(key) = p.run_key(&Side::new(&c.id, Params::new())) else { continue };
        let mut data = vec![("codec", c.id.clone())];
        let cells = match p.result(&key) {
            Some(Outcome::Done { report: r, .. }) => {
                data.push(("bytes", r.bytes.to_string()));
                data.push(("bpb", json(&r.bits_per_byte)));
                data.push(("round-trip", r.round_trip.to_string()));
                if let Some(b) = r.bits_per_byte {
                    bars.push((c.id.clone(), c.name.clone(), b));
                }
                vec![
                    c.name.clone(),
                    settings(p, &key),
                    r.bytes.to_string(),
                    r.bits_per_byte.map_or("–".into(), |b| format!("{b:.3}")),
                    format!("{:.2}", r.compression_ratio),
                    format::ms(r.encode_ms),
                    format::ms(r.decode_ms),
                    if r.round_trip { "✓".into() } else { "✗ differs".into() },
                ]
            }
            Some(Outcome::Failed(why)) => {
                data.push(("error", why.clone()));
                rows.push(Row { cells: vec![c.name.clone(), settings(p, &key)], data, note: Some((format!("⚠ {why}"), "err")) });
                continue;
            }
            None => {
                let what = if running == Some(&key) { "running…" } else { "waiting…" };
                rows.push(Row { cells: vec![c.name.clone(), settings(p, &key)], data, note: Some((what.into(), "pending")) });
                continue;
            }
        };
        rows.push(Row { cells, data, note: None });
    }
    if let Some(t) = by_id::<HtmlElement>("tx-table") {
        table(&t, &["Codec", "Settings", "Bytes", "Bits per byte", "Ratio", "Encode", "Decode", "Round trip"], &rows);
    }
    render_chart(&bars);
    for i in 0..2 {
        render_side_result(p, i);
    }
}

/// Bits per byte as horizontal bars (the language model's highlighted), smallest first.
fn render_chart(bars: &[(String, String, f64)]) {
    let Some(chart) = by_id::<HtmlElement>("tx-chart") else { return };
    chart.set_text_content(None);
    let max = bars.iter().map(|b| b.2).fold(8.0f64, f64::max);
    let mut sorted: Vec<&(String, String, f64)> = bars.iter().collect();
    sorted.sort_by(|a, b| a.2.total_cmp(&b.2));
    for (id, name, bpb) in sorted {
        let row = el("div", if id == "lm" { "tx-bar lm" } else { "tx-bar" }, &[("data-codec", id), ("data-bpb", &bpb.to_string())]);
        let bar = el("span", "bar", &[]);
        let fill = el("span", "", &[]);
        set_style(&fill, "width", &format!("{:.1}%", 100.0 * bpb / max));
        append(&bar, &[&fill]);
        append(&row, &[&text_el("span", "bar-label", name), &bar, &text_el("span", "bar-value", &format!("{bpb:.3}"))]);
        append(&chart, &[&row]);
    }
}

fn render_side_result(p: &Page, i: usize) {
    let side = &p.sides[i];
    let Some(key) = p.run_key(&p.exp.sides[i]) else {
        sides::stage_waiting(&side.stage);
        return;
    };
    side.metrics.set_text_content(None);
    side.download.set_hidden(true);
    match p.result(&key) {
        Some(Outcome::Done { report, encoded }) => {
            sides::stage(&side.stage, "done", "done");
            side_metrics(&side.metrics, report);
            let base = p.shown.as_ref().map_or("text".to_string(), |s| s.name.rsplit_once('.').map_or(s.name.clone(), |(b, _)| b.to_string()));
            if let Some(codec) = p.codec(&key.codec) {
                let file = format!("{base}.{}", codec.extension);
                let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(encoded.as_slice()));
                ui::set_download(&side.download, &parts, &codec.mime, &file, &format!("Download {file} ({})", format::bytes(encoded.len())));
            }
        }
        Some(Outcome::Failed(why)) => sides::stage(&side.stage, &format!("⚠ {why}"), "error"),
        None if running_key(p) == Some(&key) => sides::stage(&side.stage, "running…", "running"),
        None => sides::stage_waiting(&side.stage),
    }
}

fn side_metrics(dl: &HtmlElement, r: &TextReport) {
    metric(dl, "bytes", "Size", &format!("{} ({} B, of {} B)", format::bytes(r.bytes), r.bytes, r.original_bytes), &json(&r.bytes));
    metric(dl, "bits_per_byte", "Bits per byte", &r.bits_per_byte.map_or("–".into(), |b| format!("{b:.4}")), &json(&r.bits_per_byte));
    metric(dl, "compression_ratio", "Ratio", &format!("{:.3}", r.compression_ratio), &json(&r.compression_ratio));
    metric(dl, "encode_ms", "Encode time", &format::ms(r.encode_ms), &json(&r.encode_ms));
    metric(dl, "decode_ms", "Decode time", &format::ms(r.decode_ms), &json(&r.decode_ms));
    let kbs = |ms: f64| if ms > 0.0 { format!("{:.1} kB/s", r.original_bytes as f64 / ms) } else { "–".into() };
    metric(dl, "speed", "Encode / decode speed", &format!("{} / {}", kbs(r.encode_ms), kbs(r.decode_ms)), "null");
    metric(dl, "round_trip", "Round trip", if r.round_trip { "✓ decoded in this page, same SHA-256" } else { "✗ the decoded text differs" }, &json(&r.round_trip));
}

/// The text as characters: valid UTF-8 as it is, each invalid byte as a visible U+FFFD.
/// Returns (text, byte offset, byte length) per character.
fn characters(bytes: &[u8]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            out.push((c.to_string(), at, c.len_utf8()));
            at += c.len_utf8();
        }
        for _ in chunk.invalid() {
            out.push(("\u{FFFD}".to_string(), at, 1));
            at += 1;
        }
    }
    out
}

/// The loaded text's description and its (uncoloured) view.
pub(super) fn render_text(p: &Page) {
    let Some(shown) = &p.shown else { return };
    let bad = shown.bytes.utf8_chunks().map(|c| c.invalid().len()).sum::<usize>();
    let mut info = format!("{} — {} ({} bytes)", shown.name, format::bytes(shown.bytes.len()), shown.bytes.len());
    if bad > 0 {
        info.push_str(&format!("; not valid UTF-8: {bad} byte{} shown as �", if bad == 1 { "" } else { "s" }));
    } else {
        info.push_str(", UTF-8");
    }
    if let TextInput::Gallery { id } = &shown.input {
        if let Some(g) = p.gallery.as_ref().and_then(|g| g.iter().find(|g| &g.id == id)) {
            info.push_str(&format!(". {} — {}", g.credit, g.license));
        }
    }
    set_source_info(&info);
    if let Some(s) = by_id::<HtmlElement>("tx-source") {
        set_data(&s, "bytes", &shown.bytes.len().to_string());
        set_data(&s, "sha256", &shown.sha256);
        set_data(&s, "invalid", &bad.to_string());
    }
    let Some(view) = by_id::<HtmlElement>("tx-surprisal") else { return };
    let shown_bytes = &shown.bytes[..shown.bytes.len().min(super::super::SURPRISAL_BYTES)];
    view.set_text_content(Some(&String::from_utf8_lossy(shown_bytes)));
    set_data(&view, "state", "plain");
    if let Some(i) = by_id::<HtmlElement>("tx-surprisal-info") {
        i.set_text_content(Some("…"));
    }
}

fn byte_text(b: u8) -> String {
    match b {
        b' ' => "space".into(),
        b'\n' => "line break".into(),
        b'\t' => "tab".into(),
        0x21..=0x7e => format!("‘{}’", b as char),
        _ => format!("byte 0x{b:02x}"),
    }
}

/// The text coloured by each character's cost; hovering one shows its cost and the guesses.
pub(super) fn render_surprisal(p: &Page, model: &str, costs: &[ByteCost]) {
    let (Some(shown), Some(view)) = (&p.shown, by_id::<HtmlElement>("tx-surprisal")) else { return };
    view.set_text_content(None);
    let bytes = &shown.bytes[..costs.len().min(shown.bytes.len())];
    let total: f64 = costs.iter().map(|c| c.bits as f64).sum();
    let frag = ui::document().create_document_fragment();
    for (text, at, len) in characters(bytes) {
        let bits: f32 = costs[at..at + len].iter().map(|c| c.bits).sum();
        let g = &costs[at].guesses;
        let guesses: Vec<String> = g.iter().map(|(b, q)| format!("{} {:.0} %", byte_text(*b), 100.0 * q)).collect();
        let what = if len == 1 { byte_text(bytes[at]) } else { format!("‘{text}’ ({len} bytes)") };
        let info = format!("{what}: {bits:.2} bits. The network's guesses here: {}", guesses.join(", "));
        // White at 0 bits to red at 8 bits and more.
        let t = (bits / 8.0).clamp(0.0, 1.0);
        let span = text_el("span", "", &text);
        let _ = span.set_attribute("data-info", &info);
        let _ = span.set_attribute("data-at", &at.to_string());
        let _ = span.set_attribute("data-bits", &bits.to_string());
        set_style(&span, "background-color", &format!("rgba(220, 38, 38, {:.2})", 0.85 * t));
        let _ = frag.append_child(&span);
    }
    let _ = view.append_child(&frag);
    set_data(&view, "state", "coloured");
    set_data(&view, "model", model);
    if let Some(i) = by_id::<HtmlElement>("tx-surprisal-info") {
        i.set_text_content(Some(&format!(
            "{} bytes cost {:.0} bits with {model}: {:.3} bits per byte (coded as one chunk). Point at a character.",
            costs.len(),
            total,
            total / costs.len().max(1) as f64
        )));
    }
}

pub(super) fn fill_checkpoints(p: &Page) {
    let Some(s) = by_id::<HtmlSelectElement>("tx-surprisal-model") else { return };
    s.set_text_content(None);
    for m in &p.checkpoints {
        let o = text_el("option", "", m);
        let _ = o.set_attribute("value", m);
        append(&s, &[&o]);
    }
    if let Some(m) = p.checkpoints.first() {
        s.set_value(if p.surprisal_model.is_empty() { m } else { &p.surprisal_model });
    }
}

pub(super) fn plot_status(text: &str, state: &str) {
    if let Some(s) = by_id::<HtmlElement>("tx-plot-status") {
        sides::stage(&s, text, state);
    }
}

/// The checkpoints' plot as `mpqlab sweep --model lm --text … --svg` draws it (our own SVG, made
/// from numbers and the bundled checkpoints' names, escaped), and Pearson's r over the points.
fn checkpoint_plot(p: &Page) -> (String, Option<f64>) {
    let dots: Vec<(String, f64, f64)> = p.plot.points.iter().map(|q| (q.model.clone(), q.bits_per_byte, q.cloze_accuracy)).collect();
    let x: Vec<f64> = dots.iter().map(|d| d.1).collect();
    let y: Vec<f64> = dots.iter().map(|d| d.2).collect();
    let svg = if dots.is_empty() { String::new() } else { mpq_metrics::text::checkpoint_plot_svg(&dots, "bits per byte on heldout-sample.txt (lm coder) — lower is better") };
    (svg, mpq_metrics::text::pearson(&x, &y))
}

/// The checkpoints' export (`kind`: csv, json, svg, png); the JSON is what `mpqlab sweep --model
/// lm --text --cloze` prints.
pub(super) fn export_plot(p: &Page, kind: &str) {
    let points = &p.plot.points;
    let Some(first) = points.first() else { return };
    let (svg, r) = checkpoint_plot(p);
    let stem = "mpqlab-text-checkpoints";
    match kind {
        "csv" => {
            let rows: Vec<Vec<String>> = points
                .iter()
                .map(|q| vec![q.model.clone(), q.bits_per_byte.to_string(), q.cloze_accuracy.to_string(), q.text_bytes.to_string(), q.cloze_items.to_string()])
                .collect();
            let table = mpq_core::export::table_csv(&["model", "bits_per_byte", "cloze_accuracy", "text_bytes", "cloze_items"], &rows);
            ui::export::download_csv_text(stem, &table);
        }
        "json" => {
            let result = format!("{{\"text_bytes\":{},\"cloze_items\":{},\"points\":{},\"pearson_r\":{}}}", first.text_bytes, first.cloze_items, json(points), json(&r));
            ui::export::download_json("checkpoints", stem, &result);
        }
        "svg" => ui::export::download_svg(stem, &svg),
        _ => ui::export::download_svg_as_png(&svg, &format!("{stem}.png")),
    }
}

/// The checkpoints' points as the plot (the SVG `mpqlab sweep --model lm --svg` writes) and a table.
pub(super) fn render_plot(p: &Page) {
    let points = &p.plot.points;
    if let Some(bar) = by_id::<HtmlElement>("tx-plot-export") {
        bar.set_hidden(points.is_empty());
    }
    if let Some(plot) = by_id::<HtmlElement>("tx-plot") {
        let (svg, r) = checkpoint_plot(p);
        plot.set_inner_html(&svg);
        set_data(&plot, "r", &json(&r));
    }
    let rows: Vec<Row> = points
        .iter()
        .map(|q| Row {
            cells: vec![q.model.clone(), format!("{:.4}", q.bits_per_byte), format!("{:.1} %", 100.0 * q.cloze_accuracy), q.cloze_items.to_string()],
            data: vec![("model", q.model.clone()), ("bpb", q.bits_per_byte.to_string()), ("cloze", q.cloze_accuracy.to_string())],
            note: None,
        })
        .collect();
    if let Some(t) = by_id::<HtmlElement>("tx-plot-table") {
        table(&t, &["Checkpoint", "Bits per byte", "Cloze accuracy", "Items"], &rows);
    }
}

/// The box offering to decompress a file shown as text (it may be a stream).
pub(super) fn render_stream_box(p: &Page) {
    let Some(b) = by_id::<HtmlElement>("tx-stream") else { return };
    let file = match (&p.exp.input, &p.shown) {
        (TextInput::File(f), Some(s)) if s.input == p.exp.input => Some(f),
        _ => None,
    };
    b.set_hidden(file.is_none());
    let Some(t) = by_id::<HtmlElement>("tx-stream-text") else { return };
    if t.get_attribute("data-state").as_deref() != Some("idle") {
        return; // a decompression's state or result stays until another text is shown
    }
    if let Some(f) = file {
        t.set_text_content(Some(&format!("{} is shown as text. If it is a compressed stream (gzip, zstd, xz, bzip2, lz4, 7z/PPMd, lm): ", f.name)));
    }
}

/// A new text is shown: the decompress box forgets the last file's result.
pub(super) fn reset_stream_box() {
    if let Some(s) = by_id::<HtmlElement>("tx-stream-text") {
        for k in ["sha256", "bytes", "codec"] {
            let _ = s.remove_attribute(&format!("data-{k}"));
        }
        set_data(&s, "state", "idle");
    }
    if let Some(a) = by_id::<HtmlElement>("tx-decompressed") {
        a.set_hidden(true);
    }
}

pub(super) fn decompress_status(text: &str, state: &str) {
    if let Some(s) = by_id::<HtmlElement>("tx-stream-text") {
        sides::stage(&s, text, state);
    }
}

/// A decompressed stream: its size and hash, a download link.
pub(super) fn show_decompressed(p: &Page, codec: &str, text: Vec<u8>) {
    let Some(a) = by_id::<HtmlAnchorElement>("tx-decompressed") else { return };
    let base = p.shown.as_ref().map_or("decompressed".to_string(), |s| s.name.rsplit_once('.').map_or(s.name.clone(), |(b, _)| b.to_string()));
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(text.as_slice()));
    let len = text.len();
    ui::set_download(&a, &parts, "application/octet-stream", &base, &format!("Download {base} ({})", format::bytes(len)));
    let codec = codec.to_string();
    wasm_bindgen_futures::spawn_local(async move {
        let buf = js_sys::Uint8Array::from(text.as_slice()).buffer();
        let sha = crate::js::sha256_hex(&buf.into()).await.unwrap_or_default();
        decompress_status(&format!("Decompressed ({codec}): {len} bytes, SHA-256 {}…", &sha[..12.min(sha.len())]), "done");
        if let Some(s) = by_id::<HtmlElement>("tx-stream-text") {
            set_data(&s, "sha256", &sha);
            set_data(&s, "bytes", &len.to_string());
            set_data(&s, "codec", &codec);
        }
        with_page(|p| p.status("", "idle", None));
    });
}
