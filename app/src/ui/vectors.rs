//! "Open embeddings…": a file made by `quarry embed` ([`quarry_core::vectors_file`]) goes into
//! this browser's embedding cache, read in slices of rows (a large file is never in memory at
//! once). The items it describes, opened next, are then not embedded again, and only under the
//! model the file was made with. They are matched by name first
//! ([`quarry_core::vectors_file::match_names`]: the item is then not even read — what makes a
//! pool of a million images open quickly), and otherwise by content (the cache key is the
//! model's key and the content's hash: a renamed file still matches).

use std::cell::RefCell;

use js_sys::{Object, Reflect};
use leptos::prelude::*;
use quarry_core::cache_blocks::{hash_bytes, join_key};
use quarry_core::name_index::NameIndex;
use quarry_core::vectors_file::Header;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

use super::files::{read_bytes, Picked};
use super::js_json;
use super::state::AppState;

/// Rows read and stored per slice (four of the cache's blocks).
const ROWS_PER_SLICE: usize = 4 * quarry_core::cache_blocks::BLOCK_ROWS;

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
/// into a cache key with [`named_key`].
pub fn named_entries(items: &[String]) -> Vec<Option<u32>> {
    NAMED.with_borrow(|named| {
        if named.names.is_empty() {
            return vec![None; items.len()];
        }
        quarry_core::vectors_file::match_names(items, named.entries.len(), |n| named.names.get(n))
    })
}

/// The cache key of entry `entry` (from [`named_entries`]).
pub fn named_key(entry: u32) -> Option<String> {
    NAMED.with_borrow(|named| {
        let (model, hash) = named.entries.get(entry as usize)?;
        Some(join_key(&named.models[*model as usize], hash))
    })
}

/// Remembers the file's names (once its rows are kept).
fn remember(file: quarry_core::vectors_file::VectorsFile) {
    NAMED.with_borrow_mut(|named| {
        let model = match named.models.iter().position(|m| *m == file.model_key) {
            Some(i) => i,
            None => {
                named.models.push(file.model_key.clone());
                named.models.len() - 1
            }
        } as u32;
        // Each name is dropped once copied into the index (a million of them).
        named
            .entries
            .extend(file.hashes.iter().map(|&hash| (model, hash)));
        named.names.extend(file.items);
    });
}

/// Reads embeddings files `files` (one, or the shards of a run) into the cache one after
/// another, saying how far it is in [`AppState::vectors_status`]. Every header is read first:
/// together they must fit the cache's limit. A file that cannot be read is reported by name and
/// reason; the others are kept.
pub fn open_embeddings(state: AppState, files: Vec<Picked>) {
    let Some(first) = files.first() else {
        return;
    };
    state
        .vectors_status
        .set(Some(format!("Reading {}…", first.path)));
    leptos::task::spawn_local(async move {
        let mut readable = Vec::new();
        for file in files {
            match header(&file.blob).await {
                Ok(h) => readable.push((file, h)),
                Err(e) => state.report(format!("{}: {e}", file.path)),
            }
        }
        let total: usize = readable.iter().map(|(_, h)| h.file.items.len()).sum();
        if let Some(limit) = super::storage_info::cache_limit().filter(|&l| total > l as usize) {
            state.vectors_status.set(None);
            let what = match readable.as_slice() {
                [(one, _)] => one.path.clone(),
                more => format!("{} files", more.len()),
            };
            state.report(format!(
                "{what}: {total} embeddings, more than this browser's embedding cache keeps \
                 ({limit}): choose a higher limit under \"Storage in this browser\" in the side \
                 panel first"
            ));
            return;
        }
        let (mut rows, mut left_out, mut opened) = (0, 0, Vec::new());
        for (file, h) in readable {
            match keep(state, &file.blob, h).await {
                Ok((n, left)) => {
                    rows += n;
                    left_out += left;
                    opened.push(file.path);
                }
                Err(e) => state.report(format!("{}: {e}", file.path)),
            }
        }
        // Older entries make room for these (the least recently used go first).
        super::storage_info::trim_cache(state).await;
        if opened.is_empty() {
            state.vectors_status.set(None);
            return;
        }
        let left = if left_out > 0 {
            format!(" ({left_out} inputs listed as left out)")
        } else {
            String::new()
        };
        state.vectors_status.set(Some(format!(
            "{rows} embeddings from {} are ready in this browser{left}. Now open the images or \
             texts they describe: they are matched by name or content and not embedded again \
             (with the model the file was made with).",
            opened.join(", ")
        )));
    });
}

