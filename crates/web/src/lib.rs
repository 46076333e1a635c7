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
mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;

/// Codec ids of the browser's own encoders (canvas `convertToBlob`), listed after ours.
pub const BROWSER_CODEC_IDS: [&str; 2] = ["browser-jpeg", "browser-webp"];

/// Starts the UI when running on a page; does nothing inside a worker.
pub fn start() {
    #[cfg(target_arch = "wasm32")]
    {
        console_error_panic_hook::set_once();
        if web_sys::window().is_some() {
            ui::run();
        }
    }
}
