//! Saving a file the app made: a Blob, an object URL, a click on a hidden link. Nothing is sent
//! anywhere.

use wasm_bindgen::JsCast;

/// Offers `text` as a download named `name`.
///
/// # Errors
/// The browser's message when the Blob or link cannot be made.
pub fn download_text(name: &str, mime: &str, text: &str) -> Result<(), String> {
    download(name, mime, &text.into())
}

/// Offers `bytes` as a download named `name`.
///
/// # Errors
/// As [`download_text`].
pub fn download_bytes(name: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    download(name, mime, &js_sys::Uint8Array::from(bytes).into())
}

/// Offers the concatenation of `parts` (each a `Uint8Array`, held by the browser outside wasm
/// memory) as a download named `name`.
///
/// # Errors
/// As [`download_text`].
pub fn download_parts(name: &str, mime: &str, parts: &js_sys::Array) -> Result<(), String> {
    download_sequence(name, mime, parts)
}

fn download(name: &str, mime: &str, part: &wasm_bindgen::JsValue) -> Result<(), String> {
    download_sequence(name, mime, &js_sys::Array::of1(part))
}

fn download_sequence(name: &str, mime: &str, parts: &js_sys::Array) -> Result<(), String> {
    let err = |e: wasm_bindgen::JsValue| format!("{e:?}");
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob =
        web_sys::Blob::new_with_buffer_source_sequence_and_options(parts, &options).map_err(err)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(err)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let link: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(err)?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // Revoking at once can cancel the download in some browsers: free the URL a minute later.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    web_sys::window()
        .ok_or("no window")?
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000)
        .map_err(err)?;
    Ok(())
}
