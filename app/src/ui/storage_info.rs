//! What this browser keeps for Quarry: the space used and allowed (`navigator.storage.estimate`),
//! whether it is kept for good (`persist`, asked when a project is created), the embedding
//! cache's size and limit (kept in this browser; the least recently used embeddings go first),
//! and "Clear cached embeddings". `navigator.storage` is reached through `Reflect`: a browser without it (or a
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

/// The `localStorage` key of the embedding cache's limit (a number of embeddings; 0: none).
const LIMIT_KEY: &str = "quarry.cache-limit";
/// The limit until the person sets one: about 320 MB of 1,280-value embeddings.
const DEFAULT_LIMIT: u32 = 250_000;
/// The limits offered (0: no limit).
const LIMITS: [u32; 6] = [1_000, 10_000, 50_000, 250_000, 1_000_000, 0];
/// Bytes of one cached embedding of the bundled image model (1,280 values, 8-bit, and a scale).
const ENTRY_BYTES: f64 = 1_284.0;

/// The embedding cache's limit in this browser (`None`: no limit).
pub fn cache_limit() -> Option<u32> {
    let kept = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(LIMIT_KEY).ok().flatten())
        .and_then(|v| v.parse::<u32>().ok());
    match kept.unwrap_or(DEFAULT_LIMIT) {
        0 => None,
        n => Some(n),
    }
}

fn set_cache_limit(limit: u32) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(LIMIT_KEY, &limit.to_string());
    }
}

/// Brings the embedding cache within its limit (the least recently used go first), reports a
/// failure, and has the storage section measure again. Run after an embedding run, after
/// "Open embeddings…", and when the limit changes; how many were removed.
pub async fn trim_cache(state: AppState) -> u32 {
    let trimmed = match cache_limit() {
        Some(limit) => crate::idb::trim_embeddings(limit).await,
        None => Ok(0),
    };
    state.cache_changed.update(|n| *n += 1);
    trimmed.unwrap_or_else(|e| {
        state.report(format!("The embedding cache could not be trimmed: {e}"));
        0
    })
}

/// A limit as the setting shows it.
fn limit_label(limit: u32) -> String {
    match limit {
        0 => "no limit".into(),
        n => format!(
            "{} (about {} at 1,280 values)",
            quarry_core::shown::grouped(n as usize),
            size(f64::from(n) * ENTRY_BYTES)
        ),
    }
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
    let cached = RwSignal::new(None::<u32>);
    let limit = RwSignal::new(cache_limit().unwrap_or(0));
    let measure = move || {
        leptos::task::spawn_local(async move {
            cached.set(crate::idb::count_embeddings().await.ok());
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
    Effect::new(move |_| {
        state.cache_changed.track();
        measure();
    });
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
    let choose = move |ev: leptos::ev::Event| {
        let Ok(chosen) = event_target_value(&ev).parse::<u32>() else {
            return;
        };
        set_cache_limit(chosen);
        limit.set(chosen);
        leptos::task::spawn_local(async move {
            let removed = trim_cache(state).await;
            done.set((removed > 0).then(|| {
                format!(
                    "Removed {} cached embeddings, the least recently used.",
                    quarry_core::shown::grouped(removed as usize)
                )
            }));
        });
    };
    let options = move || {
        let now = limit.get();
        let mut offered = LIMITS.to_vec();
        if !offered.contains(&now) {
            offered.insert(0, now);
        }
        offered
            .into_iter()
            .map(|n| view! { <option value=n.to_string() selected=n == now>{limit_label(n)}</option> })
            .collect_view()
    };
    let count_line = move || {
        cached.get().map(|n| {
            let n = quarry_core::shown::grouped(n as usize);
            view! { <p class="muted" data-testid="cache-count">{format!("Cached embeddings: {n}.")}</p> }
        })
    };
    view! {
        <div class="storage-info" data-testid="storage-info">
            {move || line.get().map(|l| view! { <p class="muted" data-testid="storage-line">{l}</p> })}
            {count_line}
            <label class="cache-limit">
                "Keep at most "
                <select aria-label="Embedding cache limit" on:change=choose>{options}</select>
                " cached embeddings (the least recently used go first)"
            </label>
            <button on:click=clear>"Clear cached embeddings"</button>
            {move || done.get().map(|d| view! { <p class="muted" role="status" data-testid="storage-cleared">{d}</p> })}
        </div>
    }
}
