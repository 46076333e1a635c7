//! The shell: header with the lab switcher, the copy-link button, the worker module's download
//! progress, the error banner and the credits (static, in index.html), and the routing between
//! the URL fragment and the labs. It knows labs only through `labs::pages()`.

use std::cell::RefCell;

use mpq_core::Experiment;
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlButtonElement, HtmlElement, HtmlInputElement};

use crate::bridge::WorkerModule;
use crate::labs;
use crate::ui::history::{self, Step};
use crate::ui::{self, LabEntry, append, by_id, el, on};

struct Shell {
    labs: Vec<LabEntry>,
    mounted: Vec<bool>,
    shown: Option<usize>,
}

thread_local! {
    static SHELL: RefCell<Option<Shell>> = const { RefCell::new(None) };
}

/// The page's entry: paints the shell, starts loading the worker module, shows the lab the URL
/// names (the image lab by default).
pub fn start() {
    console_error_panic_hook::set_once();
    let labs = labs::pages();
    let (Some(tabs), Some(sections)) = (by_id::<HtmlElement>("lab-tabs"), by_id::<HtmlElement>("labs")) else { return };
    for (k, lab) in labs.iter().enumerate() {
        let tab: HtmlButtonElement = el(
            "button",
            "tab",
            &[("type", "button"), ("role", "tab"), ("id", &format!("tab-{}", lab.id)), ("data-testid", &format!("tab-{}", lab.id)), ("aria-controls", &format!("panel-{}", lab.id)), ("aria-selected", "false")],
        )
        .unchecked_into();
        tab.set_text_content(Some(lab.title));
        on::<Event>(&tab, "click", move |_| switch_to(k));
        on::<web_sys::KeyboardEvent>(&tab, "keydown", move |e| {
            let n = SHELL.with(|s| s.borrow().as_ref().map_or(1, |s| s.labs.len()));
            let next = match e.key().as_str() {
                "ArrowRight" => (k + 1) % n,
                "ArrowLeft" => (k + n - 1) % n,
                _ => return,
            };
            e.prevent_default();
            switch_to(next);
            if let Some(t) = SHELL.with(|s| s.borrow().as_ref().map(|s| s.labs[next].id)).and_then(|id| by_id::<HtmlElement>(&format!("tab-{id}"))) {
                let _ = t.focus();
            }
        });
        append(&tabs, &[&tab]);
        let section = el("section", "lab", &[("id", &format!("panel-{}", lab.id)), ("role", "tabpanel"), ("aria-labelledby", &format!("tab-{}", lab.id))]);
        section.set_hidden(true);
        append(&sections, &[&section]);
    }
    let n = labs.len();
    SHELL.with(|s| *s.borrow_mut() = Some(Shell { labs, mounted: vec![false; n], shown: None }));
    wire_banner_and_link();
    let _ = load_worker_module(WorkerModule::Cpu);
    crate::ui::export::load_build();
    let fragment = history::current_fragment();
    route(&fragment, true);
    if let Some(w) = web_sys::window() {
        for ev in ["popstate", "hashchange"] {
            on::<Event>(&w, ev, |_| route(&history::current_fragment(), false));
        }
    }
    crate::lessons::page::start(&fragment);
    if let Some(status) = by_id::<HtmlElement>("app-status") {
        status.set_text_content(Some("ready"));
        let _ = status.set_attribute("data-ready", "1");
        let _ = status.set_attribute("data-ready-ms", &format!("{:.0}", crate::js::now_ms()));
    }
}

fn entry_index(id: &str) -> Option<usize> {
    SHELL.with(|s| s.borrow().as_ref().and_then(|s| s.labs.iter().position(|l| l.id == id)))
}

