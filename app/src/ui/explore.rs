//! Explore requests: "More like this" and search by example (an embedder embeds the example,
//! the learner searches), the Map's layout, the classroom race (set up and stepped in the
//! learner worker, one round per request, paced by the page). Each opens its view and sends the request; the
//! answers come back through [`super::run`]. The learner-loop layer (ARCHITECTURE.md): views
//! and the controller call it.

use std::cell::Cell;

use leptos::prelude::*;

use quarry_core::neighbours::{Query, DEFAULT_K};

use super::files;
use super::pool;
use super::predictions::refresh_view;
use super::state::{AppState, Explore, RaceState, SimilarSearch};
use crate::protocol::{EmbedInput, WorkerRequest};
use quarry_core::dataset::DemoManifest;
use quarry_core::project::ItemSource;
use quarry_core::simulate::race::RaceConfig;

thread_local! {
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

fn next_id() -> u64 {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}

/// Opens the grid of the items most like `item`.
pub fn more_like(state: AppState, item: usize) {
    let like = state
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.item_name(item).to_string()))
        .unwrap_or_default();
    search(state, like, Query::Item(item));
}

fn search(state: AppState, like: String, query: Query) {
    let id = next_id();
    open(state, id, like);
    send_search(state, id, query);
}

/// Asks the learner for the items nearest `query`, answering search `id`.
fn send_search(state: AppState, id: u64, query: Query) {
    let request = WorkerRequest::Similar {
        id,
        query,
        k: DEFAULT_K,
    };
    if let Err(e) = pool::send(pool::LEARNER, request) {
        state.report(e);
    }
}

/// Shows explore view `view` in place of the Predictions view or another explore view (the
/// selection goes with the view it was made in).
fn show(state: AppState, view: Explore) {
    state.browsing.set(false);
    state.selected.set(Vec::new());
    state.explore.set(view);
}

fn open(state: AppState, id: u64, like: String) {
    show(state, Explore::Similar);
    state.similar.set(Some(SimilarSearch {
        id,
        like,
        result: None,
        ms: 0.0,
    }));
}

/// Searches near an example from outside the pool: embedded first by an embedder
/// ([`super::run::example_embedder`]), then searched by the learner ([`example_arrived`]).
pub fn search_example(state: AppState, like: String, input: EmbedInput) {
    let id = next_id();
    open(state, id, like.clone());
    let request = WorkerRequest::EmbedExample {
        id,
        name: like,
        input,
    };
    if let Err(e) = super::run::example_embedder().and_then(|w| pool::send(w, request)) {
        state.report(e);
    }
}

/// The embedder's answer to [`search_example`]: search near it, or say why it could not be
/// embedded. An answer to an older search is dropped.
pub fn example_arrived(state: AppState, id: u64, embedding: Result<Vec<f32>, String>) {
    let current = state
        .similar
        .with_untracked(|s| s.as_ref().is_some_and(|s| s.id == id));
    if !current {
        return;
    }
    match embedding {
        Ok(v) => send_search(state, id, Query::Vector(v)),
        Err(e) => answered(state, id, Err(format!("No search: {e}")), 0.0),
    }
}

/// The learner's answer to a search (an answer to an older search is dropped).
pub fn answered(state: AppState, id: u64, result: Result<quarry_core::Similar, String>, ms: f64) {
    state.similar.update(|s| {
        if let Some(s) = s.as_mut().filter(|s| s.id == id) {
            s.result = Some(result);
            s.ms = ms;
        }
    });
}

/// Opens the Map: asks the learner for the layout (PCA, or t-SNE in slices: [`map_forming`])
/// and the pool's predictions.
pub fn open_map(state: AppState) {
    show(state, Explore::Map);
    state.layout.set(None);
    let request = if state.map_tsne.get_untracked().on {
        let id = next_id();
        // Labeled and queued items stay in a sampled layout: they are what the colours show.
        let keep = state
            .session
            .with_untracked(|s| {
                s.as_ref().map(|s| {
                    let mut keep = s.labeled_items().to_vec();
                    keep.extend_from_slice(s.queue());
                    keep
                })
            })
            .unwrap_or_default();
        state.map_tsne.update(|m| {
            m.id = id;
            m.progress = None;
        });
        WorkerRequest::MapTsne { id, keep }
    } else {
        WorkerRequest::Map
    };
    if let Err(e) = pool::send(pool::LEARNER, request) {
        state.report(e);
    }
    refresh_view(state);
}

/// Lays the Map out again by t-SNE (`true`) or PCA.
pub fn set_map_tsne(state: AppState, on: bool) {
    state.map_tsne.update(|m| m.on = on);
    open_map(state);
}

