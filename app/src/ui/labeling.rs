//! The labeling view: the current item, its class buttons, Skip/Undo, the queue's next items.

use leptos::prelude::*;

use quarry_core::acquire::{StrategyKind, Subpool, ANCHORAL_AUTO_ABOVE};
use wasm_bindgen::JsCast;

use super::controller::{answer, set_strategy, set_subpool, skip, undo};
use super::sidebar::Sidebar;
use super::state::AppState;

#[component]
pub fn LabelingScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let url_of = move |i: usize| {
        state
            .dataset
            .with(|d| d.as_ref().and_then(|d| d.urls.get(i).cloned()))
    };
    let name_of = move |i: usize| {
        state.session.with(|s| {
            s.as_ref()
                .map(|s| s.item_name(i).to_string())
                .unwrap_or_default()
        })
    };
    let current = move || state.session.with(|s| s.as_ref().and_then(|s| s.current()));
    let classes = move || {
        state
            .session
            .with(|s| s.as_ref().map(|s| s.classes().to_vec()).unwrap_or_default())
    };
    let upcoming = move || {
        state
            .session
            .with(|s| {
                s.as_ref()
                    .map(|s| s.queue().iter().skip(1).copied().collect::<Vec<_>>())
            })
            .unwrap_or_default()
    };
    let strategy = move || {
        state.update.with(|u| {
            u.as_ref()
                .map(|u| format!("({}: {})", u.strategy.name(), u.strategy.description()))
        })
    };
    let can_undo = move || {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.can_undo()))
    };
    view! {
        <div class="labeling">
            <section class="query" aria-label="Current item">
                {move || match current() {
                    Some(i) => {
                        let name = name_of(i);
                        view! {
                            <figure class="item">
                                <img class="item-image" src=url_of(i) alt=name.clone() />
                                <figcaption class="item-name">{name}</figcaption>
                            </figure>
                        }
                            .into_any()
                    }
                    None => {
                        let text = if state.thinking.get() { "Choosing the next items…" } else { "Nothing left to ask about." };
                        view! { <p class="empty">{text}</p> }.into_any()
                    }
                }}
                <div class="classes" role="group" aria-label="Classes">
                    {move || {
                        classes()
                            .into_iter()
                            .enumerate()
                            .map(|(k, name)| {
                                let label = name.clone();
                                view! {
                                    <button
                                        class="class-button"
                                        aria-label=label
                                        aria-keyshortcuts=(k < 9).then(|| (k + 1).to_string())
                                        disabled=move || current().is_none()
                                        on:click=move |_| answer(state, k)
                                    >
                                        {(k < 9).then(|| view! { <kbd aria-hidden="true">{k + 1}</kbd> })}
                                        <span aria-hidden="true">{name}</span>
                                    </button>
                                }
                            })
                            .collect_view()
                    }}
                </div>
                <div class="controls">
                    <button aria-keyshortcuts="s" disabled=move || current().is_none() on:click=move |_| skip(state)>
                        "Skip " <kbd>"S"</kbd>
                    </button>
                    <button aria-keyshortcuts="Backspace" disabled=move || !can_undo() on:click=move |_| undo(state)>
                        "Undo " <kbd>"⌫"</kbd>
                    </button>
                </div>
                <div class="queue">
                    <h3>
                        "Next up "
                        <span class="strategy" data-testid="strategy">{strategy}</span>
                    </h3>
                    <StrategyPicker />
                    <ul class="thumbs">
                        {move || {
                            upcoming()
                                .into_iter()
                                .map(|i| {
                                    let name = name_of(i);
                                    view! {
                                        <li><img src=url_of(i) alt=name.clone() title=name /></li>
                                    }
                                })
                                .collect_view()
                        }}
                    </ul>
                </div>
            </section>
            <Sidebar />
        </div>
    }
}

/// Chooses the acquisition strategy ("auto" is the default policy) and whether large pools are
/// narrowed to an AnchorAL subpool.
#[component]
fn StrategyPicker() -> impl IntoView {
    let state = expect_context::<AppState>();
    // The targets are <select>s: read them as such (an <input> accessor throws on them).
    let value_of = |ev: leptos::ev::Event| {
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
            .map(|s| s.value())
            .unwrap_or_default()
    };
    let on_strategy = move |ev| {
        if let Some(kind) = StrategyKind::from_name(&value_of(ev)) {
            set_strategy(state, kind);
        }
    };
    let on_subpool = move |ev| {
        if let Some(mode) = Subpool::from_name(&value_of(ev)) {
            set_subpool(state, mode);
        }
    };
    view! {
        <label class="picker">
            "Strategy "
            <select aria-label="Strategy" on:change=on_strategy>
                {StrategyKind::ALL
                    .into_iter()
                    .map(|k| {
                        let label = if k == StrategyKind::Auto {
                            format!("auto (default): {}", k.description())
                        } else {
                            format!("{}: {}", k.name(), k.description())
                        };
                        view! {
                            <option value=k.name() selected=move || state.strategy.get() == k>
                                {label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
        <label class="picker">
            "Large pools "
            <select aria-label="Large pools" on:change=on_subpool>
                <option value="auto" selected=move || state.subpool.get() == Subpool::Auto>
                    {format!("auto: AnchorAL above {} items", ANCHORAL_AUTO_ABOVE)}
                </option>
                <option value="anchoral" selected=move || state.subpool.get() == Subpool::Anchoral>
                    "AnchorAL always: search a subpool near labeled examples"
                </option>
                <option value="off" selected=move || state.subpool.get() == Subpool::Off>
                    "whole pool always"
                </option>
            </select>
        </label>
    }
}
