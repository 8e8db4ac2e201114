//! The project lifecycle: starting a project (a demo, or the person's data through the setup
//! screen), reopening a saved one, opening a project file or a self-contained zip, and
//! attaching the files a reopened project needs. Above the learner loop ([`begin`]) and the
//! storage layer ([`persist`]); below the controller.

use std::collections::HashMap;

use leptos::prelude::*;
use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::audit::AuditSettings;
use quarry_core::dataset::DemoManifest;
use quarry_core::model::ModelChoice;
use quarry_core::project::{read_project, read_stored, ItemSource};
use quarry_core::Session;

use super::bundle::{read_bundle, BundleItems};
use super::files::{fetch_blob, object_url, read_text, revoke, unzip, Picked};
use super::import::{draft_of, parse_class_list, split_set, use_text_column};
use super::models::default_model;
use super::persist::{self, create};
use super::run::begin;
use super::state::{AppState, Dataset, Draft, Items, Phase, Reopen, Storage};
use super::storage::{self, StoredItems};

/// A project ready to start: items, classes, and the labels that came with the data.
#[derive(Debug, Clone)]
pub struct Project {
    pub title: String,
    pub names: Vec<String>,
    pub items: Items,
    pub classes: Vec<String>,
    /// Classes of each item given with the data (at most one unless multi-label).
    pub labels: Vec<Vec<usize>>,
    /// Whether an item can have several classes.
    pub multi_label: bool,
    /// The model that embeds the items.
    pub model: ModelChoice,
    /// Where the items came from.
    pub source: ItemSource,
    /// The zip they came from, kept with the saved project.
    pub zip: Option<web_sys::Blob>,
}

/// Starts labeling `project`: a session over all its items, saved in the browser, workers
/// embedding the items, the learner receiving each embedding.
pub fn start_project(state: AppState, project: Project) {
    // The names are shared by the session and the stored copy.
    let names: std::sync::Arc<[String]> = project.names.into();
    let session = Session::new(names.clone(), project.classes.clone())
        .and_then(|s| s.with_multi_label(project.multi_label));
    let mut session = match session {
        Ok(s) => s,
        Err(e) => {
            state.report(format!("the project cannot start: {e}"));
            return;
        }
    };
    for (item, classes) in project.labels.iter().enumerate() {
        for &class in classes {
            if let Err(e) = session.import_label(item, class) {
                state.report(e.to_string());
            }
        }
    }
    state.strategy.set(StrategyKind::Auto);
    state.subpool.set(Subpool::Auto);
    state.audit.set(AuditSettings::RECOMMENDED);
    state.full_list.set(false);
    state.keys.set(Default::default());
    state.set_stats.set((0, 0));
    let keep = StoredItems {
        names,
        texts: match &project.items {
            Items::Texts(t) => Some(t.clone()),
            Items::Images(_) => None,
        },
        zip: project.zip,
        ..StoredItems::default()
    };
    begin(
        state,
        session,
        Dataset {
            title: project.title,
            items: project.items,
            model: project.model,
            source: project.source,
        },
    );
    persist::create(state, keep);
}

/// The manifest and items of bundled demo `name` (a folder under `demo/`): its texts, or its
/// images as object URLs ([`demo_images`]).
pub async fn demo_items(name: &str) -> Result<(DemoManifest, Items), String> {
    let url = format!("demo/{name}/demo.json");
    let text = async { read_text(&fetch_blob(&url).await?).await }
        .await
        .map_err(|e| format!("the demo could not be loaded ({e})"))?;
    let m = DemoManifest::from_json(&text).map_err(|e| e.to_string())?;
    let items = match &m.texts {
        Some(texts) => Items::Texts(texts.clone().into()),
        None => Items::Images(
            demo_images(name, &m.items)
                .await
                .map_err(|e| format!("the demo's images could not be loaded ({e})"))?,
        ),
    };
    Ok((m, items))
}

/// Bundled demo `name`'s images (named `items`, in that order) as object URLs, unpacked from
/// the one file that holds them all (`demo/<name>/images.zip`, made by tools/pack_demo.py).
///
/// One file, not one per image: every file a worker fetches passes the service worker, which
/// cost the browser 2.2 ms of CPU per image once cached and 5.7 ms on a first visit (when it
/// also stores it), next to 34 ms for the model itself; an embedder reads an unpacked image's
/// blob for 0.3 ms (`e2e/bench-fetch.mjs`).
async fn demo_images(name: &str, items: &[String]) -> Result<Vec<String>, String> {
    let path = format!("demo/{name}/images.zip");
    let pack = Picked {
        blob: fetch_blob(&path).await?,
        path,
    };
    let (entries, _) = unzip(&pack).await?;
    let mut by_name: HashMap<String, web_sys::Blob> =
        entries.into_iter().map(|p| (p.path, p.blob)).collect();
    let mut urls = Vec::with_capacity(items.len());
    for item in items {
        let url = by_name
            .remove(item)
            .ok_or_else(|| format!("{} lacks {item}", pack.path))
            .and_then(|blob| object_url(&blob));
        match url {
            Ok(url) => urls.push(url),
            Err(e) => {
                revoke(&urls);
                return Err(e);
            }
        }
    }
    Ok(urls)
}

