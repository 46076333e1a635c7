//! Small helpers over js-sys, for the page and the worker alike.

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// Builds a plain JS object from key/value pairs.
pub fn obj(pairs: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

pub fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `performance.now()` of whichever global we run in (page or worker): `Instant` does not
/// exist on wasm32-unknown-unknown.
pub fn now_ms() -> f64 {
    let perf = get(&js_sys::global(), "performance");
    perf.dyn_into::<web_sys::Performance>().map(|p| p.now()).unwrap_or(0.0)
}

/// A readable message from any thrown JS value.
pub fn error_text(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    format!("{e:?}")
}

/// Fetches `url` from whichever global we run in (page or worker) and returns its body.
/// Errors are short texts ("HTTP 404", a network error) for callers to put in context.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    use wasm_bindgen_futures::JsFuture;
    let promise = match web_sys::window() {
        Some(window) => window.fetch_with_str(url),
        None => js_sys::global().unchecked_into::<web_sys::WorkerGlobalScope>().fetch_with_str(url),
    };
    let resp: web_sys::Response = JsFuture::from(promise).await.map_err(|e| error_text(&e))?.unchecked_into();
    if !resp.ok() {
        return Err(format!("HTTP {}", resp.status()));
    }
    let buf = JsFuture::from(resp.array_buffer().map_err(|e| error_text(&e))?).await.map_err(|e| error_text(&e))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// SHA-256 of a buffer with the browser's own implementation, as 64 lowercase hex digits (how
/// a link names a user's file). The page's only (the labs' file inputs).
#[cfg(feature = "ui")]
pub async fn sha256_hex(buf: &JsValue) -> Result<String, JsValue> {
    let crypto = get(&js_sys::global(), "crypto").dyn_into::<web_sys::Crypto>()?;
    let digest = crypto.subtle().digest_with_str_and_buffer_source("SHA-256", buf.unchecked_ref())?;
    let out = wasm_bindgen_futures::JsFuture::from(digest).await?;
    Ok(Uint8Array::new(&out).to_vec().iter().map(|b| format!("{b:02x}")).collect())
}
