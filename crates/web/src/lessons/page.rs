//! The lessons in the page: the list (a dialog opened from the header's *Lessons*, or by
//! `?lessons` in the address), and the lesson bar at the foot of the page — the step's text, its
//! question, and its claims, each checked on the page's numbers as they arrive and again
//! whenever they change (a user trying the question sees the claims follow). A step opens its
//! experiment link as a typed address would; the lesson and step are in the address's query
//! (`?lesson=ID&step=N#/image?…`), so a lesson link reopens the lesson where it was.
//!
//! Presenter mode (the bar's button, or P) sets large type for the lesson; PageDown / PageUp (a
//! presenter's remote) and → / ← (when no control has the focus) go from step to step.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, HtmlButtonElement, HtmlElement, KeyboardEvent};

use super::{LessonFile, Named, Value, reading_at};
use crate::ui::{self, append, by_id, el, on, set_data, text_el};

#[derive(Default)]
struct State {
    file: Option<Rc<LessonFile>>,
    /// Lesson index and step index (0-based) on screen.
    active: Option<(usize, usize)>,
    presenter: bool,
    /// What each claim's line shows now (state and numbers), to touch the page only on change.
    shown: Vec<String>,
    polling: bool,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// How often the claims are checked against the page (ms): cheap (a few selectors).
const POLL_MS: i32 = 300;

/// Wires the header's button, the dialog and the bar; opens what the address asks for
/// (`fragment`: the experiment the address named when the page opened, before the shell's
/// routing wrote the lab's defaults into it).
pub fn start(fragment: &str) {
    let click = |id: &str, f: fn()| {
        if let Some(b) = by_id::<HtmlButtonElement>(id) {
            on::<Event>(&b, "click", move |_| f());
        }
    };
    click("lessons-open", open_list);
    click("lessons-close", close_list);
    click("lesson-prev", || go(-1));
    click("lesson-next", || go(1));
    click("lesson-present", || set_presenter(None));
    click("lesson-close", end);
    on::<KeyboardEvent>(&ui::document(), "keydown", on_key);
    let fragment = fragment.to_string();
    if let Some(id) = ui::query_param("lesson") {
        let step = ui::query_param("step").and_then(|s| s.parse::<usize>().ok()).unwrap_or(1).max(1) - 1;
        let presenter = ui::query_param("present").is_some();
        with_file(move |file| {
            match file.lessons.iter().position(|l| l.id == id) {
                Some(k) => {
                    set_presenter(Some(presenter));
                    // A reload keeps the experiment in the address (the user may have tried
                    // the question); a lesson link without one opens the step's.
                    let own = fragment.strip_prefix("#/").and_then(|h| h.split(['?', '/']).next()) == Some(file.lessons[k].lab.as_str());
                    begin(k, step.min(file.lessons[k].steps.len() - 1), false, !own);
                }
                None => ui::show_error(&format!("There is no lesson '{id}' in this page's lessons.")),
            }
        });
    } else if ui::query_param("lessons").is_some() {
        open_list();
    }
}

/// Runs `f` with the lessons file, fetching it the first time; a file that cannot be read or
/// is not valid is said in the banner and in the dialog.
fn with_file(f: impl FnOnce(Rc<LessonFile>) + 'static) {
    if let Some(file) = STATE.with(|s| s.borrow().file.clone()) {
        f(file);
        return;
    }
    status("Loading the lessons…");
    wasm_bindgen_futures::spawn_local(async move {
        let parsed = match crate::js::fetch_bytes(super::LESSONS_FILE).await {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| "the lessons file is not UTF-8".to_string()).and_then(|t| LessonFile::parse(&t)),
            Err(e) => Err(format!("the lessons could not be loaded: {e}")),
        };
        match parsed {
            Ok(file) => {
                let file = Rc::new(file);
                STATE.with(|s| s.borrow_mut().file = Some(file.clone()));
                status("");
                f(file);
            }
            Err(e) => {
                status(&format!("⚠ {e}"));
                ui::show_error(&format!("Lessons: {e}"));
            }
        }
    });
}

fn status(text: &str) {
    if let Some(s) = by_id::<HtmlElement>("lessons-status") {
        s.set_text_content(Some(text));
    }
}

fn dialog() -> Option<HtmlElement> {
    by_id::<HtmlElement>("lessons")
}

