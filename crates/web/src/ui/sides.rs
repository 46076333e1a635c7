//! The two sides every comparing lab shows: a codec menu (grouped, with what this browser
//! cannot run disabled), the codec's settings as controls generated from its schema, the
//! side's stage line (waiting, running, done, error, cancelled: `data-state` for tests), and
//! the experiment's side specs kept valid and changed one setting at a time.

use mpq_core::experiment::image::{Side, param_from_text};
use mpq_core::{ParamSpec, ParamValue};
use wasm_bindgen::JsCast;
use web_sys::{Event, HtmlElement, HtmlSelectElement};

use super::{append, el, on, set_data, text_el};

/// One entry of a side's codec menu.
pub struct CodecChoice<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub lossless: bool,
    /// The menu group it is listed under ("mpqlab (same bytes as the CLI)").
    pub group: &'a str,
    /// Listed but not selectable ("not supported by this browser").
    pub unsupported: bool,
}

/// The side's "Codec" field: a label with an empty menu (`data-testid` = `testid`) that calls
/// `on_pick(codec id)` when the user picks one.
pub fn codec_field(testid: &str, on_pick: impl Fn(&str) + 'static) -> (HtmlElement, HtmlSelectElement) {
    let label = el("label", "field", &[]);
    append(&label, &[&text_el("span", "field-name", "Codec")]);
    let select: HtmlSelectElement = el("select", "codec", &[("data-testid", testid)]).unchecked_into();
    append(&label, &[&select]);
    on::<Event>(&select, "change", move |e| {
        let id = e.target().map(|t| t.unchecked_into::<HtmlSelectElement>().value()).unwrap_or_default();
        on_pick(&id);
    });
    (label, select)
}

/// Fills a codec menu; before the catalog arrives (`None`) it shows `current` as loading.
pub fn fill_codecs(select: &HtmlSelectElement, choices: Option<&[CodecChoice<'_>]>, current: &str) {
    select.set_text_content(None);
    let Some(choices) = choices else {
        let opt = text_el("option", "", &format!("{current} (loading the codecs…)"));
        let _ = opt.set_attribute("value", current);
        append(select, &[&opt]);
        select.set_disabled(true);
        return;
    };
    select.set_disabled(false);
    let mut group: Option<(&str, HtmlElement)> = None;
    for c in choices {
        let mut label = format!("{}{}", c.name, if c.lossless { " (lossless)" } else { "" });
        if c.unsupported {
            label.push_str(" — not supported by this browser");
        }
        let opt = text_el("option", "", &label);
        let _ = opt.set_attribute("value", c.id);
        if c.unsupported {
            let _ = opt.set_attribute("disabled", "");
        }
        if group.as_ref().is_none_or(|(l, _)| *l != c.group) {
            let g = el("optgroup", "", &[("label", c.group)]);
            append(select, &[&g]);
            group = Some((c.group, g));
        }
        append(&group.as_ref().expect("just set").1, &[&opt]);
    }
    select.set_value(current);
}

/// The controls for a side's settings, generated from its codec's schema (`testid_prefix`
/// names them `PREFIX-NAME`); `on_change(name, value, step)` gets each valid value.
pub fn render_params(root: &HtmlElement, specs: Option<&[ParamSpec]>, side: &Side, testid_prefix: &str, on_change: super::params::OnChange) {
    root.set_text_content(None);
    let Some(specs) = specs else { return };
    if specs.is_empty() {
        append(root, &[&text_el("p", "no-params", "This codec has no settings.")]);
    }
    for spec in specs {
        let value = side.params.get(&spec.name).cloned().unwrap_or_else(|| spec.default.clone());
        append(root, &[&super::params::control(testid_prefix, spec, &value, on_change.clone())]);
    }
}

/// Puts the defaults in place of sides whose codec this page does not have (`known`), adding
/// a problem per side ("there is no {what} codec 'x'").
pub fn replace_unknown(sides: &mut [Side; 2], defaults: &[Side; 2], known: impl Fn(&str) -> bool, what: &str, problems: &mut Vec<String>) {
    for (side, default) in sides.iter_mut().zip(defaults) {
        if !known(&side.codec) {
            problems.push(format!("there is no {what}codec '{}'", side.codec));
            *side = default.clone();
        }
    }
}

/// A side switched to codec `id` at its defaults, keeping its target size with `keep_target`;
/// `false` when it already was that codec.
pub fn set_codec(side: &mut Side, id: &str, keep_target: bool) -> bool {
    if side.codec == id {
        return false;
    }
    let target = side.target.filter(|_| keep_target);
    *side = Side::new(id, Default::default());
    side.target = target;
    true
}

/// One setting of a side, as a link writes it.
pub fn set_param(side: &mut Side, name: &str, value: &ParamValue) {
    side.params.insert(name.to_string(), param_from_text(&value.to_string()));
}

/// A side's (or a panel's) stage line: its text, and its state in `data-state` for tests.
pub fn stage(e: &HtmlElement, text: &str, state: &str) {
    e.set_text_content(Some(text));
    set_data(e, "state", state);
}

/// The side's stage says it waits for its result, unless it already does.
pub fn stage_waiting(e: &HtmlElement) {
    if e.get_attribute("data-state").as_deref() != Some("waiting") {
        stage(e, "waiting…", "waiting");
    }
}

/// Which side: "Left" or "Right".
pub fn side_name(i: usize) -> &'static str {
    if i == 0 { "Left" } else { "Right" }
}

