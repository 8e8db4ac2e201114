//! The Predictions view: every item of the pool with the model's guess, sortable and
//! filterable (`quarry_core::predict::browse`), as a virtualised list (only the rows in sight
//! are in the DOM, so 50,000 items scroll like 50). Clicking an item asks it now; checked items
//! and a class key (or button) label them all, each its own answer. Sizes are set through the
//! CSSOM (`style:` bindings): the page's CSP forbids style attributes.

use leptos::prelude::*;

use super::select_value;
use quarry_core::predict::{browse, predicted_set, top, BySource, Predictions, SortBy};

use super::controller::{ask_now, label_items};
use super::pool;
use super::state::AppState;
use crate::protocol::{PredictionsFor, WorkerRequest};

/// Height of one row, in CSS pixels (rows are positioned, not flowed).
const ROW: f64 = 52.0;
/// Height of the scrolled area.
const HEIGHT: f64 = 520.0;
/// Rows rendered beyond the visible ones, above and below.
const SPARE: usize = 6;

/// Asks the learner for the pool's predictions for the view.
pub fn refresh_view(state: AppState) {
    if let Err(e) = pool::send(
        pool::LEARNER,
        WorkerRequest::Predictions {
            purpose: PredictionsFor::View,
        },
    ) {
        state.report(e);
    }
}

/// Opens or closes the view; opening fetches fresh predictions.
pub fn toggle_view(state: AppState) {
    let open = !state.browsing.get_untracked();
    state.browsing.set(open);
    state.explore.set(super::state::Explore::Off);
    state.selected.set(Vec::new());
    if open {
        refresh_view(state);
    }
}

