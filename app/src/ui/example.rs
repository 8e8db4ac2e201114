//! Search by example: a sentence typed (text projects), or an image dropped, pasted or picked
//! (image projects), embedded with the project's model and searched for in the pool
//! ([`super::similar::search_example`]). The example never leaves the page and its workers.
//! A component layer (ARCHITECTURE.md).

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, HtmlInputElement};

use super::explore::search_example;
use super::files;
use super::state::{AppState, Items};
use crate::protocol::EmbedInput;

thread_local! {
    /// The object URL of the last image example (revoked when the next one comes).
    static LAST_URL: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn search_image(state: AppState, name: String, blob: &Blob) {
    match files::object_url(blob) {
        Ok(url) => {
            if let Some(old) = LAST_URL.replace(Some(url.clone())) {
                files::revoke(&[old]);
            }
            search_example(state, name, EmbedInput::Url(url));
        }
        Err(e) => state.report(format!("the example could not be opened: {e}")),
    }
}

/// The first image among a drop's or a paste's files.
fn first_image(data: &web_sys::DataTransfer) -> Option<web_sys::File> {
    let list = data.files()?;
    (0..list.length())
        .filter_map(|i| list.get(i))
        .find(|f| f.type_().starts_with("image/"))
}

#[component]
pub fn ExampleSearch() -> impl IntoView {
    let state = expect_context::<AppState>();
    let is_text = move || {
        state
            .dataset
            .with(|d| matches!(d.as_ref().map(|d| &d.items), Some(Items::Texts(_))))
    };
    let sentence = RwSignal::new(String::new());
    let find_text = move || {
        let text = sentence.get_untracked();
        if !text.trim().is_empty() {
            search_example(
                state,
                format!("“{}”", text.trim()),
                EmbedInput::Text(text.trim().to_string()),
            );
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|l| l.get(0)) {
            search_image(state, file.name(), &file);
        }
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(file) = ev.data_transfer().as_ref().and_then(first_image) {
            search_image(state, file.name(), &file);
        }
    };
    // Pasting an image anywhere on the labeling screen searches near it (image projects; a
    // paste into a field stays the field's).
    let paste = window_event_listener(leptos::ev::paste, move |ev| {
        if untrack(is_text) {
            return;
        }
        let in_field = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA"));
        if in_field {
            return;
        }
        if let Some(file) = ev.clipboard_data().as_ref().and_then(first_image) {
            ev.prevent_default();
            search_image(state, "the pasted image".to_string(), &file);
        }
    });
    on_cleanup(move || paste.remove());
    view! {
        <div class="example-search">
            {move || if is_text() {
                view! {
                    <form on:submit=move |ev| { ev.prevent_default(); find_text(); }>
                        <input
                            type="search"
                            aria-label="Find items like this sentence"
                            placeholder="Find items like this sentence…"
                            prop:value=move || sentence.get()
                            on:input=move |ev| sentence.set(event_target_value(&ev))
                        />
                        <button type="submit">"Find similar"</button>
                    </form>
                }.into_any()
            } else {
                view! {
                    <label
                        class="example-drop"
                        on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                        on:drop=on_drop
                    >
                        "Find items like an image: drop, paste or "
                        <input type="file" accept="image/*" aria-label="Find items like an image" on:change=on_pick />
                    </label>
                }.into_any()
            }}
        </div>
    }
}
