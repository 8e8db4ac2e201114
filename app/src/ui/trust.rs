//! How far to trust the model: the audited accuracy, the audit setting, the stopping
//! suggestion, the confusion matrix and the labels that look wrong. Everything shown is computed
//! by `quarry_core` (audit, quality) in the learner; this only renders it.

use leptos::prelude::*;

use super::select_value;
use quarry_core::audit::{AuditMethod, AuditSettings};
use quarry_core::quality::{ConfusionSource, Quality};

use super::controller::relabel;
use super::persist;
use super::run::request_refresh;
use super::state::AppState;

/// The audit choices offered: (name, settings).
const AUDIT_CHOICES: [(&str, AuditSettings); 4] = [
    ("1 in 10 until 30 (recommended)", AuditSettings::RECOMMENDED),
    (
        "1 in 5 until 60",
        AuditSettings {
            every: 5,
            max: 60,
            ..AuditSettings::RECOMMENDED
        },
    ),
    (
        "1 in 20 until 30",
        AuditSettings {
            every: 20,
            ..AuditSettings::RECOMMENDED
        },
    ),
    ("off", AuditSettings::OFF),
];

fn set_audit(state: AppState, settings: AuditSettings) {
    state.audit.set(settings);
    persist::save_soon(state);
    request_refresh(state);
}