async fn slice(blob: &Blob, from: usize, to: usize) -> Result<Vec<u8>, String> {
    let part = blob
        .slice_with_f64_and_f64(from as f64, to as f64)
        .map_err(|e| format!("{e:?}"))?;
    read_bytes(&part).await
}

/// The file's header (read alone: the rows follow in slices).
async fn header(blob: &Blob) -> Result<Header, String> {
    let first = slice(blob, 0, 8).await?;
    let need = Header::len_needed(&first).map_err(|e| e.to_string())?;
    if let Some(header) = header_apart(blob, need).await {
        return Ok(header);
    }
    Header::parse(&slice(blob, 0, need).await?).map_err(|e| e.to_string())
}

/// The header (its first `need` bytes) with its two long lists parsed by the browser and
/// copied into wasm memory one entry at a time ([`Header::parse_apart`]): at a million items
/// the header is 80 MB of JSON, which would otherwise sit in the page's wasm memory (which
/// never shrinks) next to its parsed copy. `None` when anything is amiss: [`Header::parse`]
/// then reads it again and says what.
async fn header_apart(blob: &Blob, need: usize) -> Option<Header> {
    let part = blob.slice_with_f64_and_f64(8.0, need as f64).ok()?;
    let text = JsFuture::from(part.text()).await.ok()?;
    let top = js_json::parse(&text).ok()?;
    drop(text);
    let meta: Object = Reflect::get(&top, &"__metadata__".into())
        .ok()?
        .dyn_into()
        .ok()?;
    // Each list taken out of the metadata, parsed, read, and let go before the next.
    let list = |name: &str| {
        let text = Reflect::get(&meta, &name.into()).ok()?;
        Reflect::delete_property(&meta, &name.into()).ok()?;
        js_json::parse(&text).ok()
    };
    let hashes = js_json::each_string(&list("hashes")?, |h| hash_bytes(&h)).ok()?;
    let items = js_json::each_string(&list("items")?, Some).ok()?;
    let rest = js_sys::JSON::stringify(&top).ok()?.as_string()?;
    Header::parse_apart(rest.as_bytes(), need, items, hashes).ok()
}

/// Stores every row of the file under its cache key; returns the rows and the inputs left out.
async fn keep(state: AppState, blob: &Blob, header: Header) -> Result<(usize, usize), String> {
    let (n, dim, row) = (header.file.items.len(), header.file.dim, header.row_bytes());
    let size = blob.size() as usize;
    if size != header.data_start + n * row {
        return Err(format!(
            "the file is cut short or padded: {size} bytes, where its header says {}",
            header.data_start + n * row
        ));
    }
    let mut from = 0;
    while from < n {
        let to = (from + ROWS_PER_SLICE).min(n);
        let bytes = slice(
            blob,
            header.data_start + from * row,
            header.data_start + to * row,
        )
        .await?;
        let values = header.decode(&bytes).map_err(|e| e.to_string())?;
        let entries: Vec<(String, Vec<f32>)> = (from..to)
            .zip(values.chunks_exact(dim))
            .map(|(r, v)| {
                (
                    join_key(&header.file.model_key, &header.file.hashes[r]),
                    v.to_vec(),
                )
            })
            .collect();
        crate::idb::keep_embeddings(&entries)
            .await
            .map_err(|e| format!("the embeddings could not be kept in this browser ({e})"))?;
        state.vectors_status.set(Some(format!(
            "Keeping the embeddings in this browser… {to} of {n}"
        )));
        from = to;
    }
    let left_out = header.file.left_out.len();
    remember(header.file);
    Ok((n, left_out))
}
