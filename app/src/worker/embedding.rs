//! An embedding worker's run: items in windows — their files fetched together,
//! the cache asked once per window, the misses embedded one by one and cached once per window —
//! and every embedding sent straight to the learner over the port the page connected
//! ([`connect`]) as a transferred buffer. The page hears only which items are done
//! ([`WorkerResponse::Embedded`]), and at the end where the time went
//! ([`WorkerResponse::EmbedTiming`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Promise};
use quarry_core::cache;
use quarry_core::cache_blocks::{join_key, HASH_BYTES};
use quarry_core::embed::preprocess;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use quarry_core::embed::Embedder;

mod rows;

use rows::{compact_array, deliver, room, rows_array, settled};
pub(super) use rows::{connect, received};

use super::{body, post, response, scope, Engine};
use crate::idb;
use crate::protocol::{EmbedInput, EmbedJob, EmbedTiming, WorkerResponse};

/// Items read, looked up and cached together. Windows of cached items double up to
/// [`MAX_WINDOW`] (fewer transactions: reopening a project is all look-ups); a window with
/// items to embed keeps the next at [`EMBED_WINDOW`], enough to hide the reads behind the model
/// while holding few files (a person's photos can be megabytes each).
const FIRST_WINDOW: usize = 16;
const EMBED_WINDOW: usize = 8;
const MAX_WINDOW: usize = 256;

thread_local! {
    /// Whether the embedding cache can be used (off after the browser refused it once).
    static CACHE_ON: Cell<bool> = const { Cell::new(true) };
    /// The channel [`yield_now`] posts to itself over.
    static YIELDER: RefCell<Option<web_sys::MessageChannel>> = const { RefCell::new(None) };
    /// Cache writes started by [`keep`] and not yet waited for.
    static WRITES: RefCell<Vec<Promise>> = const { RefCell::new(Vec::new()) };
}

/// Milliseconds since the worker started (`performance.now()`).
pub(super) fn now() -> f64 {
    scope().performance().map_or(0.0, |p| p.now())
}

/// Embeds `jobs` (or takes them from the cache), answering [`WorkerResponse::Embedded`] or
/// [`WorkerResponse::ItemFailed`] for every item, in windows, then one
/// [`WorkerResponse::EmbedTiming`].
///
/// The next window's files and cache entries are fetched while this one is embedded (the worker
/// yields to the browser between items), so reading overlaps the model instead of adding to it.
pub(super) async fn run(engine: &Rc<RefCell<Engine>>, jobs: Vec<EmbedJob>) {
    let start = now();
    idb::run_begins();
    let mut t = EmbedTiming::default();
    let (model_key, dim) = {
        let e = engine.borrow();
        (e.model_key.clone(), e.dim)
    };
    // A model with nothing cached (a first run): no look-ups at all.
    let look = match &model_key {
        Some(key) if CACHE_ON.get() => match idb::count_under(key).await {
            Ok(n) => n > 0,
            Err(e) => {
                cache_off(e);
                false
            }
        },
        _ => false,
    };
    let keying = Keying {
        model: model_key,
        look,
    };
    let mut jobs = jobs.into_iter();
    let window = |jobs: &mut std::vec::IntoIter<EmbedJob>, size: usize| {
        let next: Vec<EmbedJob> = jobs.by_ref().take(size).collect();
        (!next.is_empty()).then(|| Pending::start(next, keying.clone(), dim))
    };
    let mut size = FIRST_WINDOW;
    let mut next = window(&mut jobs, size);
    while let Some(pending) = next {
        let waited = now();
        let prepared = pending.finish().await;
        t.wait_ms += now() - waited;
        size = if prepared.found.iter().all(Option::is_some) {
            (size * 2).min(MAX_WINDOW)
        } else {
            EMBED_WINDOW
        };
        next = window(&mut jobs, size);
        if !embed_window(engine, prepared, next.as_ref(), &mut t).await {
            break;
        }
    }
    settled().await;
    idb::run_ends();
    writes_done().await;
    t.wall_ms = now() - start;
    t.memory_mib = wasm_memory_mib();
    post(&WorkerResponse::EmbedTiming { timing: t });
}

