//! Never losing work: every change of the session is written to the browser's storage
//! ([`storage`]) and an answer is shown only once it is saved; saved projects and project files
//! reopen exactly where they were left. When the browser refuses to save, the project goes on in
//! memory and the person is offered the project file.

use std::cell::Cell;

use leptos::prelude::*;
use quarry_core::model::ModelChoice;
use quarry_core::project::{read_project, read_stored, write_progress, ItemSource, Settings};
use quarry_core::Session;

use super::controller::demo_items;
use super::files::{fetch_blob, object_url, read_text, Picked};
use super::run::begin;
use super::state::{AppState, Dataset, Draft, Items, Phase, Reopen, Storage};
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
    // Busy until the project exists in storage: no answer can be saved before it.
    state.storage.set(Storage::On {
        id: id.clone(),
        busy: true,
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

/// Reopens saved project `id`: items from the demo, the stored texts or zip, or (images opened
/// as files) after the person opens them again. Errors name what is wrong with the record.
pub async fn reopen(state: AppState, id: String) -> Result<(), String> {
    let (saved, stored, progress) = storage::load(&id).await?;
    let mut project = read_stored(&progress, stored.names.clone()).map_err(|e| e.to_string())?;
    project.settings.title = saved.title;
    if let Some(model) = project.settings.model.as_mut() {
        restore_model(model, &stored)?;
    }
    let reopen = Reopen {
        id: Some(id),
        project,
    };
    let source = reopen.project.settings.source.clone();
    match (source, stored.texts, stored.zip) {
        (Some(ItemSource::Demo { name }), _, _) => {
            let items = demo_of(&reopen, &name).await?;
            resume(state, reopen, items, None, Vec::new());
        }
        (Some(ItemSource::Texts { .. }), Some(texts), _) => {
            resume(state, reopen, Items::Texts(texts), None, Vec::new());
        }
        (Some(ItemSource::Zip { name }), _, Some(zip)) => {
            let draft = super::import::draft_of(
                vec![Picked {
                    path: name,
                    blob: zip,
                }],
                String::new(),
            )
            .await?;
            attach(state, reopen, draft);
        }
        _ => ask_for_files(state, reopen),
    }
    Ok(())
}

/// The items of demo `name`, when they are the project's items.
async fn demo_of(reopen: &Reopen, name: &str) -> Result<Items, String> {
    let (manifest, items) = demo_items(name).await?;
    if manifest.items != reopen.project.session.items() {
        return Err(format!(
            "it was made on another version of the demo '{name}' (its items differ)"
        ));
    }
    Ok(items)
}

/// Points a model the person brought at the stored copy of its file.
fn restore_model(model: &mut ModelChoice, stored: &StoredItems) -> Result<(), String> {
    let missing = || {
        "the model file it used was not kept; open the project file and the model again".to_string()
    };
    match model {
        ModelChoice::Image { url, .. } if url.starts_with("blob:") => {
            *url = object_url(stored.model.as_ref().ok_or_else(missing)?)?;
        }
        ModelChoice::Text { url, tokenizer_url } => {
            if url.starts_with("blob:") {
                *url = object_url(stored.model.as_ref().ok_or_else(missing)?)?;
            }
            if tokenizer_url.starts_with("blob:") {
                *tokenizer_url = object_url(stored.tokenizer.as_ref().ok_or_else(missing)?)?;
            }
        }
        ModelChoice::Image { .. } => {}
    }
    Ok(())
}

/// Waits on the start screen for the person to open the project's files again.
fn ask_for_files(state: AppState, reopen: Reopen) {
    state.reopening.set(Some(reopen));
    state.phase.set(Phase::Start);
}

/// Opens a project file the person picked: a demo project resumes at once; for others the
/// person opens the data again. A bad file changes nothing and says what is wrong.
pub fn open_project_file(state: AppState, file: Picked) {
    leptos::task::spawn_local(async move {
        if file.path.to_ascii_lowercase().ends_with(".zip") {
            let name = file.path.clone();
            if let Err(e) = super::bundle::open_bundle(state, file).await {
                state.report(format!("{name} cannot be opened: {e}"));
            }
            return;
        }
        let text = match read_text(&file.blob).await {
            Ok(t) => t,
            Err(e) => return state.report(format!("{} could not be read: {e}", file.path)),
        };
        let project = match read_project(&text) {
            Ok(p) => p,
            Err(e) => return state.report(format!("{} cannot be opened: {e}", file.path)),
        };
        let custom = project
            .settings
            .model
            .as_ref()
            .is_some_and(|m| m.url().starts_with("blob:"));
        let mut reopen = Reopen { id: None, project };
        let mut notes = Vec::new();
        if custom {
            // The model's file is not in a project file: the bundled model stands in, with a note.
            notes.push("the project used a model of your own, which a project file does not hold: the bundled model embeds the items instead".to_string());
            reopen.project.settings.model = None;
        }
        match reopen.project.settings.source.clone() {
            Some(ItemSource::Demo { name }) => match demo_of(&reopen, &name).await {
                Ok(items) => resume(state, reopen, items, None, notes),
                Err(e) => state.report(format!("{} cannot be opened: {e}", file.path)),
            },
            _ => ask_for_files(state, reopen),
        }
    });
}

/// Matches what the person opened again to the waiting project's items (by path, else by a
/// unique file name; texts by row) and resumes it. Items not found stay labeled as they were
/// and are listed in the notes.
pub fn attach(state: AppState, reopen: Reopen, mut draft: Draft) {
    let names = reopen.project.session.items().to_vec();
    let mut notes = Vec::new();
    if let Some(ItemSource::Texts { column, .. }) = &reopen.project.settings.source {
        super::import::use_text_column(&mut draft, column);
    }
    let items = match (&draft.items, &reopen.project.settings.source) {
        (Items::Texts(texts), _) => {
            if texts.len() != names.len() {
                state.reopening.set(Some(reopen));
                return state.report(format!(
                    "this file has {} texts; the project has {}: open the file it was made from",
                    texts.len(),
                    names.len()
                ));
            }
            Items::Texts(texts.clone())
        }
        (Items::Images(urls), _) => {
            let rows: Vec<(String, String)> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i.to_string()))
                .collect();
            let (found, missing) = quarry_core::import::match_labels(&draft.names, &rows);
            if missing.len() == names.len() {
                state.reopening.set(Some(reopen));
                return state.report(
                    "none of the project's images are among the files opened: open the same folder, files or zip",
                );
            }
            let mut by_item = vec![String::new(); names.len()];
            for (url, item) in urls.iter().zip(found) {
                if let Some(i) = item.and_then(|i| i.parse::<usize>().ok()) {
                    by_item[i] = url.clone();
                }
            }
            if !missing.is_empty() {
                notes.push(format!(
                    "{} of the project's images were not among the files opened (e.g. {}); their labels are kept",
                    missing.len(),
                    missing[0]
                ));
            }
            Items::Images(by_item)
        }
    };
    let mut reopen = reopen;
    if draft.zip.is_some() {
        // Kept with the saved project: reopening needs nothing from now on.
        reopen.project.settings.source = Some(draft.source.clone());
    }
    resume(state, reopen, items, draft.zip, notes);
}

