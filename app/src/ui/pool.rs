//! The page's side of the workers: spawns them, queues requests until each says it is ready, and
//! hands every response to one callback.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageChannel, MessageEvent, MessagePort, Worker};

use crate::protocol::{ChannelEnd, WorkerRequest, WorkerResponse};

/// The worker that holds the pool and learns (the others embed).
pub const LEARNER: usize = 0;

/// URL of the worker's loader script (`app/worker_loader.js`, copied by Trunk).
const WORKER_SCRIPT: &str = "./worker_loader.js";
/// URL of the worker's wasm, compiled once by the page for all its workers ([`send_module`]).
const WORKER_WASM: &str = "./worker_bg.wasm";

struct Slot {
    worker: Worker,
    ready: bool,
    /// Terminated by [`retire`]: requests to it are refused until [`restart`] replaces it.
    retired: bool,
    /// Requests (each with the port it transfers, if any) waiting for `Ready`.
    pending: Vec<(WorkerRequest, Option<MessagePort>)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

thread_local! {
    static POOL: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
    /// The worker's wasm, compiled by the page the first time a worker starts, for every worker
    /// after it too ([`send_module`]).
    static MODULE: RefCell<Option<js_sys::Promise>> = const { RefCell::new(None) };
}

/// Sends `worker` the wasm its loader starts from: the module the page compiled once, or, when
/// that failed, the wasm's URL (the worker then compiles its own, as every worker once did).
/// Why: a worker that compiles the 17 MB wasm itself holds its own compiled code, ≈ 50 MiB of
/// the tab per worker; instantiated from a module the page sent, ≈ 5 MiB. The page's one
/// compiled copy lives as long as the page.
fn send_module(worker: &Worker) {
    let compiled = MODULE.with_borrow_mut(|m| {
        m.get_or_insert_with(|| match web_sys::window() {
            Some(w) => js_sys::WebAssembly::compile_streaming(&w.fetch_with_str(WORKER_WASM)),
            None => js_sys::Promise::reject(&"no window".into()),
        })
        .clone()
    });
    let worker = worker.clone();
    leptos::task::spawn_local(async move {
        let module = match wasm_bindgen_futures::JsFuture::from(compiled).await {
            Ok(module) => module,
            Err(e) => {
                web_sys::console::warn_2(&"quarry: the workers compile their own wasm:".into(), &e);
                WORKER_WASM.into()
            }
        };
        // A worker terminated meanwhile takes no message; nothing to do.
        let _ = worker.post_message(&module);
    });
}

/// How many workers to use: one per core the browser reports, at least 1 and at most 4
/// (tract's wasm kernels are single-threaded, so parallelism comes from several workers).
pub fn default_size() -> usize {
    let cores = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency());
    (cores as usize).clamp(1, 4)
}

/// What every worker's responses and failures go to (kept to start a worker again).
#[derive(Clone)]
struct Handlers {
    on_response: Rc<dyn Fn(usize, WorkerResponse)>,
    on_error: Rc<dyn Fn(usize, String)>,
}

thread_local! {
    static HANDLERS: RefCell<Option<Handlers>> = const { RefCell::new(None) };
}

/// Replaces any running workers by `n` new ones. `on_response(worker, response)` receives every
/// response except `Ready`, which the pool consumes; `on_error(worker, message)` receives
/// script-level failures (an uncaught error: for a wasm worker, a trap — it ran out of memory
/// or panicked — after which the worker is of no further use: see [`restart`]).
///
/// # Errors
/// The browser's message when a worker cannot be created.
pub fn start(
    n: usize,
    on_response: impl Fn(usize, WorkerResponse) + 'static,
    on_error: impl Fn(usize, String) + 'static,
) -> Result<(), String> {
    stop();
    let handlers = Handlers {
        on_response: Rc::new(on_response),
        on_error: Rc::new(on_error),
    };
    HANDLERS.set(Some(handlers.clone()));
    for index in 0..n {
        let slot = spawn(index, &handlers)?;
        POOL.with_borrow_mut(|pool| pool.push(slot));
    }
    Ok(())
}

