//! Choosing the model on the setup screen: the bundled one, or an ONNX file the person brings,
//! inspected in a worker (tract lives only there) before anything is embedded.

use leptos::prelude::*;
use quarry_core::model::{ImageSpec, ModelChoice, ModelKind};

use super::files::{object_url, revoke, Picked};
use super::models::{default_model, TEXT_TOKENIZER};
use super::pool;
use super::state::AppState;
use crate::protocol::{WorkerRequest, WorkerResponse};

/// Inspects the ONNX file `file` in a worker; when it can be used, it becomes the draft's model
/// (with the preprocessing inspection proposes), else the person is told why.
pub fn pick_model(state: AppState, file: Picked) {
    let url = match object_url(&file.blob) {
        Ok(u) => u,
        Err(e) => return state.report(format!("{}: {e}", file.path)),
    };
    state.model_busy.set(true);
    let name = file.path.clone();
    let inspected_url = url.clone();
    let on_response = move |_worker: usize, response: WorkerResponse| {
        let WorkerResponse::Inspected { result } = response else {
            return;
        };
        state.model_busy.set(false);
        pool::stop();
        match result {
            Ok(info) => state.draft.update(|d| {
                let Some(d) = d.as_mut() else { return };
                revoke(&[d.model.url().to_string()]);
                d.model = match info.kind {
                    ModelKind::Image => ModelChoice::Image {
                        url: inspected_url.clone(),
                        spec: info
                            .proposed
                            .clone()
                            .unwrap_or_else(ImageSpec::efficientnet_lite),
                    },
                    ModelKind::Text => ModelChoice::Text {
                        url: inspected_url.clone(),
                        tokenizer_url: TEXT_TOKENIZER.into(),
                    },
                };
                d.custom_model = Some((name.clone(), info));
            }),
            Err(e) => {
                revoke(std::slice::from_ref(&inspected_url));
                state.report(format!("{name} cannot be used as a model: {e}"));
            }
        }
    };
    let started = pool::start(1, on_response, move |_, m| {
        state.report(format!("a background worker failed: {m}"))
    })
    .and_then(|()| pool::send(0, WorkerRequest::Inspect { url }));
    if let Err(e) = started {
        state.model_busy.set(false);
        state.report(e);
    }
}

/// Uses `file` as the tokenizer of the custom text model.
pub fn pick_tokenizer(state: AppState, file: Picked) {
    match object_url(&file.blob) {
        Ok(u) => state.draft.update(|d| {
            if let Some(ModelChoice::Text { tokenizer_url, .. }) = d.as_mut().map(|d| &mut d.model)
            {
                revoke(&[std::mem::replace(tokenizer_url, u)]);
            }
        }),
        Err(e) => state.report(format!("{}: {e}", file.path)),
    }
}

/// Changes the custom image model's preprocessing.
pub fn edit_spec(state: AppState, change: impl FnOnce(&mut ImageSpec)) {
    state.draft.update(|d| {
        if let Some(ModelChoice::Image { spec, .. }) = d.as_mut().map(|d| &mut d.model) {
            change(spec);
        }
    });
}

/// Back to the bundled model for the draft's items.
pub fn use_bundled(state: AppState) {
    state.draft.update(|d| {
        if let Some(d) = d.as_mut() {
            revoke(&[d.model.url().to_string()]);
            if let ModelChoice::Text { tokenizer_url, .. } = &d.model {
                revoke(std::slice::from_ref(tokenizer_url));
            }
            d.model = default_model(&d.items);
            d.custom_model = None;
        }
    });
}
