//! Starting a project and the embedding run behind it: worker 0 holds the learner, the others
//! embed; every embedding goes to the learner as it arrives, so labeling starts after the first
//! few items while the rest keep coming.

use std::cell::RefCell;

use leptos::prelude::*;
use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::audit::AuditSettings;
use quarry_core::model::{ImageSpec, ModelChoice};
use quarry_core::project::ItemSource;
use quarry_core::Session;

use super::controller::{request_refresh, BATCH};
use super::pool;
use super::state::{AppState, Dataset, Items, Phase, Progress};
use super::storage::StoredItems;
use crate::protocol::{EmbedInput, EmbedJob, WorkerRequest, WorkerResponse};

/// URL of the bundled image model.
pub const IMAGE_MODEL: &str = "models/efficientnet_lite0_int8.onnx";
/// URL of the bundled text model and its tokenizer.
pub const TEXT_MODEL: &str = "models/minilm_l6_int8.onnx";
pub const TEXT_TOKENIZER: &str = "models/minilm_tokenizer.json";

/// The bundled model for `items`.
pub fn default_model(items: &Items) -> ModelChoice {
    match items {
        Items::Images(_) => ModelChoice::Image {
            url: IMAGE_MODEL.into(),
            spec: ImageSpec::efficientnet_lite(),
        },
        Items::Texts(_) => ModelChoice::Text {
            url: TEXT_MODEL.into(),
            tokenizer_url: TEXT_TOKENIZER.into(),
        },
    }
}
/// The learner's seed: fixed, so a session is reproducible.
const SEED: u64 = 20_261_126;
/// Items embedded before the first queue is asked for (all of them for smaller sets).
const FIRST_READY: usize = 24;

/// A project ready to start: items, classes, and the labels that came with the data.
#[derive(Debug, Clone)]
pub struct Project {
    pub title: String,
    pub names: Vec<String>,
    pub items: Items,
    pub classes: Vec<String>,
    /// Classes of each item given with the data (at most one unless multi-label).
    pub labels: Vec<Vec<usize>>,
    /// Whether an item can have several classes.
    pub multi_label: bool,
    /// The model that embeds the items.
    pub model: ModelChoice,
    /// Where the items came from.
    pub source: ItemSource,
    /// The zip they came from, kept with the saved project.
    pub zip: Option<web_sys::Blob>,
}

/// The embedding run in progress.
struct EmbedRun {
    names: Vec<String>,
    embedded: usize,
    failed: usize,
    started_ms: Option<f64>,
    /// Whether the first queue has been asked for.
    first_asked: bool,
}