/// Terminates worker `index` and puts a new one in its place, with the handlers given to
/// [`start`]; requests sent to `index` from now on go to the new worker (queued until it is
/// ready). Nothing is sent to it: the caller sets it up again.
///
/// # Errors
/// When there is no worker `index`, or the browser cannot create one.
pub fn restart(index: usize) -> Result<(), String> {
    let handlers = HANDLERS
        .with_borrow(Clone::clone)
        .ok_or("the workers have been stopped")?;
    let slot = spawn(index, &handlers)?;
    POOL.with_borrow_mut(|pool| {
        let old = pool
            .get_mut(index)
            .ok_or_else(|| format!("no worker {index}"))?;
        std::mem::replace(old, slot).worker.terminate();
        Ok(())
    })
}

/// A new worker in slot `index`, its messages and errors going to `handlers`.
fn spawn(index: usize, handlers: &Handlers) -> Result<Slot, String> {
    // Named by role (`self.name` in the worker; the browser's tools show it).
    let name = if index == LEARNER {
        "quarry learner".to_string()
    } else {
        format!("quarry embedder {index}")
    };
    let respond = handlers.on_response.clone();
    let report = handlers.on_error.clone();
    let (worker, (on_message, on_error)) = create(
        &name,
        move |response| match response {
            Ok(WorkerResponse::Ready) => flush(index),
            Ok(other) => respond(index, other),
            Err(e) => report(index, e),
        },
        {
            let report = handlers.on_error.clone();
            move |message| report(index, message)
        },
    )?;
    Ok(Slot {
        worker,
        ready: false,
        retired: false,
        pending: Vec::new(),
        _on_message: on_message,
        _on_error: on_error,
    })
}

/// A worker's message and error listeners.
type Listeners = (
    Closure<dyn FnMut(MessageEvent)>,
    Closure<dyn FnMut(ErrorEvent)>,
);

