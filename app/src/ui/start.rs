//! The start screen: choose what to label.

use leptos::prelude::*;

use super::controller::start_demo;
use super::state::AppState;

#[component]
pub fn StartScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <section class="start">
            <h2>"Label images with a model that learns from every answer"</h2>
            <p>
                "Quarry embeds your items with a neural network, asks you about the ones it is least sure of, "
                "and retrains after every answer. Everything runs in this tab: no image or label leaves your machine."
            </p>
            <div class="start-actions">
                <button class="primary" on:click=move |_| start_demo(state, "emoji")>
                    "Try the demo"
                </button>
                <button on:click=move |_| start_demo(state, "fashion")>
                    "Try Fashion-MNIST (2,000 images)"
                </button>
                <button disabled title="Coming soon">"Open your own images"</button>
            </div>
            <p class="hint">
                "The demo: 508 Noto emoji (animals & nature, food & drink, travel & places)."
            </p>
        </section>
    }
}
