//! Candidate set queries in the labeling view: the few classes the conformal rule names for the
//! current item, large and keyed 1..k, with "Not here" (key 0) opening the full class list.

use leptos::prelude::*;

use super::controller::answer;
use super::persist;
use super::run::request_refresh;
use super::state::{AppState, AskedSet};

/// How the current item is asked (the memo behind [`AppState::asked_set`]): its candidate set
/// from the latest update when it comes on screen — a single-label project whose update carries
/// a rule and a guess for it, the set smaller than the list — and the same decision for as long
/// as it stays there (an update that lands meanwhile does not change it).
pub fn asked_set(state: AppState, prev: Option<&Option<AskedSet>>) -> Option<AskedSet> {
    let (item, classes) = state.session.with(|s| {
        let s = s.as_ref().filter(|s| !s.is_multi_label())?;
        Some((s.current()?, s.classes().len()))
    })?;
    if let Some(Some(p)) = prev {
        if p.item == item && p.classes == classes {
            return Some(p.clone());
        }
    }
    let asked = state.update.with_untracked(|u| {
        let u = u.as_ref()?;
        let rule = u.candidate_sets?;
        if u.guesses.classes != classes || rule.classes != classes {
            return None;
        }
        let guess = u.guesses.of(item)?;
        Some((rule.set(guess), guess.to_vec()))
    });
    let (set, guess) = match asked {
        Some((set, guess)) if set.len() < classes => (Some(set), guess),
        _ => (None, Vec::new()),
    };
    Some(AskedSet {
        item,
        classes,
        set,
        guess,
    })
}

/// The candidate classes shown for the current item, most probable first: its asked set, unless
/// the person wants the full list (the setting, or "Not here" on this item).
pub fn shown_candidates(state: AppState) -> Option<Vec<usize>> {
    if state.full_list.get() {
        return None;
    }
    let asked = state.asked_set.get()?;
    if state.not_here.get() == Some(asked.item) {
        return None;
    }
    asked.set
}

/// Answers `class` for the current item, counting whether its candidate set (shown, or opened
/// past with "Not here") held it.
pub fn answer_counted(state: AppState, class: usize) {
    let set = state
        .asked_set
        .get_untracked()
        .and_then(|a| a.set)
        .filter(|_| !state.full_list.get_untracked());
    if let Some(set) = set {
        let hit = set.contains(&class);
        state.set_stats.update(|(asked, hits)| {
            *asked += 1;
            *hits += usize::from(hit);
        });
    }
    answer(state, class);
}

/// "Not here" (key 0): the full class list for the current item.
pub fn not_here(state: AppState) {
    if let Some(item) = state
        .session
        .with_untracked(|s| s.as_ref().and_then(|s| s.current()))
    {
        state.not_here.set(Some(item));
    }
}

/// The candidate buttons, or nothing when no set is shown.
#[component]
pub fn CandidateButtons() -> impl IntoView {
    let state = expect_context::<AppState>();
    let names = move || {
        state
            .session
            .with(|s| s.as_ref().map(|s| s.classes().to_vec()).unwrap_or_default())
    };
    view! {
        {move || shown_candidates(state).map(|set| {
            let names = names();
            let guess = state.asked_set.with(|a| a.as_ref().map(|a| a.guess.clone()).unwrap_or_default());
            view! {
                <div class="candidates" role="group" aria-label="Candidate classes" data-testid="candidates">
                    {set.into_iter().enumerate().map(|(k, class)| {
                        let name = names.get(class).cloned().unwrap_or_default();
                        let label = name.clone();
                        let share = guess.get(class).map(|p| format!("{:.0}%", p * 100.0)).unwrap_or_default();
                        view! {
                            <button
                                class="candidate-button"
                                aria-label=label
                                aria-keyshortcuts=(k + 1).to_string()
                                on:click=move |_| answer_counted(state, class)
                            >
                                <kbd aria-hidden="true">{k + 1}</kbd>
                                <span aria-hidden="true">{name}</span>
                                <small aria-hidden="true">{share}</small>
                            </button>
                        }
                    }).collect_view()}
                    <button class="not-here" aria-label="Not here" aria-keyshortcuts="0" on:click=move |_| not_here(state)>
                        "Not here " <kbd>"0"</kbd>
                    </button>
                </div>
            }
        })}
        <p class="set-stats" data-testid="set-hit-rate">
            {move || {
                let (asked, hits) = state.set_stats.get();
                (asked > 0).then(|| format!(
                    "Candidate sets held the answer {hits} of {asked} times ({:.0}%).",
                    hits as f64 * 100.0 / asked as f64
                ))
            }}
        </p>
    }
}

/// The setting: always the full class list (candidate sets off).
#[component]
pub fn FullListSetting() -> impl IntoView {
    let state = expect_context::<AppState>();
    let applies = move || {
        state.session.with(|s| {
            s.as_ref().is_some_and(|s| {
                !s.is_multi_label() && s.classes().len() >= quarry_core::candidates::MIN_CLASSES
            })
        })
    };
    view! {
        <Show when=applies>
            <label class="setting">
                <input
                    type="checkbox"
                    prop:checked=move || state.full_list.get()
                    on:change=move |ev| {
                        state.full_list.set(event_target_checked(&ev));
                        persist::save_soon(state);
                        request_refresh(state);
                    }
                />
                " Always show the full class list (no candidate sets)"
            </label>
        </Show>
    }
}
