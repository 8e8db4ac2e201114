//! The files the person takes away that the learner worker helps make: the labels CSV, the
//! project file (with the head's weights), the pool's predictions (CSV, JSONL, class folders)
//! and the classifier as ONNX. Each `export_*` asks the worker; the matching `*_arrived`
//! (called by [`super::run`] when the answer comes) writes the download. Knows the storage
//! layer ([`persist::settings`]) and nothing above the learner loop.

use leptos::prelude::*;
use quarry_core::export::{labels_csv, predictions_csv, predictions_jsonl};
use quarry_core::predict::Predictions;

use super::download::{download_bytes, download_text};
use super::persist;
use super::pool;
use super::state::AppState;
use crate::protocol::{PredictionsFor, WorkerRequest};

/// Downloads the labels as `quarry-labels.csv`.
pub fn export_csv(state: AppState) {
    let Some(csv) = state.session.with_untracked(|s| s.as_ref().map(labels_csv)) else {
        return;
    };
    if let Err(e) = download_text("quarry-labels.csv", "text/csv", &csv) {
        state.report(format!("the export failed: {e}"));
    }
}

/// Downloads the whole project (labels, classes, history, queue, settings, model choice, the
/// head's weights) as a versioned `quarry-project.json`; never the items' files. The head is
/// asked of the learner first ([`head_arrived`] writes the file).
pub fn export_project(state: AppState) {
    if let Err(e) = pool::send(pool::LEARNER, WorkerRequest::Head) {
        // No learner to ask: the file goes without the head.
        web_sys::console::warn_1(&e.into());
        head_arrived(state, None);
    }
}

/// Writes the project file with `head` (left out when it does not fit the classes as they are
/// now, e.g. right after a class was added).
pub fn head_arrived(state: AppState, head: Option<quarry_core::head::SoftmaxHead>) {
    let Some(settings) = persist::settings(state) else {
        return;
    };
    let Some(json) = state.session.with_untracked(|s| {
        s.as_ref().map(|s| {
            let head = head
                .as_ref()
                .filter(|h| !s.is_multi_label() && h.classes() == s.classes().len());
            quarry_core::project::write_project(s, &settings, head)
        })
    }) else {
        return;
    };
    let result = download_text("quarry-project.json", "application/json", &json);
    if let Err(e) = result {
        state.report(format!("the project could not be saved: {e}"));
    }
}

/// Asks the learner for the pool's predictions; [`predictions_arrived`] writes the file.
pub fn export_predictions(state: AppState, purpose: PredictionsFor) {
    state.exporting.set(Some(match purpose {
        PredictionsFor::Csv => "predictions-csv",
        PredictionsFor::Jsonl => "predictions-jsonl",
        PredictionsFor::View | PredictionsFor::Folders => "folders",
    }));
    if let Err(e) = pool::send(pool::LEARNER, WorkerRequest::Predictions { purpose }) {
        // No learner: person labels only.
        web_sys::console::warn_1(&e.into());
        predictions_arrived(state, purpose, None);
    }
}

/// Writes the predictions file: one row per item, the person's labels first.
pub fn predictions_arrived(
    state: AppState,
    purpose: PredictionsFor,
    predictions: Option<Predictions>,
) {
    match purpose {
        PredictionsFor::View => {
            state.pool_predictions.set(predictions);
            return;
        }
        PredictionsFor::Folders => {
            leptos::task::spawn_local(super::folders::write_folders(state, predictions));
            return;
        }
        PredictionsFor::Csv | PredictionsFor::Jsonl => {}
    }
    state.exporting.set(None);
    let written = state.session.with_untracked(|s| {
        s.as_ref().map(|s| match purpose {
            PredictionsFor::Csv => download_text(
                "quarry-predictions.csv",
                "text/csv",
                &predictions_csv(s, predictions.as_ref(), true),
            ),
            PredictionsFor::View | PredictionsFor::Folders => Ok(()),
            PredictionsFor::Jsonl => download_text(
                "quarry-predictions.jsonl",
                "application/jsonl",
                &predictions_jsonl(s, predictions.as_ref(), true),
            ),
        })
    });
    if let Some(Err(e)) = written {
        state.report(format!("the predictions could not be exported: {e}"));
    }
}

/// Asks the learner worker for the classifier (embedding model + head) as ONNX;
/// [`classifier_arrived`] downloads it.
pub fn export_classifier(state: AppState) {
    let model = state
        .dataset
        .with_untracked(|d| d.as_ref().map(|d| d.model.clone()));
    let classes = state
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.classes().to_vec()));
    let (Some(model), Some(classes)) = (model, classes) else {
        return;
    };
    state.exporting.set(Some("classifier"));
    if let Err(e) = pool::send(pool::LEARNER, WorkerRequest::Classifier { model, classes }) {
        state.exporting.set(None);
        state.report(format!("the classifier could not be exported: {e}"));
    }
}

/// Downloads the exported classifier: `quarry-classifier.onnx`, or for a text model
/// `quarry-classifier.zip` (the ONNX file and its tokenizer).
pub fn classifier_arrived(state: AppState, bytes: &[u8], zip: bool) {
    state.exporting.set(None);
    let (name, mime) = if zip {
        ("quarry-classifier.zip", "application/zip")
    } else {
        ("quarry-classifier.onnx", "application/octet-stream")
    };
    if let Err(e) = download_bytes(name, mime, bytes) {
        state.report(format!("the classifier could not be saved: {e}"));
    }
}
