//! The input chooser every lab's page uses: the user's files kept by hash (a link names a file
//! by its SHA-256, so a restarted worker or a link opened later can ask for it again), reading
//! a picked or dropped file (size checked before it is read), the box that asks for the file a
//! link names, and the gallery's pressed button. Each lab keeps its own ids (a prefix) and
//! its own words for what it reads ("image", "sound", "text").

use mpq_core::experiment::image::FileRef;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DragEvent, Event, HtmlElement, HtmlInputElement};

use super::{by_id, document, on};
use crate::{format, js};

/// A file the user gave, kept while the experiment may need it again.
struct UserFile {
    sha256: String,
    bytes: Vec<u8>,
}

/// The user's files, by hash.
#[derive(Default)]
pub struct UserFiles {
    files: Vec<UserFile>,
}

impl UserFiles {
    pub fn get(&self, sha256: &str) -> Option<&[u8]> {
        self.files.iter().find(|f| f.sha256 == sha256).map(|f| f.bytes.as_slice())
    }

    pub fn has(&self, sha256: &str) -> bool {
        self.get(sha256).is_some()
    }

    /// Keeps only the files whose hashes are in `keep`.
    pub fn retain(&mut self, keep: &[&str]) {
        self.files.retain(|f| keep.contains(&f.sha256.as_str()));
    }

    /// A file the user gave. `needed` is the file the experiment names and the page lacks, if
    /// any: then the file must be that one (`Ok(None)`: stored; `Err`: the reason it is not).
    /// Otherwise it is a new input (`Ok(Some(file))`), stored beside the file in `keep` (the
    /// one shown, which a failed load falls back to). `what` names the lab's inputs ("image").
    fn take(&mut self, needed: Option<&FileRef>, keep: Option<&str>, name: String, bytes: Vec<u8>, sha256: String, what: &str) -> Result<Option<FileRef>, String> {
        let size = bytes.len() as u64;
        if let Some(needed) = needed {
            if needed.sha256 != sha256 || needed.size != size {
                return Err(format!(
                    "{name} is not the file this experiment was made with: it has {} and SHA-256 {}…, the link asks for {} ({}) with SHA-256 {}…. Open that file, or pick another {what}.",
                    format::bytes(size as usize),
                    &sha256[..12.min(sha256.len())],
                    needed.name,
                    format::bytes(needed.size as usize),
                    &needed.sha256[..12.min(needed.sha256.len())]
                ));
            }
            self.files.push(UserFile { sha256, bytes });
            return Ok(None);
        }
        self.files.retain(|f| Some(f.sha256.as_str()) == keep);
        if !self.has(&sha256) {
            self.files.push(UserFile { sha256: sha256.clone(), bytes });
        }
        Ok(Some(FileRef { sha256, size, name }))
    }
}

/// What [`take_file`] needs of a lab's page.
pub trait FilePage {
    type Input: PartialEq + Clone;
    fn files(&mut self) -> &mut UserFiles;
    /// The SHA-256 of the file on screen, if a file is shown.
    fn shown_file(&self) -> Option<String>;
    /// The file the experiment names and the page does not have.
    fn needed_file(&self) -> Option<FileRef>;
    /// Inputs that failed to load (not retried until picked again).
    fn failed_inputs(&mut self) -> &mut Vec<Self::Input>;
    fn current_input(&self) -> Self::Input;
    /// Sets the experiment's input and writes it to the URL as a new history entry.
    fn set_input(&mut self, input: Self::Input);
    /// Puts the experiment's input back to `input` (the URL entry replaced).
    fn replace_input(&mut self, input: Self::Input);
    /// The input on screen, if any.
    fn shown_input(&self) -> Option<Self::Input>;
    /// The user's file an input names, if it names one.
    fn file_of(input: &Self::Input) -> Option<&FileRef>;
    fn file_input(file: FileRef) -> Self::Input;
    fn render_input(&self);
    fn pump(&mut self);
    /// The gallery's index, once fetched.
    fn set_gallery(&mut self, items: Vec<GalleryItem>);
    /// Replaces what the page cannot show (an unknown gallery item, …) by the defaults.
    fn validate(&mut self);
    fn choose_input(&mut self, input: Self::Input);
}

