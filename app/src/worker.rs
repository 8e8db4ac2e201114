//! The worker side: loads the model, embeds items ([`embedding`]), runs the learner. Started by
//! src/bin/worker.rs inside a dedicated Web Worker; never touches the DOM. One worker of a run
//! holds the learner; the others embed and send their rows to it over their own channels.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::Uint8Array;
use quarry_core::embed::{inspect, Embedder, ImageEmbedder, TextEmbedder};
use quarry_core::map::tsne::Tsne;
use quarry_core::model::ModelChoice;
use quarry_core::simulate::race::{Race, RaceConfig};
use quarry_core::store::Rows;
use quarry_core::Learner;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, MessagePort, Response};

mod compute;
mod embedding;
mod model_files;
mod vectors;

use model_files::ModelFiles;

use crate::protocol::{ChannelEnd, WorkerRequest, WorkerResponse};

#[derive(Default)]
struct Engine {
    embedder: Option<Embedder>,
    /// The model, not built yet: its embeddings are cached, so it is built only when an item
    /// needs it ([`ensure_model`]) — a pool that all comes from the cache (an opened embeddings
    /// file) never holds the model's memory.
    deferred: Option<ModelChoice>,
    /// [`quarry_core::cache::model_key`] of the loaded model.
    model_key: Option<String>,
    /// The length of the model's embeddings.
    dim: usize,
    learner: Option<Learner>,
    /// Where the learner's pool passes run (shared with the GPU's start-up task).
    compute: Rc<RefCell<compute::Slot>>,
    /// A classroom race over the learner's rows.
    race: Option<Race>,
    /// The t-SNE layout under way: its id, the layout, the time spent on it (ms).
    tsne: Option<(u64, Tsne, f64)>,
}

/// The model's file and, for a text model, its tokenizer's.
async fn fetch_model(model: &ModelChoice) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    ModelFiles::fetch(model).await?.read().await
}

/// The embedder of `model` from its files ([`fetch_model`]).
fn build(model: &ModelChoice, bytes: &[u8], tokenizer: Option<&[u8]>) -> Result<Embedder, String> {
    let built = match (model, tokenizer) {
        (ModelChoice::Image { spec, .. }, _) => {
            ImageEmbedder::from_onnx_bytes(bytes, spec.clone()).map(Embedder::Image)
        }
        (ModelChoice::Text { .. }, tokenizer) => {
            TextEmbedder::from_bytes(bytes, tokenizer.unwrap_or_default())
                .map(|m| Embedder::Text(Box::new(m)))
        }
    };
    built.map_err(|e| format!("the model: {e}"))
}

/// Loads `model`: its key, and the model built — or, when the cache already holds embeddings
/// under its key (the model has worked before), only its key and embedding length, the model
/// being built when an item first needs it.
async fn load(engine: &Rc<RefCell<Engine>>, model: ModelChoice) -> Result<(usize, String), String> {
    let files = ModelFiles::fetch(&model).await?;
    let key = files.key(&model).await?;
    let (embedder, deferred, dim) = match embedding::cached_dim(&key).await {
        Some(dim) => (None, Some(model), dim),
        None => {
            let (bytes, tokenizer) = files.read().await?;
            let embedder = build(&model, &bytes, tokenizer.as_deref())?;
            let dim = embedder.dim();
            (Some(embedder), None, dim)
        }
    };
    let mut e = engine.borrow_mut();
    (e.embedder, e.deferred, e.dim) = (embedder, deferred, dim);
    e.model_key = Some(key.clone());
    Ok((dim, key))
}

/// Builds the model if [`load`] left it for later; an error says why it cannot be built.
async fn ensure_model(engine: &Rc<RefCell<Engine>>) -> Result<(), String> {
    let Some(model) = engine.borrow().deferred.clone() else {
        return Ok(());
    };
    let (bytes, tokenizer) = fetch_model(&model).await?;
    let embedder = build(&model, &bytes, tokenizer.as_deref())?;
    if embedder.dim() != engine.borrow().dim {
        return Err(format!(
            "the model gives {} values per item where its cached embeddings have {}",
            embedder.dim(),
            engine.borrow().dim
        ));
    }
    let mut e = engine.borrow_mut();
    e.embedder = Some(embedder);
    e.deferred = None;
    Ok(())
}

