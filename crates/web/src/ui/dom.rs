//! Tiny DOM helpers so the UI code reads as structure, not as web-sys plumbing. Text always
//! goes in as text ([`text_el`], [`table`]): nothing from a file, a link or a worker is ever
//! parsed as HTML.

use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{Document, Element, Event, EventTarget, HtmlElement};

pub fn document() -> Document {
    web_sys::window().and_then(|w| w.document()).expect("the UI runs on a page")
}

/// Creates `<tag class=…>` with attributes.
pub fn el(tag: &str, class: &str, attrs: &[(&str, &str)]) -> HtmlElement {
    let e: HtmlElement = document().create_element(tag).expect("valid tag").unchecked_into();
    if !class.is_empty() {
        e.set_class_name(class);
    }
    for (k, v) in attrs {
        let _ = e.set_attribute(k, v);
    }
    e
}

/// Like [`el`] with text content.
pub fn text_el(tag: &str, class: &str, text: &str) -> HtmlElement {
    let e = el(tag, class, &[]);
    e.set_text_content(Some(text));
    e
}

pub fn append(parent: &Element, children: &[&Element]) {
    for c in children {
        let _ = parent.append_child(c);
    }
}

pub fn by_id<T: JsCast>(id: &str) -> Option<T> {
    document().get_element_by_id(id).and_then(|e| e.dyn_into::<T>().ok())
}

/// Adds an event listener that lives as long as the page (UI elements here are created once
/// or replaced wholesale, so the small leak of a replaced control's closure is bounded).
pub fn on<E: JsCast + 'static>(target: &EventTarget, event: &str, mut f: impl FnMut(E) + 'static) {
    let cb = Closure::<dyn FnMut(Event)>::new(move |e: Event| f(e.unchecked_into::<E>()));
    let _ = target.add_event_listener_with_callback(event, cb.as_ref().unchecked_ref());
    cb.forget();
}

pub fn set_style(e: &HtmlElement, prop: &str, value: &str) {
    let _ = e.style().set_property(prop, value);
}

/// A table row: its cells' texts and `data-*` attributes for the row.
pub struct Row {
    pub cells: Vec<String>,
    pub data: Vec<(&'static str, String)>,
    /// A cell with this class (`err`) spanning the rest of the row, if any.
    pub note: Option<(String, &'static str)>,
}

/// Fills `table` with a header row and `rows`, all as text.
pub fn table(table: &Element, headers: &[&str], rows: &[Row]) {
    table.set_text_content(None);
    if rows.is_empty() {
        return;
    }
    let thead = el("thead", "", &[]);
    let tr = el("tr", "", &[]);
    for h in headers {
        let th = text_el("th", "", h);
        let _ = th.set_attribute("scope", "col");
        append(&tr, &[&th]);
    }
    append(&thead, &[&tr]);
    let tbody = el("tbody", "", &[]);
    for r in rows {
        let tr = el("tr", "", &[]);
        for (k, v) in &r.data {
            let _ = tr.set_attribute(&format!("data-{k}"), v);
        }
        for c in &r.cells {
            append(&tr, &[&text_el("td", "", c)]);
        }
        if let Some((text, class)) = &r.note {
            let td = text_el("td", class, text);
            let _ = td.set_attribute("colspan", &(headers.len().saturating_sub(r.cells.len())).to_string());
            append(&tr, &[&td]);
        }
        append(&tbody, &[&tr]);
    }
    append(table, &[&thead, &tbody]);
}

/// A `<dt>label</dt><dd>text</dd>` pair in `dl`; the `dd` carries `data-metric=key` and the raw
/// `data-value` (JSON), so tests (and curious users with devtools) read exact numbers.
pub fn metric(dl: &HtmlElement, key: &str, label: &str, text: &str, raw: &str) {
    let dd = text_el("dd", "", text);
    let _ = dd.set_attribute("data-metric", key);
    let _ = dd.set_attribute("data-value", raw);
    append(dl, &[&text_el("dt", "", label), &dd]);
}

/// A value as JSON text (for `data-value`).
pub fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// A model's classes as bars: an `<ol>` of (class, probability), each `<li>` with
/// `data-class` and `data-p`.
pub fn bars(aria_label: &str, testid: &str, top: &[(String, f32)]) -> HtmlElement {
    let list = el("ol", "bars", &[("aria-label", aria_label), ("data-testid", testid)]);
    for (class, p) in top {
        let li = el("li", "", &[("data-class", class), ("data-p", &p.to_string())]);
        let bar = el("span", "bar", &[]);
        let fill = el("span", "", &[]);
        set_style(&fill, "width", &format!("{:.1}%", 100.0 * p));
        append(&bar, &[&fill]);
        append(&li, &[&text_el("span", "bar-label", class), &bar, &text_el("span", "bar-value", &format!("{:.1} %", 100.0 * p))]);
        append(&list, &[&li]);
    }
    list
}
