//! "More like this" and search by example: the items nearest to an item (or to an example the
//! person drops, pastes or types, embedded with the project's model) as a grid with the model's
//! guess on each. Click selects, shift-click selects a range, Ctrl+A every item shown; a class
//! key (or a "Label selected" button) labels the selection, each item its own answer, so one
//! Backspace undoes one of them. A component layer (ARCHITECTURE.md).

use leptos::prelude::*;
use quarry_core::predict::{predicted_set, top};

use super::controller::{ask_now, close_explore, label_items, select_all_shown};
use super::state::{AppState, SimilarSearch};

/// The items shown, most similar first.
fn shown(state: AppState) -> Vec<usize> {
    state
        .similar
        .with(|s| s.as_ref().map(SimilarSearch::items).unwrap_or_default())
}

#[component]
pub fn SimilarView() -> impl IntoView {
    let state = expect_context::<AppState>();
    // The last item clicked without shift: a shift-click selects from it to the clicked one.
    let anchor = RwSignal::new(None::<usize>);
    let status = move || {
        state.similar.with(|s| match s.as_ref() {
            None => String::new(),
            Some(s) => match &s.result {
                None => format!("Looking for items like {}…", s.like),
                Some(Err(e)) => e.clone(),
                Some(Ok(r)) => format!(
                    "{} items most like {} (exact search, {:.0} ms) · click to select, shift-click a range, Ctrl+A all; a class key labels the selection",
                    r.neighbours.len(),
                    s.like,
                    s.ms
                ),
            },
        })
    };
    let pick = move |position: usize, item: usize, shift: bool| {
        let order = shown(state);
        match anchor.get_untracked().filter(|_| shift) {
            Some(a) => {
                let (lo, hi) = (a.min(position), a.max(position));
                state.selected.update(|sel| {
                    for &i in &order[lo..=hi.min(order.len() - 1)] {
                        if !sel.contains(&i) {
                            sel.push(i);
                        }
                    }
                });
            }
            None => {
                anchor.set(Some(position));
                state
                    .selected
                    .update(|sel| match sel.iter().position(|&i| i == item) {
                        Some(p) => {
                            sel.remove(p);
                        }
                        None => sel.push(item),
                    });
            }
        }
    };
    let tiles = move || {
        let result = state.similar.with(|s| {
            s.as_ref()
                .and_then(|s| s.result.clone())
                .and_then(Result::ok)
        });
        let Some(result) = result else {
            return ().into_any();
        };
        result
            .neighbours
            .iter()
            .enumerate()
            .map(|(position, n)| {
                let guess = result.predictions.as_ref().and_then(|p| {
                    let row = p.of(n.item)?;
                    Some(if p.multi_label {
                        let (set, confidence) = predicted_set(row);
                        (set, confidence)
                    } else {
                        let (c, probability) = top(row);
                        (vec![c], probability)
                    })
                });
                view! { <Tile position item=n.item similarity=n.similarity guess pick /> }
            })
            .collect_view()
            .into_any()
    };
    let selected_count = move || state.selected.with(Vec::len);
    view! {
        <section class="similar" aria-label="More like this">
            <div class="similar-head">
                <p class="muted" data-testid="similar-status">{status}</p>
                <button on:click=move |_| select_all_shown(state)>"Select all " <kbd>"Ctrl+A"</kbd></button>
                <button disabled=move || selected_count() == 0 on:click=move |_| state.selected.set(Vec::new())>
                    "Clear selection"
                </button>
                <button on:click=move |_| close_explore(state)>"Close " <kbd>"Esc"</kbd></button>
            </div>
            <BulkLabels testid="similar-selected" />
            <div class="tiles" role="list">{tiles}</div>
        </section>
    }
}

/// One item of the grid: its picture or text, its name, who labeled it and how (or the
/// model's guess), its similarity.
#[component]
fn Tile(
    position: usize,
    item: usize,
    similarity: f32,
    guess: Option<(Vec<usize>, f32)>,
    pick: impl Fn(usize, usize, bool) + Copy + 'static,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let name = state
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.item_name(item).to_string()))
        .unwrap_or_default();
    let content = state.item_content(item);
    // Reactive: a bulk label shows at once.
    let who = move || {
        state.session.with(|s| {
            let s = s.as_ref()?;
            let names = |cs: &[usize]| {
                cs.iter()
                    .filter_map(|&c| s.classes().get(c).cloned())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Some(if s.is_labeled(item) {
                format!("you: {}", names(&s.labels_of(item)))
            } else {
                match &guess {
                    Some((set, p)) => format!("model: {} {:.0}%", names(set), p * 100.0),
                    None => "no guess yet".to_string(),
                }
            })
        })
    };
    let selected = move || state.selected.with(|s| s.contains(&item));
    let label = name.clone();
    let data_item = name.clone();
    view! {
        <div class="tile" role="listitem" class:selected=selected data-item=data_item>
            <button
                class="tile-pick"
                aria-pressed=move || selected().to_string()
                aria-label=format!("Select {label}")
                on:click=move |ev| pick(position, item, ev.shift_key())
            >
                {match content {
                    Some((url, false)) => view! { <img src=url alt="" /> }.into_any(),
                    Some((text, true)) => view! { <span class="tile-text">{text}</span> }.into_any(),
                    None => ().into_any(),
                }}
                <span class="tile-name">{name}</span>
            </button>
            <span class="tile-guess">{who}</span>
            <span class="muted tile-similarity">{format!("{similarity:.2}")}</span>
            <button class="tile-ask" title="Ask this item now" on:click=move |_| {
                close_explore(state);
                ask_now(state, item);
            }>"Ask"</button>
        </div>
    }
}

/// While items are selected (in the grid or on the Map): how many, and a "Label selected: …"
/// button per class (a class key does the same), each item its own answer.
#[component]
pub fn BulkLabels(testid: &'static str) -> impl IntoView {
    let state = expect_context::<AppState>();
    let count = move || state.selected.with(Vec::len);
    let classes = move || {
        state
            .session
            .with(|s| s.as_ref().map(|s| s.classes().to_vec()).unwrap_or_default())
    };
    view! {
        <Show when=move || count() != 0>
            <div class="bulk">
                <span data-testid=testid>{move || format!("{} selected:", count())}</span>
                {move || classes().into_iter().enumerate().map(|(k, c)| view! {
                    <button on:click=move |_| label_items(state, k)>{format!("Label selected: {c}")}</button>
                }).collect_view()}
            </div>
        </Show>
    }
}
