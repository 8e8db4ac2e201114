//! The start screen: a bundled demo, or the person's own files (pickers and drag-and-drop).

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

use super::files::{drop_entries, drop_files, from_input, walk_entries};
use super::project::{open, open_project_file, start_demo};
use super::projects::{ReopenBox, SavedProjects};
use super::state::AppState;
use super::vectors::open_embeddings;

/// The file picked in the `<input>` that fired `ev`; the input is cleared, so that picking the
/// same file again fires `change` again.
fn first_file(ev: &leptos::ev::Event) -> Option<super::files::Picked> {
    let input = ev.target()?.dyn_into::<HtmlInputElement>().ok()?;
    let file = from_input(&input).into_iter().next();
    input.set_value("");
    file
}

#[component]
pub fn StartScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let dragging = RwSignal::new(false);
    // `webkitdirectory` is not a typed attribute: set the property once the input exists.
    let folder_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = folder_input.get() {
            input.set_webkitdirectory(true);
        }
    });
    let on_files = move |ev: leptos::ev::Event, what: &'static str| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let picked = from_input(&input);
        let title = match picked.first() {
            Some(p) if what == "folder" => {
                p.path.split('/').next().unwrap_or("a folder").to_string()
            }
            Some(p) if picked.len() == 1 => p.path.clone(),
            _ => format!("{} files", picked.len()),
        };
        open(state, picked, title);
        // Picking the same files again must fire `change` again.
        input.set_value("");
    };
    let on_project = move |ev: leptos::ev::Event| {
        if let Some(file) = first_file(&ev) {
            open_project_file(state, file);
        }
    };
    let on_vectors = move |ev: leptos::ev::Event| {
        if let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        {
            let files = from_input(&input);
            input.set_value("");
            open_embeddings(state, files);
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        let Some(data) = ev.data_transfer() else {
            return;
        };
        let entries = drop_entries(&data);
        if entries.is_empty() {
            // No file-system entries (some browsers, synthetic drops): the plain file list.
            let picked = drop_files(&data);
            let title = format!("{} dropped files", picked.len());
            open(state, picked, title);
            return;
        }
        let title = match entries.as_slice() {
            [one] => one.name(),
            many => format!("{} dropped items", many.len()),
        };
        leptos::task::spawn_local(async move {
            match walk_entries(entries).await {
                Ok(picked) => open(state, picked, title),
                Err(e) => state.report(e),
            }
        });
    };
    view! {
        <section
            class="start"
            class:dragging=move || dragging.get()
            on:dragover=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <ReopenBox />
            <SavedProjects />
            <h2>"Label images and texts with a model that learns from every answer"</h2>
            <p>
                "Quarry embeds your items with a neural network, asks you about the ones it is least sure of, "
                "and retrains after every answer. Everything runs in this tab: no file or label leaves your machine."
            </p>
            <div class="start-actions">
                <button class="primary" on:click=move |_| start_demo(state, "emoji")>
                    "Try the demo"
                </button>
                <button on:click=move |_| start_demo(state, "fashion")>
                    "Try Fashion-MNIST (2,000 images)"
                </button>
                <button on:click=move |_| start_demo(state, "topics")>
                    "Try a text demo (702 sentences, 7 topics)"
                </button>
            </div>
            <h3>"Your own data"</h3>
            <div class="start-actions">
                <label class="file-button">
                    "Open images or a .zip…"
                    <input
                        type="file"
                        multiple
                        accept="image/png,image/jpeg,image/webp,image/gif,image/bmp,.zip,.csv"
                        data-testid="open-files"
                        on:change=move |ev| on_files(ev, "files")
                    />
                </label>
                <label class="file-button">
                    "Open a folder…"
                    <input
                        type="file"
                        node_ref=folder_input
                        data-testid="open-folder"
                        on:change=move |ev| on_files(ev, "folder")
                    />
                </label>
                <label class="file-button">
                    "Open a project file…"
                    <input
                        type="file"
                        accept=".json,.zip,application/json"
                        data-testid="open-project"
                        on:change=on_project
                    />
                </label>
                <label class="file-button">
                    "Open a text file…"
                    <input
                        type="file"
                        accept=".csv,.tsv,.jsonl,.ndjson,.txt"
                        data-testid="open-text"
                        on:change=move |ev| on_files(ev, "text")
                    />
                </label>
                <label class="file-button">
                    "Open embeddings…"
                    <input
                        type="file"
                        accept=".safetensors"
                        multiple
                        data-testid="open-embeddings"
                        on:change=on_vectors
                    />
                </label>
            </div>
            {move || state.vectors_status.get().map(|s| view! {
                <p class="hint" role="status" data-testid="embeddings-status">{s}</p>
            })}
            <p class="hint">
                "Or drop images, folders or a .zip anywhere here. One folder per class (cats/1.jpg) or a CSV "
                "of item,label seeds labels. Texts: a .csv/.tsv (choose the column), .jsonl or .txt (one per line). "
                "Embeddings made outside the tab (quarry embed): open them first, then the items."
            </p>
            <p class="hint">
                "The demo: 508 Noto emoji (animals & nature, food & drink, travel & places)."
            </p>
        </section>
    }
}
