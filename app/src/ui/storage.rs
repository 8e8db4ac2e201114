//! Projects kept in the browser's IndexedDB, on this machine only. Three stores, one record
//! each per project id:
//! - `projects`: the [`Saved`] summary the start screen lists (JSON);
//! - `progress`: [`quarry_core::project::write_progress`] — everything but the item names,
//!   rewritten after every answer, so its size grows with the answers, not the pool;
//! - `items`: written once — the item names (JSON in a blob), and what reopening needs without
//!   asking the person: the texts of a text project (likewise), the zip the images came from,
//!   the model file they brought. Image files opened one by one or as a folder are not copied;
//!   the person opens them again.
//!
//! A write is complete when its transaction's `complete` event fires; callers wait for it
//! before the screen moves on.

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, IdbTransactionMode};

use crate::idb::{
    committed, explain, finished, open, put, store, transaction, ITEMS, PROGRESS, PROJECTS,
};

/// The summary of a saved project, as listed on the start screen.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Saved {
    pub id: String,
    pub title: String,
    pub items: usize,
    pub labeled: usize,
    /// When it was last saved, in milliseconds since 1970 (the browser's clock).
    pub saved_ms: f64,
}

/// What a project needs to reopen, beside its progress.
#[derive(Debug, Clone, Default)]
pub struct StoredItems {
    /// Item names, in session order.
    pub names: std::sync::Arc<[String]>,
    /// The texts of a text project.
    pub texts: Option<std::sync::Arc<[String]>>,
    /// The zip its images came from.
    pub zip: Option<Blob>,
    /// The model file (and tokenizer) the person brought.
    pub model: Option<Blob>,
    pub tokenizer: Option<Blob>,
}

/// One entry of the list: a project that reads, or the id of one that does not and why.
pub type Listed = Result<Saved, (String, String)>;

/// `value` as JSON text in a JS string (a summary: small).
fn json<T: serde::Serialize + ?Sized>(value: &T) -> JsValue {
    serde_json::to_string(value)
        .expect("plain data serialises")
        .into()
}

/// `value` as JSON text in a [`Blob`], written in pieces of [`PIECE`] bytes. Neither the wasm
/// memory nor the page's JS heap ever holds the whole text (a million names or texts are tens of
/// MB; a wasm memory never shrinks, and a JS string of them stays in the page as garbage until
/// its next collection, which an idle page puts off: during a fill of a million rows, that was
/// 57 MiB of the tab). The browser keeps a blob's bytes outside the page.
fn json_blob<T: serde::Serialize + ?Sized>(value: &T) -> Result<Blob, String> {
    let mut pieces = Pieces {
        parts: js_sys::Array::new(),
        buf: Vec::with_capacity(PIECE),
        window: js_sys::Uint8Array::new_with_length(PIECE as u32),
    };
    serde_json::to_writer(&mut pieces, value).map_err(|e| e.to_string())?;
    pieces.pass_on().map_err(|e| e.to_string())?;
    Blob::new_with_blob_sequence(&pieces.parts).map_err(explain)
}

/// Bytes of JSON held in wasm memory at a time by [`json_blob`].
const PIECE: usize = 1 << 20;

/// A writer that passes its bytes on to a blob every [`PIECE`] bytes, through one JS array
/// that it reuses (a blob copies its parts when it is made).
struct Pieces {
    parts: js_sys::Array,
    buf: Vec<u8>,
    window: js_sys::Uint8Array,
}

impl Pieces {
    fn pass_on(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let part = self.window.subarray(0, self.buf.len() as u32);
        part.copy_from(&self.buf);
        let blob = Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&part))
            .map_err(|e| std::io::Error::other(explain(e)))?;
        self.parts.push(&blob);
        self.buf.clear();
        Ok(())
    }
}

