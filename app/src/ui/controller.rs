//! User actions → `quarry-core` calls and worker requests. Components call these; no business
//! rule lives in a `view!`.

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::dataset::DemoManifest;
use quarry_core::export::labels_csv;
use quarry_core::Session;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::pool;
use super::state::{AppState, Dataset, Phase, Progress};
use crate::protocol::{EmbedJob, WorkerRequest, WorkerResponse};

/// Items queued per refresh: the current one plus the thumbnails after it.
pub const BATCH: usize = 10;
/// URL of the bundled image model.
pub const IMAGE_MODEL: &str = "models/efficientnet_lite0_int8.onnx";
/// The learner's seed: fixed, so a session is reproducible.
const SEED: u64 = 20_261_126;

/// The embedding run in progress.
struct EmbedRun {
    classes: Vec<String>,
    names: Vec<String>,
    urls: Vec<String>,
    embeddings: Vec<Option<Vec<f32>>>,
    /// How many of `embeddings` are `Some` (kept, not recounted per message).
    embedded: usize,
    failed: Vec<(usize, String)>,
    started_ms: Option<f64>,
}

thread_local! {
    static RUN: RefCell<Option<EmbedRun>> = const { RefCell::new(None) };
    static NEXT_REFRESH: Cell<u64> = const { Cell::new(0) };
    static APPLIED_REFRESH: Cell<Option<u64>> = const { Cell::new(None) };
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{e:?}"))?;
    let resp: web_sys::Response = resp.unchecked_into();
    if !resp.ok() {
        return Err(format!("{url}: HTTP {}", resp.status()));
    }
    let text = JsFuture::from(resp.text().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?;
    text.as_string().ok_or_else(|| format!("{url} is not text"))
}

/// Loads bundled demo `name` (a folder under `demo/`), embeds it in the workers, then starts
/// labeling.
pub fn start_demo(state: AppState, name: &'static str) {
    state.phase.set(Phase::Loading);
    state.progress.set(Progress {
        stage: "Loading the demo…".into(),
        ..Progress::default()
    });
    leptos::task::spawn_local(async move {
        let manifest = match fetch_text(&format!("demo/{name}/demo.json")).await {
            Ok(text) => DemoManifest::from_json(&text).map_err(|e| e.to_string()),
            Err(e) => Err(format!("the demo could not be loaded ({e})")),
        };
        match manifest {
            Ok(m) => {
                let urls = m
                    .items
                    .iter()
                    .map(|i| format!("demo/{name}/images/{i}"))
                    .collect();
                state.dataset.set(Some(Dataset {
                    title: m.title.clone(),
                    urls: Vec::new(),
                }));
                embed_all(state, m.classes, m.items, urls);
            }
            Err(e) => {
                state.report(e);
                state.phase.set(Phase::Start);
            }
        }
    });
}

fn embed_all(state: AppState, classes: Vec<String>, names: Vec<String>, urls: Vec<String>) {
    let total = names.len();
    let jobs: Vec<EmbedJob> = names
        .iter()
        .zip(&urls)
        .enumerate()
        .map(|(item, (name, url))| EmbedJob {
            item,
            name: name.clone(),
            url: url.clone(),
        })
        .collect();
    RUN.set(Some(EmbedRun {
        classes,
        names,
        urls,
        embeddings: vec![None; total],
        embedded: 0,
        failed: Vec::new(),
        started_ms: None,
    }));
    state.progress.set(Progress {
        stage: "Loading the image model…".into(),
        done: 0,
        total,
        rate: 0.0,
    });
    let workers = pool::default_size();
    let started = pool::start(
        workers,
        move |worker, response| on_response(state, worker, response),
        move |message| state.report(message),
    );
    if let Err(e) = started {
        state.report(e);
        state.phase.set(Phase::Start);
        return;
    }
    // Deal items round-robin so every worker finishes at about the same time.
    let mut chunks: Vec<Vec<EmbedJob>> = vec![Vec::new(); workers];
    for (i, job) in jobs.into_iter().enumerate() {
        chunks[i % workers].push(job);
    }
    for (w, chunk) in chunks.into_iter().enumerate() {
        let sent = pool::send(
            w,
            WorkerRequest::LoadModel {
                url: IMAGE_MODEL.into(),
            },
        )
        .and_then(|()| pool::send(w, WorkerRequest::Embed { jobs: chunk }));
        if let Err(e) = sent {
            state.report(e);
        }
    }
}

fn on_response(state: AppState, _worker: usize, response: WorkerResponse) {
    match response {
        WorkerResponse::Ready => {}
        WorkerResponse::ModelLoaded { .. } => {
            RUN.with_borrow_mut(|run| {
                if let Some(run) = run.as_mut() {
                    run.started_ms.get_or_insert_with(now_ms);
                }
            });
            state
                .progress
                .update(|p| p.stage = "Embedding images…".into());
        }
        WorkerResponse::Embedded { item, embedding } => record(state, item, Ok(embedding)),
        WorkerResponse::ItemFailed { item, message } => record(state, item, Err(message)),
        WorkerResponse::Update { id, update } => {
            if APPLIED_REFRESH.get().is_some_and(|applied| id < applied) {
                return;
            }
            APPLIED_REFRESH.set(Some(id));
            state.session.update(|s| {
                if let Some(s) = s.as_mut() {
                    s.set_queue(update.queue.clone());
                }
            });
            state.update.set(Some(update));
            if id + 1 == NEXT_REFRESH.get() {
                state.thinking.set(false);
            }
            if state.phase.get_untracked() == Phase::Loading {
                state.phase.set(Phase::Labeling);
            }
        }
        WorkerResponse::Failed { message } => {
            state.thinking.set(false);
            state.report(message);
            if state.phase.get_untracked() == Phase::Loading {
                // Nothing was labeled yet: stop the workers and offer the start screen again.
                pool::stop();
                RUN.set(None);
                state.phase.set(Phase::Start);
            }
        }
    }
}

fn record(state: AppState, item: usize, result: Result<Vec<f32>, String>) {
    let finished = RUN.with_borrow_mut(|run| {
        let run = run.as_mut()?;
        match result {
            Ok(e) => {
                if run.embeddings[item].replace(e).is_none() {
                    run.embedded += 1;
                }
            }
            Err(m) => run.failed.push((item, m)),
        }
        let done = run.embedded + run.failed.len();
        let elapsed = run.started_ms.map_or(0.0, |t| (now_ms() - t) / 1000.0);
        state.progress.update(|p| {
            p.done = done;
            p.rate = if elapsed > 0.0 {
                done as f64 / elapsed
            } else {
                0.0
            };
        });
        (done == run.embeddings.len()).then(|| run_finished(run))
    });
    if let Some(outcome) = finished {
        start_learning(state, outcome);
    }
}

struct Embedded {
    classes: Vec<String>,
    names: Vec<String>,
    urls: Vec<String>,
    dim: usize,
    flat: Vec<f32>,
    failures: Vec<String>,
}

fn run_finished(run: &mut EmbedRun) -> Embedded {
    let mut out = Embedded {
        classes: run.classes.clone(),
        names: Vec::new(),
        urls: Vec::new(),
        dim: 0,
        flat: Vec::new(),
        failures: run
            .failed
            .iter()
            .map(|(i, m)| format!("{} was left out: {m}", run.names[*i]))
            .collect(),
    };
    for (i, e) in run.embeddings.iter_mut().enumerate() {
        if let Some(e) = e.take() {
            out.dim = e.len();
            out.flat.extend(e);
            out.names.push(run.names[i].clone());
            out.urls.push(run.urls[i].clone());
        }
    }
    out
}

fn start_learning(state: AppState, data: Embedded) {
    state.notices.set(data.failures);
    let session = match Session::new(data.names, data.classes.clone()) {
        Ok(s) => s,
        Err(e) => {
            state.report(format!("nothing to label: {e}"));
            state.phase.set(Phase::Start);
            return;
        }
    };
    state.dataset.update(|d| {
        if let Some(d) = d.as_mut() {
            d.urls = data.urls;
        }
    });
    state.session.set(Some(session));
    state
        .progress
        .update(|p| p.stage = "Choosing the first items…".into());
    let sent = pool::send(
        0,
        WorkerRequest::StartLearner {
            classes: data.classes.len(),
            seed: SEED,
            dim: data.dim,
            embeddings: data.flat,
        },
    );
    match sent {
        Ok(()) => request_refresh(state),
        Err(e) => state.report(e),
    }
}

/// Asks the learner for a new head, estimate and queue from the session's current labels.
fn request_refresh(state: AppState) {
    let Some(mut input) = state
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.learner_input(BATCH)))
    else {
        return;
    };
    input.strategy = state.strategy.get_untracked();
    input.subpool = state.subpool.get_untracked();
    let id = NEXT_REFRESH.get();
    NEXT_REFRESH.set(id + 1);
    state.thinking.set(true);
    if let Err(e) = pool::send(0, WorkerRequest::Refresh { id, input }) {
        state.report(e);
    }
}