/// The embedding model (fetched again: this worker holds the learner, not the model) with
/// `head` behind it, as ONNX; for a text model a zip with the tokenizer. Returns the bytes and
/// whether they are a zip.
async fn classifier(
    model: &ModelChoice,
    head: Option<quarry_core::head::LinearHead>,
    classes: &[String],
) -> Result<(Vec<u8>, bool), String> {
    use quarry_core::embed::classifier::{image_classifier, text_classifier};
    let head = head.ok_or(
        "there is no trained head yet: label items of two classes first (multi-label: items with and without a class)",
    )?;
    let (bytes, tokenizer) = fetch_model(model).await?;
    match model {
        ModelChoice::Image { spec, .. } => image_classifier(&bytes, spec, &head, classes)
            .map(|onnx| (onnx, false))
            .map_err(|e| e.to_string()),
        ModelChoice::Text { .. } => {
            let tokenizer = tokenizer.unwrap_or_default();
            let onnx = text_classifier(&bytes, &head, classes).map_err(|e| e.to_string())?;
            Ok((
                quarry_core::archive::write_text_classifier_zip(&onnx, &tokenizer, classes),
                true,
            ))
        }
    }
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

pub(crate) fn post(msg: &WorkerResponse) {
    match serde_wasm_bindgen::to_value(msg) {
        Ok(v) => {
            if let Err(e) = scope().post_message(&v) {
                web_sys::console::error_2(&"quarry worker: postMessage failed".into(), &e);
            }
        }
        Err(e) => web_sys::console::error_1(&format!("quarry worker: {e}").into()),
    }
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let resp = response(url, scope().fetch_with_str(url)).await?;
    body(url, resp.array_buffer()).await
}

/// The response a started `fetch` of `url` gives, if it is a success.
async fn response(url: &str, request: js_sys::Promise) -> Result<Response, String> {
    let resp: Response = JsFuture::from(request)
        .await
        .map_err(|e| format!("could not fetch {url}: {e:?}"))?
        .unchecked_into();
    if !resp.ok() {
        return Err(format!("could not fetch {url}: HTTP {}", resp.status()));
    }
    Ok(resp)
}

/// The bytes of a started `arrayBuffer()` read of `url`'s response.
async fn body(url: &str, read: Result<js_sys::Promise, JsValue>) -> Result<Vec<u8>, String> {
    let buf = JsFuture::from(read.map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("could not read {url}: {e:?}"))?;
    // The response's buffer is this worker's alone.
    Ok(crate::js_bytes::take(&Uint8Array::new(&buf)))
}

async fn handle(engine: Rc<RefCell<Engine>>, request: WorkerRequest) {
    match request {
        WorkerRequest::LoadModel { model } => match load(&engine, model).await {
            Ok((dim, key)) => post(&WorkerResponse::ModelLoaded { dim, key }),
            Err(message) => post(&WorkerResponse::Failed { message }),
        },
        WorkerRequest::Inspect { url } => {
            let result = match fetch_bytes(&url).await {
                Ok(bytes) => inspect(&bytes).map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            post(&WorkerResponse::Inspected { result });
        }
        WorkerRequest::KeepEmbeddings { files, limit } => vectors::keep_files(files, limit).await,
        WorkerRequest::Embed { jobs } => embedding::run(&engine, jobs).await,
        WorkerRequest::EmbedNamed {
            model,
            items,
            hashes,
        } => {
            // Transferred by the page: this worker's alone.
            let (items, hashes) = (
                crate::js_bytes::take_u32(&items),
                crate::js_bytes::take(&hashes),
            );
            embedding::run_named(&engine, &model, &items, &hashes).await
        }
        WorkerRequest::TimeModel { runs } => {
            let timed = ensure_model(&engine)
                .await
                .and_then(|()| embedding::time_model(&engine, runs));
            post(&match timed {
                Ok(ms) => WorkerResponse::ModelTimed { ms },
                Err(message) => WorkerResponse::Failed { message },
            })
        }
        // Handled as it arrives (the port is not part of the request): see `run`.
        WorkerRequest::Connect { .. } => {}
        WorkerRequest::StartLearner {
            items,
            classes,
            seed,
            compute,
        } => match Learner::new(items, classes, seed) {
            Ok(l) => {
                engine.borrow_mut().learner = Some(l);
                let slot = engine.borrow().compute.clone();
                compute::choose(&slot, compute);
            }
            Err(e) => post(&WorkerResponse::Failed {
                message: e.to_string(),
            }),
        },
        WorkerRequest::Compute { compute } => {
            let slot = engine.borrow().compute.clone();
            compute::choose(&slot, compute);
        }
        WorkerRequest::AddEmbeddings { items, embeddings } => {
            add_rows(&engine, &items, &embeddings, Learner::add_embedding);
        }
        WorkerRequest::AddCompact { items, rows } => {
            add_rows(&engine, &items, &rows, Learner::add_compact);
        }
        WorkerRequest::Predictions { purpose } => {
            let predictions = with_learner(&engine, async |l, gpu| match gpu {
                Some(g) => l.predictions_on(g).await,
                None => l.predictions(),
            })
            .await
            .flatten();
            post(&WorkerResponse::Predictions {
                purpose,
                predictions,
            });
        }
        WorkerRequest::Similar { id, query, k } => {
            let start = embedding::now();
            let similar = match engine.borrow().learner.as_ref() {
                Some(l) => l.similar(&query, k).map_err(|e| e.to_string()),
                None => Err("the learner has not been started".to_string()),
            };
            let ms = embedding::now() - start;
            post(&WorkerResponse::Similar { id, similar, ms });
        }
        WorkerRequest::Map => {
            let start = embedding::now();
            let layout = engine
                .borrow()
                .learner
                .as_ref()
                .map(Learner::map)
                .unwrap_or_default();
            let ms = embedding::now() - start;
            post(&WorkerResponse::Map { layout, ms });
        }
        WorkerRequest::MapTsne { id, keep } => {
            let tsne = engine.borrow().learner.as_ref().map(|l| l.map_tsne(&keep));
            match tsne {
                Some(t) => {
                    engine.borrow_mut().tsne = Some((id, t, 0.0));
                    tsne_slice(&mut engine.borrow_mut(), id);
                }
                None => post(&WorkerResponse::Failed {
                    message: "the learner has not been started".to_string(),
                }),
            }
        }
        WorkerRequest::MapTsneStep { id } => tsne_slice(&mut engine.borrow_mut(), id),
        WorkerRequest::RaceStart { truth, config } => {
            let mut engine = engine.borrow_mut();
            let race = match engine.learner.as_ref() {
                Some(l) => race(l, truth, config),
                None => Err("the learner has not been started".to_string()),
            };
            let result = race.map(|r| {
                engine.race = Some(r);
            });
            post(&WorkerResponse::RaceReady { result });
        }
        WorkerRequest::RaceStep => {
            let frame = match engine.borrow_mut().race.as_mut() {
                Some(r) => r.step().map_err(|e| e.to_string()),
                None => Err("no race is set up".to_string()),
            };
            post(&WorkerResponse::RaceFrame { frame });
        }
        WorkerRequest::EmbedExample { id, name, input } => {
            let embedding = embedding::example(&engine, name, input).await;
            post(&WorkerResponse::Example { id, embedding });
        }
        WorkerRequest::Classifier { model, classes } => {
            let head = engine
                .borrow()
                .learner
                .as_ref()
                .and_then(quarry_core::Learner::linear_head);
            match classifier(&model, head, &classes).await {
                Ok((bytes, zip)) => post(&WorkerResponse::Classifier { bytes, zip }),
                Err(message) => post(&WorkerResponse::Failed {
                    message: format!("the classifier could not be exported: {message}"),
                }),
            }
        }
        WorkerRequest::Head => {
            let head = engine
                .borrow()
                .learner
                .as_ref()
                .and_then(|l| l.head().cloned());
            post(&WorkerResponse::Head { head });
        }
        WorkerRequest::Refresh { id, input } => {
            let result = with_learner(&engine, async |l, gpu| match gpu {
                Some(g) => l
                    .refresh_on(&input, &mut || 0.0, g)
                    .await
                    .map(|(update, _)| update),
                None => l.refresh(&input),
            })
            .await
            .ok_or_else(|| "the learner has not been started".to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
            post(&match result {
                Ok(update) => WorkerResponse::Update { id, update },
                Err(message) => WorkerResponse::Failed { message },
            });
        }
    }
}

/// Worker time per slice of a t-SNE layout (ms): long enough to progress, short enough that a
/// refresh waiting behind it is not held up.
const TSNE_SLICE_MS: f64 = 120.0;

/// Runs t-SNE layout `id` for one slice and posts where it stands (the layout is dropped once
/// finished). Nothing when `id` is not the layout under way.
/// Gives the learner `items`' rows, `rows` holding one equal-length row per item in order;
/// each row `add` refuses is answered as [`WorkerResponse::Refused`].
fn add_rows<T>(
    engine: &Rc<RefCell<Engine>>,
    items: &[usize],
    rows: &[T],
    add: impl Fn(&mut Learner, usize, &[T]) -> quarry_core::Result<()>,
) {
    let stride = (rows.len() / items.len().max(1)).max(1);
    let mut engine = engine.borrow_mut();
    for (&item, row) in items.iter().zip(rows.chunks_exact(stride)) {
        let added = match engine.learner.as_mut() {
            Some(l) => add(l, item, row).map_err(|e| e.to_string()),
            None => Err("the learner has not been started".to_string()),
        };
        if let Err(message) = added {
            post(&WorkerResponse::Refused { item, message });
        }
    }
}

fn tsne_slice(engine: &mut Engine, id: u64) {
    let Some((current, tsne, ms)) = engine.tsne.as_mut() else {
        return;
    };
    if *current != id {
        return;
    }
    let start = embedding::now();
    let mut progress = tsne.progress();
    while !tsne.is_done() && embedding::now() - start < TSNE_SLICE_MS {
        progress = tsne.step();
    }
    *ms += embedding::now() - start;
    post(&WorkerResponse::MapForming {
        id,
        layout: tsne.layout(),
        progress,
        ms: *ms,
    });
    if tsne.is_done() {
        engine.tsne = None;
    }
}

/// A race over every row of the learner (decoded from its 8-bit codes), once all are in.
fn race(learner: &Learner, truth: Vec<usize>, config: RaceConfig) -> Result<Race, String> {
    let store = learner.store();
    if store.filled() < store.rows() {
        return Err(format!(
            "the race starts once every item is embedded ({} of {} so far)",
            store.filled(),
            store.rows()
        ));
    }
    let all: Vec<usize> = (0..store.rows()).collect();
    Race::new(store.decode(&all), truth, config).map_err(|e| e.to_string())
}

/// Runs `pass` on the learner and the GPU (if one is in use), both taken out of the engine
/// while `pass` awaits the GPU (requests are handled one at a time, so nothing else looks for
/// them meanwhile) and put back after; a GPU that broke is dropped. `None` without a learner.
async fn with_learner<T>(
    engine: &Rc<RefCell<Engine>>,
    pass: impl AsyncFnOnce(&mut Learner, Option<&mut quarry_gpu::Gpu>) -> T,
) -> Option<T> {
    let (learner, slot) = {
        let mut e = engine.borrow_mut();
        (e.learner.take(), e.compute.clone())
    };
    let mut learner = learner?;
    let mut gpu = slot.borrow_mut().gpu.take();
    let out = pass(&mut learner, gpu.as_mut()).await;
    engine.borrow_mut().learner = Some(learner);
    compute::put_back(&slot, gpu);
    Some(out)
}

/// Requests waiting their turn, and whether a drain loop is running.
#[derive(Default)]
struct Inbox {
    queue: VecDeque<WorkerRequest>,
    draining: bool,
}

/// Handles queued requests one after another, to completion, in arrival order.
async fn drain(engine: Rc<RefCell<Engine>>, inbox: Rc<RefCell<Inbox>>) {
    loop {
        let next = {
            let mut inbox = inbox.borrow_mut();
            let next = inbox.queue.pop_front();
            // A refresh with a newer one behind it is stale: answering it would only delay the
            // answer the page is waiting for.
            let superseded = matches!(next, Some(WorkerRequest::Refresh { .. }))
                && inbox
                    .queue
                    .iter()
                    .any(|r| matches!(r, WorkerRequest::Refresh { .. }));
            if superseded {
                continue;
            }
            next
        };
        match next {
            Some(req) => handle(engine.clone(), req).await,
            None => break,
        }
    }
    inbox.borrow_mut().draining = false;
}

/// Queues `req` behind the requests waiting, and starts draining them if nothing does.
fn enqueue(engine: &Rc<RefCell<Engine>>, inbox: &Rc<RefCell<Inbox>>, req: WorkerRequest) {
    let start = {
        let mut inbox = inbox.borrow_mut();
        inbox.queue.push_back(req);
        !std::mem::replace(&mut inbox.draining, true)
    };
    if start {
        wasm_bindgen_futures::spawn_local(drain(engine.clone(), inbox.clone()));
    }
}

/// Takes one end of an embedder → learner channel: an embedder sends through `port`; the
/// learner queues what arrives as [`WorkerRequest::AddEmbeddings`], in order with the page's
/// requests.
fn connect(
    end: ChannelEnd,
    port: MessagePort,
    engine: &Rc<RefCell<Engine>>,
    inbox: &Rc<RefCell<Inbox>>,
) {
    match end {
        ChannelEnd::Embedder => embedding::connect(port),
        ChannelEnd::Learner => {
            let (engine, inbox, back) = (engine.clone(), inbox.clone(), port.clone());
            let on_rows = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                match embedding::received(&ev.data()) {
                    Some((request, buffer)) => {
                        // The buffer goes back to carry the embedder's next rows.
                        let _ = back
                            .post_message_with_transferable(&buffer, &js_sys::Array::of1(&buffer));
                        enqueue(&engine, &inbox, request)
                    }
                    None => post(&WorkerResponse::Failed {
                        message: "an embedder sent a malformed message".into(),
                    }),
                }
            });
            // Setting the handler starts the port; it lives as long as the worker.
            port.set_onmessage(Some(on_rows.as_ref().unchecked_ref()));
            on_rows.forget();
        }
    }
}

/// Installs the message handler and announces [`WorkerResponse::Ready`].
///
/// Requests are handled strictly in arrival order, each to completion (a `LoadModel` finishes
/// before the `Embed` sent after it starts). A `Refresh` followed by a newer one is dropped.
pub fn run() {
    console_error_panic_hook::set_once();
    let engine = Rc::new(RefCell::new(Engine::default()));
    let inbox = Rc::new(RefCell::new(Inbox::default()));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        match serde_wasm_bindgen::from_value::<WorkerRequest>(ev.data()) {
            Ok(WorkerRequest::Connect { end }) => {
                match ev.ports().get(0).dyn_into::<MessagePort>() {
                    Ok(port) => connect(end, port, &engine, &inbox),
                    Err(_) => post(&WorkerResponse::Failed {
                        message: "a channel request came without its port".into(),
                    }),
                }
            }
            Ok(req) => enqueue(&engine, &inbox, req),
            Err(e) => post(&WorkerResponse::Failed {
                message: format!("malformed request: {e}"),
            }),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&WorkerResponse::Ready);
}
