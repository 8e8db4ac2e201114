//! The class-folder export: every item's file under `<class>/<name>` (texts: one CSV per class
//! and one with the label column), with the person's labels only or also the model's above a
//! threshold. Images are read and zipped one at a time; each finished piece of the zip goes to
//! the browser as a Blob part at once, so the zip is never whole in wasm memory.

use leptos::prelude::*;
use quarry_core::archive::folders::{file_name, folder_plan, texts_by_class_zip, StreamingZip};
use quarry_core::predict::Predictions;
use wasm_bindgen::JsCast;

use super::download::{download_bytes, download_parts};
use super::files::fetch_bytes;
use super::pool;
use super::state::{AppState, Items};
use crate::protocol::{PredictionsFor, WorkerRequest};

/// Asks the learner for the pool's predictions; [`write_folders`] then builds the zip.
pub fn export_folders(state: AppState) {
    state.exporting.set(Some("folders"));
    let purpose = PredictionsFor::Folders;
    if let Err(e) = pool::send(pool::LEARNER, WorkerRequest::Predictions { purpose }) {
        web_sys::console::warn_1(&e.into());
        leptos::task::spawn_local(write_folders(state, None));
    }
}

/// Builds and downloads `quarry-folders.zip` from the plan.
pub async fn write_folders(state: AppState, predictions: Option<Predictions>) {
    let threshold = state.folder_threshold.get_untracked();
    let plan = state.session.with_untracked(|s| {
        s.as_ref().map(|s| {
            (
                folder_plan(s, predictions.as_ref(), threshold),
                s.items().to_vec(),
            )
        })
    });
    let items = state
        .dataset
        .with_untracked(|d| d.as_ref().map(|d| d.items.clone()));
    let (Some((plan, names)), Some(items)) = (plan, items) else {
        state.exporting.set(None);
        return;
    };
    let result = match &items {
        Items::Texts(texts) => state.session.with_untracked(|s| {
            let s = s.as_ref().expect("checked above");
            let zip = texts_by_class_zip(s, predictions.as_ref(), texts, threshold);
            download_bytes("quarry-folders.zip", "application/zip", &zip)
        }),
        Items::Images(urls) => zip_images(state, &plan, &names, urls).await,
    };
    state.exporting.set(None);
    state.folder_progress.set(None);
    if let Err(e) = result {
        state.report(format!("the folder zip could not be made: {e}"));
    }
}

async fn zip_images(
    state: AppState,
    plan: &[Vec<String>],
    names: &[String],
    urls: &[String],
) -> Result<(), String> {
    let parts = js_sys::Array::new();
    let push = |bytes: Vec<u8>| {
        if !bytes.is_empty() {
            parts.push(&js_sys::Uint8Array::from(bytes.as_slice()).unchecked_into());
        }
    };
    let mut zip = StreamingZip::new();
    let mut missing = Vec::new();
    for (item, folders) in plan.iter().enumerate() {
        state.folder_progress.set(Some(item));
        let read = match urls.get(item).filter(|u| !u.is_empty()) {
            Some(url) => fetch_bytes(url).await,
            None => Err(String::new()),
        };
        let Ok(bytes) = read else {
            missing.push(names[item].clone());
            continue;
        };
        for folder in folders {
            push(
                zip.add(folder, file_name(&names[item]), &bytes, false)
                    .map_err(|e| e.to_string())?,
            );
        }
    }
    push(zip.finish().map_err(|e| e.to_string())?);
    if !missing.is_empty() {
        state.notices.update(|n| {
            n.push(format!(
                "{} files could not be read again and are not in the folder zip (e.g. {})",
                missing.len(),
                missing[0]
            ))
        });
    }
    download_parts("quarry-folders.zip", "application/zip", &parts)
}
