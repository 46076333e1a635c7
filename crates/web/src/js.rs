//! Small helpers over js-sys for the message objects the page and the worker exchange.

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

pub fn get_str(o: &JsValue, key: &str) -> String {
    get(o, key).as_string().unwrap_or_default()
}

pub fn get_f64(o: &JsValue, key: &str) -> f64 {
    get(o, key).as_f64().unwrap_or(f64::NAN)
}

pub fn get_u32(o: &JsValue, key: &str) -> u32 {
    let x = get_f64(o, key);
    if x.is_finite() && x >= 0.0 { x as u32 } else { 0 }
}

pub fn get_bytes(o: &JsValue, key: &str) -> Vec<u8> {
    get(o, key).dyn_into::<Uint8Array>().map(|a| a.to_vec()).unwrap_or_default()
}

pub fn bytes(b: &[u8]) -> Uint8Array {
    Uint8Array::from(b)
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