/// The list of lessons, one card each: its lab, title, summary, steps and a *Start* button.
fn open_list() {
    if let Some(d) = dialog() {
        call(&d, "showModal");
    }
    with_file(|file| {
        let Some(list) = by_id::<HtmlElement>("lessons-list") else { return };
        list.set_text_content(None);
        let pages = crate::labs::pages();
        for (k, lesson) in file.lessons.iter().enumerate() {
            let li = el("li", "lesson-card", &[("data-lesson", &lesson.id)]);
            let lab = text_el("span", "lesson-lab", pages.iter().find(|p| p.id == lesson.lab).map_or(lesson.lab.as_str(), |p| p.title));
            let title = text_el("h3", "", &lesson.title);
            let summary = text_el("p", "", &lesson.summary);
            let n = lesson.steps.len();
            let claims: usize = lesson.steps.iter().map(|s| s.claims.len()).sum();
            let meta = text_el("p", "hint", &format!("{n} step{}, {claims} checked claim{}", if n == 1 { "" } else { "s" }, if claims == 1 { "" } else { "s" }));
            let go: HtmlButtonElement = text_el("button", "", "Start").unchecked_into();
            let _ = go.set_attribute("type", "button");
            let _ = go.set_attribute("data-testid", &format!("lesson-start-{}", lesson.id));
            let _ = go.set_attribute("aria-label", &format!("Start the lesson “{}”", lesson.title));
            on::<Event>(&go, "click", move |_| begin(k, 0, true, true));
            append(&li, &[&lab, &title, &summary, &meta, &go]);
            append(&list, &[&li]);
        }
        set_data(&list, "count", &file.lessons.len().to_string());
        // The first card's button has the focus, so Enter starts it and Tab walks the list.
        if let Some(b) = list.query_selector("button").ok().flatten().and_then(|b| b.dyn_into::<HtmlElement>().ok()) {
            let _ = b.focus();
        }
    });
}

fn close_list() {
    if let Some(d) = dialog() {
        call(&d, "close");
    }
}

/// Calls a method without arguments (the dialog's `showModal` / `close`), if it exists.
fn call(target: &JsValue, method: &str) {
    if let Ok(f) = crate::js::get(target, method).dyn_into::<js_sys::Function>() {
        let _ = f.call0(target);
    }
}

fn begin(k: usize, step: usize, from_list: bool, open: bool) {
    close_list();
    STATE.with(|s| s.borrow_mut().active = Some((k, step)));
    show_step(open);
    if from_list {
        // Keyboard users continue from the bar.
        if let Some(b) = by_id::<HtmlElement>("lesson-next") {
            let _ = b.focus();
        }
    }
}

fn go(delta: isize) {
    let moved = STATE.with(|s| {
        let mut s = s.borrow_mut();
        let file = s.file.clone()?;
        let (k, step) = s.active?;
        let n = file.lessons[k].steps.len() as isize;
        let next = step as isize + delta;
        if !(0..n).contains(&next) {
            return None;
        }
        s.active = Some((k, next as usize));
        Some(())
    });
    if moved.is_some() {
        show_step(true);
    }
}

fn end() {
    STATE.with(|s| s.borrow_mut().active = None);
    set_presenter(Some(false));
    if let Some(bar) = by_id::<HtmlElement>("lesson-bar") {
        bar.set_hidden(true);
    }
    if let Some(body) = ui::document().body() {
        let _ = body.class_list().remove_1("has-lesson");
    }
    write_query(None);
}

/// The lesson in the address's query, beside the experiment in its fragment (the query's
/// other settings, such as `runs=` or `workers=`, stay).
fn write_query(at: Option<(&str, usize, bool)>) {
    let Some(w) = web_sys::window() else { return };
    let hash = w.location().hash().unwrap_or_default();
    let path = w.location().pathname().unwrap_or_default();
    let search = w.location().search().unwrap_or_default();
    let mut parts: Vec<String> = search
        .trim_start_matches('?')
        .split('&')
        .filter(|kv| !kv.is_empty() && !["lesson", "step", "present", "lessons"].contains(&kv.split('=').next().unwrap_or_default()))
        .map(str::to_string)
        .collect();
    if let Some((id, step, presenter)) = at {
        parts.push(format!("lesson={id}"));
        parts.push(format!("step={}", step + 1));
        if presenter {
            parts.push("present".into());
        }
    }
    let query = if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) };
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}{query}{hash}")));
    }
}

