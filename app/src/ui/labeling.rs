//! The labeling view: the current item, its class buttons, Skip/Undo, the queue's next items.

use leptos::prelude::*;

use quarry_core::acquire::{StrategyKind, Subpool, ANCHORAL_AUTO_ABOVE};
use quarry_core::keys::Command;
use wasm_bindgen::JsCast;

use super::candidates::{answer_counted, shown_candidates, CandidateButtons, FullListSetting};
use super::controller::{
    ask_now, close_explore, none_of_these, redo, save_chosen, set_strategy, set_subpool, skip, undo,
};
use super::example::ExampleSearch;
use super::explore::more_like;
use super::history::HistoryPanel;
use super::map::MapView;
use super::predictions::{toggle_view, PredictionsView};
use super::race::RaceView;
use super::results::current_guess;
use super::shortcuts::{toggle_help, ShortcutHelp};
use super::sidebar::Sidebar;
use super::similar::SimilarView;
use super::state::{AppState, Explore, Items};
use quarry_core::shown::{shown, CARD_CHARS, LINE_CHARS};

#[component]
pub fn LabelingScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let is_text = move || {
        state
            .dataset
            .with(|d| matches!(d.as_ref().map(|d| &d.items), Some(Items::Texts(_))))
    };
    let content_of = move |i: usize| {
        state.dataset.with(|d| match d.as_ref().map(|d| &d.items) {
            Some(Items::Images(v)) => v.get(i).cloned(),
            _ => None,
        })
    };
    // Texts as drawn: at most `limit` characters (`quarry_core::shown`).
    let text_of = move |i: usize, limit: usize| {
        state.dataset.with(|d| match d.as_ref().map(|d| &d.items) {
            Some(Items::Texts(v)) => v.get(i).map(|t| shown(t, limit).into_owned()),
            _ => None,
        })
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
    let multi = move || {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.is_multi_label()))
    };
    let can_undo = move || {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.can_undo()))
    };
    let can_redo = move || {
        state
            .session
            .with(|s| s.as_ref().is_some_and(|s| s.can_redo()))
    };
    // Multi-label projects: the guessed set starts toggled when an item becomes current.
    Effect::new(move |last: Option<Option<usize>>| {
        let now = current();
        if multi() && now != last.flatten() {
            if let Some(g) = current_guess(state) {
                state.chosen.set(g.classes);
            }
        }
        now
    });
    view! {
        <ShortcutHelp />
        <EmbeddingStrip />
        <div class="view-switch">
            <button aria-pressed=move || state.browsing.get().to_string() on:click=move |_| toggle_view(state)>
                {move || if state.browsing.get() { "Back to labeling" } else { "Predictions" }}
            </button>
            <button
                aria-pressed=move || (state.explore.get() == Explore::Map).to_string()
                on:click=move |_| if state.explore.get_untracked() == Explore::Map {
                    close_explore(state);
                } else {
                    super::explore::open_map(state);
                }
            >
                "Map"
            </button>
            <Show when=move || super::explore::demo_name(state).is_some()>
                <button
                    aria-pressed=move || (state.explore.get() == Explore::Race).to_string()
                    on:click=move |_| if state.explore.get_untracked() == Explore::Race {
                        close_explore(state);
                    } else {
                        super::explore::open_race(state);
                    }
                >
                    "Race"
                </button>
            </Show>
        </div>
        <Show when=move || state.browsing.get()>
            <PredictionsView />
        </Show>
        <Show when=move || state.explore.get() == Explore::Similar>
            <SimilarView />
        </Show>
        <Show when=move || state.explore.get() == Explore::Map>
            <MapView />
        </Show>
        <Show when=move || state.explore.get() == Explore::Race>
            <RaceView />
        </Show>
        <div class="labeling">
            <section class="query" aria-label="Current item">
                {move || match current() {
                    Some(i) => {
                        let name = name_of(i);
                        if is_text() {
                            view! {
                                <figure class="item">
                                    <blockquote class="item-text" data-testid="item-text">{text_of(i, CARD_CHARS)}</blockquote>
                                    <figcaption class="item-name">{name}</figcaption>
                                </figure>
                            }
                                .into_any()
                        } else {
                            view! {
                                <figure class="item">
                                    <img class="item-image" src=content_of(i) alt=name.clone() />
                                    <figcaption class="item-name">{name}</figcaption>
                                </figure>
                            }
                                .into_any()
                        }
                    }
                    None => {
                        let text = if state.thinking.get() { "Choosing the next items…" } else { "Nothing left to ask about." };
                        view! { <p class="empty">{text}</p> }.into_any()
                    }
                }}
                <p class="guess" data-testid="guess">
                    {move || current_guess(state).map(|g| {
                        let names = classes();
                        let set: Vec<String> = g.classes.iter().filter_map(|&c| names.get(c).cloned()).collect();
                        let what = if set.is_empty() { "no class".to_string() } else { set.join(", ") };
                        if multi() {
                            format!("Model's guess: {what} ({:.0}% sure) · toggled below, Enter saves", g.probability * 100.0)
                        } else {
                            let accept = state.key_map().command(Command::Accept).to_uppercase();
                            format!("Model's guess: {what} ({:.0}%) · Enter or {accept} accepts", g.probability * 100.0)
                        }
                    })}
                </p>
                <CandidateButtons />
                <div class="classes" role="group" aria-label="Classes" class:collapsed=move || shown_candidates(state).is_some()>
                    {move || {
                        let keys = state.key_map();
                        classes()
                            .into_iter()
                            .enumerate()
                            .map(|(k, name)| {
                                let label = name.clone();
                                let key = keys.classes.get(k).cloned().flatten();
                                let shown_key = key.as_ref().map(|k| k.to_uppercase());
                                view! {
                                    <button
                                        class="class-button"
                                        class:predicted=move || current_guess(state).is_some_and(|g| g.classes.contains(&k))
                                        class:chosen=move || multi() && state.chosen.with(|c| c.contains(&k))
                                        aria-pressed=move || multi().then(|| state.chosen.with(|c| c.contains(&k)).to_string())
                                        aria-label=label
                                        aria-keyshortcuts=key
                                        disabled=move || current().is_none()
                                        on:click=move |_| answer_counted(state, k)
                                    >
                                        {shown_key.map(|k| view! { <kbd aria-hidden="true">{k}</kbd> })}
                                        <span aria-hidden="true">{name}</span>
                                    </button>
                                }
                            })
                            .collect_view()
                    }}
                </div>
                <Show when=multi>
                    <button
                        class="primary save-labels"
                        aria-keyshortcuts="Enter"
                        disabled=move || current().is_none()
                        on:click=move |_| save_chosen(state)
                    >
                        {move || if state.chosen.with(Vec::is_empty) { "Save: no class applies " } else { "Save labels " }}
                        <kbd>"⏎"</kbd>
                    </button>
                </Show>
                <div class="controls">
                    <button aria-keyshortcuts=move || state.key_map().command(Command::NoneOfThese).to_string() disabled=move || current().is_none() on:click=move |_| none_of_these(state)>
                        "None of these " <kbd>{move || state.key_map().command(Command::NoneOfThese).to_uppercase()}</kbd>
                    </button>
                    <button aria-keyshortcuts=move || state.key_map().command(Command::Skip).to_string() disabled=move || current().is_none() on:click=move |_| skip(state)>
                        "Skip " <kbd>{move || state.key_map().command(Command::Skip).to_uppercase()}</kbd>
                    </button>
                    <button aria-keyshortcuts="Backspace" disabled=move || !can_undo() on:click=move |_| undo(state)>
                        "Undo " <kbd>"⌫"</kbd>
                    </button>
                    <button aria-keyshortcuts="Control+Y" disabled=move || !can_redo() on:click=move |_| redo(state)>
                        "Redo " <kbd>"Ctrl+Y"</kbd>
                    </button>
                    <button aria-keyshortcuts="?" on:click=move |_| toggle_help(state)>
                        "Shortcuts " <kbd>"?"</kbd>
                    </button>
                    <button aria-label="More like this" aria-keyshortcuts=move || state.key_map().command(Command::MoreLikeThis).to_string() disabled=move || current().is_none() on:click=move |_| {
                        if let Some(i) = current() {
                            more_like(state, i);
                        }
                    }>
                        "More like this " <kbd>{move || state.key_map().command(Command::MoreLikeThis).to_uppercase()}</kbd>
                    </button>
                </div>
                <div class="queue" data-queue-age=move || state.queue_age.get()>
                    <h3>
                        "Next up "
                        <span class="strategy" data-testid="strategy">{strategy}</span>
                    </h3>
                    <StrategyPicker />
                    <PoolSearch />
                    <ExampleSearch />
                    <ul class="thumbs">
                        {move || {
                            upcoming()
                                .into_iter()
                                .map(|i| {
                                    let name = name_of(i);
                                    if is_text() {
                                        view! { <li class="text-thumb" title=name>{text_of(i, LINE_CHARS)}</li> }.into_any()
                                    } else {
                                        view! {
                                            <li><img src=content_of(i) alt=name.clone() title=name /></li>
                                        }
                                            .into_any()
                                    }
                                })
                                .collect_view()
                        }}
                    </ul>
                </div>
                <FullListSetting />
                <HistoryPanel />
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

/// While items are still being embedded: how far, how fast, how long.
#[component]
fn EmbeddingStrip() -> impl IntoView {
    let state = expect_context::<AppState>();
    let p = state.progress;
    view! {
        <Show when=move || p.with(|p| p.running())>
            <div class="embedding-strip" role="status" data-testid="embedding-strip">
                <progress max=move || p.with(|p| p.total) value=move || p.with(|p| p.done)></progress>
                <span>{move || p.with(|p| format!("Embedding: {}. New items join the queue as they arrive.", p.summary("items")))}</span>
            </div>
        </Show>
    }
}

/// Finds items by name or text; picking one asks about it now.
#[component]
fn PoolSearch() -> impl IntoView {
    let state = expect_context::<AppState>();
    let query = RwSignal::new(String::new());
    let hits = move || {
        let q = query.get().to_lowercase();
        if q.trim().is_empty() {
            return Vec::new();
        }
        let texts = state.dataset.with(|d| match d.as_ref().map(|d| &d.items) {
            Some(Items::Texts(t)) => Some(t.clone()),
            _ => None,
        });
        state.session.with(|s| {
            let Some(s) = s.as_ref() else {
                return Vec::new();
            };
            (0..s.len())
                .filter(|&i| {
                    s.item_name(i).to_lowercase().contains(&q)
                        || texts
                            .as_ref()
                            .is_some_and(|t| t[i].to_lowercase().contains(&q))
                })
                .take(20)
                .map(|i| {
                    let shown = texts.as_ref().map_or_else(
                        || s.item_name(i).to_string(),
                        |t| shown(&t[i], LINE_CHARS).into_owned(),
                    );
                    let names: Vec<&str> = s
                        .labels_of(i)
                        .into_iter()
                        .map(|c| s.classes()[c].as_str())
                        .collect();
                    let status = match (s.is_labeled(i), names.is_empty()) {
                        (false, _) => "unlabeled".to_string(),
                        (true, true) => "no class".to_string(),
                        (true, false) => names.join(", "),
                    };
                    (i, shown, status)
                })
                .collect()
        })
    };
    view! {
        <div class="search">
            <input
                type="search"
                aria-label="Search the pool"
                placeholder="Search the pool…"
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
            />
            <ul class="hits">
                {move || hits().into_iter().map(|(i, shown, status)| {
                    view! {
                        <li>
                            <button class="hit" on:click=move |_| ask_now(state, i)>{shown}</button>
                            <span class="muted">{status}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}
