//! The comparison view: split (mouse, touch, keyboard), one zoom and pan for both sides, kept
//! in the experiment in image coordinates.

use super::*;

impl Page {

    pub(super) fn apply_view(&self) {
        let t = self.view.css_transform();
        for side in &self.sides {
            set_style(side.canvas.unchecked_ref(), "transform", &t);
        }
        let pct = self.view.split * 100.0;
        if let Some(layer) = by_id::<HtmlElement>("layer-1") {
            set_style(&layer, "clip-path", &format!("inset(0 0 0 {pct:.2}%)"));
        }
        if let Some(split) = by_id::<HtmlElement>("split") {
            set_style(&split, "left", &format!("{pct:.2}%"));
            let _ = split.set_attribute("aria-valuenow", &format!("{:.0}", pct));
            let _ = split.set_attribute("aria-valuetext", &format!("{:.0}% left, {:.0}% right", pct, 100.0 - pct));
            set_data(&split, "split", &self.exp.view.split.to_string());
        }
        if let Some(z) = by_id::<HtmlElement>("zoom-level") {
            let text = if self.exp.view.zoom.is_none() { format!("{:.0}% (fit)", self.view.scale * 100.0) } else { format!("{:.0}%", self.view.scale * 100.0) };
            z.set_text_content(Some(&text));
            set_data(&z, "zoom", &self.exp.view.zoom.map_or("fit".to_string(), |z| format!("{}@{},{}", z.scale, z.cx, z.cy)));
        }
    }

    pub(super) fn viewer_size(&self) -> Option<(f64, f64)> {
        let r = by_id::<HtmlElement>("viewer")?.get_bounding_client_rect();
        (r.width() > 0.0 && r.height() > 0.0).then(|| (r.width(), r.height()))
    }

    /// Puts the view where the experiment says: fitted, or the link's zoom around its centre.
    pub(super) fn refit(&mut self) {
        if let (Some(src), Some((w, h))) = (&self.shown, self.viewer_size()) {
            match self.exp.view.zoom {
                Some(z) => {
                    self.view.scale = z.scale;
                    self.view.tx = w / 2.0 - z.cx * z.scale;
                    self.view.ty = h / 2.0 - z.cy * z.scale;
                }
                None => self.view.fit(w, h, src.width as f64, src.height as f64),
            }
        }
        self.apply_view();
    }

    /// The viewport moved (drag, wheel, keys, buttons): the experiment follows.
    pub(super) fn view_changed(&mut self, fit: bool, step: Step) {
        self.exp.view.split = self.view.split;
        self.exp.view.zoom = if fit {
            None
        } else {
            self.viewer_size().map(|(w, h)| {
                let (cx, cy) = self.view.to_image(w / 2.0, h / 2.0);
                Zoom { scale: self.view.scale, cx, cy }
            })
        };
        self.exp.view = self.exp.view.normalized();
        self.apply_view();
        self.commit(step);
    }
}

// ---------------------------------------------------------------------------------------------
// The viewer: split (mouse, touch, keyboard), synchronized zoom and pan.

#[derive(Default)]
struct Drag {
    split: bool,
    pan: Option<(f64, f64)>,
}

thread_local! {
    static DRAG: RefCell<Drag> = RefCell::new(Drag::default());
}

pub(super) fn viewer_point(viewer: &HtmlElement, x: i32, y: i32) -> (f64, f64, f64, f64) {
    let r = viewer.get_bounding_client_rect();
    (x as f64 - r.left(), y as f64 - r.top(), r.width(), r.height())
}