/// The lessons file and the lesson and step on screen, if one is.
fn active() -> Option<(Rc<LessonFile>, usize, usize)> {
    STATE.with(|s| {
        let s = s.borrow();
        let (k, step) = s.active?;
        Some((s.file.clone()?, k, step))
    })
}

/// Shows the active step, opening its experiment when `open`.
fn show_step(open: bool) {
    let Some((file, k, step)) = active() else { return };
    let lesson = &file.lessons[k];
    let st = &lesson.steps[step];
    let presenter = STATE.with(|s| s.borrow().presenter);
    write_query(Some((&lesson.id, step, presenter)));
    if open {
        crate::shell::open_link(&st.link);
    }
    let Some(bar) = by_id::<HtmlElement>("lesson-bar") else { return };
    bar.set_hidden(false);
    if let Some(body) = ui::document().body() {
        let _ = body.class_list().add_1("has-lesson");
    }
    set_data(&bar, "lesson", &lesson.id);
    set_data(&bar, "step", &(step + 1).to_string());
    set_data(&bar, "steps", &lesson.steps.len().to_string());
    set_data(&bar, "state", "waiting");
    let text = |id: &str, t: &str| {
        if let Some(e) = by_id::<HtmlElement>(id) {
            e.set_text_content(Some(t));
            e.set_hidden(t.is_empty());
        }
    };
    text("lesson-title", &lesson.title);
    text("lesson-step", &format!("Step {} of {}", step + 1, lesson.steps.len()));
    text("lesson-text", &st.text);
    text("lesson-question", &st.question.as_ref().map_or(String::new(), |q| format!("Try: {q}")));
    if let Some(b) = by_id::<HtmlButtonElement>("lesson-prev") {
        b.set_disabled(step == 0);
    }
    if let Some(b) = by_id::<HtmlButtonElement>("lesson-next") {
        b.set_disabled(step + 1 == lesson.steps.len());
    }
    if let Some(list) = by_id::<HtmlElement>("lesson-claims") {
        list.set_text_content(None);
        for claim in &st.claims {
            let li = el("li", "claim", &[("data-check", claim.check.text()), ("data-state", "waiting")]);
            append(&li, &[&text_el("span", "claim-mark", "…"), &text_el("span", "claim-say", &claim.say), &text_el("span", "claim-numbers", "")]);
            append(&list, &[&li]);
        }
        list.set_hidden(st.claims.is_empty());
    }
    STATE.with(|s| s.borrow_mut().shown = vec![String::new(); st.claims.len()]);
    check_claims();
    start_polling();
}

fn start_polling() {
    if STATE.with(|s| std::mem::replace(&mut s.borrow_mut().polling, true)) {
        return;
    }
    let tick = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(check_claims);
    if let Some(w) = web_sys::window() {
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), POLL_MS);
    }
    tick.forget();
}

