//! What every lab's page side uses, and what the shell provides: DOM helpers, the error
//! banner, the experiment ↔ URL fragment (history), and [`LabEntry`], the shape of a lab's page
//! side. Nothing here names a lab.

pub mod dom;
pub mod export;
pub mod history;
pub mod input;
pub mod lab_worker;
pub mod params;
pub mod sides;
pub mod sweep;
pub mod target;

use mpq_core::Experiment;
use web_sys::HtmlElement;

pub use dom::{append, by_id, document, el, on, set_style, table, text_el};

/// A lab's page side, as the shell drives it (`labs::pages()` lists one per lab).
pub struct LabEntry {
    /// The lab's id: the first segment of its links (`#/image…`).
    pub id: &'static str,
    /// The tab's label.
    pub title: &'static str,
    /// Builds the lab's page into its (empty) section; called once, before anything else.
    pub mount: fn(&HtmlElement),
    /// Shows an experiment of this lab (from a link, or back/forward).
    pub apply: fn(Experiment),
    /// The lab's experiment as it stands.
    pub current: fn() -> Experiment,
    /// The lab's section was shown (`true`) or hidden.
    pub visible: fn(bool),
}

/// A lab page's state cell (`PAGE`), `with_page` to reach it, and `entry()`, the lab's
/// [`LabEntry`]: `lab_page!(Page, "image", "Image lab", Image)` in the page's module, which
/// has `fn mount(&HtmlElement)` and a `Page` with `exp`, `apply(exp)` and `set_visible(bool)`.
#[macro_export]
macro_rules! lab_page {
    ($page:ty, $id:literal, $title:literal, $variant:ident) => {
        thread_local! {
            static PAGE: std::cell::RefCell<Option<$page>> = const { std::cell::RefCell::new(None) };
        }

        /// Runs `f` on the page (see [`crate::ui::with_state`]).
        pub(super) fn with_page<R>(f: impl FnOnce(&mut $page) -> R) -> Option<R> {
            $crate::ui::with_state(&PAGE, f)
        }

        pub fn entry() -> $crate::ui::LabEntry {
            $crate::ui::LabEntry {
                id: $id,
                title: $title,
                mount,
                apply: |e| {
                    if let mpq_core::Experiment::$variant(e) = e {
                        with_page(|p| p.apply(e));
                    }
                },
                current: || mpq_core::Experiment::$variant(with_page(|p| p.exp.clone()).unwrap_or_default()),
                visible: |v| {
                    with_page(|p| p.set_visible(v));
                },
            }
        }
    };
}

/// Runs `f` on a lab page's state (kept in a thread-local, as event handlers reach it). Handlers
/// never nest (JS is single-threaded and nothing here dispatches events synchronously), so a
/// failed borrow would be a bug: logged, not a panic that kills the page.
pub fn with_state<T: 'static, R>(cell: &'static std::thread::LocalKey<std::cell::RefCell<Option<T>>>, f: impl FnOnce(&mut T) -> R) -> Option<R> {
    cell.with(|c| match c.try_borrow_mut() {
        Ok(mut guard) => guard.as_mut().map(f),
        Err(_) => {
            web_sys::console::warn_1(&"mpqlab: re-entrant UI event ignored".into());
            None
        }
    })
}

/// Shows a message in the page's banner (as text, never as HTML).
pub fn show_error(msg: &str) {
    if let (Some(b), Some(t)) = (by_id::<HtmlElement>("error"), by_id::<HtmlElement>("error-text")) {
        t.set_text_content(Some(msg));
        b.set_hidden(false);
    }
}

/// What of a link this page cannot show (replaced by the defaults), in the banner; `true`
/// when there was something.
pub fn link_problems(problems: &[String]) -> bool {
    if !problems.is_empty() {
        show_error(&format!("Part of this link cannot be shown: {}; the defaults are used instead.", problems.join("; ")));
    }
    !problems.is_empty()
}

pub fn hide_error() {
    if let Some(b) = by_id::<HtmlElement>("error") {
        b.set_hidden(true);
    }
}

/// A panel's buttons while a job runs: `run` buttons disabled (and left so where `keep_disabled`
/// says so), the cancel button and the progress bar shown and reset.
pub fn set_running(run: &[&str], cancel: &str, progress: &str, running: bool, keep_disabled: impl Fn(&str) -> bool) {
    for id in run {
        if let Some(b) = by_id::<web_sys::HtmlButtonElement>(id) {
            b.set_disabled(running || keep_disabled(id));
        }
    }
    if let Some(b) = by_id::<web_sys::HtmlButtonElement>(cancel) {
        b.set_hidden(!running);
    }
    if let Some(p) = by_id::<web_sys::HtmlProgressElement>(progress) {
        p.set_hidden(!running);
        p.set_value(0.0);
    }
}

/// `data-*` attributes the tests (and curious users with devtools) read: raw values, not text.
pub fn set_data(e: &web_sys::Element, key: &str, value: &str) {
    let _ = e.set_attribute(&format!("data-{key}"), value);
}

/// The value of `name` in the page address's query (`?runs=5&present`): `Some("")` for a key
/// without a value, `None` when it is absent.
pub fn query_param(name: &str) -> Option<String> {
    let query = web_sys::window().and_then(|w| w.location().search().ok())?;
    query.trim_start_matches('?').split('&').find_map(|kv| match kv.split_once('=') {
        Some((k, v)) => (k == name).then(|| v.to_string()),
        None => (kv == name).then(String::new),
    })
}

/// Runs per timing in the labs' speed tables: `?runs=N` in the page's address (1…20)
/// overrides the default 3.
pub fn bench_runs() -> u32 {
    query_param("runs")
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|r| (1..=20).contains(r))
        .unwrap_or(3)
}

/// Does this page's browser have the WebGPU API at all (it may still offer no adapter)?
pub fn has_webgpu() -> bool {
    web_sys::window().is_some_and(|w| !crate::js::get(&w.navigator(), "gpu").is_undefined())
}

/// A download link for `text` (revoking the link's previous object URL, if any).
pub fn set_download(a: &web_sys::HtmlAnchorElement, parts: &js_sys::Array, mime: &str, file: &str, label: &str) {
    let old = a.href();
    if old.starts_with("blob:") {
        let _ = web_sys::Url::revoke_object_url(&old);
    }
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type(mime);
    if let Ok(url) = web_sys::Blob::new_with_u8_array_sequence_and_options(parts, &bag).and_then(|b| web_sys::Url::create_object_url_with_blob(&b)) {
        a.set_href(&url);
        a.set_download(file);
        // The file's type, also said on the link (the HTML `type` hint).
        a.set_type(mime);
        a.set_text_content(Some(label));
        a.set_hidden(false);
    }
}
