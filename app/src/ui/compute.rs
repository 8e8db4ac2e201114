//! The side panel's compute section: where the learner's pool passes run ("WebGPU: <adapter>"
//! or "CPU, 1 worker"), and the setting that keeps them on the CPU (kept in this browser).

use leptos::prelude::*;

use super::pool;
use super::state::AppState;
use crate::protocol::{Compute, WorkerRequest};

/// The `localStorage` key of the CPU-only setting.
const CPU_ONLY_KEY: &str = "quarry.cpu-only";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Whether the person chose the CPU only.
fn cpu_only() -> bool {
    storage()
        .and_then(|s| s.get_item(CPU_ONLY_KEY).ok().flatten())
        .is_some_and(|v| v == "1")
}

/// Whether the page was opened with `?webgpu=software`: a software WebGPU adapter is then
/// used too (the browser tests' SwiftShader; slower than the CPU for a person).
fn software_allowed() -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| {
            q.trim_start_matches('?')
                .split('&')
                .any(|p| p == "webgpu=software")
        })
}

/// What the learner worker is asked to use.
pub fn choice() -> Compute {
    if cpu_only() {
        Compute::Cpu
    } else {
        Compute::Gpu {
            allow_software: software_allowed(),
        }
    }
}

#[component]
pub fn ComputePanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let checked = RwSignal::new(cpu_only());
    let toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        checked.set(on);
        if let Some(s) = storage() {
            let saved = if on {
                s.set_item(CPU_ONLY_KEY, "1")
            } else {
                s.remove_item(CPU_ONLY_KEY)
            };
            if saved.is_err() {
                state.report("The compute setting could not be saved in this browser.");
            }
        }
        // The learner is worker 0; before a project starts the setting applies at its start.
        let _ = pool::send(pool::LEARNER, WorkerRequest::Compute { compute: choice() });
    };
    view! {
        <h3>"Compute"</h3>
        <p data-testid="backend">{move || state.backend.with(|b| b.0.clone())}</p>
        <p class="muted" data-testid="backend-note">{move || state.backend.with(|b| b.1.clone().unwrap_or_default())}</p>
        <label class="muted">
            <input type="checkbox" data-testid="cpu-only" prop:checked=checked on:change=toggle />
            " Use the CPU only"
        </label>
    }
}
