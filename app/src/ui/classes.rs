//! The class list in the side panel: counts, and adding, renaming, merging and deleting
//! classes mid-session.

use leptos::prelude::*;
use quarry_core::DeletedItems;

use super::controller::edit_classes;
use super::state::AppState;

#[component]
pub fn ClassEditor() -> impl IntoView {
    let state = expect_context::<AppState>();
    let editing = RwSignal::new(None::<usize>);
    let new_name = RwSignal::new(String::new());
    // The editor's fields live here, not in the rows: the list re-renders on every answer, and
    // what the person is typing must survive that.
    let fields = EditFields {
        rename_to: RwSignal::new(String::new()),
        merge_into: RwSignal::new(0),
        deleted: RwSignal::new("unlabel".to_string()),
    };
    let toggle = move |k: usize, name: String| {
        if editing.get_untracked() == Some(k) {
            editing.set(None);
        } else {
            fields.rename_to.set(name);
            fields.merge_into.set(if k == 0 { 1 } else { 0 });
            fields.deleted.set("unlabel".into());
            editing.set(Some(k));
        }
    };
    let per_class = move || {
        state.session.with(|s| {
            s.as_ref()
                .map(|s| {
                    s.classes()
                        .iter()
                        .cloned()
                        .zip(s.label_counts())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let add = move || {
        let name = new_name.get_untracked().trim().to_string();
        edit_classes(state, |s| s.add_class(&name).map(|_| ()));
        new_name.set(String::new());
    };
    view! {
        <ul class="per-class" aria-label="Classes">
            {move || {
                per_class()
                    .into_iter()
                    .enumerate()
                    .map(|(k, (name, n))| {
                        let label = format!("Edit class {name}");
                        let current = name.clone();
                        view! {
                            <li>
                                <span class="class-name">{name}</span>
                                <span class="n">{n}</span>
                                <button
                                    class="icon"
                                    aria-label=label
                                    aria-expanded=move || (editing.get() == Some(k)).to_string()
                                    on:click=move |_| toggle(k, current.clone())
                                >
                                    "✎"
                                </button>
                                <Show when=move || editing.get() == Some(k)>
                                    <ClassActions class=k fields=fields done=move || editing.set(None) />
                                </Show>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
        <form class="add-class" on:submit=move |ev| {
            ev.prevent_default();
            add();
        }>
            <input
                aria-label="New class name"
                placeholder="New class"
                prop:value=move || new_name.get()
                on:input=move |ev| new_name.set(event_target_value(&ev))
            />
            <button type="submit">"Add class"</button>
        </form>
    }
}

/// The class editor's fields.
#[derive(Debug, Clone, Copy)]
struct EditFields {
    rename_to: RwSignal<String>,
    merge_into: RwSignal<usize>,
    deleted: RwSignal<String>,
}

/// Rename, merge into another class, or delete (choosing what happens to its items).
#[component]
fn ClassActions(
    class: usize,
    fields: EditFields,
    done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let names = move || {
        state
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.classes().to_vec()).unwrap_or_default())
    };
    let EditFields {
        rename_to,
        merge_into,
        deleted,
    } = fields;
    let others = names()
        .into_iter()
        .enumerate()
        .filter(|(k, _)| *k != class)
        .map(|(k, n)| {
            view! { <option value=k.to_string() selected=move || merge_into.get() == k>{n}</option> }
        })
        .collect_view();
    view! {
        <div class="class-actions">
            <form on:submit=move |ev| {
                ev.prevent_default();
                let name = rename_to.get_untracked().trim().to_string();
                edit_classes(state, |s| s.rename_class(class, &name));
                done();
            }>
                <input
                    aria-label="New name"
                    prop:value=move || rename_to.get()
                    on:input=move |ev| rename_to.set(event_target_value(&ev))
                />
                <button type="submit">"Rename"</button>
            </form>
            <div>
                <select
                    aria-label="Merge into"
                    on:change=move |ev| {
                        if let Ok(k) = event_target_value(&ev).parse() {
                            merge_into.set(k);
                        }
                    }
                >
                    {others}
                </select>
                <button on:click=move |_| {
                    let into = merge_into.get_untracked();
                    edit_classes(state, |s| s.merge_classes(class, into));
                    done();
                }>"Merge into"</button>
            </div>
            <div>
                <select
                    aria-label="Labeled items of a deleted class"
                    on:change=move |ev| deleted.set(event_target_value(&ev))
                >
                    <option value="unlabel" selected=move || deleted.get() == "unlabel">
                        "its items go back to the pool"
                    </option>
                    <option value="none" selected=move || deleted.get() == "none">
                        "its items become “none of these”"
                    </option>
                </select>
                <button class="danger" on:click=move |_| {
                    let what = if deleted.get_untracked() == "none" {
                        DeletedItems::NoneOfThese
                    } else {
                        DeletedItems::Unlabel
                    };
                    edit_classes(state, |s| s.delete_class(class, what).map(|_| ()));
                    done();
                }>"Delete class"</button>
            </div>
        </div>
    }
}
