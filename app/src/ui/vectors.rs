//! "Open embeddings…": a file made by `quarry embed` ([`quarry_core::vectors_file`]) goes into
//! this browser's embedding cache, read by a worker of its own (`worker/vectors.rs`), and the
//! page keeps each row's name and hash ([`KeptNames`]). The items it describes, opened next, are then not embedded again, and only under the
//! model the file was made with. They are matched by name first
//! ([`quarry_core::vectors_file::match_names`]: the item is then not even read — what makes a
//! pool of a million images open quickly), and otherwise by content (the cache key is the
//! model's key and the content's hash: a renamed file still matches).

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use quarry_core::name_index::NameIndex;

use super::files::Picked;
use super::pool::Errand;
use super::state::AppState;
use crate::protocol::{EmbeddingsFile, KeptNames, WorkerRequest, WorkerResponse};

/// The item names of the embeddings files opened in this page: each name's entry holds the
/// file's model key (an index into `models`) and the content hash (32 bytes, not 64 hex
/// characters: a million names are kept here, in a [`NameIndex`], entry for entry).
#[derive(Default)]
struct Named {
    models: Vec<String>,
    names: NameIndex,
    entries: Vec<(u32, [u8; 32])>,
}

thread_local! {
    static NAMED: RefCell<Named> = RefCell::new(Named::default());
}

/// Which entry of the opened embeddings files each of `items` is, by its name (see
/// [`quarry_core::vectors_file::match_names`]); `None` for items they do not name. Turn one
/// into a model and content hash with [`named_hash`].
pub fn named_entries(items: &[String]) -> Vec<Option<u32>> {
    NAMED.with_borrow(|named| {
        if named.names.is_empty() {
            return vec![None; items.len()];
        }
        quarry_core::vectors_file::match_names(items, named.entries.len(), |n| named.names.get(n))
    })
}

/// The model (an index: [`named_model`]) and content hash of entry `entry` (from
/// [`named_entries`]).
pub fn named_hash(entry: u32) -> Option<(u32, [u8; 32])> {
    NAMED.with_borrow(|named| named.entries.get(entry as usize).copied())
}

/// The key of the model that [`named_hash`] gives as `model`.
pub fn named_model(model: u32) -> Option<String> {
    NAMED.with_borrow(|named| named.models.get(model as usize).cloned())
}

/// Remembers the names and hashes of a file kept in the cache (their arrays are emptied);
/// returns how many rows it has, `None` when they do not read.
fn remember(kept: &KeptNames) -> Option<usize> {
    let count = kept.rows_len();
    let parts = kept.take();
    let rows = parts.rows()?;
    NAMED.with_borrow_mut(|named| {
        let model = match named.models.iter().position(|m| *m == kept.model_key) {
            Some(i) => i,
            None => {
                named.models.push(kept.model_key.clone());
                named.models.len() - 1
            }
        } as u32;
        let Named { names, entries, .. } = named;
        names.extend(rows.map(|(name, hash)| {
            entries.push((model, hash));
            name
        }));
    });
    Some(count)
}

thread_local! {
    /// The worker reading embeddings files, while it does ([`open_embeddings`]).
    static READER: RefCell<Option<Errand>> = const { RefCell::new(None) };
}

/// What the files of one "Open embeddings…" came to, so far.
#[derive(Default)]
struct Tally {
    rows: usize,
    left_out: usize,
    opened: Vec<String>,
}

/// Reads embeddings files `files` (one, or the shards of a run) into the cache, in a worker of
/// its own ([`WorkerRequest::KeepEmbeddings`]), saying how far it is in
/// [`AppState::vectors_status`]. Together they must fit the cache's limit. A file that cannot
/// be read is reported by name and reason; the others are kept.
pub fn open_embeddings(state: AppState, files: Vec<Picked>) {
    if files.is_empty() {
        return;
    }
    if READER.with_borrow(Option::is_some) {
        return state.report(
            "embeddings files opened before are still being read: open these once they are ready",
        );
    }
    let request = WorkerRequest::KeepEmbeddings {
        files: files
            .into_iter()
            .map(|f| EmbeddingsFile {
                path: f.path,
                blob: f.blob,
            })
            .collect(),
        limit: super::storage_info::cache_limit().map(|l| l as usize),
    };
    let tally = Rc::new(RefCell::new(Tally::default()));
    // Not from inside the worker's own callback: its listeners go with it.
    let end = || leptos::task::spawn_local(async { drop(READER.take()) });
    let failed = move |message: String| {
        end();
        state.vectors_status.set(None);
        state.report(format!("the embeddings files could not be read: {message}"));
    };
    let on_response = move |response| match response {
        WorkerResponse::EmbeddingsStatus { status } => state.vectors_status.set(Some(status)),
        WorkerResponse::EmbeddingsKept { path, result } => match result {
            Ok(kept) => match remember(&kept) {
                Some(rows) => {
                    let mut t = tally.borrow_mut();
                    t.rows += rows;
                    t.left_out += kept.left_out;
                    t.opened.push(path);
                }
                None => state.report(format!("{path}: its names came back damaged")),
            },
            Err(e) => state.report(format!("{path}: {e}")),
        },
        WorkerResponse::EmbeddingsDone { refused } => {
            end();
            if let Some(refused) = refused {
                state.vectors_status.set(None);
                return state.report(refused);
            }
            let tally = std::mem::take(&mut *tally.borrow_mut());
            leptos::task::spawn_local(finish(state, tally));
        }
        WorkerResponse::Failed { message } => failed(message),
        _ => {}
    };
    let started = Errand::start("quarry embeddings file", &request, on_response, failed);
    match started {
        Ok(errand) => READER.set(Some(errand)),
        Err(e) => failed(e),
    }
}

/// After the files are kept: older entries make room for them (the least recently used go
/// first), and the status says what is ready.
async fn finish(state: AppState, tally: Tally) {
    super::storage_info::trim_cache(state).await;
    if tally.opened.is_empty() {
        state.vectors_status.set(None);
        return;
    }
    let left = if tally.left_out > 0 {
        format!(" ({} inputs listed as left out)", tally.left_out)
    } else {
        String::new()
    };
    state.vectors_status.set(Some(format!(
        "{} embeddings from {} are ready in this browser{left}. Now open the images or texts \
         they describe: they are matched by name or content and not embedded again (with the \
         model the file was made with).",
        tally.rows,
        tally.opened.join(", ")
    )));
}