/// Shows lab `k` (mounting it the first time); returns its entry's functions.
fn show(k: usize) -> Option<(fn(Experiment), fn() -> Experiment)> {
    let (mount, visible, changed) = SHELL.with(|s| {
        let mut s = s.borrow_mut();
        let s = s.as_mut()?;
        let lab = &s.labs[k];
        let mount = (!s.mounted[k]).then_some(lab.mount);
        s.mounted[k] = true;
        let changed = s.shown != Some(k);
        let previous = s.shown.replace(k).filter(|&p| p != k).map(|p| s.labs[p].visible);
        Some((mount, (previous, lab.visible), changed))
    })?;
    let (id, title, apply, current) = SHELL.with(|s| {
        let s = s.borrow();
        let lab = &s.as_ref().expect("set above").labs[k];
        (lab.id, lab.title, lab.apply, lab.current)
    });
    history::set_active(id);
    if changed {
        for (j, other) in crate::labs::LAB_IDS.iter().enumerate() {
            if let Some(section) = by_id::<HtmlElement>(&format!("panel-{other}")) {
                section.set_hidden(j != k);
            }
            if let Some(tab) = by_id::<HtmlElement>(&format!("tab-{other}")) {
                let _ = tab.set_attribute("aria-selected", if j == k { "true" } else { "false" });
                let _ = tab.set_attribute("tabindex", if j == k { "0" } else { "-1" });
            }
        }
        if let Some(d) = web_sys::window().and_then(|w| w.document()) {
            d.set_title(&format!("mpqlab — {title}"));
        }
    }
    if let (Some(mount), Some(section)) = (mount, by_id::<HtmlElement>(&format!("panel-{id}"))) {
        mount(&section);
        ui::input::compact_pickers(&section);
    }
    if changed {
        if let Some(hide) = visible.0 {
            hide(false);
        }
        (visible.1)(true);
    }
    Some((apply, current))
}

/// A click on a tab: the lab as it was left, written to the URL as a new step.
fn switch_to(k: usize) {
    if let Some((_, current)) = show(k) {
        history::commit(&current(), Step::Push);
    }
}

/// Shows what `fragment` names. On the first call an empty fragment is the image lab with its
/// defaults; later, fragments the page wrote itself are ignored (they are its own state).
fn route(fragment: &str, initial: bool) {
    if !initial && history::is_known(fragment) {
        return;
    }
    let link = if fragment.is_empty() || fragment == "#" { "#/image" } else { fragment };
    match Experiment::parse(link) {
        Ok(exp) => {
            let Some(k) = entry_index(exp.lab()) else {
                refuse(&format!("The {} lab is not in this page yet: `mpqlab run` reproduces this link on the command line.", exp.lab()));
                return;
            };
            history::remember(fragment);
            if let Some((apply, current)) = show(k) {
                apply(exp);
                // The page may have corrected what it could not show (an unknown codec…).
                history::commit(&current(), Step::Replace);
            }
        }
        Err(e) => refuse(&format!("This link cannot be opened: {e}.")),
    }
}

/// Opens `fragment` (a lesson's step) as a new history entry, as a typed address would.
pub fn open_link(fragment: &str) {
    if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = h.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(fragment));
    }
    route(fragment, true);
}

/// Says why a link is not shown, in the banner as text, and stays usable on the lab shown (or
/// the first).
fn refuse(message: &str) {
    let k = SHELL.with(|s| s.borrow().as_ref().and_then(|s| s.shown)).unwrap_or(0);
    ui::show_error(message);
    if let Some((_, current)) = show(k) {
        history::remember("");
        history::commit(&current(), Step::Replace);
    }
}

fn wire_banner_and_link() {
    if let Some(b) = by_id::<HtmlButtonElement>("error-close") {
        on::<Event>(&b, "click", |_| ui::hide_error());
    }
    let (Some(button), Some(field), Some(status)) =
        (by_id::<HtmlButtonElement>("copy-link"), by_id::<HtmlInputElement>("share-link"), by_id::<HtmlElement>("copy-status"))
    else {
        return;
    };
    on::<Event>(&button, "click", move |_| {
        let Some(w) = web_sys::window() else { return };
        let href = w.location().href().unwrap_or_default();
        field.set_value(&href);
        field.set_hidden(false);
        field.select();
        let chars = href.chars().count();
        status.set_text_content(Some(&format!("Copy the link above ({chars} characters).")));
        let status = status.clone();
        let clipboard = w.navigator().clipboard();
        wasm_bindgen_futures::spawn_local(async move {
            let copied = wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&href)).await.is_ok();
            let text = if copied { format!("Link copied ({chars} characters).") } else { format!("Copy the link above ({chars} characters).") };
            status.set_text_content(Some(&text));
        });
    });
}

