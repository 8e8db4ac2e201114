//! The start screen's saved projects: resume, rename, delete (asking first), and what to do with
//! one that no longer reads. Also the box shown while a project waits for its files again.

use leptos::prelude::*;

use super::download::download_text;
use super::project::reopen;
use super::state::AppState;
use super::storage::{self, Listed};

/// Saved projects, newest first.
#[component]
pub fn SavedProjects() -> impl IntoView {
    let state = expect_context::<AppState>();
    let listed = RwSignal::new(Vec::<Listed>::new());
    // Projects that failed to open, by id, with why.
    let broken = RwSignal::new(Vec::<(String, String)>::new());
    let reload = move || {
        leptos::task::spawn_local(async move {
            match storage::list().await {
                Ok(l) => listed.set(l),
                Err(e) => state.report(format!(
                    "Saved projects cannot be read: {e}. New work stays in this tab only; save project files to keep it."
                )),
            }
        });
    };
    reload();
    view! {
        <Show when=move || !listed.with(Vec::is_empty)>
            <h3>"Your projects"</h3>
            <p class="hint">"Saved in this browser after every answer; only on this machine."</p>
            <ul class="projects" data-testid="projects">
                {move || {
                    listed
                        .get()
                        .into_iter()
                        .map(|entry| match entry {
                            Ok(saved) => view! { <ProjectRow saved broken reload /> }.into_any(),
                            Err((id, why)) => {
                                let why = format!("this saved project cannot be read ({why})");
                                view! { <BrokenRow id why reload /> }.into_any()
                            }
                        })
                        .collect_view()
                }}
            </ul>
            {move || {
                broken
                    .get()
                    .into_iter()
                    .map(|(id, why)| view! { <ul class="projects"><BrokenRow id why reload /></ul> })
                    .collect_view()
            }}
        </Show>
    }
}

#[component]
fn ProjectRow(
    saved: storage::Saved,
    broken: RwSignal<Vec<(String, String)>>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let renaming = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let name = RwSignal::new(saved.title.clone());
    let id = saved.id.clone();
    let when = js_sys::Date::new(&saved.saved_ms.into())
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default();
    let (open_id, rename_id, delete_id) = (id.clone(), id.clone(), id);
    let open = move |_| {
        let id = open_id.clone();
        leptos::task::spawn_local(async move {
            if let Err(e) = reopen(state, id.clone()).await {
                state.report(format!("This project cannot be opened: {e}"));
                broken.update(|b| b.push((id, e)));
            }
        });
    };
    let rename = move |_| {
        let (id, title) = (rename_id.clone(), name.get_untracked().trim().to_string());
        if title.is_empty() {
            return state.report("a project needs a name");
        }
        leptos::task::spawn_local(async move {
            match storage::rename(&id, &title).await {
                Ok(()) => reload(),
                Err(e) => state.report(format!("the project could not be renamed: {e}")),
            }
        });
        renaming.set(false);
    };
    let delete = move |_| delete_project(state, delete_id.clone(), reload);
    view! {
        <li class="project" data-testid="project">
            <Show
                when=move || renaming.get()
                fallback=move || view! {
                    <span class="project-title">{move || name.get()}</span>
                }
            >
                <input aria-label="Project name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                <button on:click=rename.clone()>"Save name"</button>
            </Show>
            <span class="muted">
                {format!("{} of {} labeled · saved {when}", saved.labeled, saved.items)}
            </span>
            <span class="project-actions">
                <button class="primary" on:click=open>"Resume"</button>
                <button on:click=move |_| renaming.set(true)>"Rename"</button>
                <Show
                    when=move || confirming.get()
                    fallback=move || view! { <button on:click=move |_| confirming.set(true)>"Delete…"</button> }
                >
                    <span class="confirm">
                        "Delete it and its labels from this browser? "
                        <button class="danger" on:click=delete.clone()>"Delete"</button>
                        <button on:click=move |_| confirming.set(false)>"Keep"</button>
                    </span>
                </Show>
            </span>
        </li>
    }
}

/// Deletes saved project `id` and lists the projects again.
fn delete_project(state: AppState, id: String, reload: impl Fn() + 'static) {
    leptos::task::spawn_local(async move {
        match storage::delete(&id).await {
            Ok(()) => reload(),
            Err(e) => state.report(format!("the project could not be deleted: {e}")),
        }
    });
}

/// A saved project that does not read: keep what is stored (a download) or delete it.
#[component]
fn BrokenRow(
    id: String,
    why: String,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let (keep_id, delete_id) = (id.clone(), id);
    let keep = move |_| {
        let id = keep_id.clone();
        leptos::task::spawn_local(async move {
            let saved = storage::raw_progress(&id).await.and_then(|raw| {
                download_text("quarry-stored-project.json", "application/json", &raw)
            });
            if let Err(e) = saved {
                state.report(format!("the stored record could not be downloaded: {e}"));
            }
        });
    };
    let delete = move |_| delete_project(state, delete_id.clone(), reload);
    view! {
        <li class="project broken" data-testid="broken-project" role="alert">
            <span>{why}</span>
            <span class="project-actions">
                <button on:click=keep>"Download what is stored"</button>
                <button class="danger" on:click=delete>"Delete it"</button>
            </span>
        </li>
    }
}

/// While a project waits for its files: which files, why, and a way out.
#[component]
pub fn ReopenBox() -> impl IntoView {
    let state = expect_context::<AppState>();
    let what = move || {
        state.reopening.with(|r| {
            r.as_ref().map(|r| {
                let title = r.project.settings.title.clone();
                let n = r.project.session.len();
                let source = match &r.project.settings.source {
                    Some(quarry_core::project::ItemSource::Zip { name }) => format!("the zip {name}"),
                    Some(quarry_core::project::ItemSource::Texts { name, .. }) => format!("the text file {name}"),
                    _ => "the same folder or image files".to_string(),
                };
                format!(
                    "To go on with “{title}” ({n} items), open {source} again, with the buttons below or by dropping them here. \
                     Browsers do not let a page keep access to your files between visits; your labels are kept and nothing is uploaded."
                )
            })
        })
    };
    view! {
        <Show when=move || state.reopening.with(Option::is_some)>
            <div class="reopen" role="status" data-testid="reopen">
                <p>{what}</p>
                <button on:click=move |_| state.reopening.set(None)>"Cancel"</button>
            </div>
        </Show>
    }
}
