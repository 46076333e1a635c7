//! Codec settings as controls, generated from the codec's schema ([`ParamSpec`]): every lab's
//! sides use these, so a new codec needs no UI code.

use std::rc::Rc;

use mpq_core::{ParamKind, ParamSpec, ParamValue};
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlElement, HtmlInputElement, HtmlSelectElement};

use super::history::Step;
use super::{append, el, on, text_el};

/// Called with a setting's name, its new value, and how the history should record it.
pub type OnChange = Rc<dyn Fn(&str, ParamValue, Step)>;

/// A codec setting's control, built from its schema (no per-codec UI code): a slider with a
/// number box, a select or a checkbox. `testid_prefix` names it for tests (`PREFIX-NAME`);
/// `on_change(name, value, step)` is called with each valid value.
pub fn control(testid_prefix: &str, spec: &ParamSpec, value: &ParamValue, on_change: OnChange) -> HtmlElement {
    let wrap = el("label", "field", &[("title", &spec.help)]);
    append(&wrap, &[&text_el("span", "field-name", &spec.label)]);
    let testid = format!("{testid_prefix}-{}", spec.name);
    let pname = spec.name.clone();
    match &spec.kind {
        ParamKind::Int { .. } | ParamKind::Float { .. } => numeric_control(&wrap, spec, value, &testid, on_change.clone()),
        ParamKind::Choice { options } => {
            let select: HtmlSelectElement = el("select", "", &[("data-testid", &testid)]).unchecked_into();
            for o in options {
                let opt = text_el("option", "", o);
                let _ = opt.set_attribute("value", o);
                append(&select, &[&opt]);
            }
            select.set_value(&value.to_string());
            on::<Event>(&select, "change", move |e| {
                let v = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
                on_change(&pname, ParamValue::Choice(v), Step::Push);
            });
            append(&wrap, &[&select]);
        }
        ParamKind::Bool => {
            let input: HtmlInputElement = el("input", "", &[("type", "checkbox"), ("data-testid", &testid)]).unchecked_into();
            input.set_checked(matches!(value, ParamValue::Bool(true)));
            on::<Event>(&input, "change", move |e| {
                let v = e.target().map(|t| t.unchecked_into::<HtmlInputElement>().checked()).unwrap_or(false);
                on_change(&pname, ParamValue::Bool(v), Step::Push);
            });
            append(&wrap, &[&input]);
        }
    }
    if let Some(unit) = &spec.unit {
        append(&wrap, &[&text_el("span", "unit", unit)]);
    }
    wrap
}

/// A range slider with a number box beside it, kept in sync; either one sets the value.
fn numeric_control(wrap: &HtmlElement, spec: &ParamSpec, value: &ParamValue, testid: &str, on_change: OnChange) {
    let (min, max, step, is_int) = match spec.kind {
        ParamKind::Int { min, max, step } => (min as f64, max as f64, step as f64, true),
        ParamKind::Float { min, max, step } => (min, max, step, false),
        _ => return,
    };
    let v = match value {
        ParamValue::Int(i) => *i as f64,
        ParamValue::Float(x) => *x,
        ParamValue::Choice(s) => s.parse().unwrap_or(min),
        ParamValue::Bool(_) => min,
    };
    let mk = |kind: &str, id: String| -> HtmlInputElement {
        let attrs = [
            ("type", kind.to_string()),
            ("min", min.to_string()),
            ("max", max.to_string()),
            ("step", step.to_string()),
            ("data-testid", id),
            ("aria-label", spec.label.clone()),
        ];
        let refs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        el("input", kind, &refs).unchecked_into()
    };
    let range = mk("range", testid.to_string());
    let number = mk("number", format!("{testid}-number"));
    range.set_value(&v.to_string());
    number.set_value(&v.to_string());
    for (src, other) in [(range.clone(), number.clone()), (number.clone(), range.clone())] {
        let pname = spec.name.clone();
        let on_change = on_change.clone();
        on::<Event>(&src, "input", move |e| {
            let Some(input) = e.target().map(|t| t.unchecked_into::<HtmlInputElement>()) else { return };
            let x = input.value_as_number();
            if !x.is_finite() || x < min || x > max {
                let _ = input.set_attribute("aria-invalid", "true");
                return; // an out-of-range number box is shown as invalid, not sent
            }
            let _ = input.remove_attribute("aria-invalid");
            other.set_value(&input.value());
            let value = if is_int { ParamValue::Int(x.round() as i64) } else { ParamValue::Float(x) };
            on_change(&pname, value, Step::Gesture);
        });
    }
    append(wrap, &[&range, &number]);
}

