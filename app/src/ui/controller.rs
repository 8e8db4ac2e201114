//! User actions → `quarry-core` calls and worker requests. Components call these; no business
//! rule lives in a `view!`.

use std::cell::Cell;

use leptos::prelude::*;
use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::dataset::DemoManifest;
use quarry_core::export::labels_csv;
use quarry_core::project::ItemSource;
use quarry_core::{LearnerUpdate, Session};
use wasm_bindgen::JsCast;

use super::files::{fetch_blob, read_text};
use super::persist;
use super::pool;
use super::run::{default_model, start_project, Project};
use super::state::{AppState, Items, Phase};
use crate::protocol::WorkerRequest;

/// Items queued per refresh: the current one plus the thumbnails after it.
pub const BATCH: usize = 10;

thread_local! {
    static NEXT_REFRESH: Cell<u64> = const { Cell::new(0) };
    static APPLIED_REFRESH: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The manifest and items of bundled demo `name` (a folder under `demo/`).
pub async fn demo_items(name: &str) -> Result<(DemoManifest, Items), String> {
    let url = format!("demo/{name}/demo.json");
    let text = async { read_text(&fetch_blob(&url).await?).await }
        .await
        .map_err(|e| format!("the demo could not be loaded ({e})"))?;
    let m = DemoManifest::from_json(&text).map_err(|e| e.to_string())?;
    let items = match &m.texts {
        Some(texts) => Items::Texts(texts.clone()),
        None => Items::Images(
            m.items
                .iter()
                .map(|i| format!("demo/{name}/images/{i}"))
                .collect(),
        ),
    };
    Ok((m, items))
}

/// Loads bundled demo `name` and starts labeling it.
pub fn start_demo(state: AppState, name: &'static str) {
    leptos::task::spawn_local(async move {
        match demo_items(name).await {
            Ok((m, items)) => {
                let labels = vec![Vec::new(); m.items.len()];
                start_project(
                    state,
                    Project {
                        title: m.title,
                        names: m.items,
                        model: default_model(&items),
                        items,
                        classes: m.classes,
                        labels,
                        multi_label: false,
                        source: ItemSource::Demo { name: name.into() },
                        zip: None,
                    },
                );
            }
            Err(e) => state.report(e),
        }
    });
}

/// Applies the learner's answer to refresh `id`, unless a later one was applied already.
pub fn apply_update(state: AppState, id: u64, update: LearnerUpdate) {
    if APPLIED_REFRESH.get().is_some_and(|applied| id < applied) {
        return;
    }
    APPLIED_REFRESH.set(Some(id));
    state.session.update(|s| {
        if let Some(s) = s.as_mut() {
            if let Some(r) = update.audit {
                s.add_audit(r);
            }
            s.set_queue(update.queue.clone());
        }
    });
    state.update.set(Some(update));
    if id + 1 == NEXT_REFRESH.get() {
        state.thinking.set(false);
    }
    persist::save_soon(state);
}

/// Asks the learner for a new head, estimate and queue from the session's current labels.
pub fn request_refresh(state: AppState) {
    let Some(mut input) = state
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.learner_input(BATCH)))
    else {
        return;
    };
    input.strategy = state.strategy.get_untracked();
    input.subpool = state.subpool.get_untracked();
    input.audit = state.audit.get_untracked();
    let id = NEXT_REFRESH.get();
    NEXT_REFRESH.set(id + 1);
    state.thinking.set(true);
    if let Err(e) = pool::send(0, WorkerRequest::Refresh { id, input }) {
        state.report(e);
    }
}

/// Switches the acquisition strategy (`Auto` = the default policy) and re-scores the pool.
/// Labels, skips and history are untouched.
pub fn set_strategy(state: AppState, kind: StrategyKind) {
    state.strategy.set(kind);
    persist::save_soon(state);
    request_refresh(state);
}

/// Switches large-pool subsampling (AnchorAL) and re-scores the pool.
pub fn set_subpool(state: AppState, mode: Subpool) {
    state.subpool.set(mode);
    persist::save_soon(state);
    request_refresh(state);
}

/// Labels the current item with class `class` and refreshes the learner; in a multi-label
/// project, adds or removes `class` from the set being chosen instead.
pub fn answer(state: AppState, class: usize) {
    let multi = state
        .session
        .with_untracked(|s| s.as_ref().is_some_and(Session::is_multi_label));
    if multi {
        state
            .chosen
            .update(|c| match c.iter().position(|&k| k == class) {
                Some(p) => {
                    c.remove(p);
                }
                None => c.push(class),
            });
        return;
    }
    answer_set(state, vec![class]);
}

/// Labels the current item with the classes being chosen (multi-label; none chosen means no
/// class applies) and refreshes the learner.
pub fn save_chosen(state: AppState) {
    answer_set(state, state.chosen.get_untracked());
}

/// Changes the session through [`persist::commit`] (saved before it is shown); a change that
/// took clears the classes being chosen and retrains.
fn change(state: AppState, f: impl FnOnce(&mut Session) -> quarry_core::Result<bool>) {
    persist::commit(state, f, |state| {
        state.chosen.set(Vec::new());
        request_refresh(state);
    });
}

fn answer_set(state: AppState, classes: Vec<usize>) {
    change(state, |s| s.answer_set(&classes).map(|_| true));
}

/// Answers "none of these" for the current item: out of the queue, in no class.
pub fn none_of_these(state: AppState) {
    change(state, |s| Ok(s.reject().is_some()));
}

/// Applies a change of the class list to the session and retrains (the learner matches its
/// head to the classes by id, so kept classes keep their weights). Errors go to the person.
pub fn edit_classes(state: AppState, f: impl FnOnce(&mut Session) -> quarry_core::Result<()>) {
    change(state, |s| f(s).map(|()| true));
}

