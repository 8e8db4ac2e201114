//! The embedding cache: embeddings in the learner's 8-bit form ([`quarry_core::cache::compact`]),
//! kept in blocks of up to 1,024 rows ([`quarry_core::cache_blocks`]: a thousand times fewer
//! records than one per embedding, which is what the browser's storage is slow at). Each thread
//! keeps a directory of where each content hash is, brought up to date when a look-up does not
//! find a hash (only the blocks written since are read). Entries of the
//! one-record-per-embedding stores of versions 2 and 3 are still found; one that is used moves into a block, and the limit removes
//! them first (none was used since the upgrade).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use js_sys::{Array, Float32Array, Reflect, Uint8Array};
use quarry_core::cache::{compact, compact_parts};
use quarry_core::cache_blocks::{self as cb, Directory, Trim, HASH_BYTES};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbKeyRange, IdbObjectStore, IdbTransaction, IdbTransactionMode};

use super::{
    call, committed, done_issuing, explain, finished, open, put, relaxed_write, stamp, store,
    transaction, BLOCK_HASHES, BLOCK_ROWS, BLOCK_USE, EMBEDDINGS, EMBEDDING_USE, USE_INDEX,
};

thread_local! {
    /// Each model's directory, as this thread last brought it up to date ([`refresh`]).
    static DIRECTORIES: RefCell<HashMap<String, Directory>> = RefCell::default();
    /// Blocks this thread has named (part of each new block's id).
    static NAMED: Cell<u32> = const { Cell::new(0) };
    /// During an embedding run ([`run_begins`]), the models whose directory the run has
    /// brought up to date; `None` outside a run.
    static REFRESHED: RefCell<Option<HashSet<String>>> = const { RefCell::new(None) };
    /// During an embedding run, the blocks its last look-ups read ([`RECENT_BLOCKS`] at most),
    /// newest last: key, rows, bytes per row.
    static RECENT: RefCell<Vec<(String, ReadBlock)>> = const { RefCell::new(Vec::new()) };
}

/// Blocks a run keeps from one look-up to the next ([`RECENT`]).
///
/// Why: a run looks up its items in windows of up to 256 in item order, and a file opened with
/// *Open embeddings…* is cached in that order in blocks of 1,024 rows, so consecutive windows
/// need the same block: read afresh each time, every block was read four times over (5 GB of
/// reads, and their garbage, in a fill of a million rows of 1,280 values). Blocks never change
/// once written, so a kept one is still right; a run keeps them only while it lasts.
const RECENT_BLOCKS: usize = 2;

/// A block's rows as read, and bytes per row.
type ReadBlock = (Rc<Vec<u8>>, usize);

/// An embedding run starts on this thread: from now until [`run_ends`], each model's directory
/// is brought up to date at most once (at the first hash not found), not at every look-up that
/// misses.
///
/// Why: the blocks written during a run hold that run's own misses, which none of its later
/// look-ups asks for again (each item is embedded once), while bringing a directory up to date
/// lists every block key of the model, a list that grows by a block per window: at every
/// window, that cost a run O(blocks²). Measured on a 50,000-image pool with the model's cache
/// not empty: 30 ms of look-up in flight per item, 5.9 ms of it waited for.
pub fn run_begins() {
    REFRESHED.set(Some(HashSet::new()));
}

/// The embedding run [`run_begins`] started is over: look-ups that miss bring the directory up
/// to date again.
pub fn run_ends() {
    REFRESHED.set(None);
    RECENT.take();
}

/// Block `key` as a look-up of this run read it lately ([`RECENT`]).
fn recent(key: &str) -> Option<ReadBlock> {
    RECENT.with_borrow(|r| r.iter().find(|(k, _)| k == key).map(|(_, b)| b.clone()))
}

/// Keeps block `key`, just read, for the run's next look-ups (outside a run, nothing is kept).
fn keep_recent(key: &str, bytes: Rc<Vec<u8>>, stride: usize) {
    if REFRESHED.with_borrow(Option::is_none) {
        return;
    }
    RECENT.with_borrow_mut(|r| {
        if r.len() >= RECENT_BLOCKS {
            r.remove(0);
        }
        r.push((key.to_string(), (bytes, stride)));
    });
}

