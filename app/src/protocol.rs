//! Messages between the page and its workers (serde enums, sent with `postMessage`).

use quarry_core::cache_blocks::HASH_BYTES;
use quarry_core::head::SoftmaxHead;
use quarry_core::map::tsne::Progress;
use quarry_core::map::Layout;
use quarry_core::model::{ModelChoice, ModelInfo};
use quarry_core::neighbours::Query;
use quarry_core::predict::Predictions;
use quarry_core::simulate::race::{RaceConfig, RaceFrame};
use quarry_core::{LearnerInput, LearnerUpdate, Similar};
use serde::{Deserialize, Serialize};

/// One item for a worker to embed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbedJob {
    /// Index of the item in the dataset.
    pub item: usize,
    /// Display name, used in error messages.
    pub name: String,
    /// What to embed.
    pub input: EmbedInput,
}

/// The content of one item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum EmbedInput {
    /// An image at this URL (the app's own file or an object URL of the person's file).
    Url(String),
    /// An image held by the browser (the person's file, an image of a zip or a demo): read by
    /// the worker straight from the handle, which costs the browser a sixth of the CPU of
    /// fetching its object URL (0.32 ms an image against 1.86, `e2e/bench-fetch.mjs`).
    Blob(#[serde(with = "serde_wasm_bindgen::preserve")] web_sys::Blob),
    /// A text.
    Text(String),
}

/// A file the person picked for "Open embeddings…": its name, and the file itself (crossing as
/// a handle: a worker reads it slice by slice).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbeddingsFile {
    pub path: String,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub blob: web_sys::Blob,
}

/// Where the learner may run its pool passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compute {
    /// The CPU only (the person's setting).
    Cpu,
    /// WebGPU when the worker's `navigator.gpu` offers an adapter that passes the self-check;
    /// a software (fallback) adapter only with `allow_software` (the `?webgpu=software` page
    /// parameter, for tests), since it is slower than the CPU kernels.
    Gpu { allow_software: bool },
}