#[component]
pub fn TrustPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let quality = move || state.update.with(|u| u.as_ref().map(|u| u.quality.clone()));
    let audited = move || quality().and_then(|q| q.audit).map(|a| a.summary());
    let audit_note = move || {
        let settings = state.audit.get();
        if !settings.is_on() {
            return "Audits are off: only the cross-validated estimate above is shown.".to_string();
        }
        let asked = state
            .session
            .with(|s| s.as_ref().map_or(0, |s| s.answered_audits()));
        format!(
            "One question in {} is drawn at random from the unlabeled pool and kept out of training, so the model's accuracy on those answers estimates its accuracy on the pool ({}; {asked} answered, up to {}).",
            settings.every,
            settings.method.description(),
            settings.max
        )
    };
    let on_audit = move |ev: leptos::ev::Event| {
        let value = select_value(&ev);
        if let Some((_, s)) = AUDIT_CHOICES.iter().find(|(n, _)| *n == value) {
            let now = state.audit.get_untracked();
            set_audit(
                state,
                AuditSettings {
                    method: now.method,
                    finite_population: now.finite_population,
                    ..*s
                },
            );
        }
    };
    let on_method = move |ev: leptos::ev::Event| {
        let method = if select_value(&ev) == "active" {
            AuditMethod::Active
        } else {
            AuditMethod::Uniform
        };
        set_audit(
            state,
            AuditSettings {
                method,
                ..state.audit.get_untracked()
            },
        );
    };
    let on_finite = move |ev: leptos::ev::Event| {
        set_audit(
            state,
            AuditSettings {
                finite_population: event_target_checked(&ev),
                ..state.audit.get_untracked()
            },
        );
    };
    let stopping = move || {
        quality().and_then(|q| q.stability).map(|s| {
            if s.stable {
                format!(
                    "The model has stopped changing: its predictions on the pool agreed (κ ≥ 0.99) over the last three windows of {} answers. More labels may add little.",
                    s.window
                )
            } else {
                match s.kappas.last() {
                    Some(k) => format!(
                        "Predictions still changing: agreement with {} answers ago κ = {k:.3}.",
                        s.window
                    ),
                    None => format!("Stopping check: every {} answers.", s.window),
                }
            }
        })
    };
    view! {
        <h3>"How far to trust it"</h3>
        <p class="audited" data-testid="audited-accuracy">
            {move || audited().unwrap_or_else(|| "Audited accuracy: after the first audit question".to_string())}
        </p>
        <p class="muted" data-testid="audit-note">{audit_note}</p>
        <label class="setting">
            "Audit questions "
            <select aria-label="Audit questions" on:change=on_audit>
                {AUDIT_CHOICES
                    .iter()
                    .map(|(name, s)| {
                        let s = *s;
                        view! {
                            <option
                                value=*name
                                selected=move || {
                                    let now = state.audit.get();
                                    now.every == s.every && now.max == s.max
                                }
                            >
                                {*name}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
        <label class="setting">
            "Drawn "
            <select aria-label="How audits are drawn" on:change=on_method>
                <option value="uniform" selected=move || state.audit.get().method == AuditMethod::Uniform>
                    "uniformly (Wilson interval)"
                </option>
                <option value="active" selected=move || state.audit.get().method == AuditMethod::Active>
                    "by expected loss (active testing)"
                </option>
            </select>
        </label>
        <label class="setting" title="The unlabeled pool is finite and audits are drawn from it without replacement: with many audits of a small pool the interval narrows. Random audits only.">
            <input
                type="checkbox"
                aria-label="Finite-population correction"
                prop:checked=move || state.audit.get().finite_population
                disabled=move || state.audit.get().method != AuditMethod::Uniform
                on:change=on_finite
            />
            " Finite-population correction"
        </label>
        <p class="stopping" data-testid="stopping">{stopping}</p>
        {move || quality().map(|q| view! { <ConfusionTable quality=q /> })}
        <Suspects />
    }
}

/// The confusion matrix; clicking a cell lists its items.
#[component]
fn ConfusionTable(quality: Quality) -> impl IntoView {
    let state = expect_context::<AppState>();
    let open = RwSignal::new(None::<(usize, usize)>);
    let Some(confusion) = quality.confusion else {
        return ().into_any();
    };
    let classes = state
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.classes().to_vec()).unwrap_or_default());
    if classes.len() != confusion.classes {
        return ().into_any();
    }
    let per_class = confusion.per_class_accuracy();
    let source = match confusion.source {
        ConfusionSource::Audits => "from the audit answers",
        ConfusionSource::CrossValidation => {
            "from cross-validation of your labels (until 20 audits)"
        }
    };
    let header = classes
        .iter()
        .map(|c| view! { <th scope="col">{c.clone()}</th> })
        .collect_view();
    let cells = confusion.cells.clone();
    let k = confusion.classes;
    let rows = classes
        .iter()
        .enumerate()
        .map(|(g, name)| {
            let acc = per_class[g].map_or("–".to_string(), |a| format!("{:.0}%", a * 100.0));
            let row = (0..k)
                .map(|p| {
                    let n = cells[g * k + p].len();
                    view! {
                        <td class:diagonal=g == p>
                            <button class="cell" disabled=n == 0 on:click=move |_| open.set(Some((g, p)))>{n}</button>
                        </td>
                    }
                })
                .collect_view();
            view! { <tr><th scope="row">{name.clone()}</th>{row}<td class="muted">{acc}</td></tr> }
        })
        .collect_view();
    let listing = move || {
        open.get().map(|(g, p)| {
            let items = cells[g * k + p].clone();
            let names: Vec<String> = state.session.with_untracked(|s| {
                s.as_ref()
                    .map(|s| items.iter().map(|&i| s.item_name(i).to_string()).collect())
                    .unwrap_or_default()
            });
            view! {
                <div class="cell-items" data-testid="cell-items">
                    <p>{format!("Labeled {}, predicted {}:", classes[g], classes[p])}</p>
                    <ul>{names.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                </div>
            }
        })
    };
    view! {
        <details class="confusion">
            <summary>{format!("Confusion matrix and per-class accuracy ({source})")}</summary>
            <table data-testid="confusion">
                <thead><tr><th>"labeled ↓ / predicted →"</th>{header}<th>"accuracy"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {listing}
        </details>
    }
    .into_any()
}

/// "Check these labels": labels whose out-of-fold probabilities point to another class. The
/// person keeps each (it leaves the list) or changes it.
#[component]
fn Suspects() -> impl IntoView {
    let state = expect_context::<AppState>();
    let kept = RwSignal::new(Vec::<usize>::new());
    let suspects = move || {
        let classes = state
            .session
            .with(|s| s.as_ref().map(|s| s.classes().to_vec()).unwrap_or_default());
        let list = state.update.with(|u| {
            u.as_ref()
                .map(|u| u.quality.suspects.clone())
                .unwrap_or_default()
        });
        let kept = kept.get();
        list.into_iter()
            .filter(|s| {
                !kept.contains(&s.item) && s.given < classes.len() && s.suggested < classes.len()
            })
            .filter(|s| {
                state.session.with(|ss| {
                    ss.as_ref()
                        .is_some_and(|ss| ss.labels_of(s.item) == vec![s.given])
                })
            })
            .take(20)
            .map(|s| (s, classes.clone()))
            .collect::<Vec<_>>()
    };
    view! {
        <Show when=move || !suspects().is_empty()>
            <details class="suspects" data-testid="suspects">
                <summary>{move || format!("Check these labels ({})", suspects().len())}</summary>
                <ul>
                    {move || {
                        suspects()
                            .into_iter()
                            .map(|(s, classes)| {
                                let name = state.session.with_untracked(|ss| {
                                    ss.as_ref().map(|ss| ss.item_name(s.item).to_string()).unwrap_or_default()
                                });
                                let item = s.item;
                                let to = s.suggested;
                                view! {
                                    <li>
                                        {format!(
                                            "{name}: labeled {}, the model says {} ({:.0}% for your label)",
                                            classes[s.given],
                                            classes[s.suggested],
                                            s.self_confidence * 100.0
                                        )}
                                        <button on:click=move |_| kept.update(|k| k.push(item))>"Keep"</button>
                                        <button on:click=move |_| relabel(state, item, vec![to])>
                                            {format!("Change to {}", classes[to])}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </details>
        </Show>
    }
}
