//! The browser's embedding cache in blocks: rows of one model are kept a block at a time (up
//! to [`BLOCK_ROWS`] rows in one record, their content hashes in another, their last use in a
//! third), because the browser's IndexedDB writes about a thousand records a second but blocks
//! of a thousand rows several hundred thousand rows a second (measured in headless Chromium: one
//! record per row made opening a million embeddings take 26 minutes).
//!
//! This module is the plain-data half: which rows go into which block, where a content hash
//! is ([`Directory`]), and what to remove when the cache is over its limit ([`trim_plan`]).
//! The app's `idb` module stores and reads the records.
//!
//! Invariant: a block, once written, never changes. Rows are removed by removing whole blocks
//! (the rows kept of a block cut by the limit go to a new block first), so a directory read
//! earlier by another thread finds a block gone, never a different row under the same place.

/// Rows per block (a block of 1,024 rows is 394 kB at 384 dimensions, 1.3 MB at 1,280).
pub const BLOCK_ROWS: usize = 1024;

/// Bytes of a content hash (SHA-256).
pub const HASH_BYTES: usize = 32;

/// The model key and the content hash of a cache key (`<model key>/<64 hex digits>`,
/// [`crate::cache::key_of_hash`]); `None` for a key of another form (not cached in blocks).
pub fn split_key(key: &str) -> Option<(&str, [u8; HASH_BYTES])> {
    let (model, hex) = key.rsplit_once('/')?;
    Some((model, hash_bytes(hex)?))
}

/// A hash of 64 hex digits as its 32 bytes.
pub fn hash_bytes(hex: &str) -> Option<[u8; HASH_BYTES]> {
    let mut out = [0; HASH_BYTES];
    if hex.len() != 2 * HASH_BYTES || !hex.is_ascii() {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The 64 hex digits of a hash's 32 bytes ([`hash_bytes`] the other way).
pub fn hash_hex(bytes: &[u8; HASH_BYTES]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * HASH_BYTES);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// The cache key of the content hashed `hash` under model `model` ([`split_key`] the other
/// way; [`crate::cache::key_of_hash`] of its hex).
pub fn join_key(model: &str, hash: &[u8; HASH_BYTES]) -> String {
    crate::cache::key_of_hash(model, &hash_hex(hash))
}

/// The rows of one block ready to store: `hashes` (32 bytes per row) and `rows` (`stride`
/// bytes per row, each [`crate::cache::compact`]'s bytes), in the same order.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub hashes: Vec<u8>,
    pub rows: Vec<u8>,
    pub stride: usize,
}

impl Block {
    pub fn len(&self) -> usize {
        self.hashes.len() / HASH_BYTES
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

/// A content hash and its embedding's compact row.
pub type Entry = ([u8; HASH_BYTES], Vec<u8>);

/// Groups `entries` (content hash, compact row) into blocks of at most [`BLOCK_ROWS`] rows of
/// one length each (rows of another length than the first of their block start another); a
/// hash given twice is kept once.
pub fn blocks(entries: &[Entry]) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (hash, row) in entries {
        if !seen.insert(*hash) {
            continue;
        }
        let open = out
            .last_mut()
            .filter(|b| b.stride == row.len() && b.len() < BLOCK_ROWS);
        let block = match open {
            Some(b) => b,
            None => {
                out.push(Block {
                    hashes: Vec::new(),
                    rows: Vec::new(),
                    stride: row.len(),
                });
                out.last_mut().expect("just pushed")
            }
        };
        block.hashes.extend_from_slice(hash);
        block.rows.extend_from_slice(row);
    }
    out
}

/// Row `r` of a block's rows of `stride` bytes each; `None` past the end.
pub fn row(rows: &[u8], stride: usize, r: usize) -> Option<&[u8]> {
    rows.get(r * stride..(r + 1) * stride)
}

/// Where each cached content hash of one model is: block and row. Holds 16 bytes per row (the
/// first 96 bits of each hash, and the row's place among the rows added: a false match among a
/// million rows has odds below 10⁻¹⁷), sorted when first searched after an addition.
#[derive(Debug, Default)]
pub struct Directory {
    blocks: Vec<String>,
    /// The place of each block's first row among the rows added (in the order added).
    starts: Vec<u32>,
    /// Each row's hash prefix (as integers: compared without a byte loop) and place.
    entries: Vec<(u64, u32, u32)>,
    sorted: bool,
}

/// The first 12 bytes of a hash, big-endian (so integers order as the bytes do).
type Prefix = (u64, u32);

impl Directory {
    /// Room for `rows` more rows: exactly that many into an empty directory (growing by
    /// doubling would hold up to twice what a million rows need), else as a `Vec` grows
    /// (reserving exactly on every addition would copy the whole list each time).
    pub fn reserve(&mut self, rows: usize) {
        if self.entries.is_empty() {
            self.entries.reserve_exact(rows);
        } else {
            self.entries.reserve(rows);
        }
    }

    /// Adds block `key` holding rows with `hashes` (32 bytes each, in row order). A hash
    /// already in the directory stays where it was.
    ///
    /// # Panics
    /// Past 2³² rows.
    pub fn add(&mut self, key: &str, hashes: &[u8]) {
        let place = |n: usize| u32::try_from(n).expect("fewer than 2³² cached rows");
        self.blocks.push(key.to_string());
        self.starts.push(place(self.entries.len()));
        for hash in hashes.chunks_exact(HASH_BYTES) {
            let at = place(self.entries.len());
            let (high, low) = prefix(hash);
            self.entries.push((high, low, at));
        }
        self.sorted = false;
    }

    /// The block (its key) and row holding `hash`.
    pub fn find(&mut self, hash: &[u8; HASH_BYTES]) -> Option<(&str, usize)> {
        if !self.sorted {
            // Of equal prefixes, the row added first comes first (places are unique). The
            // sorted list with rows appended is two runs, merged in linear time (with at most
            // 8 MB of scratch); an unstable sort would sort the whole list again each time.
            self.entries.sort();
            self.sorted = true;
        }
        let (high, low) = prefix(hash);
        let at = self.entries.partition_point(|e| (e.0, e.1) < (high, low));
        let &(h, l, place) = self.entries.get(at)?;
        if (h, l) != (high, low) {
            return None;
        }
        let block = self.starts.partition_point(|&s| s <= place) - 1;
        Some((
            self.blocks[block].as_str(),
            (place - self.starts[block]) as usize,
        ))
    }

    /// The keys of the blocks added, in order.
    pub fn block_keys(&self) -> &[String] {
        &self.blocks
    }

    /// Rows in the directory (a hash added twice counts twice).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held (the block keys' text aside).
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(u64, u32, u32)>()
            + self.starts.capacity() * 4
            + self.blocks.capacity() * std::mem::size_of::<String>()
    }
}

fn prefix(hash: &[u8]) -> Prefix {
    let high = u64::from_be_bytes(hash[..8].try_into().expect("8 bytes"));
    let low = u32::from_be_bytes(hash[8..12].try_into().expect("4 bytes"));
    (high, low)
}

/// One step of bringing the cache within its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trim {
    /// Remove the block with this key.
    Remove(String),
    /// Keep only the last `keep` rows of this block (written as a new block), then remove it.
    Cut { key: String, keep: usize },
}