/// Loads bundled demo `name` and starts labeling it.
pub fn start_demo(state: AppState, name: &'static str) {
    leptos::task::spawn_local(async move {
        match demo_items(name).await {
            Ok((m, items)) => {
                let labels = vec![Vec::new(); m.items.len()];
                start_project(
                    state,
                    Project {
                        title: m.title,
                        names: m.items,
                        model: default_model(&items),
                        items,
                        classes: m.classes,
                        labels,
                        multi_label: false,
                        source: ItemSource::Demo { name: name.into() },
                        zip: None,
                    },
                );
            }
            Err(e) => state.report(e),
        }
    });
}

/// Opens what the person picked or dropped: images (zips unpacked, class folders found, a
/// `.csv` among images read as labels) or one text file. Shows the setup screen, or says why not.
pub fn open(state: AppState, picked: Vec<Picked>, title: String) {
    if picked.is_empty() {
        return;
    }
    leptos::task::spawn_local(async move {
        let draft = draft_of(picked, title).await;
        if let (Some(reopen), Ok(draft)) = (state.reopening.get_untracked(), &draft) {
            return attach(state, reopen, draft.clone());
        }
        match draft {
            Ok(draft) => {
                if let Some(old) = state.draft.get_untracked() {
                    revoke(old.items.object_urls());
                }
                state.draft.set(Some(draft));
                state.phase.set(Phase::Setup);
            }
            Err(e) => state.report(e),
        }
    });
}

/// Starts the draft with the classes typed in `class_list`. Labels that name no listed class are
/// dropped (with a note); a draft with fewer than two classes is refused with a message.
pub fn start_draft(state: AppState, class_list: &str) {
    let classes = parse_class_list(class_list);
    if classes.len() < 2 {
        state.report("name at least two classes, one per line (you can add more while labeling)");
        return;
    }
    let mismatch = state
        .draft
        .with_untracked(|d| match d.as_ref().map(|d| (&d.items, &d.model)) {
            Some((Items::Images(_), ModelChoice::Text { .. })) => {
                Some("a text model cannot embed images")
            }
            Some((Items::Texts(_), ModelChoice::Image { .. })) => {
                Some("an image model cannot embed texts")
            }
            _ => None,
        });
    if let Some(m) = mismatch {
        state.report(format!("{m}: choose another model or the bundled one"));
        return;
    }
    // Moved out, not cloned: a draft of a million items holds a million names and labels.
    let mut taken = None;
    state.draft.update_untracked(|d| taken = d.take());
    let Some(draft) = taken else {
        return;
    };
    let mut dropped = 0;
    let labels: Vec<Vec<usize>> = draft
        .labels
        .iter()
        .map(|l| {
            let names = match l {
                None => Vec::new(),
                Some(l) if draft.multi_label => split_set(l),
                Some(l) => vec![l.clone()],
            };
            let found: Vec<usize> = names
                .iter()
                .filter_map(|n| classes.iter().position(|c| c == n))
                .collect();
            dropped += names.len() - found.len();
            found
        })
        .collect();
    state.draft.set(None);
    start_project(
        state,
        Project {
            title: draft.title,
            names: draft.names,
            items: draft.items,
            classes,
            labels,
            model: draft.model,
            multi_label: draft.multi_label,
            source: draft.source,
            zip: draft.zip,
        },
    );
    let mut notes = draft.notes;
    if dropped > 0 {
        notes.push(format!(
            "{dropped} given labels name no class of the project and were not used"
        ));
    }
    state.notices.update(|n| n.extend(notes));
}

/// Reopens saved project `id`: items from the demo, the stored texts or zip, or (images opened
/// as files) after the person opens them again. Errors name what is wrong with the record.
pub async fn reopen(state: AppState, id: String) -> Result<(), String> {
    let (saved, stored, progress) = storage::load(&id).await?;
    let mut project = read_stored(&progress, stored.names.to_vec()).map_err(|e| e.to_string())?;
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
            let draft = draft_of(
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
        revoke(items.object_urls());
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
            match read_bundle(file).await {
                Ok((reopen, BundleItems::Texts(texts))) => attach_texts(state, reopen, texts),
                Ok((reopen, BundleItems::Files(draft))) => attach(state, reopen, *draft),
                Err(e) => state.report(format!("{name} cannot be opened: {e}")),
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
        use_text_column(&mut draft, column);
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
fn attach_texts(state: AppState, reopen: Reopen, texts: Vec<String>) {
    let n = reopen.project.session.len();
    if texts.len() != n {
        return state.report(format!(
            "the zip holds {} texts; its project has {n} items",
            texts.len()
        ));
    }
    resume(state, reopen, Items::Texts(texts.into()), None, Vec::new());
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
        .unwrap_or_else(|| default_model(&items));
    let source = project.settings.source.clone().unwrap_or(ItemSource::Files);
    state.reopening.set(None);
    state.strategy.set(project.settings.strategy);
    state.subpool.set(project.settings.subpool);
    state.audit.set(project.settings.audit);
    state.full_list.set(project.settings.full_list);
    state.keys.set(project.settings.keys.clone());
    state.set_stats.set((0, 0));
    let texts = match &items {
        Items::Texts(t) => Some(t.clone()),
        Items::Images(_) => None,
    };
    let names = project.session.shared_items();
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
        Some(id) => {
            super::tab_lock::hold(state, id.clone());
            state.storage.set(Storage::On { id, busy: false });
        }
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
