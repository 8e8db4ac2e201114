//! The loading screen: model load and embedding progress.

use leptos::prelude::*;

use super::state::AppState;

#[component]
pub fn LoadingScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let p = state.progress;
    let percent = move || {
        let p = p.get();
        if p.total == 0 {
            0.0
        } else {
            100.0 * p.done as f64 / p.total as f64
        }
    };
    view! {
        <section class="loading">
            <h2>{move || state.dataset.with(|d| d.as_ref().map(|d| d.title.clone()).unwrap_or_default())}</h2>
            <p class="stage">{move || p.with(|p| p.stage.clone())}</p>
            <div
                class="progress"
                role="progressbar"
                aria-label="Embedding progress"
                aria-valuemin="0"
                aria-valuemax=move || p.with(|p| p.total)
                aria-valuenow=move || p.with(|p| p.done)
            >
                <div class="progress-fill" style:width=move || format!("{:.1}%", percent())></div>
            </div>
            <p class="progress-text">
                {move || p.with(|p| p.summary("items"))}
            </p>
            <p class="hint">"Embedding runs in background workers; labeling opens as soon as the first items are ready."</p>
        </section>
    }
}
