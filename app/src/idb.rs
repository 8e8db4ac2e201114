//! The browser's IndexedDB, for the page ([`crate::ui`]'s saved projects) and the workers (the
//! embedding cache): one database, `quarry`, opened once per thread; requests and transactions
//! as futures; the browser's errors in words.

use js_sys::{Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbFactory, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode,
};

const DB: &str = "quarry";
/// Version 1: projects, progress, items. Version 2 adds embeddings, version 3 their last use.
const DB_VERSION: u32 = 3;
/// Saved projects' summaries, progress and items (see `ui::storage`).
pub const PROJECTS: &str = "projects";
pub const PROGRESS: &str = "progress";
pub const ITEMS: &str = "items";
/// Embeddings by model hash and content hash (see `worker`).
pub const EMBEDDINGS: &str = "embeddings";
/// When each cached embedding was last written or read: `{t: ms since 1970}` under the
/// embedding's key, indexed by `t` ([`USE_INDEX`]), so the least recently used go first when the
/// cache is over its limit ([`trim_embeddings`]).
pub const EMBEDDING_USE: &str = "embedding-use";
const USE_INDEX: &str = "t";

/// Says what went wrong with the browser's storage, for people.
pub fn explain(e: JsValue) -> String {
    let name = Reflect::get(&e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    let message = Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|n| n.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    match name.as_str() {
        "QuotaExceededError" => {
            "the browser's storage for this page is full (free space or delete old projects)"
                .into()
        }
        "SecurityError" | "InvalidStateError" => format!(
            "this browser does not let the page save (a private window, or site data turned off): {message}"
        ),
        "" => message,
        _ => format!("{name}: {message}"),
    }
}

/// Waits for `request` to succeed (its result) or fail (its error).
pub async fn finished(request: &IdbRequest) -> Result<JsValue, String> {
    let promise = Promise::new(&mut |resolve, reject| {
        let req = request.clone();
        let ok = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &req.result().unwrap_or(JsValue::UNDEFINED));
        });
        let req = request.clone();
        let fail = Closure::once_into_js(move || {
            let error = req.error().ok().flatten().map_or(JsValue::NULL, Into::into);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        request.set_onsuccess(Some(ok.unchecked_ref()));
        request.set_onerror(Some(fail.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(explain)
}

/// Waits for `tx` to commit; an error or abort (a full disk among them) is the error.
pub async fn committed(tx: &IdbTransaction) -> Result<(), String> {
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let t = tx.clone();
        let fail = Closure::once_into_js(move || {
            let error = t
                .error()
                .map_or_else(|| JsValue::from("the write was cancelled"), Into::into);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        tx.set_oncomplete(Some(ok.unchecked_ref()));
        tx.set_onabort(Some(fail.unchecked_ref()));
    });
    JsFuture::from(promise).await.map(|_| ()).map_err(explain)
}

thread_local! {
    static OPEN: std::cell::RefCell<Option<IdbDatabase>> = const { std::cell::RefCell::new(None) };
}

/// The database, opened (created or upgraded) on first use.
pub async fn open() -> Result<IdbDatabase, String> {
    if let Some(db) = OPEN.with_borrow(Clone::clone) {
        return Ok(db);
    }
    let db = open_new().await?;
    OPEN.set(Some(db.clone()));
    Ok(db)
}

async fn open_new() -> Result<IdbDatabase, String> {
    // `indexedDB` of the page or the worker; reading it throws where storage is turned off.
    let factory = Reflect::get(&js_sys::global(), &"indexedDB".into()).map_err(explain)?;
    if factory.is_undefined() || factory.is_null() {
        return Err("this browser has no IndexedDB".into());
    }
    let factory: IdbFactory = factory.unchecked_into();
    let request = factory.open_with_u32(DB, DB_VERSION).map_err(explain)?;
    let req = request.clone();
    let upgrade = Closure::once_into_js(move || {
        let Ok(db) = req.result().map(IdbDatabase::unchecked_from_js) else {
            return;
        };
        let names = db.object_store_names();
        let had_embeddings = names.contains(EMBEDDINGS);
        for store in [PROJECTS, PROGRESS, ITEMS, EMBEDDINGS] {
            if !names.contains(store) {
                let _ = db.create_object_store(store);
            }
        }
        if !names.contains(EMBEDDING_USE) {
            if let Ok(uses) = db.create_object_store(EMBEDDING_USE) {
                let _ = call(&uses, "createIndex", &[USE_INDEX.into(), "t".into()]);
                if had_embeddings {
                    stamp_existing(&req, uses);
                }
            }
        }
    });
    request.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let db: IdbDatabase = finished(&request).await?.unchecked_into();
    // A newer Quarry in another tab upgrades the database: let it, and open afresh next time.
    let this = db.clone();
    let on_change = Closure::<dyn FnMut()>::new(move || {
        this.close();
        OPEN.set(None);
    });
    db.set_onversionchange(Some(on_change.as_ref().unchecked_ref()));
    on_change.forget();
    Ok(db)
}

/// Calls `target.<method>(args…)`: what web-sys has only behind features this crate does not
/// turn on (each one rebuilds much of the wasm).
fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let f: js_sys::Function = Reflect::get(target, &method.into())
        .map_err(explain)?
        .dyn_into()
        .map_err(|_| format!("this browser has no {method}"))?;
    f.apply(target, &args.iter().collect::<js_sys::Array>())
        .map_err(explain)
}

/// The value kept in [`EMBEDDING_USE`].
fn stamp(t: f64) -> JsValue {
    let o = js_sys::Object::new();
    let _ = Reflect::set(&o, &"t".into(), &t.into());
    o.into()
}

/// During the upgrade to version 3: every embedding cached before it is stamped as used long
/// ago (`t` = 0), so the limit can remove it too.
fn stamp_existing(open: &web_sys::IdbOpenDbRequest, uses: IdbObjectStore) {
    let Some(tx) = open.transaction() else {
        return;
    };
    let Ok(keys) = tx
        .object_store(EMBEDDINGS)
        .and_then(|store| store.get_all_keys())
    else {
        return;
    };
    let req = keys.clone();
    let on_keys = Closure::once_into_js(move || {
        let Ok(keys) = req.result() else {
            return;
        };
        let long_ago = stamp(0.0);
        for key in js_sys::Array::from(&keys).iter() {
            let _ = uses.put_with_key(&long_ago, &key);
        }
    });
    keys.set_onsuccess(Some(on_keys.unchecked_ref()));
}

pub fn transaction(
    db: &IdbDatabase,
    stores: &[&str],
    mode: IdbTransactionMode,
) -> Result<IdbTransaction, String> {
    let names = js_sys::Array::new();
    for s in stores {
        names.push(&(*s).into());
    }
    db.transaction_with_str_sequence_and_mode(&names, mode)
        .map_err(explain)
}

/// A read-write transaction on `stores` that the browser may commit without flushing to disk
/// (`{durability: "relaxed"}`; web-sys has the option only behind its unstable flag).
fn relaxed_write(db: &IdbDatabase, stores: &[&str]) -> Result<IdbTransaction, String> {
    let options = js_sys::Object::new();
    Reflect::set(&options, &"durability".into(), &"relaxed".into()).map_err(explain)?;
    let names: js_sys::Array = stores.iter().map(|s| JsValue::from(*s)).collect();
    call(
        db,
        "transaction",
        &[names.into(), "readwrite".into(), options.into()],
    )
    .map(JsCast::unchecked_into)
}

pub fn store(tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore, String> {
    tx.object_store(name).map_err(explain)
}

pub fn put(tx: &IdbTransaction, name: &str, id: &str, value: &JsValue) -> Result<(), String> {
    store(tx, name)?
        .put_with_key(value, &id.into())
        .map(|_| ())
        .map_err(explain)
}

/// The cached embeddings under `keys`, in order (`None` where absent), read in one transaction
/// (every request issued before any is awaited).
pub async fn embeddings(keys: &[&str]) -> Result<Vec<Option<js_sys::Float32Array>>, String> {
    let db = open().await?;
    let tx = transaction(&db, &[EMBEDDINGS], IdbTransactionMode::Readonly)?;
    let store = store(&tx, EMBEDDINGS)?;
    let requests = keys
        .iter()
        .map(|k| store.get(&(*k).into()).map_err(explain))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(requests.len());
    for request in &requests {
        out.push(from_cache(finished(request).await?));
    }
    Ok(out)
}

/// A cached embedding's values: 8-bit codes and a scale ([`quarry_core::cache::compact`]), or
/// f32 as caches written before that kept them.
fn from_cache(value: JsValue) -> Option<js_sys::Float32Array> {
    match value.dyn_into::<js_sys::Float32Array>() {
        Ok(f32s) => Some(f32s),
        Err(value) => {
            let bytes = value.dyn_into::<js_sys::Uint8Array>().ok()?.to_vec();
            let values = quarry_core::cache::expand(&bytes)?;
            Some(js_sys::Float32Array::from(values.as_slice()))
        }
    }
}

/// How many embeddings are cached under keys that start with `prefix` (`<model key>/`).
pub async fn count_under(prefix: &str) -> Result<u32, String> {
    let db = open().await?;
    let tx = transaction(&db, &[EMBEDDINGS], IdbTransactionMode::Readonly)?;
    let range = web_sys::IdbKeyRange::bound(&prefix.into(), &format!("{prefix}\u{ffff}").into())
        .map_err(explain)?;
    let request = store(&tx, EMBEDDINGS)?
        .count_with_key(&range)
        .map_err(explain)?;
    Ok(finished(&request).await?.as_f64().unwrap_or(0.0) as u32)
}

/// A read-write transaction on the embedding cache and its last-use stamps (removals:
/// [`clear_embeddings`], [`trim_embeddings`]).
fn cache_write(db: &IdbDatabase) -> Result<IdbTransaction, String> {
    transaction(
        db,
        &[EMBEDDINGS, EMBEDDING_USE],
        IdbTransactionMode::Readwrite,
    )
}

/// How many embeddings are cached (under any model).
pub async fn count_embeddings() -> Result<u32, String> {
    let db = open().await?;
    let tx = transaction(&db, &[EMBEDDINGS], IdbTransactionMode::Readonly)?;
    let request = store(&tx, EMBEDDINGS)?.count().map_err(explain)?;
    Ok(finished(&request).await?.as_f64().unwrap_or(0.0) as u32)
}

/// Empties the embedding cache; returns how many embeddings it held.
pub async fn clear_embeddings() -> Result<u32, String> {
    let db = open().await?;
    let tx = cache_write(&db)?;
    let cache = store(&tx, EMBEDDINGS)?;
    let count = cache.count().map_err(explain)?;
    cache.clear().map_err(explain)?;
    store(&tx, EMBEDDING_USE)?.clear().map_err(explain)?;
    let n = finished(&count).await?.as_f64().unwrap_or(0.0) as u32;
    committed(&tx).await?;
    Ok(n)
}

/// Caches `entries` (key, embedding) in one transaction with relaxed durability (a cache: a
/// write lost to a power cut is only embedded again), in the learner's 8-bit form
/// ([`quarry_core::cache::compact`]: 4× smaller than f32), stamped as used now; done when
/// committed.
pub async fn keep_embeddings(entries: &[(String, Vec<f32>)]) -> Result<(), String> {
    let db = open().await?;
    let tx = relaxed_write(&db, &[EMBEDDINGS, EMBEDDING_USE])?;
    let now = stamp(js_sys::Date::now());
    for (key, values) in entries {
        put(
            &tx,
            EMBEDDINGS,
            key,
            &js_sys::Uint8Array::from(quarry_core::cache::compact(values).as_slice()),
        )?;
        put(&tx, EMBEDDING_USE, key, &now)?;
    }
    committed(&tx).await
}

/// Stamps the embeddings under `keys` as used now (they were just read from the cache), in one
/// transaction with relaxed durability.
pub async fn touch_embeddings(keys: &[String]) -> Result<(), String> {
    let db = open().await?;
    let tx = relaxed_write(&db, &[EMBEDDING_USE])?;
    let now = stamp(js_sys::Date::now());
    for key in keys {
        put(&tx, EMBEDDING_USE, key, &now)?;
    }
    committed(&tx).await
}

/// Embeddings removed per transaction by [`trim_embeddings`].
const TRIM_STEP: u32 = 5_000;

/// Removes the least recently used cached embeddings until at most `limit` remain; returns how
/// many were removed.
pub async fn trim_embeddings(limit: u32) -> Result<u32, String> {
    let db = open().await?;
    let mut removed = 0;
    loop {
        let tx = cache_write(&db)?;
        let cache = store(&tx, EMBEDDINGS)?;
        let uses = store(&tx, EMBEDDING_USE)?;
        let count = finished(&cache.count().map_err(explain)?)
            .await?
            .as_f64()
            .unwrap_or(0.0) as u32;
        let excess = count.saturating_sub(limit).min(TRIM_STEP);
        if excess == 0 {
            return Ok(removed);
        }
        let index = call(&uses, "index", &[USE_INDEX.into()])?;
        let oldest: IdbRequest =
            call(&index, "getAllKeys", &[JsValue::NULL, excess.into()])?.unchecked_into();
        let keys = js_sys::Array::from(&finished(&oldest).await?);
        if keys.length() == 0 {
            // Only entries without a stamp are left (none after the upgrade): keep them.
            return Ok(removed);
        }
        for key in keys.iter() {
            cache.delete(&key).map_err(explain)?;
            uses.delete(&key).map_err(explain)?;
        }
        committed(&tx).await?;
        removed += keys.length();
    }
}

/// `work`, or an error when it has not finished within `ms` milliseconds (a write the browser
/// never completes must not hold the screen forever).
pub async fn within(
    ms: i32,
    work: impl std::future::Future<Output = Result<(), String>> + 'static,
) -> Result<(), String> {
    let work = wasm_bindgen_futures::future_to_promise(async move {
        work.await
            .map(|()| JsValue::UNDEFINED)
            .map_err(JsValue::from)
    });
    let timer = Promise::new(&mut |_, reject| {
        let timed_out = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &JsValue::UNDEFINED);
        });
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        // `setTimeout` is the same function on a window and in a worker.
        let _ = scope
            .set_timeout_with_callback_and_timeout_and_arguments_0(timed_out.unchecked_ref(), ms);
    });
    match JsFuture::from(Promise::race(&js_sys::Array::of2(&work, &timer))).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_undefined() => Err(format!(
            "the browser did not finish saving within {} s",
            ms / 1000
        )),
        Err(e) => Err(e.as_string().unwrap_or_else(|| format!("{e:?}"))),
    }
}