/// [`FilePage`] for a lab page whose state has `files`, `failed_inputs`, `shown.input`,
/// `exp.input` and the methods of the same names: `file_page!(Page, Input, Input::File)`.
#[macro_export]
macro_rules! file_page {
    ($page:ty, $input:ty, $file:path) => {
        impl $crate::ui::input::FilePage for $page {
            type Input = $input;
            fn files(&mut self) -> &mut $crate::ui::input::UserFiles {
                &mut self.files
            }
            fn shown_file(&self) -> Option<String> {
                self.shown.as_ref().and_then(|s| match &s.input {
                    $file(f) => Some(f.sha256.clone()),
                    _ => None,
                })
            }
            fn needed_file(&self) -> Option<mpq_core::experiment::image::FileRef> {
                <$page>::needed_file(self).cloned()
            }
            fn failed_inputs(&mut self) -> &mut Vec<$input> {
                &mut self.failed_inputs
            }
            fn current_input(&self) -> $input {
                self.exp.input.clone()
            }
            fn set_input(&mut self, input: $input) {
                self.exp.input = input;
                self.commit($crate::ui::history::Step::Push);
            }
            fn replace_input(&mut self, input: $input) {
                self.exp.input = input;
                self.commit($crate::ui::history::Step::Replace);
            }
            fn shown_input(&self) -> Option<$input> {
                self.shown.as_ref().map(|s| s.input.clone())
            }
            fn file_of(input: &$input) -> Option<&mpq_core::experiment::image::FileRef> {
                match input {
                    $file(f) => Some(f),
                    _ => None,
                }
            }
            fn file_input(file: mpq_core::experiment::image::FileRef) -> $input {
                $file(file)
            }
            fn render_input(&self) {
                <$page>::render_input(self);
            }
            fn set_gallery(&mut self, items: Vec<$crate::ui::input::GalleryItem>) {
                self.gallery = Some(items);
            }
            fn validate(&mut self) {
                <$page>::validate(self);
            }
            fn pump(&mut self) {
                <$page>::pump(self);
            }
            fn choose_input(&mut self, input: $input) {
                <$page>::choose_input(self, input);
            }
        }
    };
}

/// A file the user gave a lab: the file its link names (checked by hash and size, then loaded),
/// or a new input. `what` names the lab's inputs in messages ("image").
pub fn take_file<P: FilePage>(page: &mut P, name: String, bytes: Vec<u8>, sha256: String, what: &str) {
    let (keep, needed) = (page.shown_file(), page.needed_file());
    match page.files().take(needed.as_ref(), keep.as_deref(), name, bytes, sha256, what) {
        Err(why) => super::show_error(&why),
        Ok(None) => {
            super::hide_error();
            let current = page.current_input();
            page.failed_inputs().retain(|i| *i != current);
            page.render_input();
            page.pump();
        }
        Ok(Some(file)) => page.choose_input(P::file_input(file)),
    }
}

/// Loading `input` failed: said in the banner (unless `quiet`: the worker crashed and the
/// shell said so), not tried again until picked again; the experiment goes back to the input
/// shown (or `fallback`), and only that input's file is kept.
pub fn load_failed<P: FilePage>(page: &mut P, input: P::Input, message: &str, quiet: bool, fallback: P::Input) {
    if !quiet {
        super::show_error(message);
    }
    page.failed_inputs().push(input.clone());
    if page.current_input() == input {
        // The input shown stays; the experiment (and the URL) say so again.
        page.replace_input(page.shown_input().unwrap_or(fallback));
    }
    let current = page.current_input();
    let keep: Vec<&str> = P::file_of(&current).map(|f| f.sha256.as_str()).into_iter().collect();
    page.files().retain(&keep);
    page.render_input();
}

