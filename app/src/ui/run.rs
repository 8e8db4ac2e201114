//! The learner loop: the embedding run of an opened project (worker 0 holds the learner, the
//! others embed; every embedding goes to the learner as it arrives, so labeling starts after
//! the first few items while the rest keep coming), the refreshes asked of the learner and
//! their answers, and the dispatch of every worker response. Below the project lifecycle and
//! the controller; calls only the storage layer ([`persist`]) and [`exports`].

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use quarry_core::{LearnerUpdate, Session};

use super::exports;
use super::persist;
use super::pool;
use super::state::{AppState, Dataset, Items, Phase, Progress};
use crate::protocol::{EmbedInput, EmbedJob, EmbedTiming, WorkerRequest, WorkerResponse};

/// The learner's seed: fixed, so a session is reproducible.
const SEED: u64 = 20_261_126;
/// Items embedded before the first queue is asked for (all of them for smaller sets).
const FIRST_READY: usize = 24;

/// The embedding run in progress.
struct EmbedRun {
    names: Vec<String>,
    embedded: usize,
    failed: usize,
    started_ms: Option<f64>,
    /// Whether the first queue has been asked for.
    first_asked: bool,
    /// Embedding workers, and where the time of those that finished went.
    embedders: usize,
    timings: Vec<EmbedTiming>,
}

