//! The app's one state struct: signals only here, plain `quarry-core` data inside them.

use leptos::prelude::*;
use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::{LearnerUpdate, Session};

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Choose a dataset.
    Start,
    /// Loading the model and embedding the items.
    Loading,
    /// Labeling.
    Labeling,
}

/// Embedding progress.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// What is happening, for people.
    pub stage: String,
    /// Items embedded or failed.
    pub done: usize,
    /// Items in the set.
    pub total: usize,
    /// Items per second since embedding started.
    pub rate: f64,
}

/// The dataset being labeled.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Human title.
    pub title: String,
    /// Image URL of session item `i`.
    pub urls: Vec<String>,
}

/// All signals of the app, `Copy` so components and callbacks take it by value.
#[derive(Debug, Clone, Copy)]
pub struct AppState {
    pub phase: RwSignal<Phase>,
    pub progress: RwSignal<Progress>,
    pub session: RwSignal<Option<Session>>,
    pub dataset: RwSignal<Option<Dataset>>,
    /// The latest learner update applied to the session.
    pub update: RwSignal<Option<LearnerUpdate>>,
    /// The strategy the person chose ([`StrategyKind::Auto`]: the default policy).
    pub strategy: RwSignal<StrategyKind>,
    /// Whether large pools are narrowed to an AnchorAL subpool.
    pub subpool: RwSignal<Subpool>,
    /// Whether a refresh is in flight.
    pub thinking: RwSignal<bool>,
    /// Messages for the person: failures of any kind, never only logged.
    pub errors: RwSignal<Vec<String>>,
    /// Non-fatal notes (items skipped at import and why).
    pub notices: RwSignal<Vec<String>>,
}

impl AppState {
    pub fn new() -> AppState {
        AppState {
            phase: RwSignal::new(Phase::Start),
            progress: RwSignal::new(Progress::default()),
            session: RwSignal::new(None),
            dataset: RwSignal::new(None),
            update: RwSignal::new(None),
            strategy: RwSignal::new(StrategyKind::Auto),
            subpool: RwSignal::new(Subpool::Auto),
            thinking: RwSignal::new(false),
            errors: RwSignal::new(Vec::new()),
            notices: RwSignal::new(Vec::new()),
        }
    }

    /// Shows `message` to the person.
    pub fn report(&self, message: impl Into<String>) {
        let message = message.into();
        web_sys::console::error_1(&message.clone().into());
        self.errors.update(|e| e.push(message));
    }
}

impl Default for AppState {
    fn default() -> Self {
        AppState::new()
    }
}
