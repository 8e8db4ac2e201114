//! The learner loop: the embedding run of an opened project (worker 0 holds the learner, the
//! others embed; every embedding goes to the learner as it arrives, so labeling starts after
//! the first few items while the rest keep coming), the refreshes asked of the learner and
//! their answers, and the dispatch of every worker response. Below the project lifecycle and
//! the controller; calls only the storage layer ([`persist`]) and [`exports`].

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use quarry_core::model::ModelChoice;
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
    /// Items in the project.
    total: usize,
    embedded: usize,
    failed: usize,
    started_ms: Option<f64>,
    /// Whether the first queue has been asked for.
    first_asked: bool,
    /// The embedding workers (embedder `e` is worker `e + 1`), and where the time of those
    /// that finished went.
    embedders: Vec<Embedder>,
    timings: Vec<EmbedTiming>,
    /// The model the embedders load (again, in a worker started after one died).
    model: ModelChoice,
    /// Each item's entry in the opened embeddings files, matched by name
    /// (`vectors::named_entries`).
    named: Vec<Option<u32>>,
    /// Which items the page has heard of (embedded or left out): each is counted once.
    finished: Vec<bool>,
    /// The embedders were terminated once every item was in ([`retire_embedders`]).
    retired: bool,
}

/// One embedding worker's share of the run.
#[derive(Default)]
struct Embedder {
    /// Its items: what a new worker takes over when it dies.
    jobs: Vec<usize>,
    /// How many of them it has been sent ([`JOBS_PER_REQUEST`] at a time).
    sent: usize,
    /// Its timing over the requests it finished so far.
    timing: EmbedTiming,
    /// The item it said it started on and has not answered for yet.
    working: Option<usize>,
    /// It failed and is about to be replaced (its last messages arriving).
    dying: bool,
    /// Its deaths in a row outside any item (loading the model): after [`BLIND_DEATHS`] its
    /// items are left out instead of tried again.
    blind_deaths: u32,
}

impl EmbedRun {
    /// Embedder state of worker `worker` (`None` for the learner, worker 0).
    fn embedder(&mut self, worker: usize) -> Option<&mut Embedder> {
        self.embedders.get_mut(worker.checked_sub(1)?)
    }
}

/// Items per [`WorkerRequest::Embed`]: an embedder is sent the next when it has finished one,
/// so neither the page nor a worker holds a job for every item of a large pool at once.
const JOBS_PER_REQUEST: usize = 4_096;
/// Deaths of an embedder outside any item after which its items are given up.
const BLIND_DEATHS: u32 = 2;
/// How long a failed embedder's messages are waited for before it is replaced: those posted
/// before it died say which items it finished and which it was on.
const LAST_WORDS_MS: u64 = 300;

/// Times the learner is started again in one tab ([`restart_learner`]).
const LEARNER_RESTARTS: u32 = 2;

