//! The header of an embeddings file ([`Header`]): read alone, so the app reads the rows in
//! slices, and checked against itself (the tensor's shape, the lists, the format version).

use std::collections::BTreeMap;

use super::{bad, LeftOut, Precision, Shard, VectorsFile, FORMAT_VERSION, TENSOR};
use crate::cache_blocks::{self, HASH_BYTES};
use crate::Result;

/// What an embeddings file says before its data: enough to read its rows in slices (a file
/// of a million rows need not be in memory at once).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Everything but the values (`file.values` is empty).
    pub file: VectorsFile,
    pub precision: Precision,
    /// Where row 0 starts in the file; rows follow one another, [`Header::row_bytes`] each.
    pub data_start: usize,
}

/// A content hash in the file's `hashes` list: 64 hex digits, read without a string of its own.
struct Hash([u8; HASH_BYTES]);

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Hash, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Hash;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("64 hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Hash, E> {
                cache_blocks::hash_bytes(v)
                    .map(Hash)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// The tensor's entry in a safetensors header.
#[derive(serde::Deserialize)]
struct TensorEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: (usize, usize),
}

impl Header {
    /// How many bytes from the file's start [`Header::parse`] needs, from its first 8.
    ///
    /// # Errors
    /// [`Error::Format`] when fewer than 8 bytes are given or the header would be huge.
    pub fn len_needed(first: &[u8]) -> Result<usize> {
        let n: [u8; 8] = first
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("it is not a safetensors file (too short)"))?;
        let n = u64::from_le_bytes(n);
        if n > 1 << 30 {
            return Err(bad(
                "it is not a safetensors file (its header length is absurd)",
            ));
        }
        Ok(8 + n as usize)
    }

    /// Reads the header from the start of the file (at least [`Header::len_needed`] bytes).
    ///
    /// # Errors
    /// [`Error::Format`] when the bytes are not a safetensors header, the tensor `embeddings`
    /// is missing or not a 2-D f16/f32 tensor, the metadata is missing or disagrees with it,
    /// or the file is of a newer format.
    pub fn parse(start: &[u8]) -> Result<Header> {
        let end = Header::len_needed(start)?;
        let json = start
            .get(8..end)
            .ok_or_else(|| bad("it is not a safetensors file (the header is cut short)"))?;
        let (top, mut meta) = top_and_meta(json)?;
        // Each list's text is dropped once parsed (at a million items the two are ~75 MB), and
        // the hashes go straight to bytes.
        let mut list = |name: &str| {
            meta.remove(name)
                .ok_or_else(|| bad(format!("its metadata has no '{name}'")))
        };
        let hashes: Vec<Hash> = serde_json::from_str(&list("hashes")?).map_err(|e| {
            bad(format!(
                "its 'hashes' is not a JSON list of content hashes of 64 hex digits ({e})"
            ))
        })?;
        let hashes: Vec<[u8; HASH_BYTES]> = hashes.into_iter().map(|h| h.0).collect();
        let items: Vec<String> = serde_json::from_str(&list("items")?)
            .map_err(|e| bad(format!("its 'items' is not a JSON list of strings ({e})")))?;
        Header::assemble(top, meta, end, items, hashes)
    }

    /// [`Header::parse`] of a header whose metadata's two long lists were taken out and read by
    /// the caller: `json` is the header's JSON without `items` and `hashes` (the bytes after
    /// the first 8), `end` = 8 + the header's length in the file. What the browser uses: it
    /// parses the lists (tens of MB at a million items) with its own JSON parser, outside the
    /// wasm memory, which never shrinks. The lists are checked as [`Header::parse`] checks
    /// them, but for their syntax.
    ///
    /// # Errors
    /// As [`Header::parse`].
    pub fn parse_apart(
        json: &[u8],
        end: usize,
        items: Vec<String>,
        hashes: Vec<[u8; HASH_BYTES]>,
    ) -> Result<Header> {
        let (top, meta) = top_and_meta(json)?;
        Header::assemble(top, meta, end, items, hashes)
    }

    /// The header from its parsed parts (`meta` without the two lists, `top` without the
    /// metadata), checked against one another.
    fn assemble(
        mut top: BTreeMap<String, serde_json::Value>,
        meta: BTreeMap<String, String>,
        end: usize,
        items: Vec<String>,
        hashes: Vec<[u8; HASH_BYTES]>,
    ) -> Result<Header> {
        let left_out: Vec<LeftOut> = match meta.get("left_out") {
            Some(v) => serde_json::from_str(v)
                .map_err(|e| bad(format!("its 'left_out' is malformed ({e})")))?,
            None => Vec::new(),
        };
        let entry: TensorEntry = top
            .remove(TENSOR)
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| bad(format!("its '{TENSOR}' entry is malformed ({e})")))?
            .ok_or_else(|| bad(format!("it has no tensor '{TENSOR}'")))?;
        let (n, dim) = match entry.shape[..] {
            [n, d] => (n, d),
            ref other => return Err(bad(format!("'{TENSOR}' has shape {other:?}, not N × D"))),
        };
        let precision = match entry.dtype.as_str() {
            "F16" => Precision::F16,
            "F32" => Precision::F32,
            other => return Err(bad(format!("'{TENSOR}' is {other}, not F16 or F32"))),
        };
        if items.len() != n || hashes.len() != n {
            return Err(bad(format!(
                "{n} rows but {} item names and {} hashes",
                items.len(),
                hashes.len()
            )));
        }
        let header = Header {
            file: VectorsFile {
                items,
                hashes,
                model_key: field(&meta, "model_key")?,
                dim,
                values: Vec::new(),
                left_out,
                shard: shard(&meta)?,
            },
            precision,
            data_start: end + entry.data_offsets.0,
        };
        if entry.data_offsets.1 - entry.data_offsets.0 != n * header.row_bytes() {
            return Err(bad(format!(
                "'{TENSOR}' holds other than {n} × {dim} values"
            )));
        }
        Ok(header)
    }

    /// Bytes per row.
    pub fn row_bytes(&self) -> usize {
        self.file.dim
            * match self.precision {
                Precision::F16 => 2,
                Precision::F32 => 4,
            }
    }

    /// The values of whole rows (`data` holds a whole number of rows).
    ///
    /// # Errors
    /// [`Error::Format`] when a value is not a number or `data` ends inside a row.
    pub fn decode(&self, data: &[u8]) -> Result<Vec<f32>> {
        if self.row_bytes() == 0 || !data.len().is_multiple_of(self.row_bytes()) {
            return Err(bad("its data ends inside a row"));
        }
        let values: Vec<f32> = match self.precision {
            Precision::F32 => data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Precision::F16 => data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        };
        if values.iter().any(|v| !v.is_finite()) {
            return Err(bad("an embedding holds a value that is not a number"));
        }
        Ok(values)
    }

    /// The file with these rows' `values`.
    pub fn into_file(self, values: Vec<f32>) -> VectorsFile {
        VectorsFile {
            values,
            ..self.file
        }
    }
}

