//! The self-contained project zip, made only when the person asks for it: the project file
//! plus every item's file (or the texts), to move a project to another machine or browser.
//! Opened again through *Open a project file…*.

use leptos::prelude::*;
use quarry_core::archive::{read_project_zip, write_project_zip};
use quarry_core::project::read_project;

use super::download::download_bytes;
use super::files::{read_bytes, Picked};
use super::persist::{self, attach_texts};
use super::state::{AppState, Items, Reopen};

async fn bytes_at(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{e:?}"))?;
    let response: web_sys::Response = wasm_bindgen::JsCast::unchecked_into(response);
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let blob = wasm_bindgen_futures::JsFuture::from(response.blob().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?;
    read_bytes(&wasm_bindgen::JsCast::unchecked_into(blob)).await
}

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
                s.snapshot().items,
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
    let mut files = Vec::new();
    let mut missing = Vec::new();
    let texts = match &items {
        Items::Texts(t) => Some(t.clone()),
        Items::Images(urls) => {
            for (name, url) in names.iter().zip(urls) {
                // An item whose file was not opened again has no URL.
                let read = if url.is_empty() {
                    Err(String::new())
                } else {
                    bytes_at(url).await
                };
                match read {
                    Ok(b) => files.push((name.clone(), b)),
                    Err(_) => missing.push(name.clone()),
                }
                packed.update(|p| *p = p.map(|n| n + 1));
            }
            None
        }
    };
    let zip = write_project_zip(&json, files, texts.as_deref());
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

/// Opens a self-contained project zip: the project resumes on the files inside it.
pub async fn open_bundle(state: AppState, file: Picked) -> Result<(), String> {
    let bytes = read_bytes(&file.blob).await?;
    let (json, texts) = read_project_zip(&bytes).map_err(|e| e.to_string())?.ok_or(
        "this zip holds no quarry-project.json (to label its images, use “Open images or a .zip…”)",
    )?;
    drop(bytes);
    let project = read_project(&json).map_err(|e| e.to_string())?;
    let reopen = Reopen { id: None, project };
    match texts {
        Some(texts) => attach_texts(state, reopen, texts),
        None => {
            // A zip project from now on: the saved copy keeps the zip.
            let draft = super::import::draft_of(vec![file], String::new()).await?;
            persist::attach(state, reopen, draft);
        }
    }
    Ok(())
}
