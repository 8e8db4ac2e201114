//! The side panel: counts, the accuracy estimate, the learning curve, export.

use leptos::prelude::*;

use super::bundle::export_bundle;
use super::chart::LearningCurve;
use super::classes::ClassEditor;
use super::compute::ComputePanel;
use super::exports::{export_csv, export_project};
use super::results::ResultExports;
use super::state::{AppState, Storage};
use super::trust::TrustPanel;

#[component]
pub fn Sidebar() -> impl IntoView {
    let state = expect_context::<AppState>();
    let labeled = move || {
        state
            .session
            .with(|s| s.as_ref().map_or(0, |s| s.labeled_items().len()))
    };
    let pool = move || state.session.with(|s| s.as_ref().map_or(0, |s| s.len()));
    let packed = RwSignal::new(None::<usize>);
    let skipped = move || {
        state
            .session
            .with(|s| s.as_ref().map_or(0, |s| s.skipped_count()))
    };
    let rejected = move || {
        state
            .session
            .with(|s| s.as_ref().map_or(0, |s| s.rejected().len()))
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
            <p class="muted">{move || format!("{} none of these", rejected())}</p>
            <p class="muted" data-testid="embedded">{move || {
                let p = state.progress.get();
                let mut s = format!("{} / {} items embedded", p.done, p.total);
                if p.cached > 0 {
                    s.push_str(&format!(" · {} from the cache", p.cached));
                }
                s
            }}</p>
            <h3>"Classes"</h3>
            <ClassEditor />
            <h3>"Accuracy estimate"</h3>
            <p class="accuracy" data-testid="accuracy">{accuracy}</p>
            <p class="muted">{accuracy_note}</p>
            <TrustPanel />
            <h3>"Learning curve"</h3>
            <LearningCurve />
            <ComputePanel />
            <button class="export" disabled=move || labeled() == 0 on:click=move |_| export_csv(state)>
                "Export labels (CSV)"
            </button>
            <ResultExports />
            <button class="export" on:click=move |_| export_project(state)>
                "Save project file"
            </button>
            <button
                class="export"
                title="The project file and every item's file in one zip, to move the project to another machine"
                disabled=move || packed.get().is_some()
                on:click=move |_| leptos::task::spawn_local(export_bundle(state, packed))
            >
                {move || match packed.get() {
                    Some(n) => format!("Packing {n} / {}…", pool()),
                    None => "Save project with its files (.zip)".to_string(),
                }}
            </button>
            <SaveStatus />
            <details class="storage">
                <summary>"Storage in this browser"</summary>
                <super::storage_info::StorageInfo />
            </details>
            <Notices />
        </aside>
    }
}

/// Whether the answers are safe: saved in this browser, being saved, or in this tab only.
#[component]
fn SaveStatus() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        {move || state.read_only.get().map(|r| view! {
            <div class="save-status failed" role="alert" data-testid="read-only">
                <p>{r.why}</p>
                <button class="primary" on:click=move |_| super::tab_lock::take_over(state)>"Take over here"</button>
            </div>
        })}
        {move || match state.storage.get() {
            Storage::On { busy: false, .. } => view! {
                <p class="save-status" data-testid="save-status">"✓ Every answer is saved in this browser"</p>
            }.into_any(),
            Storage::On { busy: true, .. } => view! {
                <p class="save-status" data-testid="save-status">"Saving…"</p>
            }.into_any(),
            Storage::Failed { reason } => view! {
                <div class="save-status failed" role="alert" data-testid="save-status">
                    <p>{format!("Not saved in this browser: {reason}. Keep your work with a project file.")}</p>
                    <button class="primary" on:click=move |_| export_project(state)>"Download project file"</button>
                </div>
            }.into_any(),
            Storage::Off => ().into_any(),
        }}
    }
}

#[component]
fn Notices() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Show when=move || !state.notices.with(Vec::is_empty)>
            <details class="notices">
                <summary>{move || format!("{} notes on the import", state.notices.with(Vec::len))}</summary>
                <ul>{move || state.notices.get().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            </details>
        </Show>
    }
}
