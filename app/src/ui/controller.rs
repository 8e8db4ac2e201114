//! User actions → `quarry-core` calls and worker requests. Components call these; no business
//! rule lives in a `view!`.

use std::cell::Cell;

use leptos::prelude::*;
use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::dataset::DemoManifest;
use quarry_core::export::labels_csv;
use quarry_core::{LearnerUpdate, Session};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

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

async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{e:?}"))?;
    let resp: web_sys::Response = resp.unchecked_into();
    if !resp.ok() {
        return Err(format!("{url}: HTTP {}", resp.status()));
    }
    let text = JsFuture::from(resp.text().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|e| format!("{e:?}"))?;
    text.as_string().ok_or_else(|| format!("{url} is not text"))
}

/// Loads bundled demo `name` (a folder under `demo/`) and starts labeling it.
pub fn start_demo(state: AppState, name: &'static str) {
    leptos::task::spawn_local(async move {
        let manifest = match fetch_text(&format!("demo/{name}/demo.json")).await {
            Ok(text) => DemoManifest::from_json(&text).map_err(|e| e.to_string()),
            Err(e) => Err(format!("the demo could not be loaded ({e})")),
        };
        match manifest {
            Ok(m) => {
                let items = match m.texts {
                    Some(texts) => Items::Texts(texts),
                    None => Items::Images(
                        m.items
                            .iter()
                            .map(|i| format!("demo/{name}/images/{i}"))
                            .collect(),
                    ),
                };
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
            s.set_queue(update.queue.clone());
        }
    });
    state.update.set(Some(update));
    if id + 1 == NEXT_REFRESH.get() {
        state.thinking.set(false);
    }
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
    request_refresh(state);
}

/// Switches large-pool subsampling (AnchorAL) and re-scores the pool.
pub fn set_subpool(state: AppState, mode: Subpool) {
    state.subpool.set(mode);
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

fn answer_set(state: AppState, classes: Vec<usize>) {
    let mut result = Ok(0);
    state.session.update(|s| {
        if let Some(s) = s.as_mut() {
            result = s.answer_set(&classes);
        }
    });
    match result {
        Ok(_) => {
            state.chosen.set(Vec::new());
            request_refresh(state);
        }
        Err(e) => state.report(e.to_string()),
    }
}

/// Answers "none of these" for the current item: out of the queue, in no class.
pub fn none_of_these(state: AppState) {
    let mut rejected = None;
    state
        .session
        .update(|s| rejected = s.as_mut().and_then(Session::reject));
    state.chosen.set(Vec::new());
    if rejected.is_some() {
        request_refresh(state);
    }
}

/// Applies a change of the class list to the session and retrains (the learner matches its
/// head to the classes by id, so kept classes keep their weights). Errors go to the person.
pub fn edit_classes(state: AppState, change: impl FnOnce(&mut Session) -> quarry_core::Result<()>) {
    let mut result = Ok(());
    state.session.update(|s| {
        if let Some(s) = s.as_mut() {
            result = change(s);
        }
    });
    match result {
        Ok(()) => request_refresh(state),
        Err(e) => state.report(e.to_string()),
    }
}

/// Makes item `item` the current one (from search); a labeled item is asked again only after
/// its label is undone, so this refuses it with a message.
pub fn ask_now(state: AppState, item: usize) {
    let mut result = Ok(());
    state.session.update(|s| {
        if let Some(s) = s.as_mut() {
            result = s.ask_now(item);
        }
    });
    state.chosen.set(Vec::new());
    if let Err(e) = result {
        state.report(e.to_string());
    }
}

/// Skips the current item.
pub fn skip(state: AppState) {
    let mut skipped = None;
    state
        .session
        .update(|s| skipped = s.as_mut().and_then(Session::skip));
    state.chosen.set(Vec::new());
    if skipped.is_some() {
        request_refresh(state);
    }
}

/// Reverts the last label or skip.
pub fn undo(state: AppState) {
    let mut undone = None;
    state
        .session
        .update(|s| undone = s.as_mut().and_then(Session::undo));
    state.chosen.set(Vec::new());
    if undone.is_some() {
        request_refresh(state);
    }
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

/// Downloads the whole project (labels, classes, history, queue, settings, model choice) as a
/// versioned `quarry-project.json`; never the items' files.
pub fn export_project(state: AppState) {
    let Some((title, model)) = state
        .dataset
        .with_untracked(|d| d.as_ref().map(|d| (d.title.clone(), d.model.clone())))
    else {
        return;
    };
    let Some(json) = state.session.with_untracked(|s| {
        s.as_ref().map(|s| {
            quarry_core::project::write_project(
                &title,
                s,
                state.strategy.get_untracked(),
                state.subpool.get_untracked(),
                Some(&model),
                None,
            )
        })
    }) else {
        return;
    };
    let result = super::download::download_text("quarry-project.json", "application/json", &json);
    if let Err(e) = result {
        state.report(format!("the project could not be saved: {e}"));
    }
}

/// Keys: 1–9 answer (multi-label: toggle, Enter saves), `n` none of these, `s` or Space skip,
/// Backspace or Ctrl/Cmd+Z undo.
pub fn install_keyboard(state: AppState) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if state.phase.get_untracked() != Phase::Labeling || ev.repeat() {
            return;
        }
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing || ev.alt_key() {
            return;
        }
        let key = ev.key();
        let command = ev.ctrl_key() || ev.meta_key();
        if command && key.eq_ignore_ascii_case("z") || key == "Backspace" {
            ev.prevent_default();
            undo(state);
        } else if command {
        } else if key == "Enter" {
            let multi = state
                .session
                .with_untracked(|s| s.as_ref().is_some_and(Session::is_multi_label));
            if multi {
                ev.prevent_default();
                save_chosen(state);
            }
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
                answer(state, d as usize - 1);
            }
        }
    });
    // The listener lives as long as the page.
    std::mem::forget(handle);
}