/// Takes `items` from the cache by the content hashes an embeddings file gives them
/// (`hashes`: [`HASH_BYTES`] per item) under its model key `model`, in windows of
/// [`MAX_WINDOW`]: found rows go to the learner (as [`run`]'s do), the rest are answered as
/// [`WorkerResponse::Unmatched`] (all of them when `model` is not the loaded model's key, or
/// the cache is off); then one [`WorkerResponse::EmbedTiming`].
pub(super) async fn run_named(
    engine: &Rc<RefCell<Engine>>,
    model: &str,
    items: &[u32],
    hashes: &[u8],
) {
    let start = now();
    idb::run_begins();
    let mut t = EmbedTiming::default();
    let (key, dim) = {
        let e = engine.borrow();
        (e.model_key.clone(), e.dim)
    };
    let mut unmatched = Vec::new();
    let hashes = hashes.chunks_exact(HASH_BYTES);
    if !CACHE_ON.get() || key.as_deref() != Some(model) || hashes.len() != items.len() {
        unmatched.extend(items.iter().map(|&i| i as usize));
    } else {
        let pairs: Vec<(usize, &[u8])> = items.iter().map(|&i| i as usize).zip(hashes).collect();
        for window in pairs.chunks(MAX_WINDOW) {
            let looked = now();
            let keys: Vec<Option<String>> = window
                .iter()
                .map(|(_, h)| {
                    let hash: &[u8; HASH_BYTES] = (*h).try_into().ok()?;
                    Some(join_key(model, hash))
                })
                .collect();
            let found = cached(&keys, dim).await;
            t.lookup_ms += now() - looked;
            let sent = now();
            let mut hits = Vec::new();
            let mut rows = Vec::new();
            for ((item, _), row) in window.iter().zip(found) {
                match row {
                    Some(row) => {
                        hits.push(*item);
                        rows.extend_from_slice(&row);
                    }
                    None => unmatched.push(*item),
                }
            }
            if !hits.is_empty() {
                room().await;
                let array = compact_array(&rows);
                deliver(&hits, &array, &array.buffer(), hits.len());
                t.items += hits.len();
                t.cached += hits.len();
            }
            t.send_ms += now() - sent;
        }
    }
    settled().await;
    if !unmatched.is_empty() {
        post(&WorkerResponse::Unmatched { items: unmatched });
    }
    idb::run_ends();
    t.wall_ms = now() - start;
    t.memory_mib = wasm_memory_mib();
    post(&WorkerResponse::EmbedTiming { timing: t });
}

/// This worker's wasm memory, in MiB.
fn wasm_memory_mib() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory
        .buffer()
        .unchecked_into::<ArrayBuffer>()
        .byte_length() as f64
        / 1_048_576.0
}

/// One item's content: the file's bytes (images) or the text.
type Content = Result<Vec<u8>, String>;

/// A window read and looked up: its jobs, their contents, cache keys and cached rows.
struct Prepared {
    jobs: Vec<EmbedJob>,
    contents: Vec<Content>,
    keys: Vec<Option<String>>,
    /// Rows found in the cache, in its compact form.
    found: Vec<Option<Vec<u8>>>,
    read_ms: f64,
    lookup_ms: f64,
}

/// How a window's items are keyed in the cache: under the loaded model's key (`None`: no
/// model), and whether they are looked up (not while the model has nothing cached).
#[derive(Clone)]
struct Keying {
    model: Option<String>,
    look: bool,
}

/// A window being read in the background.
struct Pending {
    done: Promise,
    slot: Rc<RefCell<Option<Prepared>>>,
}

impl Pending {
    /// Starts reading `jobs` and (as `keying` says) looking them up.
    fn start(jobs: Vec<EmbedJob>, keying: Keying, dim: usize) -> Pending {
        let slot = Rc::new(RefCell::new(None));
        let out = slot.clone();
        let done = wasm_bindgen_futures::future_to_promise(async move {
            let start = now();
            let contents = read_all(&jobs.iter().collect::<Vec<_>>()).await;
            let read = now();
            let keys: Vec<Option<String>> = contents
                .iter()
                .map(|c| match (c, &keying.model) {
                    (Ok(bytes), Some(model)) => Some(cache::embedding_key(model, bytes)),
                    _ => None,
                })
                .collect();
            let found = if keying.look {
                cached(&keys, dim).await
            } else {
                vec![None; jobs.len()]
            };
            *out.borrow_mut() = Some(Prepared {
                jobs,
                contents,
                keys,
                found,
                read_ms: read - start,
                lookup_ms: now() - read,
            });
            Ok(JsValue::UNDEFINED)
        });
        Pending { done, slot }
    }

