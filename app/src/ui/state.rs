//! The app's one state struct: signals only here, plain `quarry-core` data inside them.

use leptos::prelude::*;
use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::audit::AuditSettings;
use quarry_core::model::{ModelChoice, ModelInfo};
use quarry_core::project::ItemSource;
use quarry_core::{LearnerUpdate, Session};

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Choose a dataset.
    Start,
    /// Check what was opened, name the classes, start.
    Setup,
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
    /// Items whose embedding came from the cache.
    pub cached: usize,
}

impl Progress {
    /// Whether items are still being embedded.
    pub fn running(&self) -> bool {
        self.done < self.total
    }

    /// "1,234 / 5,000 · 12.3 per second · about 5 min left".
    pub fn summary(&self, unit: &str) -> String {
        let mut s = format!("{} / {} {unit}", self.done, self.total);
        if self.cached > 0 {
            s.push_str(&format!(" ({} from the cache)", self.cached));
        }
        if self.rate > 0.0 {
            s.push_str(&format!(" · {:.1} per second", self.rate));
            if self.running() {
                let left = (self.total - self.done) as f64 / self.rate;
                s.push_str(&format!(" · about {} left", duration(left)));
            }
        }
        s
    }
}

/// "40 s", "3 min", "1 h 05 min".
fn duration(seconds: f64) -> String {
    let s = seconds.ceil() as u64;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s.div_ceil(60))
    } else {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    }
}

/// What the items are, for showing them.
#[derive(Debug, Clone, PartialEq)]
pub enum Items {
    /// Image URL of each item (the app's own files or object URLs of the person's files).
    Images(Vec<String>),
    /// The text of each item (shared: the project's stored copy and searches take no copy of a
    /// million texts).
    Texts(std::sync::Arc<[String]>),
}

impl Items {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            Items::Images(v) => v.len(),
            Items::Texts(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Object URLs to free when the items go.
    pub fn object_urls(&self) -> &[String] {
        match self {
            Items::Images(v) => v,
            Items::Texts(_) => &[],
        }
    }
}

/// The dataset being labeled.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Human title.
    pub title: String,
    /// Session item `i` is `items[i]`.
    pub items: Items,
    /// The model that embeds them.
    pub model: ModelChoice,
    /// Where the items came from.
    pub source: ItemSource,
}

/// Whether the project is kept in the browser's storage.
#[derive(Debug, Clone, PartialEq)]
pub enum Storage {
    /// No project open.
    Off,
    /// Saved under `id`; `busy` while a write is in flight.
    On { id: String, busy: bool },
    /// Saving failed or is not allowed here: the project lives in memory only.
    Failed { reason: String },
}

/// A project waiting for the person to open its files again.
#[derive(Debug, Clone)]
pub struct Reopen {
    /// Its storage id, when it is a saved project (else it came from a project file).
    pub id: Option<String>,
    pub project: quarry_core::project::Project,
}

/// Something opened but not started yet: the setup screen edits it.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// Human title.
    pub title: String,
    /// Display name of each item.
    pub names: Vec<String>,
    /// The items.
    pub items: Items,
    /// Proposed classes (class folders, label values), editable.
    pub classes: Vec<String>,
    /// A label that came with each item, if any (multi-label: classes joined by `;`).
    pub labels: Vec<Option<String>>,
    /// Whether an item can have several classes.
    pub multi_label: bool,
    /// What was left out at import, and why.
    pub notes: Vec<String>,
    /// For text tables: the table and the chosen text and label columns.
    pub table: Option<TableChoice>,
    /// The model that will embed the items.
    pub model: ModelChoice,
    /// Where the items came from.
    pub source: ItemSource,
    /// The zip the images came from, kept with a saved project.
    pub zip: Option<web_sys::Blob>,
    /// For a model the person brought: its file name and what inspection found.
    pub custom_model: Option<(String, ModelInfo)>,
}

/// A text table and which columns hold the text and the labels.
#[derive(Debug, Clone, PartialEq)]
pub struct TableChoice {
    pub table: quarry_core::import::TextTable,
    pub text: usize,
    pub label: Option<usize>,
}

