//! The worker module's entry: boot (constructors, panic reporting, "ready"), then one call of
//! [`worker_receive`] per message from the page (www/worker.js awaits each before the next).

use wasm_bindgen::prelude::*;

use crate::{bridge, labs};

/// Runs once, when a worker has instantiated the module.
pub fn boot() {
    // Static constructors (burn/cubecl register kernels with `inventory`) run in
    // `__wasm_call_ctors`. When nothing calls it, wasm-ld makes the module a "new-style
    // command" and wraps *every* export to run all constructors first; wasm-bindgen's glue calls
    // exports on each JS ↔ wasm crossing, so each crossing cost ~1 ms and the page's codecs ran
    // ~20× slower than native. An explicit call here tells wasm-ld not to wrap, and runs them
    // once.
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }
    // SAFETY: called once, first thing, before any code that relies on the registrations.
    unsafe { __wasm_call_ctors() };
    bridge::worker::report_panics();
    bridge::worker::ready();
}

/// One message from the page: a job for any lab.
#[wasm_bindgen]
pub async fn worker_receive(msg: JsValue) {
    bridge::worker::receive(msg, labs::handle).await;
}
