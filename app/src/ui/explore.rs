//! Explore requests: "More like this" and search by example (an embedder embeds the example,
//! the learner searches), the Map's layout. Each opens its view and sends the request; the
//! answers come back through [`super::run`]. The learner-loop layer (ARCHITECTURE.md): views
//! and the controller call it.

use std::cell::Cell;

use leptos::prelude::*;

use quarry_core::neighbours::{Query, DEFAULT_K};

use super::pool;
use super::predictions::refresh_view;
use super::state::{AppState, Explore, SimilarSearch};
use crate::protocol::{EmbedInput, WorkerRequest};

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
    let sent = pool::send(
        0,
        WorkerRequest::Similar {
            id,
            query,
            k: DEFAULT_K,
        },
    );
    if let Err(e) = sent {
        state.report(e);
    }
}

fn open(state: AppState, id: u64, like: String) {
    state.browsing.set(false);
    state.selected.set(Vec::new());
    state.explore.set(Explore::Similar);
    state.similar.set(Some(SimilarSearch {
        id,
        like,
        result: None,
        ms: 0.0,
    }));
}

/// Searches near an example from outside the pool: embedded first by an embedder (worker 1),
/// then searched by the learner ([`example_arrived`]).
pub fn search_example(state: AppState, like: String, input: EmbedInput) {
    let id = next_id();
    open(state, id, like);
    if let Err(e) = pool::send(1, WorkerRequest::EmbedExample { id, input }) {
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
        Ok(v) => {
            let sent = pool::send(
                0,
                WorkerRequest::Similar {
                    id,
                    query: Query::Vector(v),
                    k: DEFAULT_K,
                },
            );
            if let Err(e) = sent {
                state.report(e);
            }
        }
        Err(e) => answered(
            state,
            id,
            Err(format!("the example could not be read: {e}")),
            0.0,
        ),
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

/// Opens the Map: asks the learner for the layout and the pool's predictions.
pub fn open_map(state: AppState) {
    state.browsing.set(false);
    state.selected.set(Vec::new());
    state.explore.set(Explore::Map);
    state.layout.set(None);
    if let Err(e) = pool::send(0, WorkerRequest::Map) {
        state.report(e);
    }
    refresh_view(state);
}