    async fn finish(self) -> Prepared {
        // The future never fails; its result is in the slot.
        let _ = wasm_bindgen_futures::JsFuture::from(self.done).await;
        self.slot
            .borrow_mut()
            .take()
            .expect("a finished window has its result")
    }
}

/// Delivers a prepared window: its cached rows at once, the rest embedded one by one, yielding to
/// the browser between items while `next` (the following window) is still being read. `false`
/// when the model gave values that are not numbers (said once): embedding stops.
async fn embed_window(
    engine: &Rc<RefCell<Engine>>,
    p: Prepared,
    next: Option<&Pending>,
    t: &mut EmbedTiming,
) -> bool {
    t.read_ms += p.read_ms;
    t.lookup_ms += p.lookup_ms;
    let mut clock = Stopwatch(now());
    let hits: Vec<(usize, &Vec<u8>)> = p
        .jobs
        .iter()
        .zip(&p.found)
        .filter_map(|(job, f)| f.as_ref().map(|v| (job.item, v)))
        .collect();
    if !hits.is_empty() {
        let items: Vec<usize> = hits.iter().map(|(i, _)| *i).collect();
        // One array for the window (one copy out of wasm), not one per row; the rows as the
        // cache keeps them, which the learner takes in as they are.
        let mut flat = Vec::with_capacity(hits.iter().map(|(_, v)| v.len()).sum());
        for (_, v) in &hits {
            flat.extend_from_slice(v);
        }
        room().await;
        let rows = compact_array(&flat);
        deliver(&items, &rows, &rows.buffer(), items.len());
        t.items += items.len();
        t.cached += items.len();
        t.send_ms += clock.lap();
    }

    let mut fresh = Vec::new();
    // Items not in the cache: the model is built now if it was left for later.
    if p.found.iter().any(Option::is_none) {
        if let Err(message) = super::ensure_model(engine).await {
            post(&WorkerResponse::Failed { message });
            return false;
        }
    }
    let rest = p.jobs.into_iter().zip(p.contents).zip(p.keys).zip(&p.found);
    for (((job, content), key), found) in rest {
        if found.is_some() {
            continue;
        }
        // Let the browser hand over what the next window's reads brought.
        if next.is_some_and(|n| n.slot.borrow().is_none()) {
            yield_now().await;
        }
        t.wait_ms += clock.lap();
        post(&WorkerResponse::Working {
            item: Some(job.item),
        });
        let embedded =
            content.and_then(|bytes| embed_fresh(engine, &job.name, job.input, bytes, t));
        clock.lap(); // decoding and the model, counted by `embed_fresh`
        post(&WorkerResponse::Working { item: None });
        match embedded {
            Ok(v) if v.iter().any(|x| !x.is_finite()) => {
                // Said once, and the model is used no further: every item would say it again.
                post(&WorkerResponse::Failed {
                    message: format!(
                        "the model gives values that are not numbers (NaN or infinite) for {}: \
                         it cannot embed these items. Choose another model, or check its \
                         preprocessing (input size, value scaling).",
                        job.name
                    ),
                });
                keep(fresh);
                return false;
            }
            Ok(v) => {
                room().await;
                let row = rows_array(&v);
                deliver(&[job.item], &row, &row.buffer(), 0);
                t.items += 1;
                if let Some(key) = key {
                    fresh.push((key, v));
                }
            }
            Err(message) => post(&WorkerResponse::ItemFailed {
                item: job.item,
                message,
            }),
        }
        t.send_ms += clock.lap();
    }
    keep(fresh);
    t.send_ms += clock.lap();
    true
}