thread_local! {
    static RUN: RefCell<Option<EmbedRun>> = const { RefCell::new(None) };
    /// Learner failures in this tab, and whether a restart is waiting for its last words.
    static LEARNER_DEATHS: Cell<u32> = const { Cell::new(0) };
    static LEARNER_RESTARTING: Cell<bool> = const { Cell::new(false) };
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
    let named = super::vectors::named_entries(session.items());
    state.chosen.set(Vec::new());
    state.dataset.with_untracked(|old| {
        if let Some(old) = old {
            super::files::revoke(old.items.object_urls());
        }
    });
    // Deal items round-robin so every embedder finishes at about the same time; an image whose
    // file was not opened again is left out. A pool that an embeddings file names item by item
    // comes from the cache: one embedder reads it (each holds a directory of the cache, 16
    // bytes a row: 16 MB at a million).
    let embedders = if total > 0 && named.iter().all(Option::is_some) {
        1
    } else {
        pool::default_size()
    };
    let mut chunks: Vec<Vec<usize>> = vec![Vec::new(); embedders];
    let mut missing = Vec::new();
    for item in 0..total {
        match &dataset.items {
            Items::Images(urls) if urls[item].is_empty() => missing.push(item),
            _ => chunks[item % embedders].push(item),
        }
    }
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
    RUN.set(Some(EmbedRun {
        total,
        embedded: 0,
        failed: 0,
        started_ms: None,
        first_asked: false,
        embedders: chunks
            .into_iter()
            .map(|jobs| Embedder {
                jobs,
                ..Embedder::default()
            })
            .collect(),
        timings: Vec::new(),
        model: model.clone(),
        named,
        finished: vec![false; total],
        retired: false,
    }));
    let started = pool::start(
        embedders + 1,
        move |worker, response| on_response(state, worker, response),
        move |worker, message| worker_failed(state, worker, message),
    );
    if let Err(e) = started {
        state.report(e);
        state.phase.set(Phase::Start);
        return;
    }
    let mut sent = pool::send(
        pool::LEARNER,
        WorkerRequest::StartLearner {
            items: total,
            classes,
            seed: SEED,
            compute: super::compute::choice(),
        },
    );
    for worker in 1..=embedders {
        let first = next_request(state, worker);
        sent = sent.and_then(|()| set_up_embedder(worker, &model, first));
    }
    if let Err(e) = sent {
        state.report(e);
    }
    for item in missing {
        record(
            state,
            &[],
            Some((item, "its file was not opened again".into())),
        );
    }
}

/// Embedding worker `worker`'s next request, of at most [`JOBS_PER_REQUEST`] of its items
/// (marked sent): the items ahead that an opened embeddings file names under one model, by
/// their content hashes alone ([`WorkerRequest::EmbedNamed`]), else the items ahead that it
/// does not name, with their files or texts ([`WorkerRequest::Embed`]); `None` when it has been
/// sent all its items.
fn next_request(state: AppState, worker: usize) -> Option<WorkerRequest> {
    let (batch, named) = RUN.with_borrow_mut(|run| {
        let run = run.as_mut()?;
        let hash_of = |i: usize| {
            run.named
                .get(i)
                .copied()
                .flatten()
                .and_then(super::vectors::named_hash)
        };
        let e = run.embedders.get(worker.checked_sub(1)?)?;
        let ahead = &e.jobs[e.sent..(e.sent + JOBS_PER_REQUEST).min(e.jobs.len())];
        let first = hash_of(*ahead.first()?).map(|(model, _)| model);
        let mut hashes = Vec::new();
        let n = ahead
            .iter()
            .take_while(|&&i| match (hash_of(i), first) {
                (Some((model, hash)), Some(m)) if model == m => {
                    hashes.extend_from_slice(&hash);
                    true
                }
                (None, None) => true,
                _ => false,
            })
            .count();
        let batch = ahead[..n].to_vec();
        run.embedder(worker)?.sent += n;
        Some((batch, first.map(|m| (m, hashes))))
    })?;
    if let Some((model, hashes)) = named {
        let items: Vec<u32> = batch.iter().map(|&i| i as u32).collect();
        return Some(WorkerRequest::EmbedNamed {
            model: super::vectors::named_model(model)?,
            items: js_sys::Uint32Array::from(items.as_slice()),
            hashes: js_sys::Uint8Array::from(hashes.as_slice()),
        });
    }
    state.session.with_untracked(|s| {
        let s = s.as_ref()?;
        state.dataset.with_untracked(|d| {
            let items = &d.as_ref()?.items;
            let jobs = batch.iter().map(|&item| EmbedJob {
                item,
                name: s.item_name(item).to_string(),
                input: match items {
                    // The blob itself where the page holds it: no fetch of its URL.
                    Items::Images(urls) => super::files::blob_at(&urls[item])
                        .map_or_else(|| EmbedInput::Url(urls[item].clone()), EmbedInput::Blob),
                    Items::Texts(texts) => EmbedInput::Text(texts[item].clone()),
                },
            });
            Some(WorkerRequest::Embed {
                jobs: jobs.collect(),
            })
        })
    })
}

