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
/// Version 1: projects, progress, items. Version 2 adds embeddings, version 3 their last use,
/// version 4 the embedding cache in blocks ([`embeddings`]; the stores of versions 2 and 3 are
/// still read, and emptied as their entries are used or trimmed).
const DB_VERSION: u32 = 4;
/// Saved projects' summaries, progress and items (see `ui::storage`).
pub const PROJECTS: &str = "projects";
pub const PROGRESS: &str = "progress";
pub const ITEMS: &str = "items";
/// Embeddings by model hash and content hash, one record each (versions 2 and 3: only read now,
/// see [`embeddings`]).
pub const EMBEDDINGS: &str = "embeddings";
/// When each cached embedding was last written or read: `{t: ms since 1970}` under the
/// embedding's key, indexed by `t` ([`USE_INDEX`]), so the least recently used go first when the
/// cache is over its limit ([`trim_embeddings`]).
pub const EMBEDDING_USE: &str = "embedding-use";
const USE_INDEX: &str = "t";
/// The embedding cache in blocks ([`quarry_core::cache_blocks`]), each under the key
/// `<model key>/<block id>` in all three: its rows (one `Uint8Array`), its rows' content
/// hashes (one `Uint8Array`), and `{t, n, b}`: when it was last written or read, how many rows
/// it holds and the bytes of each, indexed by `t`.
pub const BLOCK_ROWS: &str = "embedding-blocks";
pub const BLOCK_HASHES: &str = "embedding-block-hashes";
pub const BLOCK_USE: &str = "embedding-block-use";

mod embeddings;
pub use embeddings::{
    cached_row_bytes, clear_embeddings, count_embeddings, count_under, embeddings, keep_embeddings,
    run_begins, run_ends, touch, trim_embeddings, Found,
};

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

/// Waits for `request` to succeed (its result) or fail (its error); a request already done
/// (its event fired while another was awaited) answers at once.
pub async fn finished(request: &IdbRequest) -> Result<JsValue, String> {
    let done = Reflect::get(request, &"readyState".into())
        .ok()
        .and_then(|s| s.as_string());
    if done.as_deref() == Some("done") {
        return match request.error() {
            Ok(Some(e)) => Err(explain(e.into())),
            _ => Ok(request.result().unwrap_or(JsValue::UNDEFINED)),
        };
    }
    // The promise's own functions are the handlers, removed once one has run: nothing keeps
    // the request (and so its result: a block of rows) alive after this returns.
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let outcome = JsFuture::from(promise).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match outcome {
        Ok(_) => Ok(request.result().unwrap_or(JsValue::UNDEFINED)),
        Err(_) => Err(explain(
            request
                .error()
                .ok()
                .flatten()
                .map_or(JsValue::NULL, Into::into),
        )),
    }
}

/// Tells the browser that `tx` gets no more requests: it commits once those issued are done,
/// without waiting for this thread to hear their results.
///
/// Without it, a transaction ends only after its thread has run every request's event and
/// found nothing left to do; a worker deep in a window of embedding does not run them for
/// seconds. Chromium (156, seen) runs a database's read-write transactions one at a time,
/// whatever their stores, so every other write (a project's save after an answer among them)
/// queued behind such cache writes: 6-11 s on 2 cores, past the page's 10 s limit on a save.
/// Where the browser has no `IDBTransaction.commit`, it ends as before.
pub fn done_issuing(tx: &IdbTransaction) {
    let _ = call(tx, "commit", &[]);
}

/// Waits for `tx` to commit ([`done_issuing`] first: every request is issued by then); an
/// error or abort (a full disk among them) is the error.
pub async fn committed(tx: &IdbTransaction) -> Result<(), String> {
    done_issuing(tx);
    let promise = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    let outcome = JsFuture::from(promise).await;
    tx.set_oncomplete(None);
    tx.set_onabort(None);
    outcome.map(|_| ()).map_err(|_| {
        explain(
            tx.error()
                .map_or_else(|| JsValue::from("the write was cancelled"), Into::into),
        )
    })
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
        for store in [
            PROJECTS,
            PROGRESS,
            ITEMS,
            EMBEDDINGS,
            BLOCK_ROWS,
            BLOCK_HASHES,
        ] {
            if !names.contains(store) {
                let _ = db.create_object_store(store);
            }
        }
        // The last-use stores, indexed by `t`.
        let with_index = |name: &str| {
            let uses = db.create_object_store(name).ok()?;
            let _ = call(&uses, "createIndex", &[USE_INDEX.into(), "t".into()]);
            Some(uses)
        };
        if !names.contains(BLOCK_USE) {
            with_index(BLOCK_USE);
        }
        if !names.contains(EMBEDDING_USE) {
            if let Some(uses) = with_index(EMBEDDING_USE).filter(|_| had_embeddings) {
                stamp_existing(&req, uses);
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
