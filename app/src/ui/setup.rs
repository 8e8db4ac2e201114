//! The setup screen: what was opened, which columns (texts), which classes; then start.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::import::{cancel_draft, choose_columns, start_draft};
use super::state::{AppState, Items};

fn select_value(ev: &leptos::ev::Event) -> String {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
        .unwrap_or_default()
}

#[component]
pub fn SetupScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let draft = state.draft;
    let class_text = RwSignal::new(
        draft.with_untracked(|d| d.as_ref().map(|d| d.classes.join("\n")).unwrap_or_default()),
    );
    // A new column choice proposes that column's classes.
    Effect::new(move |_| {
        let proposed = draft.with(|d| d.as_ref().map(|d| d.classes.join("\n")));
        if let Some(p) = proposed.filter(|p| !p.is_empty()) {
            class_text.set(p);
        }
    });
    let title = move || draft.with(|d| d.as_ref().map(|d| d.title.clone()).unwrap_or_default());
    let summary = move || {
        draft.with(|d| {
            d.as_ref().map(|d| {
                let given = d.labels.iter().filter(|l| l.is_some()).count();
                let what = match d.items {
                    Items::Images(_) => "images",
                    Items::Texts(_) => "texts",
                };
                format!("{} {what}; {given} come with a label.", d.names.len())
            })
        })
    };
    let notes = move || draft.with(|d| d.as_ref().map(|d| d.notes.clone()).unwrap_or_default());
    let columns = move || {
        draft.with(|d| {
            d.as_ref()
                .and_then(|d| d.table.as_ref())
                .map(|t| (t.table.columns.clone(), t.text, t.label))
        })
    };
    let preview = move || {
        draft.with(|d| match d.as_ref().map(|d| &d.items) {
            Some(Items::Texts(t)) => t.iter().take(3).cloned().collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    };
    view! {
        <section class="setup">
            <h2>{title}</h2>
            <p data-testid="setup-summary">{summary}</p>
            {move || {
                columns()
                    .map(|(cols, text, label)| {
                        let text_options = cols.iter().enumerate().map(|(i, c)| {
                            view! { <option value=i.to_string() selected=i == text>{c.clone()}</option> }
                        }).collect_view();
                        let label_options = cols.iter().enumerate().map(|(i, c)| {
                            view! { <option value=i.to_string() selected=Some(i) == label>{c.clone()}</option> }
                        }).collect_view();
                        view! {
                            <div class="columns">
                                <label>
                                    "Text column "
                                    <select aria-label="Text column" on:change=move |ev| {
                                        if let Ok(t) = select_value(&ev).parse() {
                                            let label = columns().and_then(|c| c.2);
                                            choose_columns(state, t, label);
                                        }
                                    }>{text_options}</select>
                                </label>
                                <label>
                                    "Label column "
                                    <select aria-label="Label column" on:change=move |ev| {
                                        let label = select_value(&ev).parse().ok();
                                        let text = columns().map_or(0, |c| c.1);
                                        choose_columns(state, text, label);
                                    }>
                                        <option value="none" selected=label.is_none()>"(none)"</option>
                                        {label_options}
                                    </select>
                                </label>
                            </div>
                        }
                    })
            }}
            <ul class="preview">
                {move || preview().into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
            </ul>
            <label class="class-list">
                "Classes, one per line (at least two; you can add, rename, merge and delete them later)"
                <textarea
                    aria-label="Classes"
                    rows="6"
                    prop:value=move || class_text.get()
                    on:input=move |ev| class_text.set(event_target_value(&ev))
                ></textarea>
            </label>
            <Show when=move || !notes().is_empty()>
                <ul class="notes">{move || notes().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            </Show>
            <div class="start-actions">
                <button class="primary" on:click=move |_| start_draft(state, &class_text.get_untracked())>
                    "Start labeling"
                </button>
                <button on:click=move |_| cancel_draft(state)>"Cancel"</button>
            </div>
        </section>
    }
}