thread_local! {
    static RUN: RefCell<Option<EmbedRun>> = const { RefCell::new(None) };
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Starts labeling `project`: a session over all its items, saved in the browser, workers
/// embedding the items, the learner receiving each embedding.
pub fn start_project(state: AppState, project: Project) {
    let session = Session::new(project.names.clone(), project.classes.clone())
        .and_then(|s| s.with_multi_label(project.multi_label));
    let mut session = match session {
        Ok(s) => s,
        Err(e) => {
            state.report(format!("the project cannot start: {e}"));
            return;
        }
    };
    for (item, classes) in project.labels.iter().enumerate() {
        for &class in classes {
            if let Err(e) = session.import_label(item, class) {
                state.report(e.to_string());
            }
        }
    }
    state.strategy.set(StrategyKind::Auto);
    state.subpool.set(Subpool::Auto);
    state.audit.set(AuditSettings::RECOMMENDED);
    let keep = StoredItems {
        names: project.names,
        texts: match &project.items {
            Items::Texts(t) => Some(t.clone()),
            Items::Images(_) => None,
        },
        zip: project.zip,
        ..StoredItems::default()
    };
    begin(
        state,
        session,
        Dataset {
            title: project.title,
            items: project.items,
            model: project.model,
            source: project.source,
        },
    );
    super::persist::create(state, keep);
}

/// Opens `session` over `dataset` (new or reopened: answers, queue and settings as they are)
/// and starts embedding every item; the labeling screen opens as soon as a first queue exists.
/// An item without a URL (its file was not found again) is counted as left out.
pub fn begin(state: AppState, session: Session, dataset: Dataset) {
    let total = session.len();
    let names = session.items().to_vec();
    state.chosen.set(Vec::new());
    if let Some(old) = state.dataset.get_untracked() {
        super::files::revoke(old.items.object_urls());
    }
    let items = dataset.items.clone();
    let model = dataset.model.clone();
    let classes = session.classes().len();
    state.dataset.set(Some(dataset));
    state.session.set(Some(session));
    state.update.set(None);
    state.model_key.set(None);
    state.notices.set(Vec::new());
    state.phase.set(Phase::Loading);
    state.progress.set(Progress {
        stage: "Loading the model…".into(),
        total,
        ..Progress::default()
    });
    RUN.set(Some(EmbedRun {
        names: names.clone(),
        embedded: 0,
        failed: 0,
        started_ms: None,
        first_asked: false,
    }));
    let embedders = pool::default_size();
    let started = pool::start(
        embedders + 1,
        move |worker, response| on_response(state, worker, response),
        move |message| state.report(message),
    );
    if let Err(e) = started {
        state.report(e);
        state.phase.set(Phase::Start);
        return;
    }
    let mut sent = pool::send(
        0,
        WorkerRequest::StartLearner {
            items: total,
            classes,
            seed: SEED,
        },
    );
    // Deal items round-robin so every embedder finishes at about the same time.
    let mut chunks: Vec<Vec<EmbedJob>> = vec![Vec::new(); embedders];
    let mut missing = Vec::new();
    for (item, name) in names.iter().enumerate() {
        let input = match &items {
            Items::Images(urls) if urls[item].is_empty() => {
                missing.push(item);
                continue;
            }
            Items::Images(urls) => EmbedInput::Url(urls[item].clone()),
            Items::Texts(texts) => EmbedInput::Text(texts[item].clone()),
        };
        chunks[item % embedders].push(EmbedJob {
            item,
            name: name.clone(),
            input,
        });
    }
    for (w, chunk) in chunks.into_iter().enumerate() {
        sent = sent
            .and_then(|()| {
                pool::send(
                    w + 1,
                    WorkerRequest::LoadModel {
                        model: model.clone(),
                    },
                )
            })
            .and_then(|()| pool::send(w + 1, WorkerRequest::Embed { jobs: chunk }));
    }
    if let Err(e) = sent {
        state.report(e);
    }
    for item in missing {
        record(state, item, Some("its file was not opened again".into()));
    }
}

fn on_response(state: AppState, worker: usize, response: WorkerResponse) {
    match response {
        WorkerResponse::Ready | WorkerResponse::Inspected { .. } => {}
        WorkerResponse::Head { head } => super::controller::head_arrived(state, head),
        WorkerResponse::Predictions {
            purpose,
            predictions,
        } => super::results::predictions_arrived(state, purpose, predictions),
        WorkerResponse::Classifier { bytes, zip } => {
            super::results::classifier_arrived(state, &bytes, zip)
        }
        WorkerResponse::ModelLoaded { key, .. } => {
            state.model_key.set(Some(key));
            RUN.with_borrow_mut(|run| {
                if let Some(run) = run.as_mut() {
                    run.started_ms.get_or_insert_with(now_ms);
                }
            });
            state
                .progress
                .update(|p| p.stage = "Embedding items…".into());
        }
        WorkerResponse::Embedded {
            item,
            embedding,
            cached,
        } => {
            if let Err(e) = pool::send(0, WorkerRequest::AddEmbedding { item, embedding }) {
                state.report(e);
            }
            if cached {
                state.progress.update(|p| p.cached += 1);
            }
            record(state, item, None);
        }
        // Counted as embedded already: a note only.
        WorkerResponse::Refused { item, message } => {
            let name = state
                .session
                .with_untracked(|s| s.as_ref().map(|s| s.item_name(item).to_string()))
                .unwrap_or_default();
            state
                .notices
                .update(|n| n.push(format!("{name} cannot be queued: {message}")));
        }
        WorkerResponse::ItemFailed { item, message } => record(state, item, Some(message)),
        WorkerResponse::Update { id, update } => {
            super::controller::apply_update(state, id, update);
            if state.phase.get_untracked() == Phase::Loading {
                state.phase.set(Phase::Labeling);
            }
        }
        WorkerResponse::Failed { message } => {
            state.thinking.set(false);
            state.report(message);
            if worker > 0 && state.phase.get_untracked() == Phase::Loading {
                // The model did not load and nothing was labeled: offer the start screen again.
                pool::stop();
                RUN.set(None);
                state.phase.set(Phase::Start);
            }
        }
    }
}

/// Counts one item embedded (`failure` = `None`) or failed, updates the progress, and asks for a
/// queue when the first items are in, when the queue runs short, and when the run ends.
fn record(state: AppState, item: usize, failure: Option<String>) {
    let (refresh, done, total) = RUN.with_borrow_mut(|run| {
        let Some(run) = run.as_mut() else {
            return (false, 0, 0);
        };
        let total = run.names.len();
        match failure {
            None => run.embedded += 1,
            Some(m) => {
                run.failed += 1;
                let name = run.names.get(item).cloned().unwrap_or_default();
                state
                    .notices
                    .update(|n| n.push(format!("{name} was left out: {m}")));
            }
        }
        let done = run.embedded + run.failed;
        let elapsed = run.started_ms.map_or(0.0, |t| (now_ms() - t) / 1000.0);
        state.progress.update(|p| {
            p.done = done;
            p.rate = if elapsed > 0.0 {
                done as f64 / elapsed
            } else {
                0.0
            };
        });
        let first = !run.first_asked && run.embedded >= FIRST_READY.min(total - run.failed);
        run.first_asked |= first;
        let short = run.first_asked
            && !state.thinking.get_untracked()
            && state
                .session
                .with_untracked(|s| s.as_ref().is_some_and(|s| s.queue().len() < BATCH / 2));
        (first || short || done == total, done, total)
    });
    if done == total
        && total > 0
        && RUN.with_borrow(|r| r.as_ref().is_some_and(|r| r.embedded == 0))
    {
        state.report("no item could be embedded; see the notes for each item");
        pool::stop();
        state.phase.set(Phase::Start);
        return;
    }
    if refresh {
        request_refresh(state);
    }
}
