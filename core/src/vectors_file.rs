//! The embeddings file `quarry embed` writes, `quarry merge` joins and the app opens: a
//! safetensors file (readable by Python's `safetensors` package) holding one tensor
//! `embeddings` (`N × D`, f16 or f32) and string metadata:
//!
//! - `items`: JSON array of the item names in row order (paths relative to the folder given,
//!   `/`-separated; for texts, the name the app gives the row);
//! - `hashes`: JSON array of each item's content hash ([`cache::digest`] of the file's bytes or
//!   the text's UTF-8: the second half of the app's cache key);
//! - `model_key`: [`cache::model_key`] of the model, as the app computes it;
//! - `format_version`: [`FORMAT_VERSION`];
//! - `left_out`: JSON array of `{"item", "reason"}` for inputs that could not be embedded;
//! - for a shard: `shard` (`"i/n"`), `inputs` (how many inputs the whole run has) and
//!   `inputs_digest` (of their sorted names), so that [`merge`] can tell a shard is missing.
//!
//! f16 by default: half the size of f32 (1,000,000 × 1,280 is 2.6 GB instead of 5.1 GB), and
//! its rounding (a relative 5·10⁻⁴ per value) is far below the 8-bit rows the learner keeps
//! (a step of 1/127 of the row's largest value); cosine to the f32 vector stays above 0.9999.
//! This is the one boundary of the format: a newer `format_version` is refused by name.

use std::collections::{BTreeMap, HashMap};

use safetensors::tensor::TensorView;
use safetensors::Dtype;

use crate::cache;
use crate::cache_blocks::{self, HASH_BYTES};
use crate::{Error, Result};

mod header;
pub use header::Header;

/// The format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The tensor's name.
pub const TENSOR: &str = "embeddings";
/// The largest header a safetensors file may have: the `safetensors` crate (and so Python's
/// `safetensors` package, built on it) refuses to write or read more. The item names and hashes
/// are in the header, about 74 bytes per item plus its name: some 1,000,000 items at most.
pub const MAX_HEADER_BYTES: usize = 100_000_000;
/// What the header holds besides the names and hashes, at most (the tensor's entry, the model
/// key, the shard fields; `left_out` is counted separately).
const HEADER_REST: usize = 4_096;

/// The bytes the header of a file of `items` (with `left_out`) takes: each name and hash written
/// as a JSON array, itself written as a JSON string.
pub fn header_bytes(items: &[String], left_out: &[LeftOut]) -> usize {
    // `["<64 hex>",…]` escaped into a string: `\"` around each hash, a comma between them.
    let hashes = 4 + items.len() * 69;
    let escaped = |s: &str| s.len() + s.bytes().filter(|b| matches!(b, b'"' | b'\\')).count();
    escaped(&json(items)) + hashes + escaped(&json(left_out)) + HEADER_REST
}

/// How many shards (`--shard i/n`) `items` must be split into for each shard's file to stay
/// within [`MAX_HEADER_BYTES`] (1 when one file holds them), with room to spare.
pub fn shards_needed(items: &[String]) -> usize {
    let room = MAX_HEADER_BYTES * 9 / 10;
    header_bytes(items, &[]).div_ceil(room).max(1)
}

/// How values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// Half precision (the default).
    #[default]
    F16,
    /// Single precision.
    F32,
}

/// An input that could not be embedded, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LeftOut {
    pub item: String,
    pub reason: String,
}

/// Which part of a sharded run a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: usize,
    pub count: usize,
    /// Inputs of the whole run.
    pub inputs: usize,
    /// [`inputs_digest`] of the whole run's input names.
    pub inputs_digest: String,
}

/// The contents of an embeddings file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VectorsFile {
    pub items: Vec<String>,
    /// Each item's content hash, as bytes ([`cache_blocks::hash_bytes`] of the hex the file
    /// holds: a million are 32 MB here, not 84 as strings).
    pub hashes: Vec<[u8; HASH_BYTES]>,
    pub model_key: String,
    /// Values per row.
    pub dim: usize,
    /// `items.len() × dim`, row-major.
    pub values: Vec<f32>,
    pub left_out: Vec<LeftOut>,
    pub shard: Option<Shard>,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::Format {
        what: "embeddings file",
        reason: reason.into(),
    }
}

/// The shard (of `count`) that input `name` belongs to: by a hash of the name, so the split
/// does not depend on the order inputs are listed in, and an input keeps its shard when others
/// are added.
pub fn shard_of(name: &str, count: usize) -> usize {
    let hex = cache::digest(&[name.as_bytes()]);
    let head = u64::from_str_radix(&hex[..16], 16).expect("a hex digest");
    (head % count.max(1) as u64) as usize
}

