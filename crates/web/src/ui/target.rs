//! A side's "aim for a size" field, for every lab with lossy codecs: a checkbox, a number and a
//! unit. While it is on, the target sets the codec's size parameter (`mpq_core::target`, the
//! CLI's `--target-*`), whose own control is locked to show the value the search chose; the
//! line under it says how near the search came.
//!
//! Test ids: `PREFIX-on`, `PREFIX-value`, `PREFIX-unit`, and `PREFIX-result` (with the
//! search's report as JSON in `data-report`).

use std::rc::Rc;

use mpq_core::target::{Target, TargetReport};
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlElement, HtmlInputElement, HtmlSelectElement};

use super::{append, el, on, set_data, text_el};

/// A unit the field offers: its suffix in a link (`bpp`, `B`, `kbps`), its label, and the
/// number the field starts with.
pub struct Unit {
    pub suffix: &'static str,
    pub label: &'static str,
    pub start: f64,
}

pub const IMAGE_UNITS: [Unit; 2] = [
    Unit { suffix: "bpp", label: "bits per pixel", start: 1.0 },
    Unit { suffix: "B", label: "bytes", start: 20_000.0 },
];

/// The model lab's weights.
pub const MODEL_UNITS: [Unit; 2] = [
    Unit { suffix: "bpw", label: "bits per weight", start: 6.0 },
    Unit { suffix: "B", label: "bytes", start: 60_000.0 },
];

/// The text lab's lossy panel: the `lm` coder's bytes for the kept text.
pub const TEXT_UNITS: [Unit; 1] = [Unit { suffix: "B", label: "bytes (lm coder)", start: 300.0 }];

pub const AUDIO_UNITS: [Unit; 2] = [
    Unit { suffix: "kbps", label: "kbit/s", start: 12.0 },
    Unit { suffix: "B", label: "bytes", start: 20_000.0 },
];

/// The number and unit suffix of a target, as the field shows them.
fn parts(t: &Target) -> (f64, &'static str) {
    match *t {
        Target::Bytes(b) => (b, "B"),
        Target::BitsPerPixel(b) => (b, "bpp"),
        Target::Kbps(k) => (k, "kbps"),
        Target::BitsPerWeight(b) => (b, "bpw"),
    }
}

/// The field, showing `current`; `on_change(target)` gets each valid change (`None`: off).
pub fn field(prefix: &str, units: &'static [Unit], current: Option<Target>, on_change: Rc<dyn Fn(Option<Target>)>) -> HtmlElement {
    let wrap = el("div", "field target", &[("title", "Find the setting that gives this size (as the CLI's --target-… does)")]);
    let label = el("label", "target-on", &[]);
    let on_box: HtmlInputElement = el("input", "", &[("type", "checkbox"), ("data-testid", &format!("{prefix}-on"))]).unchecked_into();
    append(&label, &[&on_box, &text_el("span", "field-name", "Aim for a size")]);
    let value: HtmlInputElement = el(
        "input",
        "number",
        &[("type", "number"), ("min", "0"), ("step", "any"), ("aria-label", "Target size"), ("data-testid", &format!("{prefix}-value"))],
    )
    .unchecked_into();
    let unit: HtmlSelectElement = el("select", "", &[("aria-label", "Unit of the target size"), ("data-testid", &format!("{prefix}-unit"))]).unchecked_into();
    for u in units {
        let opt = text_el("option", "", u.label);
        let _ = opt.set_attribute("value", u.suffix);
        append(&unit, &[&opt]);
    }
    let (start, suffix) = current.as_ref().map(parts).unwrap_or((units[0].start, units[0].suffix));
    on_box.set_checked(current.is_some());
    value.set_value(&start.to_string());
    unit.set_value(suffix);
    value.set_disabled(current.is_none());
    unit.set_disabled(current.is_none());
    append(&wrap, &[&label, &value, &unit]);

    let send = {
        let (on_box, value, unit) = (on_box.clone(), value.clone(), unit.clone());
        move || {
            value.set_disabled(!on_box.checked());
            unit.set_disabled(!on_box.checked());
            if !on_box.checked() {
                on_change(None);
                return;
            }
            match Target::read(&format!("{}{}", value.value().trim(), unit.value())) {
                Ok(t) => {
                    let _ = value.remove_attribute("aria-invalid");
                    on_change(Some(t));
                }
                Err(why) => {
                    let _ = value.set_attribute("aria-invalid", "true");
                    value.set_title(&why);
                }
            }
        }
    };
    let send = Rc::new(send);
    on::<Event>(&on_box, "change", {
        let send = send.clone();
        move |_| send()
    });
    on::<Event>(&value, "change", {
        let send = send.clone();
        move |_| send()
    });
    // A new unit starts at its own usual number (0.5 bpp are not 0.5 bytes).
    on::<Event>(&unit, "change", {
        let value = value.clone();
        move |e: Event| {
            let suffix = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
            if let Some(u) = units.iter().find(|u| u.suffix == suffix) {
                value.set_value(&u.start.to_string());
            }
            send();
        }
    });
    wrap
}