thread_local! {
    static RUN: RefCell<Option<EmbedRun>> = const { RefCell::new(None) };
    static NEXT_REFRESH: Cell<u64> = const { Cell::new(0) };
    static APPLIED_REFRESH: Cell<Option<u64>> = const { Cell::new(None) };
    /// The session's class ids when the last update was applied: a guess kept across updates
    /// must mean the same classes.
    static APPLIED_CLASSES: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Opens `session` over `dataset` (new or reopened: answers, queue and settings as they are)
/// and starts embedding every item; the labeling screen opens as soon as a first queue exists.
/// An item without a URL (its file was not found again) is counted as left out.
pub fn begin(state: AppState, session: Session, dataset: Dataset) {
    let total = session.len();
    let names = session.items().to_vec();
    state.chosen.set(Vec::new());
    if let Some(old) = state.dataset.get_untracked() {
        super::files::revoke(old.items.object_urls());
    }
    let items = dataset.items.clone();
    let model = dataset.model.clone();
    let classes = session.classes().len();
    state.dataset.set(Some(dataset));
    state.session.set(Some(session));
    state.update.set(None);
    state.model_key.set(None);
    state.notices.set(Vec::new());
    state.phase.set(Phase::Loading);
    state.progress.set(Progress {
        stage: "Loading the model…".into(),
        total,
        ..Progress::default()
    });
    let embedders = pool::default_size();
    RUN.set(Some(EmbedRun {
        names: names.clone(),
        embedded: 0,
        failed: 0,
        started_ms: None,
        first_asked: false,
        embedders,
        timings: Vec::new(),
    }));
    let started = pool::start(
        embedders + 1,
        move |worker, response| on_response(state, worker, response),
        move |message| state.report(message),
    );
    if let Err(e) = started {
        state.report(e);
        state.phase.set(Phase::Start);
        return;
    }
    let mut sent = pool::send(
        0,
        WorkerRequest::StartLearner {
            items: total,
            classes,
            seed: SEED,
            compute: super::compute::choice(),
        },
    );
    // Deal items round-robin so every embedder finishes at about the same time.
    let mut chunks: Vec<Vec<EmbedJob>> = vec![Vec::new(); embedders];
    let mut missing = Vec::new();
    for (item, name) in names.iter().enumerate() {
        let input = match &items {
            Items::Images(urls) if urls[item].is_empty() => {
                missing.push(item);
                continue;
            }
            Items::Images(urls) => EmbedInput::Url(urls[item].clone()),
            Items::Texts(texts) => EmbedInput::Text(texts[item].clone()),
        };
        chunks[item % embedders].push(EmbedJob {
            item,
            name: name.clone(),
            input,
        });
    }
    for (w, chunk) in chunks.into_iter().enumerate() {
        sent = sent
            .and_then(|()| pool::connect(w + 1, 0))
            .and_then(|()| {
                pool::send(
                    w + 1,
                    WorkerRequest::LoadModel {
                        model: model.clone(),
                    },
                )
            })
            .and_then(|()| pool::send(w + 1, WorkerRequest::Embed { jobs: chunk }));
    }
    if let Err(e) = sent {
        state.report(e);
    }
    for item in missing {
        record(
            state,
            0,
            Some((item, "its file was not opened again".into())),
        );
    }
}

fn on_response(state: AppState, worker: usize, response: WorkerResponse) {
    match response {
        WorkerResponse::Ready | WorkerResponse::Inspected { .. } => {}
        WorkerResponse::Backend { name, note } => state.backend.set((name, note)),
        WorkerResponse::Head { head } => exports::head_arrived(state, head),
        WorkerResponse::Predictions {
            purpose,
            predictions,
        } => exports::predictions_arrived(state, purpose, predictions),
        WorkerResponse::Similar { id, similar, ms } => {
            super::explore::answered(state, id, similar, ms)
        }
        WorkerResponse::Example { id, embedding } => {
            super::explore::example_arrived(state, id, embedding)
        }
        WorkerResponse::Map { layout, ms } => {
            if !state.map_tsne.get_untracked().on {
                state.layout.set(Some((layout, ms)));
            }
        }
        WorkerResponse::MapForming {
            id,
            layout,
            progress,
            ms,
        } => super::explore::map_forming(state, id, layout, progress, ms),
        WorkerResponse::RaceReady { result } => super::explore::race_ready(state, result),
        WorkerResponse::RaceFrame { frame } => super::explore::race_frame(state, frame),
        WorkerResponse::Classifier { bytes, zip } => {
            exports::classifier_arrived(state, &bytes, zip)
        }
        WorkerResponse::ModelLoaded { key, .. } => {
            state.model_key.set(Some(key));
            RUN.with_borrow_mut(|run| {
                if let Some(run) = run.as_mut() {
                    run.started_ms.get_or_insert_with(now_ms);
                }
            });
            state
                .progress
                .update(|p| p.stage = "Embedding items…".into());
        }
        WorkerResponse::Embedded { items, cached } => {
            if cached > 0 {
                state.progress.update(|p| p.cached += cached);
            }
            record(state, items.len(), None);
        }
        WorkerResponse::EmbedTiming { timing } => timed(timing),
        WorkerResponse::ModelTimed { .. } => {}
        // Counted as embedded already: a note only.
        WorkerResponse::Refused { item, message } => {
            let name = state
                .session
                .with_untracked(|s| s.as_ref().map(|s| s.item_name(item).to_string()))
                .unwrap_or_default();
            state
                .notices
                .update(|n| n.push(format!("{name} cannot be queued: {message}")));
        }
        WorkerResponse::ItemFailed { item, message } => record(state, 0, Some((item, message))),
        WorkerResponse::Update { id, update } => {
            apply_update(state, id, update);
            if state.phase.get_untracked() == Phase::Loading {
                state.phase.set(Phase::Labeling);
            }
        }
        WorkerResponse::Failed { message } => {
            state.thinking.set(false);
            state.report(message);
            if worker > 0 && state.phase.get_untracked() == Phase::Loading {
                // The model did not load and nothing was labeled: offer the start screen again.
                pool::stop();
                RUN.set(None);
                state.phase.set(Phase::Start);
            }
        }
    }
}

/// Counts `embedded` items in the learner and the item that failed (if any), updates the
/// progress, and asks for a queue when the first items are in, when the queue runs short, and
/// when the run ends.
fn record(state: AppState, embedded: usize, failure: Option<(usize, String)>) {
    let (refresh, done, total) = RUN.with_borrow_mut(|run| {
        let Some(run) = run.as_mut() else {
            return (false, 0, 0);
        };
        let total = run.names.len();
        run.embedded += embedded;
        match failure {
            None => {}
            Some((item, m)) => {
                run.failed += 1;
                let name = run.names.get(item).cloned().unwrap_or_default();
                state
                    .notices
                    .update(|n| n.push(format!("{name} was left out: {m}")));
            }
        }
        let done = run.embedded + run.failed;
        let elapsed = run.started_ms.map_or(0.0, |t| (now_ms() - t) / 1000.0);
        state.progress.update(|p| {
            p.done = done;
            p.rate = if elapsed > 0.0 {
                done as f64 / elapsed
            } else {
                0.0
            };
        });
        let first = !run.first_asked && run.embedded >= FIRST_READY.min(total - run.failed);
        run.first_asked |= first;
        let short = run.first_asked
            && !state.thinking.get_untracked()
            && state
                .session
                .with_untracked(|s| s.as_ref().is_some_and(|s| s.queue().len() < BATCH / 2));
        (first || short || done == total, done, total)
    });
    if done == total
        && total > 0
        && RUN.with_borrow(|r| r.as_ref().is_some_and(|r| r.embedded == 0))
    {
        state.report("no item could be embedded; see the notes for each item");
        pool::stop();
        state.phase.set(Phase::Start);
        return;
    }
    if refresh {
        request_refresh(state);
    }
}

/// Keeps an embedder's timing; when every embedder has finished, writes where the run's time
/// went to the console (per item, summed over the workers: what one core spent on it).
fn timed(timing: EmbedTiming) {
    let done = RUN.with_borrow_mut(|run| {
        let run = run.as_mut()?;
        run.timings.push(timing);
        (run.timings.len() == run.embedders).then(|| run.timings.clone())
    });
    let Some(all) = done else {
        return;
    };
    let sum = |f: fn(&EmbedTiming) -> f64| all.iter().map(f).sum::<f64>();
    let items: usize = all.iter().map(|t| t.items).sum();
    let cached: usize = all.iter().map(|t| t.cached).sum();
    let per = |ms: f64| ms / items.max(1) as f64;
    web_sys::console::info_1(
        &format!(
            "quarry: embedding: {items} items ({cached} from the cache) by {} workers in {:.1} s; \
             per item and worker: model {:.2} ms, decode {:.2} ms, send {:.2} ms, waiting for \
             input {:.2} ms; in flight meanwhile: read {:.2} ms, cache look-up {:.2} ms",
            all.len(),
            all.iter().map(|t| t.wall_ms).fold(0.0, f64::max) / 1000.0,
            per(sum(|t| t.model_ms)),
            per(sum(|t| t.decode_ms)),
            per(sum(|t| t.send_ms)),
            per(sum(|t| t.wait_ms)),
            per(sum(|t| t.read_ms)),
            per(sum(|t| t.lookup_ms)),
        )
        .into(),
    );
}

/// Items queued per refresh: the current one plus the thumbnails after it.
pub const BATCH: usize = 10;

/// Applies the learner's answer to refresh `id`, unless a later one was applied already.
///
/// The guess of the item on screen stays what it was while the item stays (a newer head may
/// guess otherwise; the person is looking at, and may accept with Enter, the one shown).
pub fn apply_update(state: AppState, id: u64, mut update: LearnerUpdate) {
    if APPLIED_REFRESH.get().is_some_and(|applied| id < applied) {
        return;
    }
    APPLIED_REFRESH.set(Some(id));
    let (current, ids) = state.session.with_untracked(|s| {
        s.as_ref().map_or((None, Vec::new()), |s| {
            (s.current(), s.class_ids().to_vec())
        })
    });
    let same_classes = APPLIED_CLASSES.with_borrow_mut(|applied| {
        let same = *applied == ids;
        *applied = ids;
        same
    });
    if let (Some(item), true) = (current, same_classes) {
        state.update.with_untracked(|old| {
            if let Some(old) = old {
                update.guesses.keep_row(item, &old.guesses);
            }
        });
    }
    state.session.update(|s| {
        if let Some(s) = s.as_mut() {
            if let Some(r) = update.audit {
                s.add_audit(r);
            }
            s.set_queue(update.queue.clone());
        }
    });
    state.update.set(Some(update));
    state.queue_age.set(queue_age());
    if id + 1 == NEXT_REFRESH.get() {
        state.thinking.set(false);
    }
    persist::save_soon(state);
}

/// Refreshes asked for after the one whose answer is applied (all of them before the first).
fn queue_age() -> u64 {
    NEXT_REFRESH.get() - APPLIED_REFRESH.get().map_or(0, |a| a + 1)
}

/// Asks the learner for a new head, estimate and queue from the session's current labels.
pub fn request_refresh(state: AppState) {
    let Some(mut input) = state
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.learner_input(BATCH)))
    else {
        return;
    };
    input.strategy = state.strategy.get_untracked();
    input.subpool = state.subpool.get_untracked();
    input.audit = state.audit.get_untracked();
    input.full_list = state.full_list.get_untracked();
    let id = NEXT_REFRESH.get();
    NEXT_REFRESH.set(id + 1);
    state.thinking.set(true);
    state.queue_age.set(queue_age());
    if let Err(e) = pool::send(0, WorkerRequest::Refresh { id, input }) {
        state.report(e);
    }
}
