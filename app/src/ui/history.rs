//! The history panel: every answer, newest first, with its item; any of them can be given
//! another class or taken back (the learner retrains, the queue follows).

use leptos::prelude::*;
use quarry_core::Step;
use wasm_bindgen::JsCast;

use super::controller::{relabel, remove_answer};
use super::state::{AppState, Items};

/// Rows shown at first; "Show more" adds as many again.
const PAGE: usize = 50;

#[component]
pub fn HistoryPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let shown = RwSignal::new(PAGE);
    let count = move || {
        state
            .session
            .with(|s| s.as_ref().map_or(0, |s| s.history().len()))
    };
    let steps = move || {
        state.session.with(|s| {
            s.as_ref()
                .map(|s| {
                    let n = s.history().len();
                    let mut steps: Vec<(usize, Step)> = s.history().enumerate().collect();
                    steps.reverse();
                    steps.truncate(shown.get());
                    steps
                        .into_iter()
                        .map(|(k, step)| (n - k, step))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    view! {
        <details class="history" data-testid="history">
            <summary>{move || format!("History ({} answers)", count())}</summary>
            <ol class="history-list">
                {move || steps().into_iter().map(|(number, step)| view! { <HistoryRow number step /> }).collect_view()}
            </ol>
            <Show when=move || { count() > shown.get() }>
                <button on:click=move |_| shown.update(|n| *n += PAGE)>"Show more"</button>
            </Show>
        </details>
    }
}

/// One answer: thumbnail, name, what was answered, and the controls to change it.
#[component]
fn HistoryRow(number: usize, step: Step) -> impl IntoView {
    let state = expect_context::<AppState>();
    let item = match step {
        Step::Labeled(i) | Step::Skipped(i) | Step::Rejected(i) => i,
    };
    let (name, classes, labels, multi) = state.session.with_untracked(|s| {
        let s = s.as_ref().expect("a history needs a session");
        (
            s.item_name(item).to_string(),
            s.classes().to_vec(),
            s.labels_of(item),
            s.is_multi_label(),
        )
    });
    let content = state
        .dataset
        .with_untracked(|d| match d.as_ref().map(|d| &d.items) {
            Some(Items::Images(v)) => (true, v.get(item).cloned().unwrap_or_default()),
            Some(Items::Texts(v)) => (
                false,
                v.get(item)
                    .map(|t| {
                        quarry_core::shown::shown(t, quarry_core::shown::LINE_CHARS).into_owned()
                    })
                    .unwrap_or_default(),
            ),
            None => (false, String::new()),
        });
    let answered = match step {
        Step::Skipped(_) => "skipped".to_string(),
        Step::Rejected(_) => "none of these".to_string(),
        Step::Labeled(_) if labels.is_empty() => "no class applies".to_string(),
        Step::Labeled(_) => labels
            .iter()
            .map(|&c| classes[c].clone())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let thumb = if content.0 {
        view! { <img class="history-thumb" src=content.1 alt="" /> }.into_any()
    } else {
        view! { <span class="history-text">{content.1}</span> }.into_any()
    };
    let select_value = |ev: leptos::ev::Event| {
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
            .and_then(|s| s.value().parse::<usize>().ok())
    };
    let change = if multi {
        let toggles = classes
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let on = labels.contains(&k) && matches!(step, Step::Labeled(_));
                let mut next = if matches!(step, Step::Labeled(_)) { labels.clone() } else { Vec::new() };
                if on {
                    next.retain(|&x| x != k);
                } else {
                    next.push(k);
                }
                view! {
                    <label class="history-toggle">
                        <input type="checkbox" prop:checked=on on:change=move |_| relabel(state, item, next.clone()) />
                        {c.clone()}
                    </label>
                }
            })
            .collect_view();
        view! { <span class="history-classes">{toggles}</span> }.into_any()
    } else {
        let current = match step {
            Step::Labeled(_) => labels.first().map_or(String::new(), usize::to_string),
            _ => String::new(),
        };
        view! {
            <select
                aria-label=format!("Class of {name}")
                prop:value=current
                on:change=move |ev| {
                    if let Some(k) = select_value(ev) {
                        relabel(state, item, vec![k]);
                    }
                }
            >
                <option value="" disabled=true>"Label as…"</option>
                {classes
                    .iter()
                    .enumerate()
                    .map(|(k, c)| view! { <option value=k.to_string()>{c.clone()}</option> })
                    .collect_view()}
            </select>
        }
        .into_any()
    };
    view! {
        <li class="history-row" data-testid="history-row">
            <span class="history-number">{number}</span>
            {thumb}
            <span class="history-name" title=name.clone()>{name.clone()}</span>
            <span class="history-answer" data-testid="history-answer">{answered}</span>
            {change}
            <button
                class="history-remove"
                title="Take this answer back: the item returns to the pool"
                aria-label=format!("Remove the answer for {name}")
                on:click=move |_| remove_answer(state, item)
            >
                "Remove"
            </button>
        </li>
    }
}
