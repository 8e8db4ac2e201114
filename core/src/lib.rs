//! Quarry's core: everything that is not the browser.
//!
//! The flow is files in → [`embed`] → [`Learner`] (train the [`head`], score, [`acquire`]) →
//! [`Session`] (queue, answers, undo) → [`export`]. Every type here is plain data: no clock, no
//! threads, no unseeded randomness, so the same inputs give the same outputs natively and in wasm.

pub mod acquire;
pub mod archive;
pub mod audit;
pub mod bench;
pub mod cache;
pub mod cache_blocks;
pub mod candidates;
pub mod compute;
pub mod dataset;
#[cfg(feature = "embed")]
pub mod embed;
mod error;
pub mod evaluate;
pub mod export;
pub mod head;
pub mod import;
pub mod keys;
pub mod kmeans;
mod labels;
mod lbfgs;
mod learner;
pub mod map;
pub mod matrix;
pub mod model;
pub mod name_index;
pub mod neighbours;
pub mod npy;
pub mod predict;
pub mod project;
pub mod quality;
pub mod rng;
mod session;
pub mod shown;
pub mod simulate;
pub mod store;
pub mod table;
pub mod vectors_file;

pub use error::{Error, Result};
pub use labels::{Answer, LearnerInput};
pub use learner::{CurvePoint, Learner, LearnerUpdate, RefreshTimes, Similar};
pub use session::{ClassEntry, DeletedItems, RedoStep, Session, SessionSnapshot, Step};