/// Switches the acquisition strategy (`Auto` = the default policy) and re-scores the pool.
/// Labels, skips and history are untouched.
pub fn set_strategy(state: AppState, kind: StrategyKind) {
    state.strategy.set(kind);
    request_refresh(state);
}

/// Switches large-pool subsampling (AnchorAL) and re-scores the pool.
pub fn set_subpool(state: AppState, mode: Subpool) {
    state.subpool.set(mode);
    request_refresh(state);
}

/// Labels the current item with class `class` and refreshes the learner.
pub fn answer(state: AppState, class: usize) {
    let mut result = Ok(0);
    state.session.update(|s| {
        if let Some(s) = s.as_mut() {
            result = s.answer(class);
        }
    });
    match result {
        Ok(_) => request_refresh(state),
        Err(e) => state.report(e.to_string()),
    }
}

/// Skips the current item.
pub fn skip(state: AppState) {
    let mut skipped = None;
    state
        .session
        .update(|s| skipped = s.as_mut().and_then(Session::skip));
    if skipped.is_some() {
        request_refresh(state);
    }
}

/// Reverts the last label or skip.
pub fn undo(state: AppState) {
    let mut undone = None;
    state
        .session
        .update(|s| undone = s.as_mut().and_then(Session::undo));
    if undone.is_some() {
        request_refresh(state);
    }
}