/// The user picked `input` (a gallery item, a file, …): the experiment takes it, and the
/// page shows it (an input that failed before is tried again).
pub fn choose<P: FilePage>(page: &mut P, input: P::Input) {
    super::hide_error();
    page.failed_inputs().retain(|i| *i != input);
    if input == page.current_input() {
        return;
    }
    page.set_input(input);
    page.render_input();
    page.pump();
}

/// The gallery's index arrived: a link's gallery item can be checked and loaded now.
pub fn gallery_loaded<P: FilePage>(page: &mut P, items: Vec<GalleryItem>) {
    page.set_gallery(items);
    page.validate();
    page.render_input();
    page.pump();
}

/// A gallery's entry (`www/gallery/…/index.json`).
#[derive(serde::Deserialize, Clone, Debug)]
pub struct GalleryItem {
    pub id: String,
    pub file: String,
    pub title: String,
    pub credit: String,
    #[serde(default)]
    pub license: String,
    /// What it is ("speech", "prose", …), shown above its title.
    #[serde(default)]
    pub kind: String,
}

/// Fetches a gallery's index and lists its items as buttons in `container` (`data-testid`
/// `{testid_prefix}ID`), each calling `on_pick(id)`. `what` names the gallery in an error.
pub async fn gallery_buttons(index_url: &str, container: &str, testid_prefix: &str, what: &str, on_pick: fn(String)) -> Vec<GalleryItem> {
    let items: Vec<GalleryItem> = match js::fetch_bytes(index_url).await {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
        Err(e) => {
            super::show_error(&format!("Cannot load the {what}: {e}"));
            Vec::new()
        }
    };
    if let Some(gallery) = by_id::<HtmlElement>(container) {
        for item in &items {
            let title = format!("{} — {} ({})", item.title, item.credit, item.license);
            let button = super::el(
                "button",
                &format!("au-thumb {}", item.kind),
                &[("type", "button"), ("data-testid", &format!("{testid_prefix}{}", item.id)), ("title", &title), ("aria-pressed", "false")],
            );
            super::append(&button, &[&super::text_el("span", "au-kind", &item.kind), &super::text_el("span", "", &item.title)]);
            let id = item.id.clone();
            on::<Event>(&button, "click", move |_| on_pick(id.clone()));
            super::append(&gallery, &[&button]);
        }
    }
    items
}

/// Reads a file the user picked or dropped: refused before reading when it is empty or over
/// `max_bytes`, else hashed and handed to `then(name, bytes, sha256)`.
pub fn read_file(file: web_sys::File, max_bytes: usize, then: impl FnOnce(String, Vec<u8>, String) + 'static) {
    let name = file.name();
    let size = file.size();
    if size > max_bytes as f64 {
        super::show_error(&format!("{name} is {:.1} MB; the lab accepts files up to {} MB.", size / 1e6, max_bytes / (1024 * 1024)));
        return;
    }
    if size == 0.0 {
        super::show_error(&format!("Could not open {name}: the file is empty."));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let read = async {
            let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await?;
            let sha = js::sha256_hex(&buf).await?;
            Ok::<_, JsValue>((js_sys::Uint8Array::new(&buf).to_vec(), sha))
        };
        match read.await {
            Ok((bytes, sha)) => then(name, bytes, sha),
            Err(e) => super::show_error(&format!("Cannot read {name}: {}", js::error_text(&e))),
        }
    });
}

/// Where a lab's page takes files from.
pub struct FileSources {
    /// `<input type=file>` ids.
    pub inputs: &'static [&'static str],
    /// An element shown while something is dragged over the page, if any.
    pub drop_hint: Option<&'static str>,
    /// Whether the lab is on screen (drops and pastes count only then).
    pub visible: fn() -> bool,
    /// Said when a drop holds no file: "drop an image file".
    pub drop_what: &'static str,
    /// Files pasted from the clipboard count too.
    pub paste: bool,
    pub on_file: fn(web_sys::File),
}

