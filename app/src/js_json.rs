//! JSON read by the browser's own parser (`JSON.parse`) and copied into wasm memory one string
//! at a time: a text of tens of MB (a million names) never sits whole in the wasm memory,
//! which never shrinks; the browser's copy is garbage once read.

use wasm_bindgen::{JsCast, JsValue};

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `JSON.parse` of a JS string as it is (js_sys's takes a Rust `&str`: a copy of the
    /// whole text in wasm memory).
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn parse_json(text: &JsValue) -> Result<JsValue, JsValue>;
}

/// `JSON.parse` of the JS string `text`.
///
/// # Errors
/// "not text", or the browser's message on a syntax error.
pub fn parse(text: &JsValue) -> Result<JsValue, String> {
    if !text.is_string() {
        return Err("not text".into());
    }
    parse_json(text).map_err(crate::idb::explain)
}

/// The entries of the JS array `list`, each a string that `each` turns into a `T`, copied
/// into wasm memory one at a time.
///
/// # Errors
/// "not a list", "entry I is not text", or "entry I is malformed" where `each` gives `None`.
pub fn each_string<T>(
    list: &JsValue,
    mut each: impl FnMut(String) -> Option<T>,
) -> Result<Vec<T>, String> {
    let list = list.dyn_ref::<js_sys::Array>().ok_or("not a list")?;
    let mut out = Vec::with_capacity(list.length() as usize);
    for (i, v) in list.iter().enumerate() {
        let text = v
            .as_string()
            .ok_or_else(|| format!("entry {i} is not text"))?;
        out.push(each(text).ok_or_else(|| format!("entry {i} is malformed"))?);
    }
    Ok(out)
}