/// A digest of a run's input names (order-free): shards of one run agree on it.
pub fn inputs_digest(names: &[String]) -> String {
    let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    let parts: Vec<&[u8]> = sorted.iter().map(|s| s.as_bytes()).collect();
    cache::digest(&parts)
}

/// Which entry of an embeddings file each of `items` (the app's item names) is, by name: the
/// entry (of `entries`, numbered by `entry_of`) of the item's name itself, or — when the app's
/// name carries folders above the one `quarry embed` was given (`photos/cats/a.png` for the
/// file's `cats/a.png`) — of its shortest tail of whole segments that `entry_of` knows. An
/// entry that two items would take is given to neither: those are matched by content instead.
/// Holds one byte per entry besides the result (a million names take no table of names).
pub fn match_names(
    items: &[String],
    entries: usize,
    entry_of: impl Fn(&str) -> Option<u32>,
) -> Vec<Option<u32>> {
    let found: Vec<Option<u32>> = items
        .iter()
        .map(|name| {
            let mut rest = name.as_str();
            loop {
                if let Some(e) = entry_of(rest) {
                    return Some(e);
                }
                match rest.split_once('/') {
                    Some((_, tail)) if !tail.is_empty() => rest = tail,
                    _ => return None,
                }
            }
        })
        .collect();
    let mut takers = vec![0u8; entries];
    for &e in found.iter().flatten() {
        let t = &mut takers[e as usize];
        *t = t.saturating_add(1);
    }
    found
        .into_iter()
        .map(|f| f.filter(|&e| takers[e as usize] == 1))
        .collect()
}

impl VectorsFile {
    /// Row `r`'s values.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.values[r * self.dim..(r + 1) * self.dim]
    }

    /// The file's bytes.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the lengths disagree (items, hashes, values) or a value is not
    /// finite (or, in f16, too large).
    pub fn to_bytes(&self, precision: Precision) -> Result<Vec<u8>> {
        let n = self.items.len();
        if self.hashes.len() != n || self.values.len() != n * self.dim {
            return Err(Error::Invalid(format!(
                "{n} items, {} hashes and {} values of dimension {}",
                self.hashes.len(),
                self.values.len(),
                self.dim
            )));
        }
        if self.values.iter().any(|v| !v.is_finite()) {
            return Err(Error::Invalid(
                "an embedding holds a value that is not a number".into(),
            ));
        }
        let header = header_bytes(&self.items, &self.left_out);
        if header > MAX_HEADER_BYTES {
            return Err(Error::Invalid(format!(
                "{n} items make a header of {} MB (their names and hashes), more than the {} MB \
                 a safetensors file may have: embed them in {} shards or more (--shard i/n) and \
                 open the shards in the app together",
                header / 1_000_000,
                MAX_HEADER_BYTES / 1_000_000,
                shards_needed(&self.items)
            )));
        }
        let (dtype, data): (Dtype, Vec<u8>) = match precision {
            Precision::F32 => (
                Dtype::F32,
                self.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            Precision::F16 => {
                let mut data = Vec::with_capacity(self.values.len() * 2);
                for &v in &self.values {
                    let h = half::f16::from_f32(v);
                    if !h.is_finite() {
                        return Err(Error::Invalid(format!(
                            "the value {v} does not fit in f16: write f32"
                        )));
                    }
                    data.extend(h.to_le_bytes());
                }
                (Dtype::F16, data)
            }
        };
        let mut meta = HashMap::new();
        meta.insert("items".to_string(), json(&self.items));
        let hex: Vec<String> = self.hashes.iter().map(cache_blocks::hash_hex).collect();
        meta.insert("hashes".to_string(), json(&hex));
        meta.insert("left_out".to_string(), json(&self.left_out));
        meta.insert("model_key".to_string(), self.model_key.clone());
        meta.insert("format_version".to_string(), FORMAT_VERSION.to_string());
        if let Some(s) = &self.shard {
            meta.insert("shard".to_string(), format!("{}/{}", s.index + 1, s.count));
            meta.insert("inputs".to_string(), s.inputs.to_string());
            meta.insert("inputs_digest".to_string(), s.inputs_digest.clone());
        }
        let view = TensorView::new(dtype, vec![n, self.dim], &data)
            .map_err(|e| Error::Invalid(format!("{e}")))?;
        safetensors::serialize([(TENSOR, view)], Some(meta))
            .map_err(|e| Error::Invalid(format!("{e}")))
    }

    /// Reads an embeddings file.
    ///
    /// # Errors
    /// As [`Header::parse`], and [`Error::Format`] when the data is not as long as the header
    /// says or holds a value that is not a number.
    pub fn from_bytes(bytes: &[u8]) -> Result<VectorsFile> {
        let header = Header::parse(bytes)?;
        let data = bytes
            .get(header.data_start..)
            .filter(|d| d.len() == header.file.items.len() * header.row_bytes())
            .ok_or_else(|| bad("its data is not as long as its header says"))?;
        let values = header.decode(data)?;
        Ok(header.into_file(values))
    }
}