/// A side's result slot: its stage line and progress bar, the key of the result on screen and
/// of one that failed (or was cancelled: not retried until the side changes). `K` is everything
/// the lab's result depends on; a result is shown only while its key is still wanted.
pub struct SideSlot<K> {
    pub stage: HtmlElement,
    pub progress: web_sys::HtmlProgressElement,
    pub shown: Option<K>,
    pub failed: Option<K>,
    /// The key of the run in progress, if any.
    running: Option<K>,
}

impl<K: PartialEq + Clone> SideSlot<K> {
    /// A stage line (`data-testid` = `testid`, saying "waiting…") and a hidden progress bar.
    pub fn new(testid: &str) -> SideSlot<K> {
        let progress: web_sys::HtmlProgressElement = el("progress", "", &[("max", "1")]).unchecked_into();
        progress.set_hidden(true);
        let stage = el("span", "stage", &[("data-testid", testid)]);
        stage.set_text_content(Some("waiting…"));
        SideSlot { stage, progress, shown: None, failed: None, running: None }
    }

    /// Neither shown nor failed: the side needs a run for `key`.
    pub fn wants(&self, key: &K) -> bool {
        self.shown.as_ref() != Some(key) && self.failed.as_ref() != Some(key)
    }

    /// Its run for `key` starts.
    pub fn start(&mut self, key: &K) {
        self.running = Some(key.clone());
        stage(&self.stage, "encoding…", "running");
        self.progress.set_hidden(false);
    }

    /// Its run was stopped (cancelled, or its input is no longer wanted).
    pub fn stopped(&mut self) {
        self.running = None;
        self.progress.set_hidden(true);
    }

    /// Says "waiting…" at once when it shows no result for `key` and is not running it, so
    /// nobody reads an old result as the new one.
    pub fn mark_waiting(&self, key: &K) {
        if self.wants(key) && self.running.as_ref() != Some(key) {
            stage_waiting(&self.stage);
        }
    }

    pub fn on_progress(&self, what: &str, done: f64, total: f64) {
        self.stage.set_text_content(Some(&format!("{what}…")));
        self.progress.set_hidden(false);
        if total > 0.0 {
            self.progress.set_value(done / total);
        }
    }

    /// Its result for `key` is on screen.
    pub fn done(&mut self, key: K) {
        self.running = None;
        self.shown = Some(key);
        self.failed = None;
        self.progress.set_hidden(true);
        stage(&self.stage, "done", "done");
    }

    /// Its run for `key` failed: said on the side, and in the banner unless the worker crashed
    /// (the shell said so already). Said once per key.
    pub fn fail(&mut self, index: usize, key: K, message: &str, crashed: bool) {
        self.running = None;
        self.progress.set_hidden(true);
        if self.failed.as_ref() != Some(&key) {
            stage(&self.stage, &format!("⚠ {message}"), "error");
            if !crashed {
                super::show_error(&format!("{} side: {message}", side_name(index)));
            }
        }
        self.failed = Some(key);
    }

    /// Forgets its result (a new input is shown).
    pub fn reset(&mut self) {
        self.running = None;
        self.shown = None;
        self.failed = None;
        stage(&self.stage, "waiting…", "waiting");
    }
}