/// Returns after the browser has run the tasks waiting on this worker, so fetches and cache
/// reads in flight move on between items.
///
/// Where the browser has `scheduler.postTask`, a task of normal priority posted to this very
/// thread, behind the tasks already queued. Elsewhere a message to itself over one channel kept
/// for the purpose (no timer clamping, no channel made per call), which goes out to the
/// browser's IO thread and back.
async fn yield_now() {
    if let Some(task) = posted_task() {
        let _ = wasm_bindgen_futures::JsFuture::from(task).await;
        return;
    }
    let Some(channel) = YIELDER.with_borrow_mut(|c| {
        if c.is_none() {
            *c = web_sys::MessageChannel::new().ok();
        }
        c.clone()
    }) else {
        return;
    };
    let promise = Promise::new(&mut |resolve, _| {
        channel.port2().set_onmessage(Some(&resolve));
    });
    if channel.port1().post_message(&JsValue::NULL).is_ok() {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

/// `scheduler.postTask(nothing, {priority: "user-visible"})`, when this browser has it.
fn posted_task() -> Option<Promise> {
    thread_local! {
        /// The task's function (does nothing) and options, made once.
        static TASK: Option<(js_sys::Function, js_sys::Object)> = {
            let nothing = Closure::<dyn Fn()>::new(|| {}).into_js_value().unchecked_into();
            let options = js_sys::Object::new();
            js_sys::Reflect::set(&options, &"priority".into(), &"user-visible".into())
                .ok()
                .map(|_| (nothing, options))
        };
    }
    let scheduler = js_sys::Reflect::get(&js_sys::global(), &"scheduler".into()).ok()?;
    let post: js_sys::Function = js_sys::Reflect::get(&scheduler, &"postTask".into())
        .ok()?
        .dyn_into()
        .ok()?;
    TASK.with(|task| {
        let (nothing, options) = task.as_ref()?;
        post.call2(&scheduler, nothing, options)
            .ok()?
            .dyn_into()
            .ok()
    })
}

/// Time between laps, in milliseconds.
struct Stopwatch(f64);

impl Stopwatch {
    fn lap(&mut self) -> f64 {
        let n = now();
        let d = n - self.0;
        self.0 = n;
        d
    }
}

/// Every item's content: the files fetched, and the blobs read, all at once (every request,
/// then every body read, started before any is awaited, so a window takes a couple of turns of
/// the worker's event loop, not two per file), texts as their UTF-8 bytes.
async fn read_all(window: &[&EmbedJob]) -> Vec<Content> {
    let started: Vec<Option<Promise>> = window
        .iter()
        .map(|job| match &job.input {
            EmbedInput::Url(url) => Some(scope().fetch_with_str(url)),
            EmbedInput::Blob(_) | EmbedInput::Text(_) => None,
        })
        .collect();
    let mut reads = Vec::with_capacity(window.len());
    for (job, request) in window.iter().zip(started) {
        reads.push(match (&job.input, request) {
            (EmbedInput::Url(url), Some(request)) => {
                response(url, request).await.map(|r| Some(r.array_buffer()))
            }
            (EmbedInput::Blob(blob), _) => Ok(Some(Ok(blob.array_buffer()))),
            _ => Ok(None),
        });
    }
    let mut out = Vec::with_capacity(window.len());
    for (job, read) in window.iter().zip(reads) {
        out.push(match (&job.input, read) {
            (_, Err(e)) => Err(e),
            (EmbedInput::Url(url), Ok(Some(read))) => body(url, read).await,
            (EmbedInput::Blob(_), Ok(Some(read))) => body(&job.name, read).await,
            (EmbedInput::Text(text), _) => Ok(text.as_bytes().to_vec()),
            (EmbedInput::Url(url), Ok(None)) => Err(format!("could not fetch {url}")),
            (EmbedInput::Blob(_), Ok(None)) => Err(format!("could not read {}", job.name)),
        });
    }
    out
}

/// The cached embeddings (of `dim` values, in the cache's compact form) under `keys`, looked up
/// in one transaction; what was found is stamped as used ([`idb::touch`]).
async fn cached(keys: &[Option<String>], dim: usize) -> Vec<Option<Vec<u8>>> {
    let wanted: Vec<&str> = keys.iter().flatten().map(String::as_str).collect();
    let found = if CACHE_ON.get() && !wanted.is_empty() {
        match idb::embeddings(&wanted).await {
            Ok(found) => Some(found),
            Err(e) => {
                cache_off(e);
                None
            }
        }
    } else {
        None
    };
    let (found, used) = match found {
        Some(f) => (f.rows, Some(f.used)),
        None => (Vec::new(), None),
    };
    let mut found = found.into_iter();
    let rows: Vec<Option<Vec<u8>>> = keys
        .iter()
        .map(|k| {
            k.as_ref()
                .and_then(|_| found.next().flatten())
                .filter(|v| cache::dim_of_compact(v.len()) == Some(dim))
        })
        .collect();
    if let Some(used) = used.filter(|u| !u.is_empty()) {
        // Recently used entries are the last the cache's limit removes; not waited for.
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = idb::touch(used).await {
                cache_off(e);
            }
        });
    }
    rows
}