/// A header's JSON as its entries apart from the metadata, and the metadata, whose format
/// version is checked first (a newer file may say anything).
fn top_and_meta(
    json: &[u8],
) -> Result<(
    BTreeMap<String, serde_json::Value>,
    BTreeMap<String, String>,
)> {
    let mut top: BTreeMap<String, serde_json::Value> = serde_json::from_slice(json)
        .map_err(|e| bad(format!("it is not a safetensors file ({e})")))?;
    let meta: BTreeMap<String, String> = match top.remove("__metadata__") {
        Some(m) => {
            serde_json::from_value(m).map_err(|e| bad(format!("its metadata is not text ({e})")))?
        }
        None => BTreeMap::new(),
    };
    let version: u32 = field(&meta, "format_version")?
        .parse()
        .map_err(|_| bad("its format_version is not a number"))?;
    if version > FORMAT_VERSION {
        return Err(bad(format!(
            "it is of format version {version}; this Quarry reads version {FORMAT_VERSION} \
             and older: update Quarry"
        )));
    }
    Ok((top, meta))
}

/// Metadata field `name`.
fn field(meta: &BTreeMap<String, String>, name: &str) -> Result<String> {
    meta.get(name)
        .cloned()
        .ok_or_else(|| bad(format!("its metadata has no '{name}'")))
}

/// The shard fields of the metadata, if any.
fn shard(meta: &BTreeMap<String, String>) -> Result<Option<Shard>> {
    let Some(s) = meta.get("shard") else {
        return Ok(None);
    };
    let parse = || -> Option<Shard> {
        let (i, c) = s.split_once('/')?;
        let (i, count): (usize, usize) = (i.parse().ok()?, c.parse().ok()?);
        (i >= 1 && i <= count).then_some(())?;
        Some(Shard {
            index: i - 1,
            count,
            inputs: meta.get("inputs")?.parse().ok()?,
            inputs_digest: meta.get("inputs_digest")?.clone(),
        })
    };
    parse()
        .map(Some)
        .ok_or_else(|| bad(format!("its shard '{s}' is malformed")))
}