/// Joins files of one run (shards, or any files of one model) into one, rows sorted by item
/// name.
///
/// # Errors
/// [`Error::Invalid`] naming the part (1-based, in the order given) when parts were made with
/// different models or dimensions, an item is in two parts, or — for shards — parts are of
/// different runs, a shard is missing or given twice, or items of the run are unaccounted for.
pub fn merge(parts: Vec<VectorsFile>) -> Result<VectorsFile> {
    let Some(first) = parts.first() else {
        return Err(Error::Invalid("nothing to merge".into()));
    };
    let (model_key, dim) = (first.model_key.clone(), first.dim);
    for (p, part) in parts.iter().enumerate().skip(1) {
        if part.model_key != model_key {
            return Err(Error::Invalid(format!(
                "part {} was made with another model than part 1 (model key {}… vs {}…)",
                p + 1,
                &part.model_key[..part.model_key.len().min(12)],
                &model_key[..model_key.len().min(12)]
            )));
        }
        if part.dim != dim && !part.items.is_empty() && !first.items.is_empty() {
            return Err(Error::Invalid(format!(
                "part {} has {} values per item, part 1 {dim}",
                p + 1,
                part.dim
            )));
        }
    }
    let shard = check_shards(&parts)?;
    let mut rows: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut left_out = Vec::new();
    let mut dim = dim;
    for (p, part) in parts.iter().enumerate() {
        if !part.items.is_empty() {
            dim = part.dim;
        }
        for (r, item) in part.items.iter().enumerate() {
            if let Some((q, _)) = rows.insert(item.clone(), (p, r)) {
                return Err(Error::Invalid(format!(
                    "'{item}' is in part {} and part {}",
                    q + 1,
                    p + 1
                )));
            }
        }
        left_out.extend(part.left_out.iter().cloned());
    }
    if let Some(s) = &shard {
        let accounted = rows.len() + left_out.len();
        if accounted != s.inputs {
            return Err(Error::Invalid(format!(
                "the shards hold {} items and {} left out, but the run had {} inputs: {} are \
                 missing",
                rows.len(),
                left_out.len(),
                s.inputs,
                s.inputs.abs_diff(accounted)
            )));
        }
    }
    let mut out = VectorsFile {
        model_key,
        dim,
        left_out,
        ..VectorsFile::default()
    };
    for (item, (p, r)) in rows {
        let part = &parts[p];
        out.items.push(item);
        out.hashes.push(part.hashes[r]);
        out.values.extend_from_slice(part.row(r));
    }
    Ok(out)
}

/// When every part is a shard: that they are the shards of one run, each exactly once (the
/// run's description, without an index, is returned). Parts without shard information: `None`.
fn check_shards(parts: &[VectorsFile]) -> Result<Option<Shard>> {
    let shards: Vec<&Shard> = parts.iter().filter_map(|p| p.shard.as_ref()).collect();
    if shards.is_empty() {
        return Ok(None);
    }
    if shards.len() != parts.len() {
        return Err(Error::Invalid(
            "some parts are shards (--shard) and some are not: merge the shards of one run".into(),
        ));
    }
    let run = shards[0];
    let mut seen = vec![false; run.count];
    for (p, s) in shards.iter().enumerate() {
        if s.count != run.count || s.inputs_digest != run.inputs_digest || s.inputs != run.inputs {
            return Err(Error::Invalid(format!(
                "part {} is a shard of another run (other inputs or shard count) than part 1",
                p + 1
            )));
        }
        if std::mem::replace(&mut seen[s.index], true) {
            return Err(Error::Invalid(format!(
                "shard {}/{} is given twice",
                s.index + 1,
                s.count
            )));
        }
    }
    if let Some(i) = seen.iter().position(|&s| !s) {
        return Err(Error::Invalid(format!(
            "shard {}/{} is missing",
            i + 1,
            run.count
        )));
    }
    Ok(Some(Shard {
        index: 0,
        ..run.clone()
    }))
}