/// What to remove so that at most `limit` rows stay, from `blocks` (key, rows) ordered from
/// the least recently used; `total` counts every cached row, these blocks' and any others'.
pub fn trim_plan(blocks: &[(String, usize)], total: usize, limit: usize) -> Vec<Trim> {
    let mut excess = total.saturating_sub(limit);
    let mut plan = Vec::new();
    for (key, n) in blocks {
        if excess == 0 {
            break;
        }
        if *n <= excess {
            plan.push(Trim::Remove(key.clone()));
            excess -= n;
        } else {
            plan.push(Trim::Cut {
                key: key.clone(),
                keep: n - excess,
            });
            excess = 0;
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(i: u32) -> [u8; HASH_BYTES] {
        let mut h = [0; HASH_BYTES];
        h[..4].copy_from_slice(&i.to_le_bytes());
        h[31] = 7;
        h
    }

    #[test]
    fn keys_split_into_model_and_hash() {
        let hex = "ab".repeat(32);
        let key = crate::cache::key_of_hash("m0de1", &hex);
        let (model, h) = split_key(&key).unwrap();
        assert_eq!(model, "m0de1");
        assert_eq!(h, [0xab; 32]);
        assert!(split_key("m/abc").is_none());
        assert!(split_key(&"ab".repeat(32)).is_none(), "no model");
        assert!(split_key(&format!("m/{}", "zz".repeat(32))).is_none());
        assert!(split_key(&format!("m/{}é", "a".repeat(62))).is_none());
        // And back, the hex in lower case as `cache::digest` writes it.
        let mut mixed = [0xab; 32];
        mixed[0] = 0x0f;
        let back = join_key("m0de1", &mixed);
        assert_eq!(back, format!("m0de1/0f{}", "ab".repeat(31)));
        assert_eq!(split_key(&back), Some(("m0de1", mixed)));
    }

    #[test]
    fn rows_go_into_full_blocks_of_one_length() {
        let mut entries: Vec<_> = (0..2500).map(|i| (hash(i), vec![i as u8; 6])).collect();
        entries.push((hash(3), vec![9; 6]));
        entries.push((hash(9000), vec![1; 10]));
        let out = blocks(&entries);
        let sizes: Vec<_> = out.iter().map(|b| (b.len(), b.stride)).collect();
        assert_eq!(sizes, [(1024, 6), (1024, 6), (452, 6), (1, 10)]);
        assert_eq!(row(&out[1].rows, 6, 3), Some(&[(1027 % 256) as u8; 6][..]));
        assert_eq!(row(&out[2].rows, 6, 452), None);
        assert_eq!(
            &out[0].hashes[32 * 3..32 * 4],
            &hash(3),
            "the first row of a hash kept"
        );
        assert_eq!(row(&out[0].rows, 6, 3), Some(&[3u8; 6][..]));
    }

    #[test]
    fn the_directory_finds_each_hash_in_its_block() {
        let out = blocks(&(0..1500).map(|i| (hash(i), vec![0; 4])).collect::<Vec<_>>());
        let mut dir = Directory::default();
        dir.add("m/a", &out[0].hashes);
        dir.add("m/b", &out[1].hashes);
        dir.add("m/c", &out[1].hashes[..64]);
        assert_eq!(dir.len(), 1502);
        assert_eq!(dir.block_keys(), ["m/a", "m/b", "m/c"]);
        assert_eq!(dir.find(&hash(0)), Some(("m/a", 0)));
        assert_eq!(dir.find(&hash(1023)), Some(("m/a", 1023)));
        assert_eq!(
            dir.find(&hash(1024)),
            Some(("m/b", 0)),
            "kept where first seen"
        );
        assert_eq!(dir.find(&hash(1499)), Some(("m/b", 475)));
        assert_eq!(dir.find(&hash(1500)), None);
        // Found again after more blocks come (sorted anew), the last block's rows too.
        let more = blocks(
            &(1500..1600)
                .map(|i| (hash(i), vec![0; 4]))
                .collect::<Vec<_>>(),
        );
        dir.add("m/d", &more[0].hashes);
        assert_eq!(dir.find(&hash(1550)), Some(("m/d", 50)));
        assert_eq!(dir.find(&hash(1)), Some(("m/a", 1)));
        assert_eq!(dir.find(&hash(1024 + 63)), Some(("m/b", 63)));
    }

    #[test]
    fn the_directory_holds_sixteen_bytes_a_row_when_reserved() {
        let out = blocks(&(0..4096).map(|i| (hash(i), vec![0; 4])).collect::<Vec<_>>());
        let mut dir = Directory::default();
        dir.reserve(4096);
        for (k, b) in out.iter().enumerate() {
            dir.add(&format!("m/{k}"), &b.hashes);
        }
        assert_eq!(dir.len(), 4096);
        assert!(
            dir.heap_bytes() <= 16 * 4096 + 4 * 8 + 24 * 8,
            "{}",
            dir.heap_bytes()
        );
        assert_eq!(dir.find(&hash(4095)), Some(("m/3", 1023)));
    }

    #[test]
    fn the_limit_removes_the_oldest_blocks_and_cuts_one() {
        let b = |k: &str, n| (k.to_string(), n);
        let old = [b("a", 100), b("b", 50), b("c", 1000)];
        assert_eq!(trim_plan(&old, 1150, 2000), []);
        assert_eq!(
            trim_plan(&old, 1150, 1000),
            [Trim::Remove("a".into()), Trim::Remove("b".into())]
        );
        assert_eq!(
            trim_plan(&old, 1150, 900),
            [
                Trim::Remove("a".into()),
                Trim::Remove("b".into()),
                Trim::Cut {
                    key: "c".into(),
                    keep: 900
                }
            ]
        );
        assert_eq!(
            trim_plan(&old, 1150, 1100),
            [Trim::Cut {
                key: "a".into(),
                keep: 50
            }]
        );
        // Rows elsewhere (not in these blocks) count towards the total.
        assert_eq!(
            trim_plan(&old, 1300, 1150),
            [Trim::Remove("a".into()), Trim::Remove("b".into())]
        );
        assert_eq!(trim_plan(&old, 1150, 0).len(), 3);
    }
}
