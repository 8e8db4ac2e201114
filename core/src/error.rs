//! The one error type of `quarry-core`.

/// Everything that can go wrong in `quarry-core`, with enough context to show a person.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes given as a model are not a loadable ONNX model.
    #[error("the model could not be loaded: {0}")]
    Model(String),
    /// The model loaded but its inputs or outputs are not what an embedder needs.
    #[error("the model is not an image embedder: {0}")]
    ModelShape(String),
    /// Running the model failed.
    #[error("embedding failed: {0}")]
    Inference(String),
    /// The bytes of an item could not be decoded as an image.
    #[error("'{item}' is not a readable image: {reason}")]
    Image { item: String, reason: String },
    /// A dataset manifest or other input file is malformed.
    #[error("malformed {what}: {reason}")]
    Format { what: &'static str, reason: String },
    /// An argument broke a documented contract (wrong dimension, unknown index, …).
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