/// A slice of t-SNE layout `id` is done: show the map as it stands and ask for the next slice,
/// while the Map is open on that layout (otherwise the layout stops here).
pub fn map_forming(
    state: AppState,
    id: u64,
    layout: quarry_core::map::Layout,
    progress: quarry_core::map::tsne::Progress,
    ms: f64,
) {
    let current = state.map_tsne.with_untracked(|m| m.on && m.id == id)
        && state.explore.get_untracked() == Explore::Map;
    if !current {
        return;
    }
    state.layout.set(Some((layout, ms)));
    state.map_tsne.update(|m| m.progress = Some(progress));
    if progress.done < progress.total {
        if let Err(e) = pool::send(pool::LEARNER, WorkerRequest::MapTsneStep { id }) {
            state.report(e);
        }
    }
}

/// Milliseconds between two rounds while the race runs on its own (long enough to follow).
const RACE_PACE_MS: u64 = 350;

/// The demo the project was made from, if it was.
pub fn demo_name(state: AppState) -> Option<String> {
    state.dataset.with(|d| match d.as_ref().map(|d| &d.source) {
        Some(ItemSource::Demo { name }) => Some(name.clone()),
        _ => None,
    })
}

/// Opens the race (demos only): fetches the demo's ground truth and sets the race up in the
/// learner worker with [`RaceConfig::default`].
pub fn open_race(state: AppState) {
    set_up_race(state, false);
}

/// Sets a race up (again); `run` starts it as soon as it is ready.
fn set_up_race(state: AppState, run: bool) {
    show(state, Explore::Race);
    let config = RaceConfig::default();
    let presenter = state.race.with_untracked(|r| r.presenter);
    state.race.set(RaceState {
        strategies: config.strategies.clone(),
        presenter,
        running: run,
        ..RaceState::default()
    });
    let Some(name) = untrack(|| demo_name(state)) else {
        state.race.update(|r| {
            r.error = Some("the race needs a demo: its true classes come with it".into())
        });
        return;
    };
    leptos::task::spawn_local(async move {
        let truth = async {
            let manifest = files::fetch_bytes(&format!("demo/{name}/demo.json")).await?;
            let csv = files::fetch_bytes(&format!("demo/{name}/truth.csv")).await?;
            let manifest = DemoManifest::from_json(&String::from_utf8_lossy(&manifest))
                .map_err(|e| e.to_string())?;
            manifest
                .truth_ids(&String::from_utf8_lossy(&csv))
                .map_err(|e| e.to_string())
        }
        .await;
        let sent = truth.and_then(|truth| {
            pool::send(pool::LEARNER, WorkerRequest::RaceStart { truth, config })
        });
        if let Err(e) = sent {
            state
                .race
                .update(|r| r.error = Some(format!("the race could not start: {e}")));
        }
    });
}

/// The learner's answer to the set-up: step at once if Space was pressed meanwhile.
pub fn race_ready(state: AppState, result: Result<(), String>) {
    state.race.update(|r| match result {
        Ok(()) => r.ready = true,
        Err(e) => {
            r.error = Some(e);
            r.running = false;
        }
    });
    if state.race.with_untracked(|r| r.running) {
        race_step(state);
    }
}

/// One round came back: keep it, and ask for the next after a pause while running.
pub fn race_frame(state: AppState, frame: Result<quarry_core::simulate::race::RaceFrame, String>) {
    state.race.update(|r| {
        r.in_flight = false;
        if !r.ready {
            // The answer to a step of the race this one replaced.
            return;
        }
        match frame {
            Ok(f) => r.frames.push(f),
            Err(e) => {
                r.error = Some(e);
                r.running = false;
            }
        }
        if r.done() {
            r.running = false;
        }
    });
    if state.race.with_untracked(|r| r.running) {
        set_timeout(
            move || {
                if state.race.with_untracked(|r| r.running) {
                    race_step(state);
                }
            },
            std::time::Duration::from_millis(RACE_PACE_MS),
        );
    }
}

/// Runs one round (→, or the Step button); nothing while one is in flight or after the end.
pub fn race_step(state: AppState) {
    let go = state
        .race
        .with_untracked(|r| r.ready && !r.in_flight && !r.done());
    if !go {
        return;
    }
    state.race.update(|r| r.in_flight = true);
    if let Err(e) = pool::send(pool::LEARNER, WorkerRequest::RaceStep) {
        state.race.update(|r| r.error = Some(e));
    }
}

/// Starts or pauses the race (Space); a finished race starts again from the first labels.
pub fn race_toggle(state: AppState) {
    if state.race.with_untracked(RaceState::done) {
        set_up_race(state, true);
        return;
    }
    let running = !state.race.with_untracked(|r| r.running);
    state.race.update(|r| r.running = running);
    if running {
        race_step(state);
    }
}