impl std::io::Write for Pieces {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = bytes.len().min(PIECE - self.buf.len());
        self.buf.extend_from_slice(&bytes[..n]);
        if self.buf.len() == PIECE {
            self.pass_on()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A stored JSON list of strings (item names, texts), parsed by the browser and copied into
/// wasm memory one string at a time (never the whole text at once). Stored as a blob of JSON
/// ([`json_blob`]), or as a JS string by projects saved before 2026-12-05.
async fn strings(value: &JsValue, what: &str) -> Result<Vec<String>, String> {
    let fail = |reason: String| format!("its {what} do not read: {reason}");
    let text = match value.dyn_ref::<Blob>() {
        Some(blob) => wasm_bindgen_futures::JsFuture::from(blob.text())
            .await
            .map_err(|e| fail(explain(e)))?,
        None => value.clone(),
    };
    if !text.is_string() {
        return Err(fail("the record is missing or not text".into()));
    }
    let parsed = crate::js_json::parse(&text).map_err(fail)?;
    crate::js_json::each_string(&parsed, Some).map_err(fail)
}

/// Saves a new project: its summary, its items and its first progress, in one transaction.
pub async fn create(saved: &Saved, items: &StoredItems, progress: &str) -> Result<(), String> {
    let db = open().await?;
    let tx = transaction(
        &db,
        &[PROJECTS, PROGRESS, ITEMS],
        IdbTransactionMode::Readwrite,
    )?;
    let record = Object::new();
    let set = |key: &str, value: JsValue| Reflect::set(&record, &key.into(), &value).map(|_| ());
    let mut fields = vec![("names", json_blob(&*items.names)?.into())];
    if let Some(texts) = &items.texts {
        fields.push(("texts", json_blob(texts)?.into()));
    }
    for (key, blob) in [
        ("zip", &items.zip),
        ("model", &items.model),
        ("tokenizer", &items.tokenizer),
    ] {
        if let Some(b) = blob {
            fields.push((key, b.clone().into()));
        }
    }
    for (key, value) in fields {
        set(key, value).map_err(explain)?;
    }
    put(&tx, ITEMS, &saved.id, &record)?;
    put(&tx, PROGRESS, &saved.id, &progress.into())?;
    put(&tx, PROJECTS, &saved.id, &json(saved))?;
    committed(&tx).await
}

/// Replaces a project's progress and summary; done when the browser has committed both.
pub async fn save(saved: &Saved, progress: &str) -> Result<(), String> {
    let db = open().await?;
    let tx = transaction(&db, &[PROJECTS, PROGRESS], IdbTransactionMode::Readwrite)?;
    put(&tx, PROGRESS, &saved.id, &progress.into())?;
    put(&tx, PROJECTS, &saved.id, &json(saved))?;
    committed(&tx).await
}

/// Every saved project, newest first; one whose summary does not read is listed by id.
pub async fn list() -> Result<Vec<Listed>, String> {
    let db = open().await?;
    let tx = transaction(&db, &[PROJECTS], IdbTransactionMode::Readonly)?;
    let projects = store(&tx, PROJECTS)?;
    let keys = finished(&projects.get_all_keys().map_err(explain)?).await?;
    let values = finished(&projects.get_all().map_err(explain)?).await?;
    let keys: js_sys::Array = keys.unchecked_into();
    let values: js_sys::Array = values.unchecked_into();
    let mut listed: Vec<Listed> = keys
        .iter()
        .zip(values.iter())
        .map(|(k, v)| {
            let id = k.as_string().unwrap_or_else(|| format!("{k:?}"));
            v.as_string()
                .ok_or_else(|| "its summary is not text".to_string())
                .and_then(|t| serde_json::from_str::<Saved>(&t).map_err(|e| e.to_string()))
                .map_err(|e| (id, e))
        })
        .collect();
    listed.sort_by(|a, b| {
        let t = |l: &Listed| l.as_ref().map_or(f64::INFINITY, |s| s.saved_ms);
        t(b).total_cmp(&t(a))
    });
    Ok(listed)
}

/// A project's summary, items and progress, as stored (checked by the caller).
pub async fn load(id: &str) -> Result<(Saved, StoredItems, String), String> {
    let db = open().await?;
    let tx = transaction(
        &db,
        &[PROJECTS, PROGRESS, ITEMS],
        IdbTransactionMode::Readonly,
    )?;
    let get = |name: &str| store(&tx, name).and_then(|s| s.get(&id.into()).map_err(explain));
    let (saved, progress, items) = (get(PROJECTS)?, get(PROGRESS)?, get(ITEMS)?);
    let saved = finished(&saved).await?;
    let progress = finished(&progress).await?;
    let items = finished(&items).await?;
    let text = |v: &JsValue, what: &str| {
        v.as_string()
            .ok_or_else(|| format!("its {what} record is missing or not text"))
    };
    let saved: Saved = serde_json::from_str(&text(&saved, "summary")?)
        .map_err(|e| format!("its summary does not read: {e}"))?;
    let field = |key: &str| Reflect::get(&items, &key.into()).unwrap_or(JsValue::UNDEFINED);
    let names = strings(&field("names"), "item names").await?;
    let texts = match field("texts") {
        t if t.is_undefined() || t.is_null() => None,
        t => Some(strings(&t, "texts").await?.into()),
    };
    let blob = |key: &str| field(key).dyn_into::<Blob>().ok();
    let stored = StoredItems {
        names: names.into(),
        texts,
        zip: blob("zip"),
        model: blob("model"),
        tokenizer: blob("tokenizer"),
    };
    Ok((saved, stored, text(&progress, "progress")?))
}

/// The stored progress record as it is, however damaged, for the person to keep.
pub async fn raw_progress(id: &str) -> Result<String, String> {
    let db = open().await?;
    let tx = transaction(&db, &[PROGRESS], IdbTransactionMode::Readonly)?;
    let value = finished(&store(&tx, PROGRESS)?.get(&id.into()).map_err(explain)?).await?;
    Ok(value.as_string().unwrap_or_else(|| {
        js_sys::JSON::stringify(&value).map_or_else(|_| String::new(), String::from)
    }))
}

/// Renames a saved project (its summary; the progress takes the name at its next save).
pub async fn rename(id: &str, title: &str) -> Result<(), String> {
    let db = open().await?;
    let tx = transaction(&db, &[PROJECTS], IdbTransactionMode::Readwrite)?;
    let projects = store(&tx, PROJECTS)?;
    let value = finished(&projects.get(&id.into()).map_err(explain)?).await?;
    let mut saved: Saved = value
        .as_string()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or("its summary does not read")?;
    saved.title = title.to_string();
    put(&tx, PROJECTS, id, &json(&saved))?;
    committed(&tx).await
}

/// Deletes a saved project, all three records.
pub async fn delete(id: &str) -> Result<(), String> {
    let db = open().await?;
    let tx = transaction(
        &db,
        &[PROJECTS, PROGRESS, ITEMS],
        IdbTransactionMode::Readwrite,
    )?;
    for name in [PROJECTS, PROGRESS, ITEMS] {
        store(&tx, name)?.delete(&id.into()).map_err(explain)?;
    }
    committed(&tx).await
}
