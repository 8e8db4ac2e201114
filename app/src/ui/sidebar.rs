//! The side panel: counts, the accuracy estimate, the learning curve, export.

use leptos::prelude::*;

use super::chart::LearningCurve;
use super::controller::export_csv;
use super::state::AppState;

#[component]
pub fn Sidebar() -> impl IntoView {
    let state = expect_context::<AppState>();
    let labeled = move || {
        state
            .session
            .with(|s| s.as_ref().map_or(0, |s| s.answers().len()))
    };
    let pool = move || state.session.with(|s| s.as_ref().map_or(0, |s| s.len()));
    let skipped = move || {
        state
            .session
            .with(|s| s.as_ref().map_or(0, |s| s.skipped_count()))
    };
    let per_class = move || {
        state.session.with(|s| {
            s.as_ref()
                .map(|s| {
                    s.classes()
                        .iter()
                        .cloned()
                        .zip(s.label_counts())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let accuracy = move || {
        state
            .update
            .with(|u| match u.as_ref().and_then(|u| u.accuracy) {
                Some(a) => format!("{:.0}%", 100.0 * a.value),
                None => "–".to_string(),
            })
    };
    let accuracy_note = move || {
        state.update.with(|u| match u.as_ref().and_then(|u| u.accuracy) {
            Some(a) => format!(
                "{}-fold cross-validation on the {} labeled items. Actively chosen items are harder than average, so this tends to underestimate.",
                a.folds, a.labels
            ),
            None => "Appears once two classes have labels and there are at least 4 labels.".to_string(),
        })
    };
    view! {
        <aside class="sidebar" aria-label="Progress">
            <h3>"Labeled"</h3>
            <p class="count" data-testid="labeled-count">{move || format!("{} / {}", labeled(), pool())}</p>
            <p class="muted">{move || format!("{} skipped", skipped())}</p>
            <ul class="per-class">
                {move || {
                    per_class()
                        .into_iter()
                        .map(|(name, n)| view! { <li><span>{name}</span><span class="n">{n}</span></li> })
                        .collect_view()
                }}
            </ul>
            <h3>"Accuracy estimate"</h3>
            <p class="accuracy" data-testid="accuracy">{accuracy}</p>
            <p class="muted">{accuracy_note}</p>
            <h3>"Learning curve"</h3>
            <LearningCurve />
            <button class="export" disabled=move || labeled() == 0 on:click=move |_| export_csv(state)>
                "Export labels (CSV)"
            </button>
            <Notices />
        </aside>
    }
}

#[component]
fn Notices() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Show when=move || !state.notices.with(Vec::is_empty)>
            <details class="notices">
                <summary>{move || format!("{} items could not be read", state.notices.with(Vec::len))}</summary>
                <ul>{move || state.notices.get().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            </details>
        </Show>
    }
}