/// All signals of the app, `Copy` so components and callbacks take it by value.
#[derive(Debug, Clone, Copy)]
pub struct AppState {
    pub phase: RwSignal<Phase>,
    pub progress: RwSignal<Progress>,
    pub session: RwSignal<Option<Session>>,
    pub dataset: RwSignal<Option<Dataset>>,
    /// What the setup screen is editing.
    pub draft: RwSignal<Option<Draft>>,
    /// The latest learner update applied to the session.
    pub update: RwSignal<Option<LearnerUpdate>>,
    /// The strategy the person chose ([`StrategyKind::Auto`]: the default policy).
    pub strategy: RwSignal<StrategyKind>,
    /// Whether large pools are narrowed to an AnchorAL subpool.
    pub subpool: RwSignal<Subpool>,
    /// Audit questions: how many and how drawn.
    pub audit: RwSignal<AuditSettings>,
    /// An export waiting for the learner (its button shows it is busy).
    pub exporting: RwSignal<Option<&'static str>>,
    /// The folder zip's threshold for the model's labels (`None`: the person's only).
    pub folder_threshold: RwSignal<Option<f32>>,
    /// Items zipped so far while the folder zip is being made.
    pub folder_progress: RwSignal<Option<usize>>,
    /// Whether the Predictions view is open.
    pub browsing: RwSignal<bool>,
    /// Items checked in the Predictions view (a class key labels them all).
    pub selected: RwSignal<Vec<usize>>,
    /// The head's predictions for the whole pool, for the Predictions view.
    pub pool_predictions: RwSignal<Option<quarry_core::predict::Predictions>>,
    /// Whether a refresh is in flight.
    pub thinking: RwSignal<bool>,
    /// How many refreshes were asked for after the one whose queue is shown (0: the queue
    /// reflects every answer; shown as `data-queue-age` for the benchmarks).
    pub queue_age: RwSignal<u64>,
    /// Whether a model file is being inspected.
    pub model_busy: RwSignal<bool>,
    /// Multi-label projects: the classes chosen for the current item, not yet saved.
    pub chosen: RwSignal<Vec<usize>>,
    /// The embedding cache's key of the loaded model (`quarry_core::cache::model_key`).
    pub model_key: RwSignal<Option<String>>,
    /// Whether and where the project is saved.
    pub storage: RwSignal<Storage>,
    /// A project whose files must be opened again.
    pub reopening: RwSignal<Option<Reopen>>,
    /// Messages for the person: failures of any kind, never only logged.
    pub errors: RwSignal<Vec<String>>,
    /// Non-fatal notes (items skipped at import and why).
    pub notices: RwSignal<Vec<String>>,
    /// Where the learner's pool passes run, as the side panel names it, and why not on the GPU.
    pub backend: RwSignal<(String, Option<String>)>,
    /// Always the full class list: candidate set queries off (saved with the project).
    pub full_list: RwSignal<bool>,
    /// The item on which "Not here" opened the full class list.
    pub not_here: RwSignal<Option<usize>>,
    /// Candidate set queries answered this visit, and how many of them the set held.
    pub set_stats: RwSignal<(usize, usize)>,
    /// Whether the keyboard shortcuts overlay (`?`) is open.
    pub help_open: RwSignal<bool>,
    /// The current item's candidate set, fixed when the item came on screen (see
    /// `candidates::asked_set`).
    pub asked_set: Memo<Option<AskedSet>>,
    /// Which of the explore views is open over the labeling view (at most one, and never with
    /// the Predictions view).
    pub explore: RwSignal<Explore>,
    /// The latest neighbour search ("More like this", search by example).
    pub similar: RwSignal<Option<SimilarSearch>>,
    /// The Map's layout of the embedded items, and how long the learner took to make it (ms).
    pub layout: RwSignal<Option<(quarry_core::map::Layout, f64)>>,
    /// Set when another tab holds the open project ([`super::tab_lock`]): nothing is saved here.
    pub read_only: RwSignal<Option<ReadOnly>>,
    /// Bumped when the embedding cache changed under the side panel's storage section (a run
    /// ended and the cache was trimmed, embeddings were opened): it measures again.
    pub cache_changed: RwSignal<u32>,
    /// Where reading an embeddings file ("Open embeddings…") stands, or what it made ready.
    pub vectors_status: RwSignal<Option<String>>,
    /// The Map's t-SNE layout, as the page follows it.
    pub map_tsne: RwSignal<MapTsne>,
    /// The classroom race.
    pub race: RwSignal<RaceState>,
    /// The person's own keys (saved with the project).
    pub keys: RwSignal<quarry_core::keys::KeyChoices>,
}

/// An explore view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Explore {
    Off,
    /// "More like this" / search by example: a grid of the nearest items.
    Similar,
    /// The Map: every embedded item on a 2-D projection.
    Map,
    /// The classroom race (demos only).
    Race,
}

/// A project shown read-only: its id, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOnly {
    pub id: String,
    pub why: String,
}

/// The Map's t-SNE layout as the page follows it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MapTsne {
    /// Whether the Map is laid out by t-SNE (else by PCA).
    pub on: bool,
    /// The layout under way or shown (an answer about another is dropped).
    pub id: u64,
    /// Where it stands (`None` until its first slice is done).
    pub progress: Option<quarry_core::map::tsne::Progress>,
}

/// The classroom race as the page shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RaceState {
    /// The strategies racing, in lane order.
    pub strategies: Vec<quarry_core::acquire::StrategyKind>,
    /// The rounds so far.
    pub frames: Vec<quarry_core::simulate::race::RaceFrame>,
    /// Set up in the learner worker and ready to step.
    pub ready: bool,
    /// Stepping on its own (Space starts and pauses).
    pub running: bool,
    /// A step was asked for and has not come back.
    pub in_flight: bool,
    /// Large type, high contrast.
    pub presenter: bool,
    /// Why it cannot run.
    pub error: Option<String>,
}