/// Page → worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum WorkerRequest {
    /// Fetch and prepare a model.
    LoadModel { model: ModelChoice },
    /// Read the model file at `url` and describe it, answered by [`WorkerResponse::Inspected`].
    Inspect { url: String },
    /// Read embeddings files made by `quarry embed` into the embedding cache, one after another, if together they hold at most `limit` rows (the
    /// cache's limit, when there is one). Answered by [`WorkerResponse::EmbeddingsStatus`] as it
    /// goes, one [`WorkerResponse::EmbeddingsKept`] per file, then
    /// [`WorkerResponse::EmbeddingsDone`]. Sent to a worker of its own that is terminated once
    /// done: what reading a large file leaves behind (its header's text, the slices read, the
    /// cache's directory) goes with it instead of staying in the page.
    KeepEmbeddings {
        files: Vec<EmbeddingsFile>,
        limit: Option<usize>,
    },
    /// Embed these items (or take them from the cache), sending the embeddings to the learner
    /// over the connected channel ([`WorkerRequest::Connect`]) and telling the page which items
    /// are done ([`WorkerResponse::Embedded`], in windows) or failed
    /// ([`WorkerResponse::ItemFailed`]); then one [`WorkerResponse::EmbedTiming`].
    Embed { jobs: Vec<EmbedJob> },
    /// Take items an opened embeddings file names from the cache: each by the file's model key
    /// `model` and its content hash (`hashes`: [`HASH_BYTES`] per item of `items`), without
    /// its content. Found rows go to the learner as [`WorkerRequest::Embed`]'s do; items not
    /// found (or all, when `model` is not the loaded model's key) are answered as
    /// [`WorkerResponse::Unmatched`], for the page to send again with their contents; then one
    /// [`WorkerResponse::EmbedTiming`].
    ///
    /// Why typed arrays: a million items crossed as one JS object each (with their text and a
    /// key of 100+ characters) kept the page and the embedder busy making and collecting them:
    /// half of a fill's time, and a tenth of its memory.
    EmbedNamed {
        model: String,
        #[serde(with = "serde_wasm_bindgen::preserve")]
        items: js_sys::Uint32Array,
        #[serde(with = "serde_wasm_bindgen::preserve")]
        hashes: js_sys::Uint8Array,
    },
    /// Own a learner for a pool of `items` items and `classes` classes; embeddings arrive from
    /// the embedders' channels ([`WorkerRequest::Connect`]).
    StartLearner {
        items: usize,
        classes: usize,
        seed: u64,
        compute: Compute,
    },
    /// Where the learner's pool passes run from now on; answered by
    /// [`WorkerResponse::Backend`].
    Compute { compute: Compute },
    /// Hold one end of an embedder → learner channel: the port is the message's one transferred
    /// port. An embedder sends every embedding through it ([`WorkerRequest::Embed`]); the
    /// learner takes them in as [`WorkerRequest::AddEmbeddings`].
    Connect { end: ChannelEnd },
    /// Embeddings for the learner, as they come from an embedder's port (never sent by the
    /// page): `embeddings` holds one row per item of `items`, one after another.
    AddEmbeddings {
        items: Vec<usize>,
        embeddings: Vec<f32>,
    },
    /// Embeddings found in the cache, in its compact form (never sent by the page): `rows`
    /// holds one row of [`quarry_core::cache::compact`]'s bytes per item of `items`, one after
    /// another (a quarter of the f32 bytes, and taken in without quantising again).
    AddCompact { items: Vec<usize>, rows: Vec<u8> },
    /// Run the loaded model `runs` times on a prepared input, answered by
    /// [`WorkerResponse::ModelTimed`] (the embedding benchmark's "model alone").
    TimeModel { runs: usize },
    /// Retrain and pick the next queue; answered by [`WorkerResponse::Update`] with the same `id`.
    Refresh { id: u64, input: LearnerInput },
    /// Send the current head (for a project file); answered by [`WorkerResponse::Head`].
    Head,
    /// Send the head's probabilities of every embedded item; answered by
    /// [`WorkerResponse::Predictions`] with the same `purpose`.
    Predictions { purpose: PredictionsFor },
    /// The `k` embedded items nearest to `query` ("More like this", search by example), with
    /// the head's guesses on them; answered by [`WorkerResponse::Similar`] with the same `id`.
    Similar { id: u64, query: Query, k: usize },
    /// Embed one example from outside the pool with the loaded model (search by example);
    /// answered by [`WorkerResponse::Example`] with the same `id`. Never cached.
    EmbedExample {
        id: u64,
        /// The example's name in messages (its file name, or the sentence).
        name: String,
        input: EmbedInput,
    },
    /// Lay out every embedded item on the Map; answered by [`WorkerResponse::Map`].
    Map,
    /// Start t-SNE layout `id` of the embedded items (`quarry_core::map::tsne`; the items
    /// `keep`, labeled and queued, are in it when the pool is sampled), dropping any other;
    /// answered by [`WorkerResponse::MapForming`] after its first slice of work.
    MapTsne { id: u64, keep: Vec<usize> },
    /// Do the next slice of t-SNE layout `id` (nothing when another has replaced it); answered
    /// by [`WorkerResponse::MapForming`]. The page paces the layout: requests sent meanwhile
    /// (a refresh after an answer) are served between slices.
    MapTsneStep { id: u64 },
    /// Set up a classroom race over the embedded items (all must be embedded) with their true
    /// classes `truth` (one per item); answered by [`WorkerResponse::RaceReady`].
    RaceStart {
        truth: Vec<usize>,
        config: RaceConfig,
    },
    /// Run the race's next round; answered by [`WorkerResponse::RaceFrame`].
    RaceStep,
    /// Build the classifier (the embedding model + the current head) as ONNX; answered by
    /// [`WorkerResponse::Classifier`] or [`WorkerResponse::Failed`].
    Classifier {
        model: ModelChoice,
        classes: Vec<String>,
    },
}

/// Which end of an embedder → learner channel a worker holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelEnd {
    /// Sends its embeddings.
    Embedder,
    /// Receives them.
    Learner,
}

impl WorkerRequest {
    /// The buffers to transfer with this request rather than copy: after posting, the sender's
    /// typed arrays of it are detached (empty), so a request is posted once.
    pub fn transferable(&self) -> js_sys::Array {
        match self {
            WorkerRequest::EmbedNamed { items, hashes, .. } => {
                js_sys::Array::of2(&items.buffer(), &hashes.buffer())
            }
            _ => js_sys::Array::new(),
        }
    }
}

/// Where one embedding worker's time went over one [`WorkerRequest::Embed`] (milliseconds,
/// summed over its items): the page adds the workers' up and writes them to the console.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbedTiming {
    /// Items embedded or taken from the cache (failures not counted).
    pub items: usize,
    /// Of those, taken from the cache.
    pub cached: usize,
    /// Fetching the items' files (in flight while the previous window is embedded).
    pub read_ms: f64,
    /// Hashing the contents and looking them up in the cache (in flight, likewise).
    pub lookup_ms: f64,
    /// Waiting for a window's reads and look-ups, and for the browser between items.
    pub wait_ms: f64,
    /// Decoding and resizing images.
    pub decode_ms: f64,
    /// The model.
    pub model_ms: f64,
    /// Sending embeddings to the learner and progress to the page, queuing cache writes.
    pub send_ms: f64,
    /// The whole request, from its start to its end.
    pub wall_ms: f64,
    /// The worker's wasm memory at the end, in MiB: its peak (a wasm memory never shrinks).
    /// Printed with the run's timing: the embedders are terminated after the run.
    pub memory_mib: f64,
}