/// Starts loading worker module `module` (once; later calls return the same promise) and shows
/// its download in the header. The CPU module's state is the status's `data-state` (the tests and
/// the service worker's registration wait for `ready`); the GPU module, loaded the first time a
/// job needs WebGPU, is `data-gpu-state`, so the page's readiness never goes back to loading.
pub fn load_worker_module(module: WorkerModule) -> js_sys::Promise {
    let gpu = module == WorkerModule::Gpu;
    let state_attr = if gpu { "data-gpu-state" } else { "data-state" };
    // Short texts: the header's status area has a fixed width (www/style.css); the title says it
    // in full.
    let set = move |text: &str, state: &str| {
        if let Some(s) = by_id::<HtmlElement>("worker-status") {
            s.set_text_content(Some(text));
            s.set_title(text);
            let _ = s.set_attribute(state_attr, state);
        }
    };
    let what = if gpu { "WebGPU" } else { "Loading" };
    let t0 = crate::js::now_ms();
    let progress = by_id::<web_sys::HtmlProgressElement>("worker-progress");
    let (promise, new) = crate::bridge::page::start_loading_module(module, move |loaded, total| {
        if let Some(s) = by_id::<HtmlElement>("worker-status") {
            let text = if total > 0.0 {
                format!("{what} {:.0} % of {:.1} MB", 100.0 * loaded / total, total / 1e6)
            } else {
                format!("{what} {:.1} MB", loaded / 1e6)
            };
            s.set_text_content(Some(&text));
        }
        if let Some(p) = by_id::<web_sys::HtmlProgressElement>("worker-progress") {
            p.set_hidden(false);
            if total > 0.0 {
                p.set_value(loaded / total);
            }
        }
    });
    // A load already under way (or done) has its status shown already.
    if new {
        set(if gpu { "Loading WebGPU…" } else { "Loading the codecs and models…" }, "loading");
        if let Some(p) = &progress {
            p.set_hidden(false);
        }
        let p = promise.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let outcome = wasm_bindgen_futures::JsFuture::from(p).await;
            if let Some(p) = &progress {
                p.set_hidden(true);
            }
            match outcome {
                Ok(_) => {
                    let s = (crate::js::now_ms() - t0) / 1000.0;
                    if let Some(e) = by_id::<HtmlElement>("worker-status") {
                        let (text, title) = if gpu {
                            (format!("Ready, WebGPU too ({s:.1} s)"), format!("The WebGPU part is loaded too ({s:.1} s)."))
                        } else {
                            (format!("Ready ({s:.1} s)"), format!("The codecs and models are loaded ({s:.1} s)."))
                        };
                        e.set_text_content(Some(&text));
                        e.set_title(&title);
                        let _ = e.set_attribute(state_attr, "ready");
                        if !gpu {
                            let _ = e.set_attribute("data-ms", &format!("{:.0}", s * 1000.0));
                            let _ = e.set_attribute("data-ready-ms", &format!("{:.0}", crate::js::now_ms()));
                        }
                    }
                }
                Err(e) => {
                    let msg = if gpu {
                        format!("The WebGPU part could not be loaded: {}", crate::js::error_text(&e))
                    } else {
                        format!("The codecs and models could not be loaded: {}", crate::js::error_text(&e))
                    };
                    set(if gpu { "WebGPU could not load" } else { &msg }, "error");
                    if let Some(s) = by_id::<HtmlElement>("worker-status") {
                        s.set_title(&msg);
                    }
                    ui::show_error(&msg);
                }
            }
        });
    }
    promise
}