/// A worker named `name` whose messages go to `on_message` (a response, or why it did not
/// read) and whose uncaught errors go to `on_error`; the listeners live as long as they are
/// kept.
fn create(
    name: &str,
    mut on_message: impl FnMut(Result<WorkerResponse, String>) + 'static,
    on_error: impl Fn(String) + 'static,
) -> Result<(Worker, Listeners), String> {
    let options = web_sys::WorkerOptions::new();
    options.set_name(name);
    let worker = Worker::new_with_options(WORKER_SCRIPT, &options)
        .map_err(|e| format!("could not start a worker: {e:?}"))?;
    send_module(&worker);
    let (message, error): Listeners = (
        Closure::new(move |ev: MessageEvent| {
            on_message(
                serde_wasm_bindgen::from_value::<WorkerResponse>(ev.data())
                    .map_err(|e| format!("a worker sent a malformed message: {e}")),
            );
        }),
        Closure::new(move |ev: ErrorEvent| on_error(ev.message())),
    );
    worker.set_onmessage(Some(message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(error.as_ref().unchecked_ref()));
    Ok((worker, (message, error)))
}

/// A worker of its own for one request, apart from the run's pool (which a model's inspection
/// on the start screen also uses): "Open embeddings…" reads its files in one. Terminated when
/// dropped — not from inside one of its own callbacks (their closures die with it).
pub struct Errand {
    worker: Worker,
    _listeners: Listeners,
}

impl Errand {
    /// Starts a worker named `name` and sends it `request` once it is ready. Its responses
    /// go to `on_response`; its failure (an uncaught error, a malformed message) to `on_error`.
    ///
    /// # Errors
    /// The browser's message when the worker cannot be created, or the request not encoded.
    pub fn start(
        name: &str,
        request: &WorkerRequest,
        on_response: impl Fn(WorkerResponse) + 'static,
        on_error: impl Fn(String) + 'static,
    ) -> Result<Errand, String> {
        let value = serde_wasm_bindgen::to_value(request).map_err(|e| e.to_string())?;
        let on_error = Rc::new(on_error);
        let report = on_error.clone();
        let to: Rc<RefCell<Option<Worker>>> = Rc::default();
        let worker_slot = to.clone();
        let (worker, listeners) = create(
            name,
            move |response| match response {
                Ok(WorkerResponse::Ready) => {
                    let sent = to.borrow().as_ref().map(|w| w.post_message(&value));
                    if let Some(Err(e)) = sent {
                        report(format!("{e:?}"));
                    }
                }
                Ok(other) => on_response(other),
                Err(e) => report(e),
            },
            move |message| on_error(message),
        )?;
        worker_slot.replace(Some(worker.clone()));
        Ok(Errand {
            worker,
            _listeners: listeners,
        })
    }
}

impl Drop for Errand {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// Terminates worker `index` to give its memory back (a worker's wasm memory never shrinks
/// while it lives); its slot stays, refusing requests, until [`restart`] puts a new worker in.
pub fn retire(index: usize) {
    POOL.with_borrow_mut(|pool| {
        if let Some(slot) = pool.get_mut(index).filter(|s| !s.retired) {
            slot.worker.terminate();
            slot.retired = true;
            slot.pending.clear();
        }
    });
}

/// Whether worker `index` was retired ([`retire`]) and not started again.
pub fn is_retired(index: usize) -> bool {
    POOL.with_borrow(|pool| pool.get(index).is_some_and(|s| s.retired))
}

/// Terminates every worker.
pub fn stop() {
    POOL.with_borrow_mut(|pool| pool.drain(..).for_each(|s| s.worker.terminate()));
    HANDLERS.set(None);
}

/// Sends `request` to worker `index`, or queues it until that worker is ready.
pub fn send(index: usize, request: WorkerRequest) -> Result<(), String> {
    send_with(index, request, None)
}

/// Connects embedding worker `embedder` to the learner (worker `learner`) with a channel of
/// their own: embeddings go from one to the other without passing through the page.
pub fn connect(embedder: usize, learner: usize) -> Result<(), String> {
    let channel = MessageChannel::new().map_err(|e| format!("no message channel: {e:?}"))?;
    let end = |end| WorkerRequest::Connect { end };
    send_with(embedder, end(ChannelEnd::Embedder), Some(channel.port1()))?;
    send_with(learner, end(ChannelEnd::Learner), Some(channel.port2()))
}

fn send_with(
    index: usize,
    request: WorkerRequest,
    port: Option<MessagePort>,
) -> Result<(), String> {
    POOL.with_borrow_mut(|pool| {
        let slot = pool
            .get_mut(index)
            .ok_or_else(|| format!("no worker {index}"))?;
        if slot.retired {
            Err(format!("worker {index} was stopped"))
        } else if slot.ready {
            post(&slot.worker, &request, port.as_ref())
        } else {
            slot.pending.push((request, port));
            Ok(())
        }
    })
}

fn flush(index: usize) {
    POOL.with_borrow_mut(|pool| {
        if let Some(slot) = pool.get_mut(index) {
            slot.ready = true;
            for (req, port) in std::mem::take(&mut slot.pending) {
                if let Err(e) = post(&slot.worker, &req, port.as_ref()) {
                    web_sys::console::error_1(&e.into());
                }
            }
        }
    });
}

/// Posts `request`, transferring `port` with it, and the buffers of its typed arrays
/// ([`WorkerRequest::transferable`]): those leave the page instead of being copied, so that a
/// fill of a million named items leaves no copies of their hashes behind for the page's idle
/// garbage collector (34 MiB).
fn post(
    worker: &Worker,
    request: &WorkerRequest,
    port: Option<&MessagePort>,
) -> Result<(), String> {
    let value = serde_wasm_bindgen::to_value(request).map_err(|e| e.to_string())?;
    let transfer = request.transferable();
    if let Some(port) = port {
        transfer.push(port);
    }
    if transfer.length() == 0 {
        worker.post_message(&value)
    } else {
        worker.post_message_with_transfer(&value, &transfer)
    }
    .map_err(|e| format!("{e:?}"))
}
