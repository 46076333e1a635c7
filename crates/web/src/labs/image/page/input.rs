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
        ui::input::mark_pressed(".gallery .thumb, .dataset-gallery .thumb", &wanted);
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
            Input::File(f) if !self.files.has(&f.sha256) => Some(f),
            _ => None,
        }
    }

    pub(super) fn render_needs_file(&self) {
        ui::input::render_needed("", self.needed_file(), "a file");
        if self.needed_file().is_some() {
            for side in &self.sides {
                ui::sides::stage(&side.slot.stage, "waiting for the file…", "waiting");
            }
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
    with_page(|p| ui::input::gallery_loaded(p, items));
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
        ui::input::take_file(self, name, bytes, sha256, "image");
    }
}

crate::file_page!(Page, Input, Input::File);

pub(super) fn wire_input() {
    ui::input::wire_files(ui::input::FileSources {
        inputs: &["file", "needed-file"],
        drop_hint: Some("drop-hint"),
        visible: || with_page(|p| p.visible).unwrap_or(false),
        drop_what: "drop an image file",
        paste: true,
        on_file: |file| {
            ui::input::read_file(file, mpq_core::limits::MAX_FILE_BYTES, |name, bytes, sha| {
                with_page(|p| p.take_file(name, bytes, sha));
            })
        },
    });
}