/// Reads the page's numbers the step's claims name and shows each claim's outcome.
fn check_claims() {
    let Some((file, k, step)) = active() else { return };
    let lesson = &file.lessons[k];
    let st = &lesson.steps[step];
    let Some(readings) = file.readings.get(&lesson.lab) else { return };
    let doc = ui::document();
    let matches = |sel: &str| doc.query_selector(sel).ok().flatten().is_some();
    // Only the lab this lesson is about, once its results are complete.
    let ready = crate::ui::history::active() == lesson.lab && readings.ready.iter().chain(&st.ready).all(|s| matches(s));
    let mut values: Named<Value> = Named::default();
    if ready {
        for claim in &st.claims {
            for name in claim.check.names() {
                if values.contains_key(&name) {
                    continue;
                }
                let Some(at) = readings.values.get(&name).and_then(|spec| reading_at(spec).ok()) else { continue };
                let Some(e) = doc.query_selector(at.selector).ok().flatten() else { continue };
                let raw = if at.attribute == "text" { e.text_content() } else { e.get_attribute(at.attribute) };
                if let Some(v) = raw.as_deref().and_then(Value::from_attribute) {
                    values.insert(name, v);
                }
            }
        }
    }
    let Some(list) = by_id::<HtmlElement>("lesson-claims") else { return };
    let Ok(items) = list.query_selector_all(":scope > li") else { return };
    let mut all_checked = true;
    let mut holding = 0;
    for (i, claim) in st.claims.iter().enumerate() {
        let outcome = if ready { LessonFile::judge(claim, &values) } else { Ok(None) };
        let (state, mark) = match &outcome {
            Ok(Some(true)) => ("holds", "✓"),
            Ok(Some(false)) => ("fails", "✗"),
            Ok(None) => ("waiting", "…"),
            Err(_) => ("error", "⚠"),
        };
        all_checked &= state != "waiting";
        holding += usize::from(state == "holds");
        let used = claim.check.names();
        let numbers = match (&outcome, ready) {
            (Err(e), _) => format!("cannot be checked: {e}"),
            (_, false) => "waiting for the page's numbers…".to_string(),
            _ => used.iter().filter_map(|n| values.get(n).map(|v| format!("{n} = {v}"))).collect::<Vec<_>>().join(", "),
        };
        let json = format!(
            "{{{}}}",
            used.iter().filter_map(|n| values.get(n).map(|v| format!("{}:{}", Value::Str(n.clone()).to_json(), v.to_json()))).collect::<Vec<_>>().join(",")
        );
        let key = format!("{state}|{numbers}|{json}");
        if STATE.with(|s| s.borrow().shown.get(i) == Some(&key)) {
            continue;
        }
        STATE.with(|s| {
            if let Some(slot) = s.borrow_mut().shown.get_mut(i) {
                slot.clone_from(&key);
            }
        });
        let Some(li) = items.item(i as u32).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else { continue };
        let _ = li.set_attribute("data-state", state);
        let _ = li.set_attribute("data-values", &json);
        if let Some(m) = li.query_selector(".claim-mark").ok().flatten() {
            m.set_text_content(Some(mark));
        }
        if let Some(n) = li.query_selector(".claim-numbers").ok().flatten() {
            n.set_text_content(Some(&format!(" ({numbers})")));
        }
    }
    if let Some(bar) = by_id::<HtmlElement>("lesson-bar") {
        let state = if all_checked { "checked" } else { "waiting" };
        if bar.get_attribute("data-state").as_deref() != Some(state) {
            set_data(&bar, "state", state);
        }
        set_data(&bar, "holding", &holding.to_string());
    }
}

/// Presenter mode on, off (`Some`) or toggled (`None`).
fn set_presenter(on: Option<bool>) {
    let now = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.presenter = on.unwrap_or(!s.presenter);
        s.presenter
    });
    if let Some(body) = ui::document().body() {
        let _ = if now { body.class_list().add_1("presenter") } else { body.class_list().remove_1("presenter") };
        // The room looks at the results, not the gallery: fold the pickers (their summary
        // opens them again).
        if now {
            ui::input::fold_pickers(&body);
        }
    }
    if let Some(b) = by_id::<HtmlElement>("lesson-present") {
        let _ = b.set_attribute("aria-pressed", if now { "true" } else { "false" });
    }
    let at = STATE.with(|s| {
        let s = s.borrow();
        s.active.and_then(|(k, step)| s.file.as_ref().map(|f| (f.lessons[k].id.clone(), step)))
    });
    if let Some((id, step)) = at {
        write_query(Some((&id, step, now)));
    }
}

fn on_key(e: KeyboardEvent) {
    let active = STATE.with(|s| s.borrow().active.is_some());
    if !active || e.ctrl_key() || e.meta_key() || e.alt_key() {
        return;
    }
    // Never while typing, choosing or ticking: those keys belong to the control.
    let target = e.target().and_then(|t| t.dyn_into::<HtmlElement>().ok());
    if target.as_ref().is_some_and(|t| matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || t.is_content_editable()) {
        return;
    }
    // Arrows and P only when nothing else would take them (the split and the viewer use arrows).
    let doc = ui::document();
    let focus = doc.active_element();
    let bar = by_id::<HtmlElement>("lesson-bar");
    let free = focus.as_ref().is_none_or(|f| doc.body().is_some_and(|b| b.is_same_node(Some(f))) || bar.as_ref().is_some_and(|bar| bar.contains(Some(f))));
    let presenter = STATE.with(|s| s.borrow().presenter);
    match e.key().as_str() {
        "PageDown" => go(1),
        "PageUp" => go(-1),
        "ArrowRight" if free => go(1),
        "ArrowLeft" if free => go(-1),
        "p" | "P" if free => set_presenter(None),
        "Escape" if presenter => set_presenter(Some(false)),
        _ => return,
    }
    e.prevent_default();
}
