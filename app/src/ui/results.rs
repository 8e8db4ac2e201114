//! What the person takes away: the head's guess on the current item, and the export buttons
//! of the side panel (the exports themselves are [`super::exports`]).

use leptos::prelude::*;
use quarry_core::predict::{predicted_set, top};

use super::exports::{export_classifier, export_predictions};
use super::folders::export_folders;
use super::select_value;
use super::state::AppState;
use crate::protocol::PredictionsFor;

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

/// The export buttons of the side panel.
#[component]
pub fn ResultExports() -> impl IntoView {
    let state = expect_context::<AppState>();
    let busy = move |what: &str| state.exporting.with(|e| *e == Some(what));
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
        <FolderExport />
        <button
            class="export"
            title="The embedding model and the trained head as one ONNX file, runnable by any ONNX runtime (multi-label: one independent probability per class)"
            disabled=move || busy("classifier")
            on:click=move |_| export_classifier(state)
        >
            {move || if busy("classifier") { "Building the classifier…" } else { "Export classifier (ONNX)" }}
        </button>
    }
}

/// The choices offered: (option text, threshold of the model's labels; `None`: yours only).
const CHOICES: [(&str, Option<f32>); 4] = [
    ("your labels only", None),
    ("yours + the model's at ≥ 95%", Some(0.95)),
    ("yours + the model's at ≥ 80%", Some(0.8)),
    ("yours + the model's at ≥ 50%", Some(0.5)),
];

/// The side panel's folder export: what to include, and the button.
#[component]
pub fn FolderExport() -> impl IntoView {
    let state = expect_context::<AppState>();
    let on_change = move |ev: leptos::ev::Event| {
        let value = select_value(&ev);
        if let Some((_, t)) = CHOICES.iter().find(|(n, _)| *n == value) {
            state.folder_threshold.set(*t);
        }
    };
    let pool = move || state.session.with(|s| s.as_ref().map_or(0, |s| s.len()));
    view! {
        <label class="setting">
            "Folders: "
            <select aria-label="Items in the folder zip" on:change=on_change>
                {CHOICES.iter().map(|(n, _)| view! { <option value=*n>{*n}</option> }).collect_view()}
            </select>
        </label>
        <button
            class="export"
            title="Every item in a folder named after its class (the rest in unlabeled/), as one zip"
            disabled=move || state.exporting.with(|e| *e == Some("folders"))
            on:click=move |_| export_folders(state)
        >
            {move || match state.folder_progress.get() {
                Some(n) => format!("Zipping {n} / {}…", pool()),
                None => "Export class folders (.zip)".to_string(),
            }}
        </button>
    }
}