/// Whether a look-up that missed under `model` should bring its directory up to date: always
/// outside a run, once within one.
fn should_refresh(model: &str) -> bool {
    REFRESHED.with_borrow_mut(|r| r.as_mut().is_none_or(|done| done.insert(model.to_string())))
}

/// Blocks removed or cut per transaction by [`trim_embeddings`].
const TRIM_BLOCKS: u32 = 64;
/// Old single entries removed per transaction by [`trim_embeddings`].
const TRIM_STEP: u32 = 5_000;

/// What a look-up found: each key's embedding (`None` where absent), and what to stamp as used
/// ([`touch`]).
pub struct Found {
    /// In the cache's compact form ([`quarry_core::cache::compact`]).
    pub rows: Vec<Option<Vec<u8>>>,
    pub used: Used,
}

/// The blocks a look-up read (key, rows, bytes per row) and the old single entries it found (key, bytes).
#[derive(Default)]
pub struct Used {
    blocks: Vec<(String, u32, u32)>,
    single: Vec<(String, Vec<u8>)>,
}

impl Used {
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.single.is_empty()
    }
}

/// The keys of every block of `model`.
fn range(model: &str) -> Result<IdbKeyRange, String> {
    IdbKeyRange::bound(
        &format!("{model}/").into(),
        &format!("{model}/\u{ffff}").into(),
    )
    .map_err(explain)
}

/// A fresh block key under `model` (never used before: blocks do not change once written).
fn new_block_key(model: &str) -> String {
    let n = NAMED.get();
    NAMED.set(n.wrapping_add(1));
    format!(
        "{model}/{:x}-{:x}-{n:x}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * f64::from(u32::MAX)) as u32
    )
}

/// Brings this thread's directory of `model` up to date: the hashes of blocks written since it
/// was last read are added. Blocks removed since stay listed (looking them up finds nothing);
/// when most of what it lists is gone, it is read afresh.
async fn refresh(db: &IdbDatabase, model: &str) -> Result<(), String> {
    let tx = transaction(db, &[BLOCK_HASHES], IdbTransactionMode::Readonly)?;
    let hashes = store(&tx, BLOCK_HASHES)?;
    let request = hashes
        .get_all_keys_with_key(&range(model)?.into())
        .map_err(explain)?;
    let keys: Vec<String> = Array::from(&finished(&request).await?)
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    let new: Vec<String> = DIRECTORIES.with_borrow_mut(|dirs| {
        let dir = dirs.entry(model.to_string()).or_default();
        if dir.block_keys().len() > 2 * keys.len() + 16 {
            *dir = Directory::default();
        }
        let known: HashSet<&str> = dir.block_keys().iter().map(String::as_str).collect();
        keys.iter()
            .filter(|k| !known.contains(k.as_str()))
            .cloned()
            .collect()
    });
    let requests = new
        .iter()
        .map(|k| hashes.get(&k.into()).map_err(explain))
        .collect::<Result<Vec<_>, _>>()?;
    done_issuing(&tx);
    let mut read = Vec::with_capacity(new.len());
    for (key, request) in new.iter().zip(requests) {
        if let Ok(bytes) = finished(&request).await?.dyn_into::<Uint8Array>() {
            read.push((key, bytes));
        }
    }
    // Room for every new row at once: a directory grown by doubling holds up to twice that.
    let rows = read.iter().map(|(_, b)| b.length() as usize).sum::<usize>() / HASH_BYTES;
    DIRECTORIES.with_borrow_mut(|dirs| {
        if let Some(dir) = dirs.get_mut(model) {
            dir.reserve(rows);
            for (key, bytes) in read {
                dir.add(key, &crate::js_bytes::take(&bytes));
            }
        }
    });
    Ok(())
}

/// Where `hash` of `model` is, by this thread's directory.
fn locate(model: &str, hash: &[u8; HASH_BYTES]) -> Option<(String, usize)> {
    DIRECTORIES.with_borrow_mut(|dirs| {
        let (block, row) = dirs.get_mut(model)?.find(hash)?;
        Some((block.to_string(), row))
    })
}

