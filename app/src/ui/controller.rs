//! User actions → `quarry-core` calls and worker requests: answers, undo, the class list, the
//! strategy, the keyboard. Components call these; no business rule lives in a `view!`. The top
//! of the app's layers (ARCHITECTURE.md): it calls the learner loop ([`super::run`]) and the
//! storage layer ([`persist`]), never the other way round.

use leptos::prelude::*;
use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::keys::{Action, Command};
use quarry_core::Session;
use wasm_bindgen::JsCast;

use super::candidates::{answer_counted, not_here, shown_candidates};
use super::persist;
use super::results::current_guess;
use super::run::request_refresh;
use super::shortcuts::toggle_help;
use super::state::{AppState, Explore, Phase};

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

/// Selects every item the "More like this" grid shows (Ctrl+A there).
pub fn select_all_shown(state: AppState) {
    let items = state
        .similar
        .with_untracked(|s| s.as_ref().map(super::state::SimilarSearch::items))
        .unwrap_or_default();
    state.selected.set(items);
}

/// Closes the "More like this" grid or the Map (the selection goes with it).
pub fn close_explore(state: AppState) {
    state.explore.set(Explore::Off);
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

/// Keys: each class's key answers — 1–9, then letters, or the person's own (`quarry_core::
/// keys`; multi-label: toggle, Enter saves; with a candidate set shown, 1..k answer its classes
/// and 0 is "Not here") —, Enter or `a` accepts the model's guess, `?` the shortcuts
/// overlay (Escape closes it), `m` "More like this" (in its grid Ctrl/Cmd+A selects every item
/// shown; Escape closes the grid or the Map); with items selected in the Predictions view, the
/// grid or the Map, 1–9 label them all (each its own answer); in the Race, Space starts and
/// pauses, → steps one round, `p` toggles presenter mode;
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
        if key == "?" || (key == "Escape" && state.help_open.get_untracked()) {
            ev.prevent_default();
            if key == "?" {
                toggle_help(state);
            } else {
                state.help_open.set(false);
            }
            return;
        }
        if key == "Escape" && state.explore.get_untracked() != Explore::Off {
            ev.prevent_default();
            close_explore(state);
            return;
        }
        if state.explore.get_untracked() == Explore::Race {
            // The race owns the keyboard: Space starts/pauses, → steps, P presenter mode.
            match key.as_str() {
                " " => super::explore::race_toggle(state),
                "ArrowRight" => super::explore::race_step(state),
                "p" | "P" => state.race.update(|r| r.presenter = !r.presenter),
                _ => return,
            }
            ev.prevent_default();
            return;
        }
        let command = ev.ctrl_key() || ev.meta_key();
        // Items selected in a view that labels in bulk: the digit keys are for them.
        let bulk = (state.browsing.get_untracked()
            || state.explore.get_untracked() != Explore::Off)
            && !state.selected.with_untracked(Vec::is_empty);
        let redo_keys = command && (key == "y" || key == "Y" || (key == "Z" && ev.shift_key()));
        if redo_keys {
            ev.prevent_default();
            redo(state);
        } else if command && key.eq_ignore_ascii_case("z") || key == "Backspace" {
            ev.prevent_default();
            undo(state);
        } else if command && key.eq_ignore_ascii_case("a") {
            if state.explore.get_untracked() == Explore::Similar {
                ev.prevent_default();
                select_all_shown(state);
            }
        } else if command {
        } else if key == "Enter" {
            // Accepts the model's guess (multi-label: saves the set as toggled).
            ev.prevent_default();
            accept(state);
        } else if key == " " {
            ev.prevent_default();
            skip(state);
        } else if let Some(set) = untrack(|| shown_candidates(state))
            .filter(|_| key.len() == 1 && key.chars().all(|c| c.is_ascii_digit()) && !bulk)
        {
            // A candidate set is shown: 1..k answer its classes, 0 opens the full list.
            let d = key.parse::<usize>().unwrap_or(0);
            ev.prevent_default();
            if d == 0 {
                not_here(state);
            } else if let Some(&class) = set.get(d - 1) {
                answer_counted(state, class);
            }
        } else if let Some(action) = untrack(|| state.key_map()).action(&key) {
            // The class and command keys (defaults, or the person's own).
            ev.prevent_default();
            match action {
                Action::Class(k) if bulk => label_items(state, k),
                Action::Class(k) => answer_counted(state, k),
                Action::Command(Command::Accept) => accept(state),
                Action::Command(Command::NoneOfThese) => none_of_these(state),
                Action::Command(Command::Skip) => skip(state),
                Action::Command(Command::MoreLikeThis) => {
                    if let Some(i) = state
                        .session
                        .with_untracked(|s| s.as_ref().and_then(Session::current))
                    {
                        super::explore::more_like(state, i);
                    }
                }
            }
        }
    });
    // The listener lives as long as the page.
    std::mem::forget(handle);
}

/// Accepts the guess on the current item (Enter or `A`): an answer like any other. In a
/// multi-label project Enter saves the set as toggled (the guess is toggled in advance).
pub fn accept(state: AppState) {
    let multi = state
        .session
        .with_untracked(|s| s.as_ref().is_some_and(|s| s.is_multi_label()));
    if multi {
        save_chosen(state);
    } else if let Some(g) = current_guess(state) {
        answer_counted(state, g.classes[0]);
    }
}
