//! The storage layer, never losing work: every change of the session is written to the
//! browser's storage ([`storage`]) and an answer is shown only once it is saved. When the
//! browser refuses to save, the project goes on in memory and the person is offered the project
//! file. Knows only `state`, the records of [`storage`] and `core`: reopening what it wrote is
//! the project lifecycle's ([`super::project`]).

use std::cell::Cell;

use leptos::prelude::*;
use quarry_core::model::ModelChoice;
use quarry_core::project::{write_progress, Settings};
use quarry_core::Session;

use super::files::fetch_blob;
use super::state::{AppState, Storage};
use super::storage::{self, Saved, StoredItems};
use crate::idb::within;

/// A save that has not committed by then counts as failed: the screen is never held longer.
const SAVE_LIMIT_MS: i32 = 10_000;

thread_local! {
    /// A change arrived while a save was in flight: save again when it ends.
    static DIRTY: Cell<bool> = const { Cell::new(false) };
}

/// Everything of the open project beside its session.
pub fn settings(state: AppState) -> Option<Settings> {
    state.dataset.with_untracked(|d| {
        d.as_ref().map(|d| Settings {
            title: d.title.clone(),
            strategy: state.strategy.get_untracked(),
            subpool: state.subpool.get_untracked(),
            model: Some(d.model.clone()),
            source: Some(d.source.clone()),
            audit: state.audit.get_untracked(),
            full_list: state.full_list.get_untracked(),
            keys: state.keys.get_untracked(),
        })
    })
}

/// What storage keeps of `session` under `id`: its summary and its progress.
fn record(id: &str, settings: &Settings, session: &Session) -> (Saved, String) {
    let saved = Saved {
        id: id.to_string(),
        title: settings.title.clone(),
        items: session.len(),
        labeled: session.labeled_items().len(),
        saved_ms: js_sys::Date::now(),
    };
    (saved, write_progress(session, settings))
}

/// [`record`] of the open project as it is now.
fn record_now(state: AppState, id: &str) -> Option<(Saved, String)> {
    let settings = settings(state)?;
    state
        .session
        .with_untracked(|s| s.as_ref().map(|s| record(id, &settings, s)))
}

/// A write of project `id` has committed: the next may start, and a change that waited for it
/// is saved now.
fn stored(state: AppState, id: String) {
    state.storage.set(Storage::On { id, busy: false });
    if DIRTY.replace(false) {
        save_soon(state);
    }
}

fn new_id() -> String {
    format!(
        "p{:x}{:04x}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * 65536.0) as u32
    )
}

/// The project goes on in memory only; says why and what to do.
fn failed(state: AppState, reason: String) {
    state.report(format!(
        "Your work can no longer be saved in this browser: {reason}. Labeling goes on, but only \
         in this tab: use “Save project file” to keep it."
    ));
    state.storage.set(Storage::Failed { reason });
}

/// Saves the project just started as a new one; `keep` is what reopening it will need.
pub fn create(state: AppState, mut keep: StoredItems) {
    let id = new_id();
    super::tab_lock::hold(state, id.clone());
    // Busy until the project exists in storage: no answer can be saved before it.
    state.storage.set(Storage::On {
        id: id.clone(),
        busy: true,
    });
    // A project is work: ask the browser not to clear it under storage pressure (apart: a
    // browser may ask the person, and saving must not wait for the answer).
    leptos::task::spawn_local(async {
        let _ = super::storage_info::ask_persistent().await;
    });
    leptos::task::spawn_local(async move {
        // A model the person brought is kept too (its object URL dies with the tab).
        let model = state
            .dataset
            .with_untracked(|d| d.as_ref().map(|d| d.model.clone()));
        let mut urls = Vec::new();
        match &model {
            Some(ModelChoice::Image { url, .. }) => urls.push((url.clone(), false)),
            Some(ModelChoice::Text { url, tokenizer_url }) => {
                urls.push((url.clone(), false));
                urls.push((tokenizer_url.clone(), true));
            }
            None => {}
        }
        for (url, tokenizer) in urls.into_iter().filter(|(u, _)| u.starts_with("blob:")) {
            match fetch_blob(&url).await {
                Ok(b) if tokenizer => keep.tokenizer = Some(b),
                Ok(b) => keep.model = Some(b),
                Err(e) => return failed(state, format!("the model file could not be kept ({e})")),
            }
        }
        let Some((saved, progress)) = record_now(state, &id) else {
            return;
        };
        let creating = async move { storage::create(&saved, &keep, &progress).await };
        match within(SAVE_LIMIT_MS, creating).await {
            Ok(()) => stored(state, id),
            Err(e) => failed(state, e),
        }
    });
}

/// Applies `change` to the session. When the project is saved in the browser, the changed
/// session is written first and shown only once the write has committed: what the person sees
/// answered is on disk. Input that arrives while a write is in flight is ignored (the screen
/// has not moved on yet). `change` returns whether it changed anything; `after` runs once the
/// change is shown.
pub fn commit(
    state: AppState,
    change: impl FnOnce(&mut Session) -> quarry_core::Result<bool>,
    after: impl FnOnce(AppState) + 'static,
) {
    // Another tab holds the project: this one changes and writes nothing (it says so).
    if state.read_only.with_untracked(Option::is_some) {
        return;
    }
    let id = match state.storage.get_untracked() {
        Storage::On { busy: true, .. } => return,
        Storage::On { id, .. } => Some(id),
        Storage::Off | Storage::Failed { .. } => None,
    };
    let Some(mut next) = state.session.get_untracked() else {
        return;
    };
    match change(&mut next) {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => return state.report(e.to_string()),
    }
    let (Some(id), Some(settings)) = (id, settings(state)) else {
        state.session.set(Some(next));
        return after(state);
    };
    let (saved, progress) = record(&id, &settings, &next);
    state.storage.set(Storage::On { id, busy: true });
    leptos::task::spawn_local(async move {
        let id = saved.id.clone();
        let result = within(SAVE_LIMIT_MS, async move {
            storage::save(&saved, &progress).await
        })
        .await;
        state.session.set(Some(next));
        match result {
            Ok(()) => stored(state, id),
            Err(e) => failed(state, e),
        }
        after(state);
    });
}

/// Saves the session as it is now, without holding the screen (a new queue, a class renamed,
/// another strategy).
pub fn save_soon(state: AppState) {
    if state.read_only.with_untracked(Option::is_some) {
        return;
    }
    let id = match state.storage.get_untracked() {
        Storage::On { busy: true, .. } => return DIRTY.set(true),
        Storage::On { id, .. } => id,
        Storage::Off | Storage::Failed { .. } => return,
    };
    let Some((saved, progress)) = record_now(state, &id) else {
        return;
    };
    leptos::task::spawn_local(async move {
        let saving = async move { storage::save(&saved, &progress).await };
        if let Err(e) = within(SAVE_LIMIT_MS, saving).await {
            if matches!(state.storage.get_untracked(), Storage::On { .. }) {
                failed(state, e);
            }
        }
    });
}