/// Downloads the labels as `quarry-labels.csv`.
pub fn export_csv(state: AppState) {
    let Some(csv) = state.session.with_untracked(|s| s.as_ref().map(labels_csv)) else {
        return;
    };
    if let Err(e) = super::download::download_text("quarry-labels.csv", "text/csv", &csv) {
        state.report(format!("the export failed: {e}"));
    }
}

/// Keys: 1–9 answer, `s` or Space skip, Backspace or Ctrl/Cmd+Z undo.
pub fn install_keyboard(state: AppState) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if state.phase.get_untracked() != Phase::Labeling || ev.repeat() {
            return;
        }
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing || ev.alt_key() {
            return;
        }
        let key = ev.key();
        let command = ev.ctrl_key() || ev.meta_key();
        if command && key.eq_ignore_ascii_case("z") || key == "Backspace" {
            ev.prevent_default();
            undo(state);
        } else if command {
        } else if key == "s" || key == "S" || key == " " {
            ev.prevent_default();
            skip(state);
        } else if let Some(d) = key
            .chars()
            .next()
            .and_then(|c| c.to_digit(10))
            .filter(|_| key.len() == 1)
        {
            let classes = state
                .session
                .with_untracked(|s| s.as_ref().map_or(0, |s| s.classes().len()));
            if (1..=9).contains(&d) && (d as usize) <= classes {
                ev.prevent_default();
                answer(state, d as usize - 1);
            }
        }
    });
    // The listener lives as long as the page.
    std::mem::forget(handle);
}
