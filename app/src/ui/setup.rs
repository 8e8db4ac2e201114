//! The setup screen: what was opened, which columns (texts), which classes; then start.

use leptos::prelude::*;

use super::select_value;
use wasm_bindgen::JsCast;

use super::files::from_input;
use super::import::{cancel_draft, choose_columns, set_multi_label};
use super::model_pick::{edit_spec, pick_model, pick_tokenizer, use_bundled};
use super::project::start_draft;
use super::state::{AppState, Items};
use quarry_core::model::{ChannelOrder, Layout, ModelChoice, Preset};

#[component]
pub fn SetupScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let draft = state.draft;
    let class_text = RwSignal::new(
        draft.with_untracked(|d| d.as_ref().map(|d| d.classes.join("\n")).unwrap_or_default()),
    );
    // A new proposal (another label column, multi-label on) replaces the list; other draft
    // changes (the model) leave what the person typed alone.
    let proposed = Memo::new(move |_| {
        draft.with(|d| d.as_ref().map(|d| d.classes.join("\n")).unwrap_or_default())
    });
    Effect::new(move |_| {
        let p = proposed.get();
        if !p.is_empty() {
            class_text.set(p);
        }
    });
    let title = move || draft.with(|d| d.as_ref().map(|d| d.title.clone()).unwrap_or_default());
    let summary = move || {
        draft.with(|d| {
            d.as_ref().map(|d| {
                let given = d.labels.iter().filter(|l| l.is_some()).count();
                let what = match d.items {
                    Items::Images(_) => "images",
                    Items::Texts(_) => "texts",
                };
                format!("{} {what}; {given} come with a label.", d.names.len())
            })
        })
    };
    let notes = move || draft.with(|d| d.as_ref().map(|d| d.notes.clone()).unwrap_or_default());
    let columns = move || {
        draft.with(|d| {
            d.as_ref()
                .and_then(|d| d.table.as_ref())
                .map(|t| (t.table.columns.clone(), t.text, t.label))
        })
    };
    let preview = move || {
        draft.with(|d| match d.as_ref().map(|d| &d.items) {
            Some(Items::Texts(t)) => t
                .iter()
                .take(3)
                .map(|t| quarry_core::shown::shown(t, quarry_core::shown::LINE_CHARS).into_owned())
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    };
    view! {
        <section class="setup">
            <h2>{title}</h2>
            <p data-testid="setup-summary">{summary}</p>
            {move || {
                columns()
                    .map(|(cols, text, label)| {
                        let text_options = cols.iter().enumerate().map(|(i, c)| {
                            view! { <option value=i.to_string() selected=i == text>{c.clone()}</option> }
                        }).collect_view();
                        let label_options = cols.iter().enumerate().map(|(i, c)| {
                            view! { <option value=i.to_string() selected=Some(i) == label>{c.clone()}</option> }
                        }).collect_view();
                        view! {
                            <div class="columns">
                                <label>
                                    "Text column "
                                    <select aria-label="Text column" on:change=move |ev| {
                                        if let Ok(t) = select_value(&ev).parse() {
                                            let label = columns().and_then(|c| c.2);
                                            choose_columns(state, t, label);
                                        }
                                    }>{text_options}</select>
                                </label>
                                <label>
                                    "Label column "
                                    <select aria-label="Label column" on:change=move |ev| {
                                        let label = select_value(&ev).parse().ok();
                                        let text = columns().map_or(0, |c| c.1);
                                        choose_columns(state, text, label);
                                    }>
                                        <option value="none" selected=label.is_none()>"(none)"</option>
                                        {label_options}
                                    </select>
                                </label>
                            </div>
                        }
                    })
            }}
            <ul class="preview">
                {move || preview().into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}
            </ul>
            <ModelSetup />
            <label class="multi-label">
                <input
                    type="checkbox"
                    prop:checked=move || draft.with(|d| d.as_ref().is_some_and(|d| d.multi_label))
                    on:change=move |ev| set_multi_label(state, event_target_checked(&ev))
                />
                " Several classes per item (multi-label; given labels may list classes as a;b)"
            </label>
            <label class="class-list">
                "Classes, one per line (at least two; you can add, rename, merge and delete them later)"
                <textarea
                    aria-label="Classes"
                    rows="6"
                    prop:value=move || class_text.get()
                    on:input=move |ev| class_text.set(event_target_value(&ev))
                ></textarea>
            </label>
            <Show when=move || !notes().is_empty()>
                <ul class="notes">{move || notes().into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
            </Show>
            <div class="start-actions">
                <button class="primary" on:click=move |_| start_draft(state, &class_text.get_untracked())>
                    "Start labeling"
                </button>
                <button on:click=move |_| cancel_draft(state)>"Cancel"</button>
            </div>
        </section>
    }
}

fn first_file(ev: &leptos::ev::Event) -> Option<super::files::Picked> {
    let input = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())?;
    let picked = from_input(&input).into_iter().next();
    input.set_value("");
    picked
}

/// The model: bundled, or the person's ONNX file with its output and preprocessing.
#[component]
fn ModelSetup() -> impl IntoView {
    let state = expect_context::<AppState>();
    let draft = state.draft;
    let model = move || draft.with(|d| d.as_ref().map(|d| d.model.clone()));
    let custom = move || draft.with(|d| d.as_ref().and_then(|d| d.custom_model.clone()));
    let description = move || match (custom(), model()) {
        (Some((name, info)), _) => {
            let io = |v: &[quarry_core::model::TensorInfo]| {
                v.iter()
                    .map(|t| {
                        let dims: Vec<String> = t
                            .shape
                            .iter()
                            .map(|d| d.map_or("?".to_string(), |d| d.to_string()))
                            .collect();
                        format!("{} {}[{}]", t.name, t.dtype, dims.join(", "))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            format!(
                "Your model {name} ({:?} model). Inputs: {}. Outputs: {}.",
                info.kind,
                io(&info.inputs),
                io(&info.outputs)
            )
        }
        (None, Some(ModelChoice::Text { .. })) => {
            "all-MiniLM-L6-v2 (bundled, 384-d sentence embeddings)".to_string()
        }
        _ => "EfficientNet-Lite0 (bundled, ImageNet-pretrained, 1280-d)".to_string(),
    };
    let outputs = move || {
        custom()
            .map(|(_, info)| {
                info.outputs
                    .iter()
                    .filter(|o| o.is_float())
                    .map(|o| o.name.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let spec = move || match model() {
        Some(ModelChoice::Image { spec, .. }) => Some(spec),
        _ => None,
    };
    let is_custom_image = move || custom().is_some() && spec().is_some();
    let is_custom_text = move || custom().is_some() && spec().is_none();
    let preset = move || {
        spec().and_then(|s| {
            Preset::ALL
                .into_iter()
                .find(|p| p.mean_std() == (s.mean, s.std))
                .map(Preset::name)
        })
    };
    view! {
        <fieldset class="model">
            <legend>"Model"</legend>
            <p data-testid="model-name">{description}</p>
            <div class="start-actions">
                <label class="file-button">
                    {move || if state.model_busy.get() { "Reading the model…" } else { "Use your own ONNX model…" }}
                    <input
                        type="file"
                        accept=".onnx"
                        data-testid="open-model"
                        on:change=move |ev| {
                            if let Some(f) = first_file(&ev) {
                                pick_model(state, f);
                            }
                        }
                    />
                </label>
                <Show when=move || custom().is_some()>
                    <button on:click=move |_| use_bundled(state)>"Use the bundled model"</button>
                </Show>
            </div>
            <Show when=is_custom_image>
                <div class="spec">
                    <label>
                        "Embedding output "
                        <select aria-label="Embedding output" on:change=move |ev| {
                            let name = select_value(&ev);
                            edit_spec(state, |s| s.output = Some(name));
                        }>
                            {move || {
                                let chosen = spec().and_then(|s| s.output);
                                outputs()
                                    .into_iter()
                                    .map(|o| {
                                        let selected = chosen.as_deref() == Some(o.as_str());
                                        view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
                                    })
                                    .collect_view()
                            }}
                        </select>
                    </label>
                    <label>
                        "Input size "
                        <input
                            type="number"
                            min="8"
                            max="1024"
                            aria-label="Input size"
                            prop:value=move || spec().map_or(224, |s| s.size).to_string()
                            on:change=move |ev| {
                                if let Ok(v) = event_target_value(&ev).parse::<u32>() {
                                    edit_spec(state, |s| s.size = v.clamp(8, 1024));
                                }
                            }
                        />
                    </label>
                    <label>
                        "Layout "
                        <select aria-label="Layout" on:change=move |ev| {
                            let nhwc = select_value(&ev) == "nhwc";
                            edit_spec(state, |s| s.layout = if nhwc { Layout::Nhwc } else { Layout::Nchw });
                        }>
                            <option value="nchw" selected=move || spec().is_some_and(|s| s.layout == Layout::Nchw)>"NCHW"</option>
                            <option value="nhwc" selected=move || spec().is_some_and(|s| s.layout == Layout::Nhwc)>"NHWC"</option>
                        </select>
                    </label>
                    <label>
                        "Channels "
                        <select aria-label="Channel order" on:change=move |ev| {
                            let bgr = select_value(&ev) == "bgr";
                            edit_spec(state, |s| s.channels = if bgr { ChannelOrder::Bgr } else { ChannelOrder::Rgb });
                        }>
                            <option value="rgb" selected=move || spec().is_some_and(|s| s.channels == ChannelOrder::Rgb)>"RGB"</option>
                            <option value="bgr" selected=move || spec().is_some_and(|s| s.channels == ChannelOrder::Bgr)>"BGR"</option>
                        </select>
                    </label>
                    <label>
                        "Values "
                        <select aria-label="Value scaling" on:change=move |ev| {
                            if let Some(p) = Preset::from_name(&select_value(&ev)) {
                                let (mean, std) = p.mean_std();
                                edit_spec(state, |s| {
                                    s.mean = mean;
                                    s.std = std;
                                });
                            }
                        }>
                            {Preset::ALL
                                .into_iter()
                                .map(|p| view! {
                                    <option value=p.name() selected=move || preset() == Some(p.name())>{p.description()}</option>
                                })
                                .collect_view()}
                        </select>
                    </label>
                </div>
            </Show>
            <Show when=is_custom_text>
                <label class="file-button">
                    "Its tokenizer.json… (else the bundled MiniLM tokenizer)"
                    <input
                        type="file"
                        accept=".json"
                        data-testid="open-tokenizer"
                        on:change=move |ev| {
                            if let Some(f) = first_file(&ev) {
                                pick_tokenizer(state, f);
                            }
                        }
                    />
                </label>
            </Show>
        </fieldset>
    }
}
