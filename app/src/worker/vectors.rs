//! "Open embeddings…", the worker's part ([`WorkerRequest::KeepEmbeddings`]): files made by
//! `quarry embed` ([`quarry_core::vectors_file`]) go into the embedding cache, read in slices
//! of rows (a large file is never in memory at once). A worker of its own does it and is
//! terminated after, so that what a million rows leave behind (the header's 80 MB of JSON
//! parsed, gigabytes of slices read, the cache's directory) never stays in the page, whose
//! memory then holds what a tab labels with. The page keeps only each row's name and hash
//! ([`KeptNames`]).
//!
//! [`WorkerRequest::KeepEmbeddings`]: crate::protocol::WorkerRequest::KeepEmbeddings

use js_sys::{Object, Reflect};
use quarry_core::cache_blocks::{hash_bytes, join_key};
use quarry_core::vectors_file::Header;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

use super::post;
use crate::js_json;
use crate::protocol::{EmbeddingsFile, KeptNames, WorkerResponse};

/// Rows read and stored per slice (four of the cache's blocks).
const ROWS_PER_SLICE: usize = 4 * quarry_core::cache_blocks::BLOCK_ROWS;

fn status(status: String) {
    post(&WorkerResponse::EmbeddingsStatus { status });
}

/// Reads `files` into the cache one after another. Every header is
/// read first: together the files must hold at most `limit` rows. A file that cannot be read is
/// reported by name and reason; the others are kept.
pub(super) async fn keep_files(files: Vec<EmbeddingsFile>, limit: Option<usize>) {
    if let Some(first) = files.first() {
        status(format!("Reading {}…", first.path));
    }
    let mut readable = Vec::new();
    for EmbeddingsFile { path, blob } in files {
        match header(&blob).await {
            Ok(header) => readable.push((path, blob, header)),
            Err(result) => post(&WorkerResponse::EmbeddingsKept {
                path,
                result: Err(result),
            }),
        }
    }
    let total: usize = readable.iter().map(|(_, _, h)| h.file.items.len()).sum();
    if let Some(limit) = limit.filter(|&l| total > l) {
        let what = match readable.as_slice() {
            [(one, _, _)] => one.clone(),
            more => format!("{} files", more.len()),
        };
        let refused = format!(
            "{what}: {total} embeddings, more than this browser's embedding cache keeps \
             ({limit}): choose a higher limit under \"Storage in this browser\" in the side \
             panel first"
        );
        return post(&WorkerResponse::EmbeddingsDone {
            refused: Some(refused),
        });
    }
    for (path, blob, header) in readable {
        let result = keep(&blob, header).await;
        post(&WorkerResponse::EmbeddingsKept { path, result });
    }
    post(&WorkerResponse::EmbeddingsDone { refused: None });
}

async fn slice(blob: &Blob, from: usize, to: usize) -> Result<Vec<u8>, String> {
    crate::js_bytes::read_slice(blob, from as f64, to as f64).await
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
/// the header is 80 MB of JSON, which would otherwise sit in wasm memory next to its parsed
/// copy. `None` when anything is amiss: [`Header::parse`] then reads it again and says what.
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

/// Stores every row of the file under its cache key; returns each row's name and hash.
async fn keep(blob: &Blob, header: Header) -> Result<KeptNames, String> {
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
        status(format!(
            "Keeping the embeddings in this browser… {to} of {n}"
        ));
        from = to;
    }
    let file = header.file;
    Ok(KeptNames::pack(
        file.model_key,
        file.left_out.len(),
        &file.items,
        &file.hashes,
    ))
}