/// Keeps fresh embeddings in the cache (one transaction), without waiting for the write (the
/// run waits for all of them at its end: [`writes_done`]).
fn keep(entries: Vec<(String, Vec<f32>)>) {
    if !CACHE_ON.get() || entries.is_empty() {
        return;
    }
    let write = wasm_bindgen_futures::future_to_promise(async move {
        if let Err(e) = idb::keep_embeddings(&entries).await {
            cache_off(e);
        }
        Ok(JsValue::UNDEFINED)
    });
    WRITES.with_borrow_mut(|w| w.push(write));
}

/// The length of the embeddings cached under model key `key`, if any are (and the cache is
/// usable).
pub(super) async fn cached_dim(key: &str) -> Option<usize> {
    if !CACHE_ON.get() {
        return None;
    }
    idb::cached_row_bytes(key)
        .await
        .ok()
        .flatten()
        .and_then(quarry_core::cache::dim_of_compact)
}

/// Waits for every cache write [`keep`] started: when the page hears that a run has ended, its
/// embeddings are in the cache (and the cache's limit counts them).
async fn writes_done() {
    let writes: Array = WRITES.take().into_iter().collect();
    let _ = wasm_bindgen_futures::JsFuture::from(Promise::all(&writes)).await;
}

/// The browser refused the cache: embed without it from now on, and say so once in the console.
fn cache_off(e: String) {
    if CACHE_ON.replace(false) {
        web_sys::console::warn_1(&format!("quarry: embeddings are not cached: {e}").into());
    }
}

/// Embeds one example from outside the pool (search by example): read, decoded and embedded
/// like an item, never cached.
pub(super) async fn example(
    engine: &Rc<RefCell<Engine>>,
    name: String,
    input: EmbedInput,
) -> Result<Vec<f32>, String> {
    let job = EmbedJob {
        item: 0,
        name,
        input,
    };
    let bytes = read_all(&[&job]).await.remove(0)?;
    super::ensure_model(engine).await?;
    embed_fresh(
        engine,
        &job.name,
        job.input,
        bytes,
        &mut EmbedTiming::default(),
    )
}

/// Embeds one item with the model, timing decoding and the model separately.
fn embed_fresh(
    engine: &Rc<RefCell<Engine>>,
    name: &str,
    input: EmbedInput,
    bytes: Vec<u8>,
    t: &mut EmbedTiming,
) -> Result<Vec<f32>, String> {
    let engine = engine.borrow();
    match (engine.embedder.as_ref(), input) {
        (None, _) => Err("the model is not loaded".to_string()),
        (Some(Embedder::Image(m)), EmbedInput::Url(_) | EmbedInput::Blob(_)) => {
            let start = now();
            let input = preprocess(name, &bytes, m.spec()).map_err(|e| e.to_string())?;
            let decoded = now();
            t.decode_ms += decoded - start;
            let out = m.embed_preprocessed(input).map_err(|e| e.to_string());
            t.model_ms += now() - decoded;
            out
        }
        (Some(Embedder::Text(m)), EmbedInput::Text(text)) => {
            let start = now();
            let out = m.embed_text(&text).map_err(|e| e.to_string());
            t.model_ms += now() - start;
            out
        }
        (Some(Embedder::Image(_)), _) => Err("an image model cannot embed a text".to_string()),
        (Some(Embedder::Text(_)), _) => Err("a text model cannot embed an image".to_string()),
    }
}

/// Runs the loaded model `runs` times on one prepared input (a fixed pattern image, or a fixed
/// sentence), timing each run: the model alone, for the embedding benchmark.
pub(super) fn time_model(engine: &Rc<RefCell<Engine>>, runs: usize) -> Result<Vec<f64>, String> {
    let engine = engine.borrow();
    let embedder = engine.embedder.as_ref().ok_or("the model is not loaded")?;
    let pattern: Vec<f32> = match embedder {
        Embedder::Image(m) => {
            let side = m.spec().size as usize;
            (0..3 * side * side)
                .map(|i| (i as f32 * 0.37).sin() * 0.9)
                .collect()
        }
        Embedder::Text(_) => Vec::new(),
    };
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let input = pattern.clone();
        let start = now();
        let out = match embedder {
            Embedder::Image(m) => m.embed_preprocessed(input),
            Embedder::Text(m) => {
                m.embed_text("A sentence of about the length people label, to time the model.")
            }
        };
        ms.push(now() - start);
        out.map_err(|e| e.to_string())?;
    }
    Ok(ms)
}
