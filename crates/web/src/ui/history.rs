//! The experiment in the URL fragment. Every change a lab makes is written here: discrete
//! steps (a codec picked, a photo opened) as new history entries, so the browser's back and
//! forward walk through experiment states; continuous ones (dragging the split, typing, a
//! slider) as one entry per gesture, replaced while it goes on.

use std::cell::RefCell;

use mpq_core::Experiment;
use wasm_bindgen::JsValue;

/// Changes closer together than this (ms) are one gesture: one history entry.
const GESTURE_MS: f64 = 700.0;

#[derive(Default)]
struct State {
    /// The lab whose experiment the URL shows (only it may write).
    active: String,
    /// The fragment last written or read, to ignore our own changes coming back as events.
    fragment: String,
    /// When the last continuous change was written.
    last_gesture_ms: Option<f64>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// How a change enters the history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// A discrete step: a new entry.
    Push,
    /// Part of a continuous gesture: a new entry for its first change, replaced afterwards.
    Gesture,
    /// Replace the current entry (a correction, such as a refused input reverted).
    Replace,
}

pub fn set_active(lab: &str) {
    STATE.with(|s| s.borrow_mut().active = lab.to_string());
}

pub fn active() -> String {
    STATE.with(|s| s.borrow().active.clone())
}

/// The fragment as the page last knew it; `false` when `fragment` is new to us (so it came
/// from the user: a typed address, back or forward).
pub fn is_known(fragment: &str) -> bool {
    STATE.with(|s| s.borrow().fragment == fragment)
}

pub fn remember(fragment: &str) {
    STATE.with(|s| s.borrow_mut().fragment = fragment.to_string());
}

/// Writes `exp` to the URL (if its lab is the one shown and the fragment changed).
pub fn commit(exp: &Experiment, step: Step) {
    let fragment = exp.to_fragment();
    let now = crate::js::now_ms();
    let push = STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.active != exp.lab() || s.fragment == fragment {
            return None;
        }
        s.fragment = fragment.clone();
        let push = match step {
            Step::Push => {
                s.last_gesture_ms = None;
                true
            }
            Step::Replace => false,
            Step::Gesture => {
                let fresh = s.last_gesture_ms.is_none_or(|t| now - t > GESTURE_MS);
                s.last_gesture_ms = Some(now);
                fresh
            }
        };
        Some(push)
    });
    let (Some(push), Some(history)) = (push, web_sys::window().and_then(|w| w.history().ok())) else { return };
    let _ = if push {
        history.push_state_with_url(&JsValue::NULL, "", Some(&fragment))
    } else {
        history.replace_state_with_url(&JsValue::NULL, "", Some(&fragment))
    };
}

/// The page's current fragment (`#/image?…`, or empty).
pub fn current_fragment() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}
