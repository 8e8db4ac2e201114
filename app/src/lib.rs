//! Quarry's browser app. Two binaries share this library:
//!
//! * `quarry-app` (src/main.rs): the Leptos UI on the page's main thread ([`ui`]). It owns the
//!   [`quarry_core::Session`] and never runs tract or training.
//! * `worker` (src/bin/worker.rs): a Web Worker ([`worker`]) that loads the ONNX model, embeds
//!   items and, in the first worker, owns the [`quarry_core::Learner`].
//!
//! They speak [`protocol::WorkerRequest`] / [`protocol::WorkerResponse`].

pub mod idb;
pub mod js_bytes;
pub mod js_json;
pub mod protocol;
pub mod ui;
#[cfg(feature = "worker")]
pub mod worker;