/// Items of worker `worker`'s [`WorkerRequest::EmbedNamed`] that the cache did not have:
/// no longer named, they go to the end of its share, to be sent with their contents.
fn unmatched(worker: usize, items: Vec<usize>) {
    RUN.with_borrow_mut(|run| {
        let Some(run) = run.as_mut() else {
            return;
        };
        for &i in &items {
            if let Some(n) = run.named.get_mut(i) {
                *n = None;
            }
        }
        if let Some(e) = run.embedder(worker) {
            e.jobs.extend(items);
        }
    });
}

/// Connects embedding worker `worker` to the learner, has it load `model` and embed `jobs`.
fn set_up_embedder(
    worker: usize,
    model: &ModelChoice,
    first: Option<WorkerRequest>,
) -> Result<(), String> {
    pool::connect(worker, pool::LEARNER)?;
    pool::send(
        worker,
        WorkerRequest::LoadModel {
            model: model.clone(),
        },
    )?;
    pool::send(
        worker,
        first.unwrap_or(WorkerRequest::Embed { jobs: Vec::new() }),
    )
}

/// A worker failed with an uncaught error. The learner's failure starts the pool again
/// ([`restart_learner`]). An embedder that dies (out of memory on a
/// huge image, a crash) is replaced once its last messages are in: the item it was on is left
/// out with the reason, and a new worker embeds the rest of its items.
fn worker_failed(state: AppState, worker: usize, message: String) {
    let embedder = RUN.with_borrow_mut(|run| {
        let run = run.as_mut()?;
        let e = run.embedder(worker)?;
        // One replacement per death, however many errors it raised.
        Some(!std::mem::replace(&mut e.dying, true))
    });
    match embedder {
        None if worker == pool::LEARNER => restart_learner(state, message),
        None => state.report(format!("a background worker failed: {message}")),
        Some(false) => {}
        Some(true) => set_timeout(
            move || replace_embedder(state, worker, &message),
            std::time::Duration::from_millis(LAST_WORDS_MS),
        ),
    }
}

/// The learner failed: the pool starts again from the session and the embedding cache (every
/// worker anew, each embedding taken back from the cache, or embedded again where the browser
/// refused to cache it), keeping every answer; at most [`LEARNER_RESTARTS`] times per tab, so a
/// learner that cannot hold the pool does not fail over and over.
fn restart_learner(state: AppState, message: String) {
    // Only one restart however many errors the dying learner raises.
    if LEARNER_RESTARTING.get() {
        return;
    }
    if LEARNER_DEATHS.replace(LEARNER_DEATHS.get() + 1) >= LEARNER_RESTARTS {
        return state.report(format!(
            "the learner stopped again ({message}): labeling cannot go on in this tab. Reload \
             the page and reopen the project; “Save project file” keeps your answers meanwhile"
        ));
    }
    LEARNER_RESTARTING.set(true);
    web_sys::console::warn_1(
        &format!("quarry: the learner stopped ({message}); starting the pool again").into(),
    );
    set_timeout(
        move || {
            LEARNER_RESTARTING.set(false);
            let session = state.session.get_untracked();
            // Taken, not cloned (and not revoked: the same object URLs go on).
            let mut dataset = None;
            state.dataset.update_untracked(|d| dataset = d.take());
            let (Some(session), Some(dataset)) = (session, dataset) else {
                return;
            };
            let labeled = session.labeled_items().len();
            begin(state, session, dataset);
            state.report(format!(
                "the learner stopped ({message}) and was started again: it takes every \
                 embedding back from the cache. Your {labeled} labels are kept."
            ));
        },
        std::time::Duration::from_millis(LAST_WORDS_MS),
    );
}

