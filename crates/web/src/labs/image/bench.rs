//! The image lab's timing table on the page: every codec on three gallery photos in this
//! browser, median of N runs (`?runs=N` in the address; 3 by default). It runs on the lab's own
//! worker, after whatever the sides need; `mpqlab bench` runs the same loop natively.

use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlButtonElement, HtmlElement, HtmlProgressElement};

use super::page::with_page;
use super::{BENCH_PHOTOS, BenchRow, Catalog, Request};
use crate::format;
use crate::ui::dom::Row;
use crate::ui::{self, by_id, on, set_data, table};

#[derive(Default)]
pub struct BenchPanel {
    wanted: bool,
    rows: Vec<BenchRow>,
}


pub fn wire() {
    if let Some(b) = by_id::<HtmlButtonElement>("bench-run") {
        on::<Event>(&b, "click", |_| {
            with_page(|p| {
                p.bench.rows.clear();
                p.bench.render(None);
                p.bench.wanted = true;
                set_running(true);
                p.pump();
            });
        });
    }
    if let Some(b) = by_id::<HtmlButtonElement>("bench-cancel") {
        on::<Event>(&b, "click", |_| {
            with_page(|p| {
                p.bench.wanted = false;
                p.cancel_bench();
                p.bench.finish(Some("cancelled"));
            });
        });
    }
}

impl BenchPanel {
    /// The request, once, when a run was asked for.
    pub fn take_request(&mut self) -> Option<Request> {
        if !std::mem::take(&mut self.wanted) {
            return None;
        }
        Some(Request::Bench { urls: BENCH_PHOTOS.iter().map(|n| format!("gallery/{n}.png")).collect(), runs: ui::bench_runs() })
    }

    pub fn on_progress(&self, stage: &str, done: f64, total: f64) {
        if let (Some(p), Some(s)) = (by_id::<HtmlProgressElement>("bench-progress"), by_id::<HtmlElement>("bench-status")) {
            p.set_hidden(false);
            p.set_value(if total > 0.0 { done / total } else { 0.0 });
            s.set_text_content(Some(&format!("{} of {}: {stage}", done as u32 + 1, total as u32)));
        }
    }

    pub fn add_row(&mut self, row: BenchRow, catalog: Option<&Catalog>) {
        self.rows.push(row);
        self.render(catalog);
    }

    fn render(&self, catalog: Option<&Catalog>) {
        let Some(t) = by_id::<HtmlElement>("bench-table") else { return };
        let name = |id: &str| catalog.and_then(|c| c.codecs.iter().find(|x| x.id == id)).map_or(id.to_string(), |c| c.name.clone());
        let rows: Vec<Row> = self
            .rows
            .iter()
            .map(|r| match &r.error {
                Some(e) => Row { cells: vec![name(&r.codec), r.image.clone()], data: vec![], note: Some((e.clone(), "err")) },
                None => Row {
                    cells: vec![
                        name(&r.codec),
                        r.image.clone(),
                        format::bytes(r.bytes.unwrap_or(0)),
                        format!("{:.3}", r.bits_per_pixel.unwrap_or(0.0)),
                        format::ms(r.encode_ms.unwrap_or(0.0)),
                        format::ms(r.decode_ms.unwrap_or(0.0)),
                    ],
                    data: vec![],
                    note: None,
                },
            })
            .collect();
        table(&t, &["Codec", "Photo", "Size", "bpp", "Encode (median)", "Decode (median)"], &rows);
    }

    pub fn finish(&mut self, problem: Option<&str>) {
        set_running(false);
        if let Some(s) = by_id::<HtmlElement>("bench-status") {
            let text = match problem {
                Some(p) => format!("Stopped ({p}) after {} rows.", self.rows.len()),
                None => format!("Done: {} rows, median of {} runs each.", self.rows.len(), ui::bench_runs()),
            };
            s.set_text_content(Some(&text));
            set_data(&s, "state", if problem.is_some() { "stopped" } else { "done" });
        }
        if let Some(pre) = by_id::<HtmlElement>("bench-json") {
            pre.set_text_content(Some(&serde_json::to_string_pretty(&self.rows).unwrap_or_default()));
        }
    }
}

fn set_running(running: bool) {
    crate::ui::set_running(&["bench-run"], "bench-cancel", "bench-progress", running, |_| false);
    if let Some(s) = by_id::<HtmlElement>("bench-status") {
        s.set_text_content(Some(if running { "starting…" } else { "" }));
        let _ = s.unchecked_ref::<web_sys::Element>().remove_attribute("data-state");
    }
}