impl RaceState {
    /// Whether the last round has been run.
    pub fn done(&self) -> bool {
        self.frames.last().is_some_and(|f| f.done)
    }
}

/// A neighbour search and, once it is back, its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarSearch {
    /// Matches the learner's (or the embedder's) answer to this search.
    pub id: u64,
    /// What the items are like, in words ("cat_17.png", "your example").
    pub like: String,
    /// `None` while it runs.
    pub result: Option<Result<quarry_core::Similar, String>>,
    /// The learner's time for the search, in milliseconds.
    pub ms: f64,
}

impl SimilarSearch {
    /// The items found, most similar first (none while it runs or when it failed).
    pub fn items(&self) -> Vec<usize> {
        match &self.result {
            Some(Ok(r)) => r.neighbours.iter().map(|n| n.item).collect(),
            _ => Vec::new(),
        }
    }
}

/// How the item on screen is asked: decided once, when it comes on screen, so a refresh that
/// lands while a person reads it never moves a class under their finger.
#[derive(Debug, Clone, PartialEq)]
pub struct AskedSet {
    pub item: usize,
    /// Number of classes then (a class edit decides again).
    pub classes: usize,
    /// Its candidate classes, most probable first (`None`: asked with the full list).
    pub set: Option<Vec<usize>>,
    /// The guess the set came from (a probability per class; empty without a set): what the
    /// buttons show, so their numbers never disagree with their order.
    pub guess: Vec<f32>,
}

impl AppState {
    pub fn new() -> AppState {
        let mut state = AppState {
            phase: RwSignal::new(Phase::Start),
            progress: RwSignal::new(Progress::default()),
            session: RwSignal::new(None),
            dataset: RwSignal::new(None),
            draft: RwSignal::new(None),
            update: RwSignal::new(None),
            strategy: RwSignal::new(StrategyKind::Auto),
            subpool: RwSignal::new(Subpool::Auto),
            audit: RwSignal::new(AuditSettings::RECOMMENDED),
            exporting: RwSignal::new(None),
            folder_threshold: RwSignal::new(None),
            folder_progress: RwSignal::new(None),
            browsing: RwSignal::new(false),
            selected: RwSignal::new(Vec::new()),
            pool_predictions: RwSignal::new(None),
            thinking: RwSignal::new(false),
            queue_age: RwSignal::new(0),
            model_busy: RwSignal::new(false),
            chosen: RwSignal::new(Vec::new()),
            model_key: RwSignal::new(None),
            storage: RwSignal::new(Storage::Off),
            reopening: RwSignal::new(None),
            errors: RwSignal::new(Vec::new()),
            notices: RwSignal::new(Vec::new()),
            backend: RwSignal::new(("CPU, 1 worker".into(), None)),
            full_list: RwSignal::new(false),
            not_here: RwSignal::new(None),
            set_stats: RwSignal::new((0, 0)),
            help_open: RwSignal::new(false),
            asked_set: Memo::new(|_| None),
            explore: RwSignal::new(Explore::Off),
            similar: RwSignal::new(None),
            layout: RwSignal::new(None),
            map_tsne: RwSignal::new(MapTsne::default()),
            vectors_status: RwSignal::new(None),
            read_only: RwSignal::new(None),
            cache_changed: RwSignal::new(0),
            race: RwSignal::new(RaceState::default()),
            keys: RwSignal::new(quarry_core::keys::KeyChoices::default()),
        };
        state.asked_set = Memo::new(move |prev| super::candidates::asked_set(state, prev));
        state
    }

    /// Item `item`'s picture URL (`false`) or text (`true`, as lists show it:
    /// [`quarry_core::shown::LINE_CHARS`] at most), untracked.
    pub fn item_content(&self, item: usize) -> Option<(String, bool)> {
        self.dataset
            .with_untracked(|d| match d.as_ref().map(|d| &d.items) {
                Some(Items::Images(v)) => v.get(item).map(|u| (u.clone(), false)),
                Some(Items::Texts(v)) => v.get(item).map(|t| {
                    let t = quarry_core::shown::shown(t, quarry_core::shown::LINE_CHARS);
                    (t.into_owned(), true)
                }),
                None => None,
            })
    }

    /// The keys in force for the project's classes (tracked: views re-render on a change).
    pub fn key_map(&self) -> quarry_core::keys::KeyMap {
        let ids = self.session.with(|s| {
            s.as_ref()
                .map(|s| s.class_ids().to_vec())
                .unwrap_or_default()
        });
        self.keys.with(|k| quarry_core::keys::KeyMap::new(&ids, k))
    }

    /// Shows `message` to the person.
    pub fn report(&self, message: impl Into<String>) {
        let message = message.into();
        web_sys::console::error_1(&message.clone().into());
        // The same message from several workers is shown once.
        self.errors.update(|e| {
            if !e.contains(&message) {
                e.push(message);
            }
        });
    }
}

impl Default for AppState {
    fn default() -> Self {
        AppState::new()
    }
}