/// A metadata field's JSON.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_size_is_known_before_writing_and_too_large_a_file_is_refused() {
        let names: Vec<String> = (0..50).map(|i| format!("dir \"{i}\"/a\\b.png")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut f = file(&refs, 2);
        f.left_out = vec![LeftOut {
            item: "x.png".into(),
            reason: "it is \"damaged\"".into(),
        }];
        let bytes = f.to_bytes(Precision::F16).unwrap();
        let written = Header::len_needed(&bytes).unwrap() - 8;
        let estimate = header_bytes(&f.items, &f.left_out);
        // Exact for the names, hashes and left-out list; the rest is within HEADER_REST.
        assert!(
            estimate >= written && estimate - written <= HEADER_REST,
            "{estimate} vs {written}"
        );
        assert_eq!(shards_needed(&f.items), 1);
        // 1.5 million names of 40 characters: about 172 MB of header.
        let many: Vec<String> = (0..1_500_000)
            .map(|i| format!("photos/2026/holiday/{i:020}"))
            .collect();
        assert_eq!(shards_needed(&many), 2);
        let mut big = file(&["a"], 1);
        big.items = many;
        big.hashes = vec![[0; HASH_BYTES]; big.items.len()];
        big.values = vec![0.0; big.items.len()];
        let refused = big.to_bytes(Precision::F16).unwrap_err().to_string();
        assert!(refused.contains("in 2 shards or more"), "{refused}");
    }

    #[test]
    fn items_are_matched_by_name_or_a_tail_of_whole_segments_and_never_twice() {
        let file = ["cats/a.png", "dogs/a.png", "b.png", "c.png"];
        let entry_of = |n: &str| file.iter().position(|f| *f == n).map(|e| e as u32);
        let items: Vec<String> = [
            "cats/a.png",        // itself
            "photos/dogs/a.png", // a folder above the one embedded
            "x/b.png",
            "y/b.png", // b.png taken twice: neither
            "d.png",   // not in the file
            "xc.png",  // a tail that is not a whole segment
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            match_names(&items, file.len(), entry_of),
            [Some(0), Some(1), None, None, None, None]
        );
    }

    fn file(items: &[&str], dim: usize) -> VectorsFile {
        VectorsFile {
            items: items.iter().map(|s| s.to_string()).collect(),
            hashes: items
                .iter()
                .map(|s| cache::digest_bytes(&[s.as_bytes()]))
                .collect(),
            model_key: "m".repeat(64),
            dim,
            values: (0..items.len() * dim)
                .map(|v| v as f32 * 0.25 - 1.0)
                .collect(),
            left_out: Vec::new(),
            shard: None,
        }
    }

    #[test]
    fn files_round_trip_in_f32_and_f16() {
        let mut f = file(&["a.png", "b/c.png"], 3);
        f.left_out.push(LeftOut {
            item: "d.png".into(),
            reason: "not a readable image".into(),
        });
        assert_eq!(
            VectorsFile::from_bytes(&f.to_bytes(Precision::F32).unwrap()).unwrap(),
            f
        );
        let half = VectorsFile::from_bytes(&f.to_bytes(Precision::F16).unwrap()).unwrap();
        // Quarter steps are exact in f16.
        assert_eq!(half, f);
        // The header alone, then one row read by its offset (how the app reads large files).
        let bytes = f.to_bytes(Precision::F16).unwrap();
        let header = Header::parse(&bytes[..Header::len_needed(&bytes[..8]).unwrap()]).unwrap();
        assert_eq!((header.file.items.len(), header.file.dim), (2, 3));
        let at = header.data_start + header.row_bytes();
        let row = header.decode(&bytes[at..at + header.row_bytes()]).unwrap();
        assert_eq!(row, f.row(1));
        assert!(header.decode(&bytes[at..at + 3]).is_err(), "half a row");
        f.values[0] = 1e6;
        assert!(f.to_bytes(Precision::F16).is_err(), "too large for f16");
        // A hash that is not 64 hex digits is refused by name (they are read as bytes).
        let hex = cache_blocks::hash_hex(&f.hashes[1]);
        let at = bytes.windows(64).position(|w| w == hex.as_bytes()).unwrap();
        let mut damaged = bytes.clone();
        damaged[at] = b'g';
        let err = VectorsFile::from_bytes(&damaged).unwrap_err().to_string();
        assert!(
            err.contains("'hashes'") && err.contains("64 hex digits"),
            "{err}"
        );
    }

    #[test]
    fn a_header_read_apart_from_its_lists_is_the_header() {
        let f = file(&["a.png", "b/c.png", "d \"e\".png"], 2);
        let bytes = f.to_bytes(Precision::F16).unwrap();
        let end = Header::len_needed(&bytes).unwrap();
        // As the browser does: the two lists taken out of the metadata and read on their own.
        let mut top: serde_json::Value = serde_json::from_slice(&bytes[8..end]).unwrap();
        let meta = top["__metadata__"].as_object_mut().unwrap();
        let items: Vec<String> =
            serde_json::from_str(meta.remove("items").unwrap().as_str().unwrap()).unwrap();
        let hashes: Vec<String> =
            serde_json::from_str(meta.remove("hashes").unwrap().as_str().unwrap()).unwrap();
        let hashes: Vec<[u8; HASH_BYTES]> = hashes
            .iter()
            .map(|h| cache_blocks::hash_bytes(h).unwrap())
            .collect();
        let rest = serde_json::to_vec(&top).unwrap();
        let whole = Header::parse(&bytes[..end]).unwrap();
        let apart = Header::parse_apart(&rest, end, items.clone(), hashes.clone()).unwrap();
        assert_eq!(apart, whole);
        // The lists are still checked against the tensor, and the version comes first.
        let err = Header::parse_apart(&rest, end, items[..2].to_vec(), hashes.clone())
            .unwrap_err()
            .to_string();
        assert!(err.contains("3 rows but 2 item names"), "{err}");
        top["__metadata__"]["format_version"] = "9".into();
        let newer = serde_json::to_vec(&top).unwrap();
        let err = Header::parse_apart(&newer, end, items, hashes)
            .unwrap_err()
            .to_string();
        assert!(err.contains("format version 9"), "{err}");
    }

    #[test]
    fn damaged_and_newer_files_are_refused_by_reason() {
        let err = VectorsFile::from_bytes(b"not a file")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a safetensors file"), "{err}");
        let f = file(&["a"], 2);
        let mut bytes = f.to_bytes(Precision::F32).unwrap();
        let field = b"\"format_version\":\"1\"";
        let at = bytes.windows(field.len()).position(|w| w == field).unwrap();
        bytes[at + field.len() - 2] = b'9';
        let err = VectorsFile::from_bytes(&bytes).unwrap_err().to_string();
        assert!(err.contains("format version 9"), "{err}");
    }

    #[test]
    fn shards_split_by_name_and_merge_checks_them() {
        let names: Vec<String> = (0..60).map(|i| format!("img{i}.png")).collect();
        let digest = inputs_digest(&names);
        let parts: Vec<VectorsFile> = (0..3)
            .map(|s| {
                let mine: Vec<&str> = names
                    .iter()
                    .filter(|n| shard_of(n, 3) == s)
                    .map(String::as_str)
                    .collect();
                let mut f = file(&mine, 2);
                f.shard = Some(Shard {
                    index: s,
                    count: 3,
                    inputs: 60,
                    inputs_digest: digest.clone(),
                });
                f
            })
            .collect();
        assert!(
            parts.iter().all(|p| p.items.len() > 5),
            "every shard has a share"
        );
        let round = |f: &VectorsFile| {
            VectorsFile::from_bytes(&f.to_bytes(Precision::F32).unwrap()).unwrap()
        };
        let parts: Vec<VectorsFile> = parts.iter().map(round).collect();
        let merged = merge(parts.clone()).unwrap();
        assert_eq!(merged.items.len(), 60);
        assert!(merged.items.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(merged.shard, None);
        let order_free = merge(vec![parts[2].clone(), parts[0].clone(), parts[1].clone()]).unwrap();
        assert_eq!(order_free, merged);
        let err = merge(vec![parts[0].clone(), parts[2].clone()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("shard 2/3 is missing"), "{err}");
        let err = merge(vec![parts[0].clone(), parts[0].clone(), parts[1].clone()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("shard 1/3 is given twice"), "{err}");
        let mut other = parts[1].clone();
        other.model_key = "x".repeat(64);
        let err = merge(vec![parts[0].clone(), other, parts[2].clone()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("part 2 was made with another model"), "{err}");
        let mut short = parts[1].clone();
        short.items.pop();
        short.hashes.pop();
        short.values.truncate(short.items.len() * 2);
        let err = merge(vec![parts[0].clone(), short, parts[2].clone()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("1 are missing"), "{err}");
        let err = merge(vec![file(&["a", "b"], 2), file(&["b"], 2)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("'b' is in part 1 and part 2"), "{err}");
    }
}