/// Wires the file inputs, drag and drop (and pasted files) to `on_file`.
pub fn wire_files(s: FileSources) {
    let on_file = s.on_file;
    for id in s.inputs {
        if let Some(input) = by_id::<HtmlInputElement>(id) {
            on::<Event>(&input, "change", move |e| {
                let Some(input) = e.target().map(|t| t.unchecked_into::<HtmlInputElement>()) else { return };
                if let Some(file) = input.files().and_then(|f| f.get(0)) {
                    on_file(file);
                }
                input.set_value(""); // so picking the same file again fires `change`
            });
        }
    }
    let doc = document();
    let (visible, hint, drop_what) = (s.visible, s.drop_hint, s.drop_what);
    let show_hint = move |show: bool| {
        if let Some(h) = hint.and_then(by_id::<HtmlElement>) {
            h.set_hidden(!show);
        }
    };
    on::<DragEvent>(&doc, "dragover", move |e| {
        if visible() {
            e.prevent_default();
            show_hint(true);
        }
    });
    on::<DragEvent>(&doc, "dragleave", move |e| {
        if e.related_target().is_none() {
            show_hint(false);
        }
    });
    on::<DragEvent>(&doc, "drop", move |e| {
        if !visible() {
            return;
        }
        e.prevent_default();
        show_hint(false);
        match e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            Some(file) => on_file(file),
            None => super::show_error(&format!("Nothing to open: {drop_what}.")),
        }
    });
    if s.paste {
        on::<web_sys::ClipboardEvent>(&doc, "paste", move |e| {
            if !visible() {
                return;
            }
            if let Some(file) = e.clipboard_data().and_then(|d| d.files()).and_then(|f| f.get(0)) {
                e.prevent_default();
                on_file(file);
            }
        });
    }
}

/// Shows the box asking for the file an experiment names (ids `{prefix}needs-file`,
/// `{prefix}needs-file-text`, `{prefix}needed-file-label`), or hides it.
pub fn render_needed(prefix: &str, needed: Option<&FileRef>, what: &str) {
    let (Some(boxed), Some(text), Some(label)) = (
        by_id::<HtmlElement>(&format!("{prefix}needs-file")),
        by_id::<HtmlElement>(&format!("{prefix}needs-file-text")),
        by_id::<HtmlElement>(&format!("{prefix}needed-file-label")),
    ) else {
        return;
    };
    match needed {
        Some(f) => {
            text.set_text_content(Some(&format!(
                "This experiment was made with {what} of its author's: {} ({}, SHA-256 {}…). Open your copy of it to continue, or pick another.",
                f.name,
                format::bytes(f.size as usize),
                &f.sha256[..12.min(f.sha256.len())]
            )));
            label.set_text_content(Some(&format!("Open {}…", f.name)));
            boxed.set_hidden(false);
        }
        None => boxed.set_hidden(true),
    }
}

/// Marks the one button among `selector`'s whose `data-testid` is `wanted` as pressed.
pub fn mark_pressed(selector: &str, wanted: &str) {
    if let Ok(list) = document().query_selector_all(selector) {
        for k in 0..list.length() {
            if let Some(n) = list.item(k).and_then(|n| n.dyn_into::<HtmlElement>().ok()) {
                let pressed = n.get_attribute("data-testid").as_deref() == Some(wanted);
                let _ = n.set_attribute("aria-pressed", if pressed { "true" } else { "false" });
            }
        }
    }
}

/// Screens this tall or shorter (CSS px; a projector's 1280×720 is 720) start with the input
/// pickers closed, as `www/style.css`'s short-screen layout expects: both sides' results are
/// then on the first screen.
pub const COMPACT_BELOW_PX: f64 = 820.0;

/// Closes the gallery pickers (`details.picker`) in `root` on a short screen; the summary
/// opens them again (by keyboard too: it is a native disclosure).
pub fn compact_pickers(root: &HtmlElement) {
    let short = web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).is_some_and(|h| h <= COMPACT_BELOW_PX);
    if short {
        fold_pickers(root);
    }
}

/// Closes every gallery picker in `root`.
pub fn fold_pickers(root: &HtmlElement) {
    if let Ok(list) = root.query_selector_all("details.picker") {
        for i in 0..list.length() {
            if let Some(d) = list.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                let _ = d.remove_attribute("open");
            }
        }
    }
}
