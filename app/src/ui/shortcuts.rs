//! The `?` overlay: every keyboard shortcut of the labeling view in one list, and the place to
//! choose other keys for classes and commands (saved with the project: `quarry_core::keys`).

use leptos::prelude::*;
use quarry_core::keys::{Command, KeyChoices};

use super::persist;
use super::state::AppState;

/// The shortcuts whose keys never change, and what they do, in the order the overlay lists
/// them (the command keys, which a person may change, are listed from the key map).
pub const SHORTCUTS: [(&str, &str); 11] = [
    (
        "1 – 9",
        "answer with that class (multi-label: toggle it); the 10th class on: Q W E R T …",
    ),
    (
        "1 – k",
        "with candidate classes shown: answer with that candidate",
    ),
    ("0", "\"Not here\": open the full class list"),
    ("Backspace or Ctrl+Z", "undo the last step"),
    ("Ctrl+Y or Ctrl+Shift+Z", "redo"),
    (
        "class key with items selected",
        "label every selected item (Predictions, More like this, the Map)",
    ),
    ("Ctrl+A", "in More like this: select every item shown"),
    ("Escape", "close More like this, the Map or the Race"),
    ("Space", "in the Race: start or pause"),
    ("→ and P", "in the Race: one round; presenter mode"),
    ("?", "show or hide this list (Escape hides it)"),
];

/// Shows or hides the overlay.
pub fn toggle_help(state: AppState) {
    state.help_open.update(|open| *open = !*open);
}

/// Applies a change of the person's keys, or says why it cannot be.
fn choose(
    state: AppState,
    problem: RwSignal<Option<String>>,
    f: impl FnOnce(&mut KeyChoices, &[u32], &[String]) -> quarry_core::Result<()>,
) {
    let (ids, names) = state.session.with_untracked(|s| {
        s.as_ref()
            .map(|s| (s.class_ids().to_vec(), s.classes().to_vec()))
            .unwrap_or_default()
    });
    let mut keys = state.keys.get_untracked();
    match f(&mut keys, &ids, &names) {
        Ok(()) => {
            problem.set(None);
            state.keys.set(keys);
            persist::save_soon(state);
        }
        Err(e) => problem.set(Some(e.to_string())),
    }
}

/// What a key box sets.
#[derive(Debug, Clone, Copy)]
enum Target {
    Class(u32),
    Command(Command),
}

/// One key box: `key` now, `name` beside it; a change is checked and saved ([`choose`]), an
/// empty box gives the default back.
#[component]
fn KeyField(
    target: Target,
    name: String,
    key: String,
    problem: RwSignal<Option<String>>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let label = format!("Key for {name}");
    view! {
        <label>
            <input class="key-input" maxlength="1" aria-label=label prop:value=key on:change=move |ev| {
                let v = event_target_value(&ev);
                let v = (!v.is_empty()).then_some(v.as_str());
                choose(state, problem, |keys, ids, names| match target {
                    Target::Class(id) => keys.set_class(ids, names, id, v),
                    Target::Command(c) => keys.set_command(ids, names, c, v),
                });
            } />
            {name}
        </label>
    }
}

/// The overlay, while open.
#[component]
pub fn ShortcutHelp() -> impl IntoView {
    let state = expect_context::<AppState>();
    let problem = RwSignal::new(None::<String>);
    let commands = move || {
        let map = state.key_map();
        let key = |c| map.command(c).to_uppercase();
        vec![
            (
                format!("Enter or {}", key(Command::Accept)),
                "accept the model's guess (multi-label: save the toggled classes)",
            ),
            (key(Command::NoneOfThese), "none of these classes"),
            (format!("{} or Space", key(Command::Skip)), "skip this item"),
            (
                key(Command::MoreLikeThis),
                "More like this: the items nearest this one",
            ),
        ]
        .into_iter()
        .map(|(keys, what)| view! { <dt><kbd>{keys}</kbd></dt><dd>{what}</dd> })
        .collect_view()
    };
    let class_rows = move || {
        let map = state.key_map();
        let (ids, names) = state.session.with(|s| {
            s.as_ref()
                .map(|s| (s.class_ids().to_vec(), s.classes().to_vec()))
                .unwrap_or_default()
        });
        ids.into_iter()
            .zip(names)
            .enumerate()
            .map(|(k, (id, name))| {
                let key = map.classes.get(k).cloned().flatten().unwrap_or_default();
                view! { <KeyField target=Target::Class(id) name key problem /> }
            })
            .collect_view()
    };
    let command_rows = move || {
        let map = state.key_map();
        Command::ALL
            .into_iter()
            .map(|c| {
                let key = map.command(c).to_string();
                view! { <KeyField target=Target::Command(c) name=c.describe().to_string() key problem /> }
            })
            .collect_view()
    };
    view! {
        <Show when=move || state.help_open.get()>
            <div class="shortcut-help" role="dialog" aria-label="Keyboard shortcuts">
                <h2>"Keyboard shortcuts"</h2>
                <dl>
                    {SHORTCUTS
                        .iter()
                        .map(|(keys, what)| view! { <dt><kbd>{*keys}</kbd></dt><dd>{*what}</dd> })
                        .collect_view()}
                    {commands}
                </dl>
                <details class="key-choices">
                    <summary>"Choose your own keys (saved with the project)"</summary>
                    <p class="muted">"Type a key in a box; empty it for the default."</p>
                    <div class="key-grid" role="group" aria-label="Class keys">{class_rows}</div>
                    <div class="key-grid" role="group" aria-label="Command keys">{command_rows}</div>
                    <p class="error" role="alert" data-testid="key-problem">{move || problem.get()}</p>
                    <button on:click=move |_| {
                        state.keys.set(KeyChoices::default());
                        problem.set(None);
                        persist::save_soon(state);
                    }>"Back to the default keys"</button>
                </details>
                <button on:click=move |_| state.help_open.set(false)>"Close " <kbd>"Esc"</kbd></button>
            </div>
        </Show>
    }
}
