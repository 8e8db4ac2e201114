//! What the person takes away: the head's guess on the current item (and accepting it), the
//! predictions for the whole pool, and the classifier as ONNX. The heavy parts run in the
//! learner worker; this module asks for them and writes the downloads.

use leptos::prelude::*;
use quarry_core::export::{predictions_csv, predictions_jsonl};
use quarry_core::predict::{predicted_set, top, Predictions};

use super::controller::{answer, save_chosen};
use super::download::{download_bytes, download_text};
use super::pool;
use super::state::AppState;
use crate::protocol::{PredictionsFor, WorkerRequest};

/// The head's guess on an item: the predicted classes (one in single-label projects) and the
/// probability of that guess.
#[derive(Debug, Clone, PartialEq)]
pub struct Guess {
    pub classes: Vec<usize>,
    pub probability: f32,
}

/// The guess on the current item, from the latest update (none before a head exists, or when
/// the classes changed since).
pub fn current_guess(state: AppState) -> Option<Guess> {
    let (item, classes, multi) = state.session.with(|s| {
        s.as_ref()
            .and_then(|s| Some((s.current()?, s.classes().len(), s.is_multi_label())))
    })?;
    state.update.with(|u| {
        let g = &u.as_ref()?.guesses;
        if g.classes != classes {
            return None;
        }
        let row = g.of(item)?;
        Some(if multi {
            let (set, probability) = predicted_set(row);
            Guess {
                classes: set,
                probability,
            }
        } else {
            let (class, probability) = top(row);
            Guess {
                classes: vec![class],
                probability,
            }
        })
    })
}

/// Accepts the guess on the current item (Enter or `A`): an answer like any other. In a
/// multi-label project Enter saves the set as toggled (the guess is toggled in advance).
pub fn accept(state: AppState) {
    let multi = state
        .session
        .with_untracked(|s| s.as_ref().is_some_and(|s| s.is_multi_label()));
    if multi {
        save_chosen(state);
    } else if let Some(g) = current_guess(state) {
        answer(state, g.classes[0]);
    }
}

/// Asks the learner for the pool's predictions; [`predictions_arrived`] writes the file.
pub fn export_predictions(state: AppState, purpose: PredictionsFor) {
    state.exporting.set(Some(match purpose {
        PredictionsFor::Csv => "predictions-csv",
        PredictionsFor::Jsonl => "predictions-jsonl",
        PredictionsFor::View | PredictionsFor::Folders => "folders",
    }));
    if let Err(e) = pool::send(0, WorkerRequest::Predictions { purpose }) {
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
    if let Err(e) = pool::send(0, WorkerRequest::Classifier { model, classes }) {
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

/// The export buttons of the side panel.
#[component]
pub fn ResultExports() -> impl IntoView {
    let state = expect_context::<AppState>();
    let busy = move |what: &str| state.exporting.with(|e| *e == Some(what));
    let multi = move || {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.is_multi_label()))
    };
    view! {
        <button
            class="export"
            title="Every item of the pool: your label, or the model's prediction with its probability"
            disabled=move || busy("predictions-csv")
            on:click=move |_| export_predictions(state, PredictionsFor::Csv)
        >
            "Export predictions (CSV)"
        </button>
        <button
            class="export"
            disabled=move || busy("predictions-jsonl")
            on:click=move |_| export_predictions(state, PredictionsFor::Jsonl)
        >
            "Export predictions (JSONL)"
        </button>
        <super::folders::FolderExport />
        <Show when=move || !multi()>
            <button
                class="export"
                title="The embedding model and the trained head as one ONNX file, runnable by any ONNX runtime"
                disabled=move || busy("classifier")
                on:click=move |_| export_classifier(state)
            >
                {move || if busy("classifier") { "Building the classifier…" } else { "Export classifier (ONNX)" }}
            </button>
        </Show>
    }
}
