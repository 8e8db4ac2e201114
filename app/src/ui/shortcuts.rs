//! The `?` overlay: every keyboard shortcut of the labeling view, in one list.

use leptos::prelude::*;

use super::state::AppState;

/// Each shortcut and what it does, in the order the overlay lists them.
pub const SHORTCUTS: [(&str, &str); 10] = [
    ("1 – 9", "answer with that class (multi-label: toggle it)"),
    (
        "1 – k",
        "with candidate classes shown: answer with that candidate",
    ),
    ("0", "\"Not here\": open the full class list"),
    (
        "Enter or A",
        "accept the model's guess (multi-label: save the toggled classes)",
    ),
    ("N", "none of these classes"),
    ("S or Space", "skip this item"),
    ("Backspace or Ctrl+Z", "undo the last step"),
    ("Ctrl+Y or Ctrl+Shift+Z", "redo"),
    ("class key in Predictions", "label every checked item"),
    ("?", "show or hide this list (Escape hides it)"),
];

/// Shows or hides the overlay.
pub fn toggle_help(state: AppState) {
    state.help_open.update(|open| *open = !*open);
}

/// The overlay, while open.
#[component]
pub fn ShortcutHelp() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <Show when=move || state.help_open.get()>
            <div class="shortcut-help" role="dialog" aria-label="Keyboard shortcuts">
                <h2>"Keyboard shortcuts"</h2>
                <dl>
                    {SHORTCUTS
                        .iter()
                        .map(|(keys, what)| view! { <dt><kbd>{*keys}</kbd></dt><dd>{*what}</dd> })
                        .collect_view()}
                </dl>
                <button on:click=move |_| state.help_open.set(false)>"Close " <kbd>"Esc"</kbd></button>
            </div>
        </Show>
    }
}
