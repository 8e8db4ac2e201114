//! The self-contained project zip, made only when the person asks for it: the project file
//! plus every item's file (or the texts), to move a project to another machine or browser.
//! Opened again through *Open a project file…*. The items' cached embeddings go along and fill
//! the other browser's cache, so it does not embed them again.

use leptos::prelude::*;
use quarry_core::archive::{read_project_zip, write_project_zip, ProjectZip};
use quarry_core::cache::{decode_entries, embedding_key, encode_entries};
use quarry_core::project::read_project;

use super::download::download_bytes;
use super::files::{fetch_bytes, read_bytes, Picked};
use super::persist;
use super::state::{AppState, Draft, Items, Reopen};

/// Downloads the project with its items' files as `quarry-project.zip`; `packed` counts the
/// files read so far. Items whose file cannot be read are left out and listed.
pub async fn export_bundle(state: AppState, packed: RwSignal<Option<usize>>) {
    let Some(settings) = persist::settings(state) else {
        return;
    };
    let Some((json, names)) = state.session.with_untracked(|s| {
        s.as_ref().map(|s| {
            (
                quarry_core::project::write_project(s, &settings, None),
                s.items().to_vec(),
            )
        })
    }) else {
        return;
    };
    let Some(items) = state
        .dataset
        .with_untracked(|d| d.as_ref().map(|d| d.items.clone()))
    else {
        return;
    };
    packed.set(Some(0));
    let model = state.model_key.get_untracked();
    let key_of = |content: &[u8]| model.as_ref().map(|m| embedding_key(m, content));
    let mut files = Vec::new();
    let mut missing = Vec::new();
    let mut keys = Vec::new();
    let texts = match &items {
        Items::Texts(t) => {
            keys.extend(t.iter().filter_map(|t| key_of(t.as_bytes())));
            Some(t.to_vec())
        }
        Items::Images(urls) => {
            for (name, url) in names.iter().zip(urls) {
                // An item whose file was not opened again has no URL.
                let read = if url.is_empty() {
                    Err(String::new())
                } else {
                    fetch_bytes(url).await
                };
                match read {
                    Ok(b) => {
                        keys.extend(key_of(&b));
                        files.push((name.clone(), b));
                    }
                    Err(_) => missing.push(name.clone()),
                }
                packed.update(|p| *p = p.map(|n| n + 1));
            }
            None
        }
    };
    // The cached embeddings go along, so the other browser need not embed again.
    let mut embeddings = Vec::new();
    for chunk in keys.chunks(512) {
        let wanted: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let Ok(found) = crate::idb::embeddings(&wanted).await else {
            break;
        };
        for (key, v) in chunk.iter().zip(found.rows) {
            if let Some(v) = v.as_deref().and_then(quarry_core::cache::expand) {
                embeddings.push((key.clone(), v));
            }
        }
    }
    let contents = ProjectZip {
        project: json,
        texts,
        embeddings: (!embeddings.is_empty()).then(|| encode_entries(&embeddings)),
    };
    let zip = write_project_zip(&contents, files);
    packed.set(None);
    if !missing.is_empty() {
        state.notices.update(|n| {
            n.push(format!(
                "{} files could not be read and are not in the zip (e.g. {})",
                missing.len(),
                missing[0]
            ))
        });
    }
    if let Err(e) = download_bytes("quarry-project.zip", "application/zip", &zip) {
        state.report(format!("the project zip could not be saved: {e}"));
    }
}

/// What a self-contained project zip holds for the project in it.
pub enum BundleItems {
    /// A text project's texts.
    Texts(Vec<String>),
    /// An image project: the zip's own images, read as a draft to attach.
    Files(Box<Draft>),
}

/// Reads a self-contained project zip: its project, and its items to resume it on. The items'
/// cached embeddings go into this browser's cache on the way.
pub async fn read_bundle(file: Picked) -> Result<(Reopen, BundleItems), String> {
    let bytes = read_bytes(&file.blob).await?;
    let contents = read_project_zip(&bytes).map_err(|e| e.to_string())?.ok_or(
        "this zip holds no quarry-project.json (to label its images, use “Open images or a .zip…”)",
    )?;
    drop(bytes);
    let project = read_project(&contents.project).map_err(|e| e.to_string())?;
    if let Some(e) = &contents.embeddings {
        // Into this browser's embedding cache: used when the same model embeds the same items.
        let kept = match decode_entries(e) {
            Ok(entries) => crate::idb::keep_embeddings(&entries).await,
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = kept {
            web_sys::console::warn_1(&format!("the zip's embeddings were not used: {e}").into());
        }
    }
    let reopen = Reopen { id: None, project };
    let items = match contents.texts {
        Some(texts) => BundleItems::Texts(texts),
        // A zip project from now on: the saved copy keeps the zip.
        None => BundleItems::Files(Box::new(
            super::import::draft_of(vec![file], String::new()).await?,
        )),
    };
    Ok((reopen, items))
}