/// Where each of `split` (model, hash) is, by this thread's directories. Only a model with a
/// hash not found is brought up to date ([`refresh`]; once per embedding run: [`run_begins`])
/// and looked at again: while every hash is found (a pool all from the cache), the directory's
/// store is not read at all.
async fn places(
    db: &IdbDatabase,
    split: &[Option<(&str, [u8; HASH_BYTES])>],
) -> Result<Vec<Option<(String, usize)>>, String> {
    let find = |s: &Option<(&str, [u8; HASH_BYTES])>| s.as_ref().and_then(|(m, h)| locate(m, h));
    let mut out: Vec<_> = split.iter().map(find).collect();
    let stale: HashSet<&str> = split
        .iter()
        .zip(&out)
        .filter(|(_, place)| place.is_none())
        .filter_map(|(s, _)| Some(s.as_ref()?.0))
        .collect();
    let stale: Vec<&str> = stale.into_iter().filter(|m| should_refresh(m)).collect();
    for model in &stale {
        refresh(db, model).await?;
    }
    if !stale.is_empty() {
        for (s, place) in split.iter().zip(out.iter_mut()) {
            if place.is_none() {
                *place = find(s);
            }
        }
    }
    Ok(out)
}

/// The cached embeddings under `keys`, in order (`None` where absent), read in one transaction
/// (every request issued before any is awaited): each block needed is read once.
pub async fn embeddings(keys: &[&str]) -> Result<Found, String> {
    let db = open().await?;
    let split: Vec<_> = keys.iter().map(|k| cb::split_key(k)).collect();
    let places = places(&db, &split).await?;
    let tx = transaction(
        &db,
        &[BLOCK_ROWS, BLOCK_USE, EMBEDDINGS],
        IdbTransactionMode::Readonly,
    )?;
    let (rows, uses, single) = (
        store(&tx, BLOCK_ROWS)?,
        store(&tx, BLOCK_USE)?,
        store(&tx, EMBEDDINGS)?,
    );
    let mut wanted: Vec<&str> = places.iter().flatten().map(|(b, _)| b.as_str()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    // Blocks a look-up of this run read lately are not read (nor stamped as used) again.
    let mut read: HashMap<&str, ReadBlock> = HashMap::new();
    wanted.retain(|b| match recent(b) {
        Some(kept) => {
            read.insert(b, kept);
            false
        }
        None => true,
    });
    let block_requests = wanted
        .iter()
        .map(|b| {
            Ok((
                rows.get(&(*b).into()).map_err(explain)?,
                uses.get(&(*b).into()).map_err(explain)?,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    // Not in a block: perhaps a single entry of an older version.
    let single_requests = keys
        .iter()
        .zip(&places)
        .map(|(k, p)| match p {
            Some(_) => Ok(None),
            None => single.get(&(*k).into()).map(Some).map_err(explain),
        })
        .collect::<Result<Vec<_>, _>>()?;
    done_issuing(&tx);
    let mut used = Used::default();
    for (block, (rows, use_)) in wanted.iter().zip(block_requests) {
        let bytes = finished(&rows).await?;
        let n = Reflect::get(&finished(&use_).await?, &"n".into())
            .ok()
            .and_then(|n| n.as_f64())
            .unwrap_or(0.0) as usize;
        if let (Ok(bytes), true) = (bytes.dyn_into::<Uint8Array>(), n > 0) {
            let bytes = Rc::new(crate::js_bytes::take(&bytes));
            let stride = bytes.len() / n;
            used.blocks
                .push((block.to_string(), n as u32, stride as u32));
            keep_recent(block, bytes.clone(), stride);
            read.insert(block, (bytes, stride));
        } else if let Some((model, _)) = block.rsplit_once('/') {
            // A block removed since the directory was read: its rows are not found this time,
            // and the directory is read afresh at the next look-up.
            DIRECTORIES.with_borrow_mut(|dirs| dirs.remove(model));
        }
    }
    let mut out = Vec::with_capacity(keys.len());
    for ((key, place), request) in keys.iter().zip(&places).zip(single_requests) {
        let row = match (place, request) {
            (Some((block, r)), _) => read
                .get(block.as_str())
                .and_then(|(bytes, stride)| cb::row(bytes, *stride, *r))
                .map(<[u8]>::to_vec),
            (None, Some(request)) => {
                let value = finished(&request).await?;
                let bytes = single_bytes(value);
                if let Some(b) = &bytes {
                    used.single.push((key.to_string(), b.clone()));
                }
                bytes
            }
            (None, None) => None,
        };
        // Bytes the cache did not write (no scale) are not found.
        out.push(row.filter(|b| compact_parts(b).is_some()));
    }
    Ok(Found { rows: out, used })
}

/// An old single entry's bytes in the compact form: it holds them, or f32 as the caches of
/// version 2 did.
fn single_bytes(value: JsValue) -> Option<Vec<u8>> {
    match value.dyn_into::<Float32Array>() {
        Ok(f32s) => Some(compact(&f32s.to_vec())),
        Err(value) => Some(value.dyn_into::<Uint8Array>().ok()?.to_vec()),
    }
}

/// Stamps what a look-up used as used now (the limit removes it last), in one transaction with
/// relaxed durability; an old single entry moves into a block.
pub async fn touch(used: Used) -> Result<(), String> {
    if used.is_empty() {
        return Ok(());
    }
    let db = open().await?;
    let moved = to_blocks(
        used.single
            .iter()
            .filter_map(|(k, bytes)| Some((cb::split_key(k)?, bytes.clone())))
            .map(|((m, h), b)| (m.to_string(), h, b)),
    );
    let tx = relaxed_write(
        &db,
        &[
            BLOCK_USE,
            BLOCK_ROWS,
            BLOCK_HASHES,
            EMBEDDINGS,
            EMBEDDING_USE,
        ],
    )?;
    let now = js_sys::Date::now();
    for (key, n, stride) in &used.blocks {
        put(
            &tx,
            BLOCK_USE,
            key,
            &block_use(now, *n as usize, *stride as usize),
        )?;
    }
    write_blocks(&tx, &moved, now)?;
    for (key, _) in &used.single {
        store(&tx, EMBEDDINGS)?
            .delete(&key.into())
            .map_err(explain)?;
        store(&tx, EMBEDDING_USE)?
            .delete(&key.into())
            .map_err(explain)?;
    }
    committed(&tx).await
}

/// The value kept in [`BLOCK_USE`]: last use, rows, bytes per row.
fn block_use(t: f64, n: usize, stride: usize) -> JsValue {
    let o = stamp(t);
    let _ = Reflect::set(&o, &"n".into(), &(n as f64).into());
    let _ = Reflect::set(&o, &"b".into(), &(stride as f64).into());
    o
}

/// The bytes per row of the blocks cached under model `model` (its embeddings' length + 4),
/// `None` when none is.
pub async fn cached_row_bytes(model: &str) -> Result<Option<usize>, String> {
    let db = open().await?;
    let tx = transaction(&db, &[BLOCK_USE], IdbTransactionMode::Readonly)?;
    let first = store(&tx, BLOCK_USE)?
        .get_all_with_key_and_limit(&range(model)?.into(), 1)
        .map_err(explain)?;
    done_issuing(&tx);
    let first = Array::from(&finished(&first).await?).get(0);
    Ok(Reflect::get(&first, &"b".into())
        .ok()
        .and_then(|b| b.as_f64())
        .map(|b| b as usize))
}

/// Blocks (with fresh keys) of `entries` (model, hash, compact row), by model.
fn to_blocks(
    entries: impl Iterator<Item = (String, [u8; HASH_BYTES], Vec<u8>)>,
) -> Vec<(String, cb::Block)> {
    let mut by_model: HashMap<String, Vec<cb::Entry>> = HashMap::new();
    for (model, hash, row) in entries {
        by_model.entry(model).or_default().push((hash, row));
    }
    by_model
        .into_iter()
        .flat_map(|(model, rows)| {
            cb::blocks(&rows)
                .into_iter()
                .map(move |b| (new_block_key(&model), b))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Puts `blocks` in `tx` (its three records each), stamped `t`, and lists them in this thread's
/// directories.
fn write_blocks(tx: &IdbTransaction, blocks: &[(String, cb::Block)], t: f64) -> Result<(), String> {
    for (key, block) in blocks {
        put(
            tx,
            BLOCK_ROWS,
            key,
            &Uint8Array::from(block.rows.as_slice()),
        )?;
        put(
            tx,
            BLOCK_HASHES,
            key,
            &Uint8Array::from(block.hashes.as_slice()),
        )?;
        put(tx, BLOCK_USE, key, &block_use(t, block.len(), block.stride))?;
        if let Some((model, _)) = key.rsplit_once('/') {
            DIRECTORIES.with_borrow_mut(|dirs| {
                if let Some(dir) = dirs.get_mut(model) {
                    dir.add(key, &block.hashes);
                }
            });
        }
    }
    Ok(())
}

/// Caches `entries` (key, embedding) in one transaction with relaxed durability (a cache: a
/// write lost to a power cut is only embedded again), in blocks, stamped as used now; an entry
/// already cached is not written again; done when committed. A key that is not a model key
/// and a 64-digit content hash is not kept.
pub async fn keep_embeddings(entries: &[(String, Vec<f32>)]) -> Result<(), String> {
    let db = open().await?;
    let split: Vec<_> = entries.iter().map(|(k, _)| cb::split_key(k)).collect();
    let places = places(&db, &split).await?;
    let new = split.iter().zip(&places).zip(entries);
    let blocks = to_blocks(new.filter_map(|((s, place), (_, values))| {
        let (model, hash) = (*s)?;
        place
            .is_none()
            .then(|| (model.to_string(), hash, compact(values)))
    }));
    if blocks.is_empty() {
        return Ok(());
    }
    let tx = relaxed_write(&db, &[BLOCK_ROWS, BLOCK_HASHES, BLOCK_USE])?;
    write_blocks(&tx, &blocks, js_sys::Date::now())?;
    committed(&tx).await
}

/// Rows held by the blocks in `range` (all when `None`) of `uses`, the [`BLOCK_USE`] store.
async fn rows_in(uses: &IdbObjectStore, range: Option<&IdbKeyRange>) -> Result<u32, String> {
    let request = match range {
        Some(r) => uses.get_all_with_key(r),
        None => uses.get_all(),
    }
    .map_err(explain)?;
    Ok(Array::from(&finished(&request).await?)
        .iter()
        .filter_map(|u| Reflect::get(&u, &"n".into()).ok()?.as_f64())
        .sum::<f64>() as u32)
}

/// How many embeddings of model `model` are cached.
pub async fn count_under(model: &str) -> Result<u32, String> {
    let db = open().await?;
    let tx = transaction(&db, &[EMBEDDINGS, BLOCK_USE], IdbTransactionMode::Readonly)?;
    let range = range(model)?;
    let single = store(&tx, EMBEDDINGS)?
        .count_with_key(&range)
        .map_err(explain)?;
    // Awaited in the order issued: a request's result is only heard while it is awaited.
    let single = finished(&single).await?.as_f64().unwrap_or(0.0) as u32;
    Ok(single + rows_in(&store(&tx, BLOCK_USE)?, Some(&range)).await?)
}

/// How many embeddings are cached (under any model).
pub async fn count_embeddings() -> Result<u32, String> {
    let db = open().await?;
    let tx = transaction(&db, &[EMBEDDINGS, BLOCK_USE], IdbTransactionMode::Readonly)?;
    let single = store(&tx, EMBEDDINGS)?.count().map_err(explain)?;
    let single = finished(&single).await?.as_f64().unwrap_or(0.0) as u32;
    Ok(single + rows_in(&store(&tx, BLOCK_USE)?, None).await?)
}

/// Every store of the cache, for a read-write transaction on all of them.
const ALL: [&str; 5] = [
    EMBEDDINGS,
    EMBEDDING_USE,
    BLOCK_ROWS,
    BLOCK_HASHES,
    BLOCK_USE,
];

/// Empties the embedding cache; returns how many embeddings it held.
pub async fn clear_embeddings() -> Result<u32, String> {
    let n = count_embeddings().await?;
    let db = open().await?;
    let tx = transaction(&db, &ALL, IdbTransactionMode::Readwrite)?;
    for name in ALL {
        store(&tx, name)?.clear().map_err(explain)?;
    }
    committed(&tx).await?;
    DIRECTORIES.with_borrow_mut(HashMap::clear);
    Ok(n)
}

/// Removes the least recently used cached embeddings until at most `limit` remain (the old
/// single entries first, then whole blocks, and of the last block only its first rows);
/// returns how many were removed.
pub async fn trim_embeddings(limit: u32) -> Result<u32, String> {
    let db = open().await?;
    let mut removed = 0;
    loop {
        let tx = transaction(&db, &ALL, IdbTransactionMode::Readwrite)?;
        let (single, uses) = (store(&tx, EMBEDDINGS)?, store(&tx, BLOCK_USE)?);
        let singles = finished(&single.count().map_err(explain)?)
            .await?
            .as_f64()
            .unwrap_or(0.0) as u32;
        let total = singles + rows_in(&uses, None).await?;
        let excess = total.saturating_sub(limit);
        if excess == 0 {
            done_issuing(&tx);
            return Ok(removed);
        }
        let gone = match singles {
            0 => 0,
            _ => trim_single(&tx, excess.min(TRIM_STEP)).await?,
        };
        let gone = match gone {
            0 => trim_blocks(&tx, total, limit).await?,
            n => n,
        };
        committed(&tx).await?;
        if gone == 0 {
            // Only old entries without a stamp are left (none after the upgrade): keep them.
            return Ok(removed);
        }
        removed += gone;
    }
}

/// Removes the `excess` least recently used old single entries.
async fn trim_single(tx: &IdbTransaction, excess: u32) -> Result<u32, String> {
    let (cache, uses) = (store(tx, EMBEDDINGS)?, store(tx, EMBEDDING_USE)?);
    let index = call(&uses, "index", &[USE_INDEX.into()])?;
    let oldest: web_sys::IdbRequest =
        call(&index, "getAllKeys", &[JsValue::NULL, excess.into()])?.unchecked_into();
    let keys = Array::from(&finished(&oldest).await?);
    for key in keys.iter() {
        cache.delete(&key).map_err(explain)?;
        uses.delete(&key).map_err(explain)?;
    }
    Ok(keys.length())
}

/// Removes the least recently used blocks (and cuts one) until `total` rows are down to
/// `limit`, at most [`TRIM_BLOCKS`] blocks in this transaction; how many rows went.
async fn trim_blocks(tx: &IdbTransaction, total: u32, limit: u32) -> Result<u32, String> {
    let uses = store(tx, BLOCK_USE)?;
    let index = call(&uses, "index", &[USE_INDEX.into()])?;
    let keys: web_sys::IdbRequest =
        call(&index, "getAllKeys", &[JsValue::NULL, TRIM_BLOCKS.into()])?.unchecked_into();
    let values: web_sys::IdbRequest =
        call(&index, "getAll", &[JsValue::NULL, TRIM_BLOCKS.into()])?.unchecked_into();
    let keys = Array::from(&finished(&keys).await?);
    let values = Array::from(&finished(&values).await?);
    let oldest: Vec<(String, usize, f64)> = keys
        .iter()
        .zip(values.iter())
        .filter_map(|(k, u)| {
            let n = Reflect::get(&u, &"n".into()).ok()?.as_f64()?;
            let t = Reflect::get(&u, &"t".into()).ok()?.as_f64()?;
            Some((k.as_string()?, n as usize, t))
        })
        .collect();
    let listed: Vec<(String, usize)> = oldest.iter().map(|(k, n, _)| (k.clone(), *n)).collect();
    let (rows, hashes) = (store(tx, BLOCK_ROWS)?, store(tx, BLOCK_HASHES)?);
    let mut gone = 0;
    for step in cb::trim_plan(&listed, total as usize, limit as usize) {
        let (key, keep) = match step {
            Trim::Remove(key) => (key, 0),
            Trim::Cut { key, keep } => (key, keep),
        };
        let (n, t) = oldest
            .iter()
            .find(|(k, ..)| *k == key)
            .map(|(_, n, t)| (*n, *t))
            .unwrap_or_default();
        if keep > 0 {
            // The last `keep` rows go to a new block (blocks never change), stamped as before.
            let row_bytes = finished(&rows.get(&(&key).into()).map_err(explain)?).await?;
            let hash_bytes = finished(&hashes.get(&(&key).into()).map_err(explain)?).await?;
            if let (Ok(r), Ok(h)) = (
                row_bytes.dyn_into::<Uint8Array>(),
                hash_bytes.dyn_into::<Uint8Array>(),
            ) {
                let (r, h) = (crate::js_bytes::take(&r), crate::js_bytes::take(&h));
                let stride = r.len() / n.max(1);
                let block = cb::Block {
                    hashes: h[(n - keep) * HASH_BYTES..].to_vec(),
                    rows: r[(n - keep) * stride..].to_vec(),
                    stride,
                };
                let model = key.rsplit_once('/').map_or("", |(m, _)| m);
                write_blocks(tx, &[(new_block_key(model), block)], t)?;
            }
        }
        for s in [&rows, &hashes, &uses] {
            s.delete(&(&key).into()).map_err(explain)?;
        }
        gone += n - keep;
    }
    Ok(gone as u32)
}