pub(super) fn wire_viewer() {
    let (Some(viewer), Some(split)) = (by_id::<HtmlElement>("viewer"), by_id::<HtmlElement>("split")) else { return };
    on::<PointerEvent>(&split, "pointerdown", {
        let split = split.clone();
        move |e| {
            e.prevent_default();
            e.stop_propagation();
            let _ = split.set_pointer_capture(e.pointer_id());
            let _ = split.focus();
            DRAG.with(|d| d.borrow_mut().split = true);
        }
    });
    on::<PointerEvent>(&viewer, "pointerdown", {
        let viewer = viewer.clone();
        move |e| {
            if e.button() != 0 {
                return;
            }
            let _ = viewer.set_pointer_capture(e.pointer_id());
            DRAG.with(|d| d.borrow_mut().pan = Some((e.client_x() as f64, e.client_y() as f64)));
        }
    });
    on::<PointerEvent>(&viewer, "pointermove", {
        let viewer = viewer.clone();
        move |e| {
            let (split_drag, pan) = DRAG.with(|d| {
                let d = d.borrow();
                (d.split, d.pan)
            });
            if split_drag {
                let (x, _, w, _) = viewer_point(&viewer, e.client_x(), e.client_y());
                with_page(|p| {
                    p.view.set_split(x / w.max(1.0));
                    let fit = p.exp.view.zoom.is_none();
                    p.view_changed(fit, Step::Gesture);
                });
            } else if let Some((lx, ly)) = pan {
                let (x, y) = (e.client_x() as f64, e.client_y() as f64);
                DRAG.with(|d| d.borrow_mut().pan = Some((x, y)));
                with_page(|p| {
                    p.view.pan(x - lx, y - ly);
                    p.view_changed(false, Step::Gesture);
                });
            }
        }
    });
    for ev in ["pointerup", "pointercancel"] {
        on::<PointerEvent>(&viewer, ev, |_| DRAG.with(|d| *d.borrow_mut() = Drag::default()));
    }
    on::<WheelEvent>(&viewer, "wheel", {
        let viewer = viewer.clone();
        move |e| {
            e.prevent_default();
            let (x, y, _, _) = viewer_point(&viewer, e.client_x(), e.client_y());
            let factor = (-e.delta_y() * 0.0015).clamp(-1.0, 1.0).exp();
            with_page(|p| {
                p.view.zoom_at(factor, x, y);
                p.view_changed(false, Step::Gesture);
            });
        }
    });
    on::<KeyboardEvent>(&split, "keydown", |e| {
        let step = if e.shift_key() { 0.1 } else { 0.02 };
        let handled = with_page(|p| {
            let s = p.view.split;
            let new = match e.key().as_str() {
                "ArrowLeft" | "ArrowDown" => s - step,
                "ArrowRight" | "ArrowUp" => s + step,
                "PageDown" => s - 0.1,
                "PageUp" => s + 0.1,
                "Home" => 0.0,
                "End" => 1.0,
                _ => return false,
            };
            p.view.set_split(new);
            let fit = p.exp.view.zoom.is_none();
            p.view_changed(fit, Step::Gesture);
            true
        });
        if handled == Some(true) {
            e.prevent_default();
            e.stop_propagation();
        }
    });
    on::<KeyboardEvent>(&viewer, "keydown", {
        let viewer = viewer.clone();
        move |e| {
            let r = viewer.get_bounding_client_rect();
            let (cx, cy) = (r.width() / 2.0, r.height() / 2.0);
            let handled = with_page(|p| {
                match e.key().as_str() {
                    "+" | "=" => p.view.zoom_at(1.25, cx, cy),
                    "-" | "_" => p.view.zoom_at(0.8, cx, cy),
                    "0" => {
                        p.exp.view.zoom = None;
                        p.refit();
                        p.view_changed(true, Step::Push);
                        return true;
                    }
                    "1" => p.view.actual_size(r.width(), r.height()),
                    "ArrowLeft" => p.view.pan(40.0, 0.0),
                    "ArrowRight" => p.view.pan(-40.0, 0.0),
                    "ArrowUp" => p.view.pan(0.0, 40.0),
                    "ArrowDown" => p.view.pan(0.0, -40.0),
                    _ => return false,
                }
                p.view_changed(false, Step::Gesture);
                true
            });
            if handled == Some(true) {
                e.prevent_default();
            }
        }
    });
    let zoom_button = |id: &str, f: fn(&mut Page, f64, f64) -> bool| {
        if let Some(b) = by_id::<HtmlButtonElement>(id) {
            on::<Event>(&b, "click", move |_| {
                with_page(|p| {
                    let Some((w, h)) = p.viewer_size() else { return };
                    let fit = f(p, w, h);
                    p.view_changed(fit, Step::Push);
                });
            });
        }
    };
    zoom_button("zoom-in", |p, w, h| {
        p.view.zoom_at(1.5, w / 2.0, h / 2.0);
        false
    });
    zoom_button("zoom-out", |p, w, h| {
        p.view.zoom_at(1.0 / 1.5, w / 2.0, h / 2.0);
        false
    });
    zoom_button("zoom-1", |p, w, h| {
        p.view.actual_size(w, h);
        false
    });
    zoom_button("zoom-fit", |p, _, _| {
        p.exp.view.zoom = None;
        p.refit();
        true
    });
    if let Some(w) = web_sys::window() {
        on::<Event>(&w, "resize", |_| {
            with_page(|p| p.refit());
        });
    }
}