impl EmbedTiming {
    /// Adds `other` (a later request of the same worker) to this timing.
    pub fn add(&mut self, other: &EmbedTiming) {
        self.items += other.items;
        self.cached += other.cached;
        self.read_ms += other.read_ms;
        self.lookup_ms += other.lookup_ms;
        self.wait_ms += other.wait_ms;
        self.decode_ms += other.decode_ms;
        self.model_ms += other.model_ms;
        self.send_ms += other.send_ms;
        self.wall_ms += other.wall_ms;
        self.memory_mib = self.memory_mib.max(other.memory_mib);
    }
}

/// What the page asked the pool's predictions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PredictionsFor {
    /// The predictions CSV.
    Csv,
    /// The predictions JSONL.
    Jsonl,
    /// The Predictions view.
    View,
    /// The class-folder zip (with the model's labels above a threshold).
    Folders,
}

/// Worker → page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum WorkerResponse {
    /// The worker's wasm is running and listening.
    Ready,
    /// The model is loaded; embeddings will have `dim` values.
    ModelLoaded { dim: usize, key: String },
    /// What [`WorkerRequest::Inspect`] found, or why the file cannot be used.
    Inspected { result: Result<ModelInfo, String> },
    /// These items' embeddings went to the learner; `cached` of them came from the embedding
    /// cache (same content, same model) instead of the model.
    Embedded { items: Vec<usize>, cached: usize },
    /// Items of a [`WorkerRequest::EmbedNamed`] the cache did not have under the loaded
    /// model: to be sent again with their contents.
    Unmatched { items: Vec<usize> },
    /// An embedder starts decoding and embedding item `item` (one not in the cache: `Some`), or
    /// is done with it (`None`). Should the worker die in between (out of memory on a huge
    /// image, a crash), that item killed it: the page lists it as left out and starts a new
    /// worker on the rest.
    Working { item: Option<usize> },
    /// An embedder finished its [`WorkerRequest::Embed`]: where its time went.
    EmbedTiming { timing: EmbedTiming },
    /// The model's time per run for [`WorkerRequest::TimeModel`], in milliseconds.
    ModelTimed { ms: Vec<f64> },
    /// The learner could not take item `item`'s embedding (it is not queued); the rest go on.
    Refused { item: usize, message: String },
    /// One item could not be read or embedded; the rest go on.
    ItemFailed { item: usize, message: String },
    /// The learner's answer to `Refresh { id, .. }`.
    Update { id: u64, update: LearnerUpdate },
    /// The learner's current head (none before the first fit, or in multi-label projects).
    Head { head: Option<SoftmaxHead> },
    /// The head's probabilities of every embedded item (none before a head exists).
    Predictions {
        purpose: PredictionsFor,
        predictions: Option<Predictions>,
    },
    /// The answer to [`WorkerRequest::Similar`] with this `id`, and the search's time in
    /// milliseconds (the learner worker's clock).
    Similar {
        id: u64,
        similar: Result<Similar, String>,
        ms: f64,
    },
    /// The embedding of [`WorkerRequest::EmbedExample`] with this `id`, or why there is none.
    Example {
        id: u64,
        embedding: Result<Vec<f32>, String>,
    },
    /// The Map's layout of the embedded items and the time it took, in milliseconds.
    Map { layout: Layout, ms: f64 },
    /// t-SNE layout `id` as it stands, where it stands, and the worker's time on it so far.
    MapForming {
        id: u64,
        layout: Layout,
        progress: Progress,
        ms: f64,
    },
    /// The race is set up, or why it cannot be.
    RaceReady { result: Result<(), String> },
    /// One round of the race.
    RaceFrame { frame: Result<RaceFrame, String> },
    /// The exported classifier: an `.onnx` file, or for a text model a zip with its tokenizer.
    Classifier { bytes: Vec<u8>, zip: bool },
    /// Where the learner's pool passes run: `name` as the side panel shows it ("WebGPU:
    /// <adapter>" or "CPU, 1 worker"), and why the GPU is not used when it is not.
    Backend { name: String, note: Option<String> },
    /// A request failed as a whole (model did not load, learner input invalid…).
    Failed { message: String },
    /// How far [`WorkerRequest::KeepEmbeddings`] is, in words for the page to show.
    EmbeddingsStatus { status: String },
    /// One file of [`WorkerRequest::KeepEmbeddings`]: kept, with what matches items to its rows,
    /// or why it is not.
    EmbeddingsKept {
        path: String,
        result: Result<KeptNames, String>,
    },
    /// [`WorkerRequest::KeepEmbeddings`] is over; `refused` says why nothing was read when the
    /// files hold more rows than the limit.
    EmbeddingsDone { refused: Option<String> },
}