/// Replaces dead embedding worker `worker` (see [`worker_failed`]).
fn replace_embedder(state: AppState, worker: usize, message: &str) {
    let plan = RUN.with_borrow_mut(|run| {
        let run = run.as_mut()?;
        let model = run.model.clone();
        let unfinished = |i: usize| run.finished.get(i) == Some(&false);
        let e = run.embedders.get_mut(worker.checked_sub(1)?)?;
        let killer = e.working.take().filter(|&i| unfinished(i));
        e.jobs.retain(|&i| unfinished(i) && Some(i) != killer);
        // What is left starts again from its first item, in the new worker.
        *e = Embedder {
            jobs: std::mem::take(&mut e.jobs),
            blind_deaths: if killer.is_some() {
                0
            } else {
                e.blind_deaths + 1
            },
            ..Embedder::default()
        };
        Some((killer, e.jobs.clone(), e.blind_deaths, model))
    });
    let Some((killer, rest, blind, model)) = plan else {
        return;
    };
    web_sys::console::warn_1(
        &format!("quarry: embedding worker {worker} stopped ({message}); starting another").into(),
    );
    if let Some(item) = killer {
        let why = format!(
            "the worker embedding it stopped ({message}): it ran out of memory or crashed on \
             this item, so it was left out and a new worker went on with the rest"
        );
        record(state, &[], Some((item, why)));
    }
    let restarted = if blind >= BLIND_DEATHS {
        Err(format!(
            "the embedding worker stopped {blind} times before it reached an item ({message})"
        ))
    } else {
        let first = next_request(state, worker);
        pool::restart(worker).and_then(|()| set_up_embedder(worker, &model, first))
    };
    if let Err(why) = restarted {
        for item in rest {
            record(state, &[], Some((item, why.clone())));
        }
    }
}