/// Makes item `item` the current one (from search); a labeled item is asked again only after
/// its label is undone, so this refuses it with a message.
pub fn ask_now(state: AppState, item: usize) {
    persist::commit(
        state,
        |s| s.ask_now(item).map(|()| true),
        |state| state.chosen.set(Vec::new()),
    );
}

/// Labels the items checked in the Predictions view with class `class` (each its own answer)
/// and clears the selection.
pub fn label_items(state: AppState, class: usize) {
    let items = state.selected.get_untracked();
    if items.is_empty() {
        return;
    }
    change(state, move |s| {
        let changed = s.label_items(&items, &[class])?;
        Ok(changed > 0)
    });
    state.selected.set(Vec::new());
}

/// Skips the current item.
pub fn skip(state: AppState) {
    change(state, |s| Ok(s.skip().is_some()));
}

/// Reverts the last label or skip.
pub fn undo(state: AppState) {
    change(state, |s| Ok(s.undo().is_some()));
}

/// Gives back the last undone answer.
pub fn redo(state: AppState) {
    change(state, |s| Ok(s.redo().is_some()));
}

/// Gives answered item `item` the classes `classes` instead (from the history).
pub fn relabel(state: AppState, item: usize, classes: Vec<usize>) {
    change(state, |s| s.relabel(item, &classes).map(|()| true));
}

/// Takes back the answer of `item` (from the history): it returns to the pool.
pub fn remove_answer(state: AppState, item: usize) {
    change(state, |s| s.remove_answer(item).map(|()| true));
}

/// Downloads the labels as `quarry-labels.csv`.
pub fn export_csv(state: AppState) {
    let Some(csv) = state.session.with_untracked(|s| s.as_ref().map(labels_csv)) else {
        return;
    };
    if let Err(e) = super::download::download_text("quarry-labels.csv", "text/csv", &csv) {
        state.report(format!("the export failed: {e}"));
    }
}

/// Downloads the whole project (labels, classes, history, queue, settings, model choice, the
/// head's weights) as a versioned `quarry-project.json`; never the items' files. The head is
/// asked of the learner first ([`head_arrived`] writes the file).
pub fn export_project(state: AppState) {
    if let Err(e) = pool::send(0, WorkerRequest::Head) {
        // No learner to ask: the file goes without the head.
        web_sys::console::warn_1(&e.into());
        head_arrived(state, None);
    }
}

/// Writes the project file with `head` (left out when it does not fit the classes as they are
/// now, e.g. right after a class was added).
pub fn head_arrived(state: AppState, head: Option<quarry_core::head::SoftmaxHead>) {
    let Some(settings) = persist::settings(state) else {
        return;
    };
    let Some(json) = state.session.with_untracked(|s| {
        s.as_ref().map(|s| {
            let head = head
                .as_ref()
                .filter(|h| !s.is_multi_label() && h.classes() == s.classes().len());
            quarry_core::project::write_project(s, &settings, head)
        })
    }) else {
        return;
    };
    let result = super::download::download_text("quarry-project.json", "application/json", &json);
    if let Err(e) = result {
        state.report(format!("the project could not be saved: {e}"));
    }
}

/// Keys: 1–9 answer (multi-label: toggle, Enter saves), Enter or `a` accepts the model's guess,
/// `n` none of these, `s` or Space skip,
/// Backspace or Ctrl/Cmd+Z undo, Ctrl/Cmd+Y or Ctrl/Cmd+Shift+Z redo.
pub fn install_keyboard(state: AppState) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if state.phase.get_untracked() != Phase::Labeling || ev.repeat() {
            return;
        }
        // Keys typed into a field are the field's; a checkbox (the Predictions view's
        // selection) leaves the class keys to the page.
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| match el.tag_name().as_str() {
                "TEXTAREA" | "SELECT" => true,
                "INPUT" => !matches!(
                    el.get_attribute("type").as_deref(),
                    Some("checkbox" | "radio" | "button")
                ),
                _ => false,
            });
        // Space on a focused checkbox toggles it, as everywhere.
        let on_checkbox = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| el.get_attribute("type").as_deref() == Some("checkbox"));
        if on_checkbox && ev.key() == " " {
            return;
        }
        if typing || ev.alt_key() {
            return;
        }
        let key = ev.key();
        let command = ev.ctrl_key() || ev.meta_key();
        let redo_keys = command && (key == "y" || key == "Y" || (key == "Z" && ev.shift_key()));
        if redo_keys {
            ev.prevent_default();
            redo(state);
        } else if command && key.eq_ignore_ascii_case("z") || key == "Backspace" {
            ev.prevent_default();
            undo(state);
        } else if command {
        } else if key == "Enter" || key == "a" || key == "A" {
            // Accepts the model's guess (multi-label: saves the set as toggled).
            ev.prevent_default();
            super::results::accept(state);
        } else if key == "n" || key == "N" {
            ev.prevent_default();
            none_of_these(state);
        } else if key == "s" || key == "S" || key == " " {
            ev.prevent_default();
            skip(state);
        } else if let Some(d) = key
            .chars()
            .next()
            .and_then(|c| c.to_digit(10))
            .filter(|_| key.len() == 1)
        {
            let classes = state
                .session
                .with_untracked(|s| s.as_ref().map_or(0, |s| s.classes().len()));
            if (1..=9).contains(&d) && (d as usize) <= classes {
                ev.prevent_default();
                let bulk =
                    state.browsing.get_untracked() && !state.selected.with_untracked(Vec::is_empty);
                if bulk {
                    label_items(state, d as usize - 1);
                } else {
                    answer(state, d as usize - 1);
                }
            }
        }
    });
    // The listener lives as long as the page.
    std::mem::forget(handle);
}