#[component]
pub fn PredictionsView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let sort = RwSignal::new(SortBy::LeastSure);
    let class = RwSignal::new(None::<usize>);
    let source = RwSignal::new(BySource::All);
    let scroll = RwSignal::new(0.0f64);
    // New predictions after every answer while the view is open.
    Effect::new(move |first: Option<()>| {
        state.update.track();
        if first.is_some() && state.browsing.get_untracked() {
            refresh_view(state);
        }
    });
    let classes = move || {
        state
            .session
            .with(|s| s.as_ref().map(|s| s.classes().to_vec()).unwrap_or_default())
    };
    let order = Memo::new(move |_| {
        let answered: Vec<bool> = state.session.with(|s| {
            s.as_ref()
                .map(|s| {
                    let rejected = s.rejected();
                    (0..s.len())
                        .map(|i| s.is_labeled(i) || rejected.binary_search(&i).is_ok())
                        .collect()
                })
                .unwrap_or_default()
        });
        state
            .pool_predictions
            .with(|p| browse(p.as_ref(), &answered, sort.get(), class.get(), source.get()))
    });
    let on_sort = move |ev| {
        sort.set(if select_value(&ev) == "most" {
            SortBy::MostSure
        } else {
            SortBy::LeastSure
        })
    };
    let on_class = move |ev| class.set(select_value(&ev).parse().ok());
    let on_source = move |ev| {
        source.set(match select_value(&ev).as_str() {
            "person" => BySource::Person,
            "model" => BySource::Model,
            _ => BySource::All,
        })
    };
    let on_scroll = move |ev: leptos::ev::Event| {
        scroll.set(f64::from(
            event_target::<web_sys::Element>(&ev).scroll_top(),
        ));
    };
    let rows = move || {
        let order = order.get();
        let first = ((scroll.get() / ROW) as usize).saturating_sub(SPARE);
        let last = (first + (HEIGHT / ROW) as usize + 2 * SPARE).min(order.len());
        (first..last)
            .map(|k| view! { <PredictionRow position=k item=order[k] /> })
            .collect_view()
    };
    let selected_count = move || state.selected.with(Vec::len);
    let any_selected = move || !state.selected.with(Vec::is_empty);
    view! {
        <section class="predictions" aria-label="Predictions">
            <div class="prediction-controls">
                <label>"Sort "
                    <select aria-label="Sort predictions" on:change=on_sort>
                        <option value="least">"least sure first"</option>
                        <option value="most">"most sure first"</option>
                    </select>
                </label>
                <label>"Predicted "
                    <select aria-label="Predicted class" on:change=on_class>
                        <option value="">"any class"</option>
                        {move || classes().into_iter().enumerate().map(|(k, c)| view! { <option value=k.to_string()>{c}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Labeled by "
                    <select aria-label="Labeled by" on:change=on_source>
                        <option value="all">"you or the model"</option>
                        <option value="person">"you"</option>
                        <option value="model">"the model"</option>
                    </select>
                </label>
                <button on:click=move |_| state.selected.set(order.get())>
                    {move || format!("Select all {} shown", order.with(Vec::len))}
                </button>
                <button disabled=move || selected_count() == 0 on:click=move |_| state.selected.set(Vec::new())>
                    "Clear selection"
                </button>
            </div>
            <p class="muted" data-testid="predictions-summary">
                {move || {
                    let n = order.with(Vec::len);
                    match selected_count() {
                        0 => format!("{n} items. Click one to ask it now; check several and press a class key (or a button below) to label them all."),
                        k => format!("{n} items · {k} selected: press a class key or a button to label them"),
                    }
                }}
            </p>
            <Show when=any_selected>
                <div class="bulk">
                    {move || classes().into_iter().enumerate().map(|(k, c)| view! {
                        <button on:click=move |_| label_items(state, k)>{format!("Label selected: {c}")}</button>
                    }).collect_view()}
                </div>
            </Show>
            <div class="prediction-list" data-testid="prediction-list" style:height=format!("{HEIGHT}px") on:scroll=on_scroll>
                <div class="prediction-space" style:height=move || format!("{}px", order.with(Vec::len) as f64 * ROW)>
                    {rows}
                </div>
            </div>
        </section>
    }
}

/// The guess text and probability of `item`, if the model has one.
fn guess_of(p: &Predictions, item: usize, classes: &[String]) -> Option<(String, f32)> {
    let row = p.of(item)?;
    if p.classes != classes.len() {
        return None;
    }
    Some(if p.multi_label {
        let (set, confidence) = predicted_set(row);
        let names: Vec<&str> = set.iter().map(|&c| classes[c].as_str()).collect();
        (names.join(", "), confidence)
    } else {
        let (c, probability) = top(row);
        (classes[c].clone(), probability)
    })
}

#[component]
fn PredictionRow(position: usize, item: usize) -> impl IntoView {
    let state = expect_context::<AppState>();
    let (name, yours) = state.session.with_untracked(|s| {
        s.as_ref()
            .map(|s| {
                let names: Vec<&str> = s
                    .labels_of(item)
                    .into_iter()
                    .map(|c| s.classes()[c].as_str())
                    .collect();
                let yours = s.is_labeled(item).then(|| names.join(", "));
                (s.item_name(item).to_string(), yours)
            })
            .unwrap_or_default()
    });
    let classes = state
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.classes().to_vec()).unwrap_or_default());
    let guess = state
        .pool_predictions
        .with_untracked(|p| p.as_ref().and_then(|p| guess_of(p, item, &classes)));
    let content = state.item_content(item);
    let checked = move || state.selected.with(|s| s.contains(&item));
    let toggle = move |_| {
        state
            .selected
            .update(|s| match s.iter().position(|&i| i == item) {
                Some(p) => {
                    s.remove(p);
                }
                None => s.push(item),
            })
    };
    let probability = guess.as_ref().map(|g| g.1);
    let guess_text = guess.map_or("no guess yet".to_string(), |(g, p)| {
        format!("{g} {:.0}%", p * 100.0)
    });
    let who = match &yours {
        Some(l) => format!("you: {l}"),
        None => "model".to_string(),
    };
    let label = name.clone();
    let data_item = name.clone();
    view! {
        <div
            class="prediction-row"
            data-item=data_item
            data-probability=probability.map(|p| p.to_string())
            style:top=format!("{}px", position as f64 * ROW)
            style:height=format!("{ROW}px")
        >
            <input type="checkbox" aria-label=format!("Select {label}") prop:checked=checked on:change=toggle />
            {match content {
                Some((url, false)) => view! { <img src=url alt="" /> }.into_any(),
                Some((text, true)) => view! { <span class="text-snippet">{text}</span> }.into_any(),
                None => ().into_any(),
            }}
            <button class="hit" title="Ask this item now" on:click=move |_| {
                state.browsing.set(false);
                ask_now(state, item);
            }>{name}</button>
            <span class="guess-cell">{guess_text}</span>
            <span class="muted">{who}</span>
        </div>
    }
}
