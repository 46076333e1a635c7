//! The lab's input: the gallery, the data-set items, a file picked, dropped or pasted, and the
//! file a link asks for (checked against its SHA-256).

use super::*;

impl Page {
    /// The gallery's pressed thumb, and the prompt for a file a link needs.
    pub(super) fn render_input(&self) {
        let wanted = match &self.exp.input {
            Input::Gallery { id } => format!("gallery-{id}"),
            Input::Item { dataset, index } => format!("item-{dataset}-{index}"),
            Input::File(_) => String::new(),
        };
        if let Ok(list) = ui::document().query_selector_all(".gallery .thumb, .dataset-gallery .thumb") {
            for k in 0..list.length() {
                if let Some(n) = list.item(k).and_then(|n| n.dyn_into::<HtmlElement>().ok()) {
                    let pressed = n.get_attribute("data-testid").as_deref() == Some(wanted.as_str());
                    let _ = n.set_attribute("aria-pressed", if pressed { "true" } else { "false" });
                }
            }
        }
        self.render_needs_file();
        if self.shown.is_none() {
            set_source_info("No image loaded yet.");
        } else if let Some(s) = &self.shown {
            if s.input == self.exp.input {
                set_source_info(&s.description);
            }
        }
        // Never silently: a file the decoder could show only in part says so beside it.
        if let Some(w) = by_id::<HtmlElement>("input-warning") {
            let warning = self.shown.as_ref().and_then(|s| s.warning.as_ref().map(|m| (s, m)));
            match warning {
                Some((s, m)) => {
                    w.set_text_content(Some(&format!("⚠ {}: {m}. The numbers below describe what the decoder made of it.", s.name)));
                    w.set_hidden(false);
                }
                None => w.set_hidden(true),
            }
        }
    }

    pub(super) fn needed_file(&self) -> Option<&FileRef> {
        match &self.exp.input {
            Input::File(f) if !self.files.iter().any(|u| u.sha256 == f.sha256) => Some(f),
            _ => None,
        }
    }

    pub(super) fn render_needs_file(&self) {
        let (Some(boxed), Some(text), Some(label)) =
            (by_id::<HtmlElement>("needs-file"), by_id::<HtmlElement>("needs-file-text"), by_id::<HtmlElement>("needed-file-label"))
        else {
            return;
        };
        match self.needed_file() {
            Some(f) => {
                text.set_text_content(Some(&format!(
                    "This experiment was made with a file of its author's: {} ({}, SHA-256 {}…). Open your copy of it to continue, or pick another image.",
                    f.name,
                    format::bytes(f.size as usize),
                    &f.sha256[..12]
                )));
                label.set_text_content(Some(&format!("Open {}…", f.name)));
                boxed.set_hidden(false);
                for side in &self.sides {
                    side.stage.set_text_content(Some("waiting for the file…"));
                    set_data(&side.stage, "state", "waiting");
                }
            }
            None => boxed.set_hidden(true),
        }
    }
}

pub(super) fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

pub(super) fn input_name(input: &Input, gallery: Option<&[GalleryItem]>) -> String {
    match input {
        Input::Gallery { id } => gallery.and_then(|g| g.iter().find(|i| &i.id == id)).map_or_else(|| id.clone(), |i| i.file.clone()),
        Input::Item { dataset, index } => format!("{dataset} test item {index}"),
        Input::File(f) => f.name.clone(),
    }
}

pub(super) fn set_source_info(text: &str) {
    if let Some(e) = by_id::<HtmlElement>("source-info") {
        e.set_text_content(Some(text));
    }
}

/// Can this browser's canvas encode `mime`? (It falls back to PNG when it cannot.)

// ---------------------------------------------------------------------------------------------
// Input: gallery, data-set items, file picker, drop, paste, and a file a link asks for.

pub(super) async fn load_gallery() {
    let items: Vec<GalleryItem> = match js::fetch_bytes("gallery/index.json").await {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
        Err(e) => {
            ui::show_error(&format!("Cannot load the gallery: {e}"));
            Vec::new()
        }
    };
    if let Some(gallery) = by_id::<HtmlElement>("gallery") {
        for item in &items {
            let button = el("button", "thumb", &[("type", "button"), ("data-testid", &format!("gallery-{}", item.id)), ("title", &item.credit), ("aria-pressed", "false")]);
            let img = el("img", "", &[("src", &format!("gallery/{}", item.file)), ("alt", ""), ("loading", "lazy")]);
            append(&button, &[&img, &text_el("span", "", &item.title)]);
            let id = item.id.clone();
            on::<Event>(&button, "click", move |_| {
                with_page(|p| p.choose_input(Input::Gallery { id: id.clone() }));
            });
            append(&gallery, &[&button]);
        }
    }
    with_page(|p| {
        p.gallery = Some(items);
        p.validate();
        p.render_input();
        p.pump();
    });
}

