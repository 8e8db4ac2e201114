//! The page: one [`state::AppState`] in context, thin components that render it, and
//! [`controller`] functions that turn user actions into calls on `quarry-core` and the workers.

mod bundle;
mod candidates;
mod chart;
mod classes;
mod compute;
mod controller;
mod download;
mod example;
mod explore;
mod exports;
mod files;
mod folders;
mod history;
mod import;
mod labeling;
mod loading;
mod map;
mod model_pick;
mod models;
pub mod offline;
mod persist;
mod pool;
mod predictions;
mod project;
mod projects;
mod race;
mod results;
mod run;
mod setup;
mod shortcuts;
mod sidebar;
mod similar;
mod start;
pub mod state;
mod storage;
mod storage_info;
mod tab_lock;
mod trust;
mod vectors;

use leptos::prelude::*;

use state::{AppState, Phase};

/// The value of the `<select>` an event came from (empty for any other target).
fn select_value(ev: &leptos::ev::Event) -> String {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    controller::install_keyboard(state);
    view! {
        <header class="topbar">
            <h1>"Quarry"</h1>
            <span class="tagline">"Active-learning labeling that never leaves your browser"</span>
        </header>
        <ErrorList />
        <main>
            {move || match state.phase.get() {
                Phase::Start => view! { <start::StartScreen /> }.into_any(),
                Phase::Setup => view! { <setup::SetupScreen /> }.into_any(),
                Phase::Loading => view! { <loading::LoadingScreen /> }.into_any(),
                Phase::Labeling => view! { <labeling::LabelingScreen /> }.into_any(),
            }}
        </main>
    }
}

/// Every error the app or a worker reported, until dismissed.
#[component]
fn ErrorList() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Show when=move || !state.errors.with(Vec::is_empty)>
            <div class="errors" role="alert">
                <ul>
                    {move || state.errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
                <button on:click=move |_| state.errors.set(Vec::new())>"Dismiss"</button>
            </div>
        </Show>
    }
}
