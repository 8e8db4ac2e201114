//! What this browser keeps for Quarry: the space used and allowed (`navigator.storage.estimate`),
//! whether it is kept for good (`persist`, asked when a project is created), and "Clear cached
//! embeddings". `navigator.storage` is reached through `Reflect`: a browser without it (or a
//! page not in a secure context) shows nothing, and the rest works as before.

use js_sys::{Function, Promise, Reflect};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::state::AppState;

/// `navigator.storage`, where the browser has it.
fn manager() -> Option<JsValue> {
    let navigator = web_sys::window()?.navigator();
    Reflect::get(&navigator, &"storage".into())
        .ok()
        .filter(|s| !s.is_undefined() && !s.is_null())
}

/// Calls `navigator.storage.<name>()` and awaits its promise.
async fn call(name: &str) -> Option<JsValue> {
    let storage = manager()?;
    let f: Function = Reflect::get(&storage, &name.into()).ok()?.dyn_into().ok()?;
    let promise: Promise = f.call0(&storage).ok()?.dyn_into().ok()?;
    JsFuture::from(promise).await.ok()
}

/// Asks the browser to keep this site's storage for good (not cleared under storage pressure);
/// whether it agreed. Browsers decide by their own rules (Chromium: site engagement, an
/// installed app, bookmarks).
pub async fn ask_persistent() -> Option<bool> {
    call("persist").await?.as_bool()
}

/// Bytes used, bytes allowed, and whether the storage is kept for good.
async fn estimate() -> Option<(f64, f64, bool)> {
    let e = call("estimate").await?;
    let number = |k: &str| Reflect::get(&e, &k.into()).ok()?.as_f64();
    let persisted = call("persisted")
        .await
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    Some((number("usage")?, number("quota")?, persisted))
}

fn size(bytes: f64) -> String {
    if bytes >= 1e9 {
        format!("{:.1} GB", bytes / 1e9)
    } else {
        format!("{:.0} MB", (bytes / 1e6).max(0.1))
    }
}

/// The storage line and the button that empties the embedding cache.
#[component]
pub fn StorageInfo() -> impl IntoView {
    let state = expect_context::<AppState>();
    let line = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let measure = move || {
        leptos::task::spawn_local(async move {
            line.set(estimate().await.map(|(usage, quota, persisted)| {
                let kept = if persisted {
                    "kept for good"
                } else {
                    "the browser may clear it when the disk runs short: keep project files"
                };
                format!(
                    "Quarry uses {} of the {} this browser allows ({kept}).",
                    size(usage),
                    size(quota)
                )
            }));
        });
    };
    measure();
    let clear = move |_| {
        leptos::task::spawn_local(async move {
            match crate::idb::clear_embeddings().await {
                Ok(n) => done.set(Some(format!(
                    "Cleared {n} cached embeddings: items are embedded again when next opened."
                ))),
                Err(e) => state.report(format!("The cached embeddings could not be cleared: {e}")),
            }
            measure();
        });
    };
    view! {
        <div class="storage-info" data-testid="storage-info">
            {move || line.get().map(|l| view! { <p class="muted" data-testid="storage-line">{l}</p> })}
            <button on:click=clear>"Clear cached embeddings"</button>
            {move || done.get().map(|d| view! { <p class="muted" role="status" data-testid="storage-cleared">{d}</p> })}
        </div>
    }
}