/// What the page keeps of an embeddings file once its rows are in the cache: its model key and
/// each row's item name and content hash, packed (a million names as one string, not a million
/// strings made and dropped in the page). The packed parts cross as `Uint8Array`s that the page
/// takes ([`KeptNames::take`]): copied into its wasm memory, their buffers freed at once rather
/// than left to the page's collector (60 MB for a million rows).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeptNames {
    pub model_key: String,
    /// Inputs `quarry embed` listed as left out.
    pub left_out: usize,
    /// The item names end to end, in row order (UTF-8).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub names: js_sys::Uint8Array,
    /// Where each name ends in `names` (`u32`, little-endian).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub ends: js_sys::Uint8Array,
    /// Each row's content hash (32 bytes).
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub hashes: js_sys::Uint8Array,
}

impl KeptNames {
    /// Packs `names` and `hashes` (one of each per row).
    pub fn pack(
        model_key: String,
        left_out: usize,
        names: &[String],
        hashes: &[[u8; HASH_BYTES]],
    ) -> Self {
        let unpacked = Unpacked::pack(names, hashes);
        KeptNames {
            model_key,
            left_out,
            names: js_sys::Uint8Array::from(unpacked.names.as_slice()),
            ends: js_sys::Uint8Array::from(unpacked.ends.as_slice()),
            hashes: js_sys::Uint8Array::from(unpacked.hashes.as_slice()),
        }
    }

    /// Rows of the file.
    pub fn rows_len(&self) -> usize {
        self.hashes.length() as usize / HASH_BYTES
    }

    /// The packed parts, copied out of their arrays, which are emptied (detached): a message's
    /// arrays are the receiver's alone.
    pub fn take(&self) -> Unpacked {
        Unpacked {
            names: crate::js_bytes::take(&self.names),
            ends: crate::js_bytes::take(&self.ends),
            hashes: crate::js_bytes::take(&self.hashes),
        }
    }
}

/// The parts of [`KeptNames`] in wasm memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unpacked {
    /// The item names end to end, in row order (UTF-8).
    pub names: Vec<u8>,
    /// Where each name ends in `names` (`u32`, little-endian).
    pub ends: Vec<u8>,
    /// Each row's content hash (32 bytes).
    pub hashes: Vec<u8>,
}

impl Unpacked {
    /// Packs `names` and `hashes` (one of each per row).
    pub fn pack(names: &[String], hashes: &[[u8; HASH_BYTES]]) -> Self {
        let mut text = Vec::with_capacity(names.iter().map(String::len).sum());
        let mut ends = Vec::with_capacity(4 * names.len());
        for name in names {
            text.extend_from_slice(name.as_bytes());
            ends.extend_from_slice(&(text.len() as u32).to_le_bytes());
        }
        Unpacked {
            names: text,
            ends,
            hashes: hashes.concat(),
        }
    }

    /// Each row's name and hash, in row order; `None` when the parts do not agree.
    pub fn rows(&self) -> Option<impl Iterator<Item = (&str, [u8; HASH_BYTES])> + '_> {
        let text = std::str::from_utf8(&self.names).ok()?;
        let ends = self.ends.chunks_exact(4);
        let hashes = self.hashes.chunks_exact(HASH_BYTES);
        let end = |e: &[u8]| u32::from_le_bytes([e[0], e[1], e[2], e[3]]) as usize;
        let agree = ends.remainder().is_empty()
            && hashes.remainder().is_empty()
            && hashes.len() == ends.len()
            && ends.clone().map(end).is_sorted()
            && ends.clone().last().is_none_or(|e| end(e) == text.len())
            && ends.clone().all(|e| text.is_char_boundary(end(e)));
        let mut from = 0;
        agree.then(|| {
            ends.zip(hashes).map(move |(e, hash)| {
                let to = end(e);
                let name = &text[from..to];
                from = to;
                (name, hash.try_into().expect("chunks of HASH_BYTES"))
            })
        })
    }
}
