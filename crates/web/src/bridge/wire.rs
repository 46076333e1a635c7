//! Messages on the wire: serde-wasm-bindgen both ways, and the transfer list of a message.
//!
//! Byte buffers in messages are `serde_bytes` fields, which serde-wasm-bindgen writes as
//! `Uint8Array`s with their own `ArrayBuffer`; [`post`] hands those buffers over with the
//! message (moved, not copied a second time by the structured clone).

use js_sys::{Array, Object, Uint8Array};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};

/// A JS value of `value`: maps as plain objects (parameters stay readable in devtools).
pub fn to_js<T: Serialize>(value: &T) -> Result<JsValue, String> {
    let s = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    value.serialize(&s).map_err(|e| format!("cannot encode a message: {e}"))
}

pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, String> {
    serde_wasm_bindgen::from_value(value).map_err(|e| format!("unexpected message: {e}"))
}

/// The `ArrayBuffer`s of every `Uint8Array` in `value` (objects and arrays, a few levels deep:
/// messages are shallow).
pub fn transferables(value: &JsValue) -> Array {
    let out = Array::new();
    collect(value, &out, 0);
    out
}

fn collect(value: &JsValue, out: &Array, depth: u32) {
    if depth > 8 || !value.is_object() {
        return;
    }
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        let buffer = bytes.buffer();
        // The same buffer twice in one transfer list is an error.
        if !out.includes(&buffer, 0) && bytes.byte_length() > 0 {
            out.push(&buffer);
        }
        return;
    }
    if Array::is_array(value) {
        for item in value.unchecked_ref::<Array>().iter() {
            collect(&item, out, depth + 1);
        }
        return;
    }
    if value.is_function() {
        return;
    }
    for item in Object::values(value.unchecked_ref::<Object>()).iter() {
        collect(&item, out, depth + 1);
    }
}