impl Page {
    pub(super) fn render_dataset_gallery(&self) {
        let (Some(gallery), Some(catalog), Some(thumbs)) = (by_id::<HtmlElement>("dataset-gallery"), &self.catalog, &self.thumbs) else { return };
        gallery.set_text_content(None);
        for set in &catalog.datasets {
            let Some(items) = thumbs.iter().find(|t| t.dataset == set.id) else { continue };
            let row = el("div", "dataset-row", &[("role", "group"), ("aria-label", &set.name)]);
            append(&row, &[&text_el("span", "dataset-name", &set.name)]);
            for t in &items.thumbs {
                let button = el(
                    "button",
                    "thumb item",
                    &[
                        ("type", "button"),
                        ("data-testid", &format!("item-{}-{}", set.id, t.index)),
                        ("title", &format!("{} test item {}: {}", set.name, t.index, t.class)),
                        ("aria-label", &format!("{} test item {}, a {}", set.name, t.index, t.class)),
                        ("aria-pressed", "false"),
                    ],
                );
                let canvas: HtmlCanvasElement = el("canvas", "", &[]).unchecked_into();
                draw(&canvas, t.width, t.height, &t.rgba);
                // The gallery's CSS sizes the thumbnail; draw() set the pixel size.
                let _ = canvas.style().remove_property("width");
                let _ = canvas.style().remove_property("height");
                append(&button, &[&canvas, &text_el("span", "", &t.class)]);
                let (dataset, index) = (set.id.clone(), t.index);
                on::<Event>(&button, "click", move |_| {
                    with_page(|p| {
                        // A test item is judged by a model of its own data set.
                        let model = p.catalog.as_ref().and_then(|c| {
                            let current = c.models.iter().find(|m| m.id == p.exp.model);
                            match current {
                                Some(m) if m.dataset == dataset => None,
                                _ => c.models.iter().find(|m| m.dataset == dataset).map(|m| m.id.clone()),
                            }
                        });
                        if let Some(m) = model {
                            p.exp.model = m;
                            p.render_model_bar();
                        }
                        p.choose_input(Input::Item { dataset: dataset.clone(), index });
                    });
                });
                append(&row, &[&button]);
            }
            append(&gallery, &[&row]);
        }
        self.render_input();
    }

    /// A file the user gave: the file a link asks for (checked), or a new input.
    pub(super) fn take_file(&mut self, name: String, bytes: Vec<u8>, sha256: String) {
        let size = bytes.len() as u64;
        if let Some(needed) = self.needed_file().cloned() {
            if needed.sha256 != sha256 || needed.size != size {
                ui::show_error(&format!(
                    "{name} is not the file this experiment was made with: it has {} and SHA-256 {}…, the link asks for {} ({}) with SHA-256 {}…. Open that file, or pick another image.",
                    format::bytes(size as usize),
                    &sha256[..12],
                    needed.name,
                    format::bytes(needed.size as usize),
                    &needed.sha256[..12]
                ));
                return;
            }
            ui::hide_error();
            self.files.push(UserFile { sha256, bytes });
            self.failed_inputs.retain(|i| *i != self.exp.input);
            self.render_input();
            self.pump();
            return;
        }
        // Keep the shown file's bytes (a failed load falls back to it) and the new one's.
        let shown_sha = match &self.shown {
            Some(Shown { input: Input::File(f), .. }) => Some(f.sha256.clone()),
            _ => None,
        };
        self.files.retain(|f| Some(&f.sha256) == shown_sha.as_ref());
        if !self.files.iter().any(|f| f.sha256 == sha256) {
            self.files.push(UserFile { sha256: sha256.clone(), bytes });
        }
        self.choose_input(Input::File(FileRef { sha256, size, name }));
    }
}

pub(super) fn load_file(file: web_sys::File) {
    let name = file.name();
    let size = file.size();
    if size > mpq_core::limits::MAX_FILE_BYTES as f64 {
        ui::show_error(&format!(
            "{name} is {:.1} MB; the lab accepts files up to {} MB.",
            size / 1e6,
            mpq_core::limits::MAX_FILE_BYTES / (1024 * 1024)
        ));
        return;
    }
    if size == 0.0 {
        ui::show_error(&format!("Could not open {name}: the file is empty."));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        let read = async {
            let buf = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await?;
            let sha = js::sha256_hex(&buf).await?;
            Ok::<_, JsValue>((js_sys::Uint8Array::new(&buf).to_vec(), sha))
        };
        match read.await {
            Ok((bytes, sha)) => {
                with_page(|p| p.take_file(name, bytes, sha));
            }
            Err(e) => ui::show_error(&format!("Cannot read {name}: {}", js::error_text(&e))),
        }
    });
}

pub(super) fn wire_input() {
    for id in ["file", "needed-file"] {
        if let Some(input) = by_id::<HtmlInputElement>(id) {
            on::<Event>(&input, "change", |e| {
                let Some(input) = e.target().map(|t| t.unchecked_into::<HtmlInputElement>()) else { return };
                if let Some(file) = input.files().and_then(|f| f.get(0)) {
                    load_file(file);
                }
                input.set_value(""); // so picking the same file again fires `change`
            });
        }
    }
    let doc = ui::document();
    // Drops and pastes count only while this lab is shown.
    let visible = || with_page(|p| p.visible).unwrap_or(false);
    on::<DragEvent>(&doc, "dragover", move |e| {
        if !visible() {
            return;
        }
        e.prevent_default();
        if let Some(h) = by_id::<HtmlElement>("drop-hint") {
            h.set_hidden(false);
        }
    });
    on::<DragEvent>(&doc, "dragleave", move |e| {
        if e.related_target().is_none() {
            if let Some(h) = by_id::<HtmlElement>("drop-hint") {
                h.set_hidden(true);
            }
        }
    });
    on::<DragEvent>(&doc, "drop", move |e| {
        if !visible() {
            return;
        }
        e.prevent_default();
        if let Some(h) = by_id::<HtmlElement>("drop-hint") {
            h.set_hidden(true);
        }
        match e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            Some(file) => load_file(file),
            None => ui::show_error("Nothing to open: drop an image file."),
        }
    });
    on::<web_sys::ClipboardEvent>(&doc, "paste", move |e| {
        if !visible() {
            return;
        }
        if let Some(file) = e.clipboard_data().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            e.prevent_default();
            load_file(file);
        }
    });
}