fn on_response(state: AppState, worker: usize, response: WorkerResponse) {
    match response {
        // Answers to requests a run never makes.
        WorkerResponse::Ready
        | WorkerResponse::Inspected { .. }
        | WorkerResponse::EmbeddingsStatus { .. }
        | WorkerResponse::EmbeddingsKept { .. }
        | WorkerResponse::EmbeddingsDone { .. } => {}
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
        // Also from a worker started again for an example after the run
        // ([`example_embedder`]): the run's progress is then left as it is.
        WorkerResponse::ModelLoaded { key, .. } => {
            state.model_key.set(Some(key));
            let running = RUN.with_borrow_mut(|run| {
                let run = run.as_mut().filter(|r| !r.retired)?;
                run.started_ms.get_or_insert_with(now_ms);
                Some(())
            });
            if running.is_some() {
                state
                    .progress
                    .update(|p| p.stage = "Embedding items…".into());
            }
        }
        WorkerResponse::Embedded { items, cached } => {
            if cached > 0 {
                state.progress.update(|p| p.cached += cached);
            }
            record(state, &items, None);
        }
        WorkerResponse::Unmatched { items } => unmatched(worker, items),
        WorkerResponse::Working { item } => RUN.with_borrow_mut(|run| {
            if let Some(e) = run.as_mut().and_then(|r| r.embedder(worker)) {
                e.working = item;
            }
        }),
        WorkerResponse::EmbedTiming { timing } => timed(state, worker, timing),
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
        WorkerResponse::ItemFailed { item, message } => record(state, &[], Some((item, message))),
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

/// Counts `embedded` items in the learner and the item that failed (if any), each once, updates
/// the progress, and asks for a queue when the first items are in, when the queue runs short,
/// and when the run ends.
fn record(state: AppState, embedded: &[usize], failure: Option<(usize, String)>) {
    let (refresh, done, total) = RUN.with_borrow_mut(|run| {
        let Some(run) = run.as_mut() else {
            return (false, 0, 0);
        };
        let total = run.total;
        for &item in embedded {
            if first_news(&mut run.finished, item) {
                run.embedded += 1;
            }
        }
        match failure {
            Some((item, _)) if !first_news(&mut run.finished, item) => {}
            None => {}
            Some((item, m)) => {
                run.failed += 1;
                let name = state
                    .session
                    .with_untracked(|s| s.as_ref().map(|s| s.item_name(item).to_string()))
                    .unwrap_or_default();
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
    if done == total {
        retire_embedders();
    }
}

/// Marks `item` finished; whether this is the first the page hears of it (an item out of range
/// is no news).
fn first_news(finished: &mut [bool], item: usize) -> bool {
    finished
        .get_mut(item)
        .is_some_and(|f| !std::mem::replace(f, true))
}

/// Keeps an embedder's timing; when every embedder has finished, writes where the run's time
/// went to the console (per item, summed over the workers: what one core spent on it), and
/// brings the embedding cache within its limit.
fn timed(state: AppState, worker: usize, timing: EmbedTiming) {
    let running = RUN.with_borrow_mut(|run| {
        run.as_mut()?.embedder(worker)?.timing.add(&timing);
        Some(())
    });
    if running.is_none() {
        return;
    }
    // The worker finished a request: the next, if its items are not all sent.
    if let Some(request) = next_request(state, worker) {
        if let Err(err) = pool::send(worker, request) {
            state.report(err);
        }
        return;
    }
    let done = RUN.with_borrow_mut(|run| {
        let run = run.as_mut()?;
        let whole = std::mem::take(&mut run.embedder(worker)?.timing);
        run.timings.push(whole);
        (run.timings.len() == run.embedders.len()).then(|| run.timings.clone())
    });
    let Some(all) = done else {
        return;
    };
    retire_embedders();
    // Every embedder waited for its cache writes before its last timing: the trim counts them.
    leptos::task::spawn_local(async move {
        super::storage_info::trim_cache(state).await;
    });
    let sum = |f: fn(&EmbedTiming) -> f64| all.iter().map(f).sum::<f64>();
    let items: usize = all.iter().map(|t| t.items).sum();
    let cached: usize = all.iter().map(|t| t.cached).sum();
    let per = |ms: f64| ms / items.max(1) as f64;
    web_sys::console::info_1(
        &format!(
            "quarry: embedding: {items} items ({cached} from the cache) by {} workers in {:.1} s; \
             per item and worker: model {:.2} ms, decode {:.2} ms, send {:.2} ms, waiting for \
             input {:.2} ms; in flight meanwhile: read {:.2} ms, cache look-up {:.2} ms; wasm \
             memory per worker: {} MiB",
            all.len(),
            all.iter().map(|t| t.wall_ms).fold(0.0, f64::max) / 1000.0,
            per(sum(|t| t.model_ms)),
            per(sum(|t| t.decode_ms)),
            per(sum(|t| t.send_ms)),
            per(sum(|t| t.wait_ms)),
            per(sum(|t| t.read_ms)),
            per(sum(|t| t.lookup_ms)),
            all.iter()
                .map(|t| format!("{:.0}", t.memory_mib))
                .collect::<Vec<_>>()
                .join(", "),
        )
        .into(),
    );
}

/// Terminates the embedding workers once the run is over: every item is in the learner (or
/// left out) and every embedder has finished its last request, cache writes included. What
/// they hold (the model, a directory of the cache: 62–233 MiB each) goes back to the system;
/// [`example_embedder`] starts one again when an example needs embedding.
fn retire_embedders() {
    let workers = RUN.with_borrow_mut(|run| {
        let run = run.as_mut()?;
        let over = !run.retired
            && run.embedded + run.failed == run.total
            && run.timings.len() == run.embedders.len();
        run.retired |= over;
        over.then_some(run.embedders.len())
    });
    for worker in 1..=workers.unwrap_or(0) {
        pool::retire(worker);
    }
}

/// The embedding worker that embeds examples from outside the pool (worker 1): started again,
/// with the run's model, when it was retired ([`retire_embedders`]). It then stays until the
/// next run.
///
/// # Errors
/// When no run is open or the browser cannot start a worker.
pub fn example_embedder() -> Result<usize, String> {
    const WORKER: usize = 1;
    if pool::is_retired(WORKER) {
        let model = RUN
            .with_borrow(|run| run.as_ref().map(|r| r.model.clone()))
            .ok_or("no project is open")?;
        pool::restart(WORKER)?;
        pool::send(WORKER, WorkerRequest::LoadModel { model })?;
    }
    Ok(WORKER)
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
    if let Err(e) = pool::send(pool::LEARNER, WorkerRequest::Refresh { id, input }) {
        state.report(e);
    }
}
