//! Working offline: the service worker (`app/pwa/sw.js`) that keeps the app and its bundled
//! models on this machine, which also makes Quarry installable as an app.

/// Registers the service worker, where the browser has them (a secure context). A failure only
/// means no offline copy: it is logged, the app runs as before.
pub fn register() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let has_workers =
        js_sys::Reflect::has(&window.navigator(), &"serviceWorker".into()).unwrap_or(false);
    if !has_workers || !window.is_secure_context() {
        return;
    }
    let promise = window.navigator().service_worker().register("sw.js");
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = wasm_bindgen_futures::JsFuture::from(promise).await {
            web_sys::console::warn_1(&format!("no offline copy of Quarry: {e:?}").into());
        }
    });
}
