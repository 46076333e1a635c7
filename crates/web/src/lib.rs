//! mpqlab in the browser.
//!
//! One wasm module serves two roles: on the page's main thread it builds the UI ([`ui`]);
//! in a Web Worker (`www/worker.js`) it does all heavy work ([`worker`]): decoding inputs,
//! encoding, decoding, measuring, benchmarking. The page never blocks on a codec.
//!
//! Plain logic (viewport maths, number formatting, message shapes) lives in modules without
//! web-sys so that it is tested natively with `cargo test`.

pub mod format;
pub mod viewport;

#[cfg(target_arch = "wasm32")]
mod browser_codec;
#[cfg(target_arch = "wasm32")]
mod js;
#[cfg(target_arch = "wasm32")]
mod machine;
#[cfg(target_arch = "wasm32")]
mod model_lab;
#[cfg(target_arch = "wasm32")]
mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;

/// Codec ids of the browser's own encoders (canvas `convertToBlob`), listed after ours.
pub const BROWSER_CODEC_IDS: [&str; 2] = ["browser-jpeg", "browser-webp"];

/// Starts the UI when running on a page; does nothing inside a worker (beyond running the
/// static constructors, see below). `main` calls it once, when the module is instantiated.
pub fn start() {
    #[cfg(target_arch = "wasm32")]
    {
        // Static constructors (burn/cubecl register kernels with `inventory`) run in
        // `__wasm_call_ctors`. When nothing calls it, wasm-ld makes the module a "new-style
        // command" and wraps *every* export to run all constructors first; wasm-bindgen's glue
        // calls exports on each JS ↔ wasm crossing, so each crossing cost ~1 ms and the page's
        // codecs ran ~20× slower than native. An explicit call here tells wasm-ld not to wrap,
        // and runs them once.
        unsafe extern "C" {
            fn __wasm_call_ctors();
        }
        // SAFETY: called once, first thing, before any code that relies on the registrations.
        unsafe { __wasm_call_ctors() };
        console_error_panic_hook::set_once();
        if web_sys::window().is_some() {
            ui::run();
        }
    }
}