/// Resumes the waiting text project on `texts` (from a project zip).
pub fn attach_texts(state: AppState, reopen: Reopen, texts: Vec<String>) {
    let n = reopen.project.session.len();
    if texts.len() != n {
        return state.report(format!(
            "the zip holds {} texts; its project has {n} items",
            texts.len()
        ));
    }
    resume(state, reopen, Items::Texts(texts), None, Vec::new());
}

/// Opens the reopened project on `items`: its session, settings and queue as saved. A project
/// from a file is saved in the browser from now on (with `zip`, the zip its images came from).
fn resume(
    state: AppState,
    reopen: Reopen,
    items: Items,
    zip: Option<web_sys::Blob>,
    notes: Vec<String>,
) {
    let Reopen { id, project } = reopen;
    if items.len() != project.session.len() {
        return state.report(format!(
            "the project has {} items but {} were found for it",
            project.session.len(),
            items.len()
        ));
    }
    let model = project
        .settings
        .model
        .clone()
        .unwrap_or_else(|| super::run::default_model(&items));
    let source = project.settings.source.clone().unwrap_or(ItemSource::Files);
    state.reopening.set(None);
    state.strategy.set(project.settings.strategy);
    state.subpool.set(project.settings.subpool);
    state.audit.set(project.settings.audit);
    let texts = match &items {
        Items::Texts(t) => Some(t.clone()),
        Items::Images(_) => None,
    };
    let names = project.session.items().to_vec();
    begin(
        state,
        project.session,
        Dataset {
            title: project.settings.title,
            items,
            model,
            source,
        },
    );
    state.notices.update(|n| n.extend(notes));
    match id {
        Some(id) => state.storage.set(Storage::On { id, busy: false }),
        // From a project file: saved in the browser from now on.
        None => create(
            state,
            StoredItems {
                names,
                texts,
                zip,
                ..StoredItems::default()
            },
        ),
    }
}