/// The field in the slot element `slot_id`, made again only when `current` is not what it
/// shows (a link or history step changed it), so that typing in it keeps its focus.
pub fn field_in(slot_id: &str, prefix: &str, units: &'static [Unit], current: Option<Target>, on_change: impl Fn(Option<Target>) + 'static) {
    let Some(slot) = super::by_id::<HtmlElement>(slot_id) else { return };
    let shows = current.map(|t| t.to_link_value()).unwrap_or_default();
    if slot.first_child().is_some() && slot.get_attribute("data-shows").as_deref() == Some(shows.as_str()) {
        return;
    }
    set_data(&slot, "shows", &shows);
    slot.set_text_content(None);
    let mark = slot.clone();
    append(&slot, &[&field(prefix, units, current, deferred(move |t: Option<Target>| {
        // The field shows this now: the render this change causes keeps it as it is.
        set_data(&mark, "shows", &t.map(|t| t.to_link_value()).unwrap_or_default());
        on_change(t)
    }))]);
}

/// A side's field, appended to its settings (`params_el`) for a lossy codec, with the control
/// of the parameter the target sets (`PARAMS_PREFIX-NAME`) locked while a target is on.
/// `on_change` is called after the event that changed the target has been handled (see
/// [`deferred`]).
#[allow(clippy::too_many_arguments)]
pub fn attach(
    params_el: &HtmlElement,
    prefix: &str,
    params_prefix: &str,
    units: &'static [Unit],
    lossless: bool,
    rate_param: Option<&str>,
    current: Option<Target>,
    on_change: impl Fn(Option<Target>) + 'static,
) {
    if lossless {
        return;
    }
    append(params_el, &[&field(prefix, units, current, deferred(on_change))]);
    if let (Some(_), Some(rate)) = (current, rate_param) {
        lock_param(params_el, params_prefix, rate, None);
    }
}

/// `f`, run once the event being handled is over: the page re-renders a side's settings when
/// its target changes, and removing a focused number box fires its `change` again, which must
/// not re-enter the handler still running.
fn deferred(f: impl Fn(Option<Target>) + 'static) -> Rc<dyn Fn(Option<Target>)> {
    let f = Rc::new(f);
    Rc::new(move |t| {
        let f = f.clone();
        wasm_bindgen_futures::spawn_local(async move { f(t) });
    })
}

/// The line that says how near the search came (empty without a target).
pub fn result_line(prefix: &str) -> HtmlElement {
    let p = el("p", "target-result", &[("data-testid", &format!("{prefix}-result")), ("aria-live", "polite")]);
    p.set_hidden(true);
    p
}

/// Shows `report` in its line (hides the line for `None`).
pub fn show_result(line: &HtmlElement, report: Option<&TargetReport>) {
    let Some(r) = report else {
        line.set_hidden(true);
        line.set_text_content(None);
        let _ = line.remove_attribute("data-report");
        return;
    };
    line.set_hidden(false);
    let chosen = match (&r.param, &r.value) {
        (Some(p), Some(v)) => format!("{p} {}", v.to_string().replace(',', ", ")),
        _ => "its one rate".to_string(),
    };
    let pct = 100.0 * r.relative_error;
    let mut text = format!(
        "{} {chosen}: {} B, {pct:+.1} % from {} ({} encodes).",
        if r.reached { "✓ Aimed, chose" } else { "⚠ Nearest:" },
        r.bytes,
        r.target,
        r.encodes
    );
    if let Some(note) = &r.note {
        text.push(' ');
        text.push_str(note);
        text.push('.');
    }
    line.set_text_content(Some(&text));
    set_data(line, "reached", &r.reached.to_string());
    set_data(line, "report", &serde_json::to_string(r).unwrap_or_default());
}

/// Locks the control of the parameter the target sets (in `params_el`, test id
/// `PARAMS_PREFIX-NAME`), showing `value` once the search has chosen it.
pub fn lock_param(params_el: &HtmlElement, params_prefix: &str, name: &str, value: Option<&mpq_core::ParamValue>) {
    for id in [format!("{params_prefix}-{name}"), format!("{params_prefix}-{name}-number")] {
        let Ok(Some(e)) = params_el.query_selector(&format!("[data-testid=\"{id}\"]")) else { continue };
        if let Some(input) = e.dyn_ref::<HtmlInputElement>() {
            input.set_disabled(true);
            input.set_title("Set by the target size");
            if let Some(v) = value {
                input.set_value(&v.to_string());
            }
        } else if let Some(select) = e.dyn_ref::<HtmlSelectElement>() {
            select.set_disabled(true);
            select.set_title("Set by the target size");
            if let Some(v) = value {
                select.set_value(&v.to_string());
            }
        }
    }
}
