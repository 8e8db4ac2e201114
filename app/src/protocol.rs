//! Messages between the page and its workers (serde enums, sent with `postMessage`).

use quarry_core::head::SoftmaxHead;
use quarry_core::model::{ModelChoice, ModelInfo};
use quarry_core::predict::Predictions;
use quarry_core::{LearnerInput, LearnerUpdate};
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
    /// A text.
    Text(String),
}

/// Page → worker.
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum WorkerRequest {
    /// Fetch and prepare a model.
    LoadModel { model: ModelChoice },
    /// Read the model file at `url` and describe it, answered by [`WorkerResponse::Inspected`].
    Inspect { url: String },
    /// Embed these items, answering one [`WorkerResponse::Embedded`] or
    /// [`WorkerResponse::ItemFailed`] each, in order.
    Embed { jobs: Vec<EmbedJob> },
    /// Own a learner for a pool of `items` items and `classes` classes; embeddings arrive one
    /// by one with [`WorkerRequest::AddEmbedding`].
    StartLearner {
        items: usize,
        classes: usize,
        seed: u64,
        compute: Compute,
    },
    /// Where the learner's pool passes run from now on; answered by
    /// [`WorkerResponse::Backend`].
    Compute { compute: Compute },
    /// The embedding of item `item`, for the learner.
    AddEmbedding { item: usize, embedding: Vec<f32> },
    /// Retrain and pick the next queue; answered by [`WorkerResponse::Update`] with the same `id`.
    Refresh { id: u64, input: LearnerInput },
    /// Send the current head (for a project file); answered by [`WorkerResponse::Head`].
    Head,
    /// Send the head's probabilities of every embedded item; answered by
    /// [`WorkerResponse::Predictions`] with the same `purpose`.
    Predictions { purpose: PredictionsFor },
    /// Build the classifier (the embedding model + the current head) as ONNX; answered by
    /// [`WorkerResponse::Classifier`] or [`WorkerResponse::Failed`].
    Classifier {
        model: ModelChoice,
        classes: Vec<String>,
    },
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
    /// One item's embedding; `cached` when it came from the embedding cache (same content,
    /// same model) instead of the model.
    Embedded {
        item: usize,
        embedding: Vec<f32>,
        cached: bool,
    },
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
    /// The exported classifier: an `.onnx` file, or for a text model a zip with its tokenizer.
    Classifier { bytes: Vec<u8>, zip: bool },
    /// Where the learner's pool passes run: `name` as the side panel shows it ("WebGPU:
    /// <adapter>" or "CPU, 1 worker"), and why the GPU is not used when it is not.
    Backend { name: String, note: Option<String> },
    /// A request failed as a whole (model did not load, learner input invalid…).
    Failed { message: String },
}
