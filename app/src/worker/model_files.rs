//! A model's files as the browser holds them (blobs), and its cache key read from them a slice
//! at a time. Loading a model whose embeddings are all cached (an opened embeddings file) only
//! needs its key: the file (23 MB for the text model) then never enters this worker's wasm
//! memory, which would keep that size for the worker's life (a wasm memory never shrinks).

use quarry_core::cache::{preparation, Digester};
use quarry_core::model::ModelChoice;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

use crate::idb::explain;
use crate::js_bytes::{read, read_slice};

/// Bytes of a file hashed at a time by [`ModelFiles::key`].
const SLICE: f64 = (1 << 20) as f64;

/// The model's file and, for a text model, its tokenizer's, as blobs.
pub(super) struct ModelFiles {
    model: Blob,
    tokenizer: Option<Blob>,
}

impl ModelFiles {
    /// Fetches `model`'s files as blobs: the browser keeps their bytes, not this worker.
    pub(super) async fn fetch(model: &ModelChoice) -> Result<ModelFiles, String> {
        let tokenizer = match model {
            ModelChoice::Image { .. } => None,
            ModelChoice::Text { tokenizer_url, .. } => Some(fetch_blob(tokenizer_url).await?),
        };
        Ok(ModelFiles {
            model: fetch_blob(model.url()).await?,
            tokenizer,
        })
    }

    /// [`quarry_core::cache::model_key`] of `model` with these files, read a slice at a time.
    pub(super) async fn key(&self, model: &ModelChoice) -> Result<String, String> {
        let mut d = Digester::default();
        digest_blob(&mut d, &self.model).await?;
        let how = preparation(model);
        d.part(how.len() as u64);
        d.update(&how);
        match &self.tokenizer {
            Some(t) => digest_blob(&mut d, t).await?,
            None => d.part(0),
        }
        Ok(d.finish_hex())
    }

    /// The files' bytes, for building the model.
    pub(super) async fn read(&self) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
        let tokenizer = match &self.tokenizer {
            Some(t) => Some(read(t).await?),
            None => None,
        };
        Ok((read(&self.model).await?, tokenizer))
    }
}

async fn fetch_blob(url: &str) -> Result<Blob, String> {
    let resp = super::response(url, super::scope().fetch_with_str(url)).await?;
    let read = resp.blob().map_err(explain)?;
    let blob = JsFuture::from(read)
        .await
        .map_err(|e| format!("could not read {url}: {}", explain(e)))?;
    Ok(blob.unchecked_into())
}

/// Feeds `blob` to `d` as one part, a slice of [`SLICE`] bytes at a time.
async fn digest_blob(d: &mut Digester, blob: &Blob) -> Result<(), String> {
    let size = blob.size();
    d.part(size as u64);
    let mut from = 0.0;
    while from < size {
        let to = (from + SLICE).min(size);
        d.update(&read_slice(blob, from, to).await?);
        from = to;
    }
    Ok(())
}
