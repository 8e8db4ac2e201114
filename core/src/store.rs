//! Compact embedding storage: 8-bit codes with one scale per row, filled as items are embedded.
//!
//! A 1280-d image embedding takes 1,284 bytes here instead of 5,120 as `f32`, so a pool of
//! 50,000 images fits in ~64 MB. Rows are quantised symmetrically, `x ≈ code · scale` with
//! `scale = max|x| / 127`: the error per value is at most `scale / 2`, and cosine similarity to the
//! original stays above 0.999 for embedding-like vectors (tested).

use crate::matrix::Matrix;
use crate::{Error, Result};

/// Read access to embedding rows, whatever their storage.
pub trait Rows {
    /// Number of rows (present or not).
    fn rows(&self) -> usize;
    /// Values per row.
    fn cols(&self) -> usize;
    /// Writes row `i` into `out` (`out.len() == self.cols()`). Panics when `i` is out of range.
    fn row_into(&self, i: usize, out: &mut [f32]);

    /// Rows `idx`, decoded, in that order.
    fn decode(&self, idx: &[usize]) -> Matrix {
        let mut m = Matrix::zeros(idx.len(), self.cols());
        for (k, &i) in idx.iter().enumerate() {
            self.row_into(i, m.row_mut(k));
        }
        m
    }
}

impl Rows for Matrix {
    fn rows(&self) -> usize {
        Matrix::rows(self)
    }
    fn cols(&self) -> usize {
        Matrix::cols(self)
    }
    fn row_into(&self, i: usize, out: &mut [f32]) {
        out.copy_from_slice(self.row(i));
    }
}

/// Rows per piece of [`CompactRows`]'s codes (5 MB of 1,280 values).
const CHUNK_ROWS: usize = 4096;

/// `rows` slots of `dim` 8-bit codes each, plus a per-row scale and whether the row is filled.
///
/// The dimension is fixed by the first row stored. Slots not yet filled read as zeros and are
/// reported by [`CompactRows::is_present`]; the learner only ever queries present rows.
///
/// The codes are kept in pieces of [`CHUNK_ROWS`] rows, each taken when a first row of it
/// arrives: the store's memory grows with the rows that came, not with the rows announced. (A
/// wasm memory never shrinks, and a zeroed allocation there is written through at once: one
/// allocation for a million rows of 1,280 values put 1.2 GB in use before the first arrived.)
#[derive(Debug, Clone, Default)]
pub struct CompactRows {
    rows: usize,
    dim: usize,
    /// Piece `k` holds rows `k·CHUNK_ROWS..`, `dim` codes each; empty until one arrives.
    chunks: Vec<Vec<i8>>,
    /// `dim` zeros: the codes of a row whose piece is not taken yet.
    zeros: Vec<i8>,
    scales: Vec<f32>,
    /// `Σ code²` of each row: its squared norm over its scale squared (for the compute layer).
    code_sq: Vec<u32>,
    present: Vec<bool>,
    filled: usize,
    /// How many times [`CompactRows::set`] replaced a present row.
    rewrites: u64,
}

impl CompactRows {
    /// Room for `rows` rows, none present yet. Memory is taken when the first row arrives.
    pub fn new(rows: usize) -> CompactRows {
        CompactRows {
            rows,
            present: vec![false; rows],
            scales: vec![0.0; rows],
            code_sq: vec![0; rows],
            ..CompactRows::default()
        }
    }

    /// Every row of `x`, all present.
    pub fn from_matrix(x: &Matrix) -> CompactRows {
        let mut store = CompactRows::new(x.rows());
        for i in 0..x.rows() {
            store.set(i, x.row(i)).expect("rows of one matrix agree");
        }
        store
    }

    /// Stores `values` as row `i` (replacing it if present).
    ///
    /// # Errors
    /// [`Error::Invalid`] when `i` is out of range, `values` is empty, differs in length from the
    /// rows stored before, or holds a value that is not finite.
    pub fn set(&mut self, i: usize, values: &[f32]) -> Result<()> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "row {i} is empty or has a value that is not a number"
            )));
        }
        self.put(i, values.len(), |codes| quantise(values, codes))
    }

    /// Stores row `i` from the embedding cache's compact form ([`crate::cache::compact`]'s
    /// bytes: the scale, then one code per value) as it is: the very row [`CompactRows::set`]
    /// makes of the values it was made from, without expanding them and quantising again.
    ///
    /// # Errors
    /// [`Error::Invalid`] as [`CompactRows::set`], and for bytes `compact` did not write (no
    /// positive finite scale, a code of -128).
    pub fn set_compact(&mut self, i: usize, bytes: &[u8]) -> Result<()> {
        let parts = crate::cache::compact_parts(bytes)
            .filter(|(_, codes)| !codes.is_empty() && !codes.contains(&0x80));
        let Some((scale, codes)) = parts else {
            return Err(Error::Invalid(format!("row {i} is not a cached embedding")));
        };
        self.put(i, codes.len(), |out| {
            for (o, &c) in out.iter_mut().zip(codes) {
                *o = c as i8;
            }
            scale
        })
    }

    /// Stores row `i` of `len` values, its codes written by `fill`, which returns the scale.
    fn put(&mut self, i: usize, len: usize, fill: impl FnOnce(&mut [i8]) -> f32) -> Result<()> {
        if i >= self.rows {
            return Err(Error::Invalid(format!(
                "row {i} is out of range 0..{}",
                self.rows
            )));
        }
        if self.dim == 0 {
            self.dim = len;
            self.zeros = vec![0; self.dim];
            self.chunks = vec![Vec::new(); self.rows.div_ceil(CHUNK_ROWS)];
        } else if len != self.dim {
            return Err(Error::Invalid(format!(
                "row {i} has {len} values, the others {}",
                self.dim
            )));
        }
        let (k, at) = (i / CHUNK_ROWS, i % CHUNK_ROWS);
        let chunk = &mut self.chunks[k];
        if chunk.is_empty() {
            let rows = CHUNK_ROWS.min(self.rows - k * CHUNK_ROWS);
            *chunk = vec![0; rows * self.dim];
        }
        let codes = &mut chunk[at * self.dim..(at + 1) * self.dim];
        self.scales[i] = fill(codes);
        self.code_sq[i] = codes
            .iter()
            .map(|&c| u32::from(c.unsigned_abs()).pow(2))
            .fold(0u32, u32::saturating_add);
        if std::mem::replace(&mut self.present[i], true) {
            self.rewrites += 1;
        } else {
            self.filled += 1;
        }
        Ok(())
    }

    /// Whether row `i` has been stored.
    pub fn is_present(&self, i: usize) -> bool {
        self.present.get(i).copied().unwrap_or(false)
    }

    /// How many rows are present.
    pub fn filled(&self) -> usize {
        self.filled
    }

    /// How many times a present row was replaced: a copy of the rows elsewhere (a GPU's) is
    /// current while this and [`CompactRows::filled`] have not moved since it was made.
    pub fn rewrites(&self) -> u64 {
        self.rewrites
    }

    /// Row `i`'s 8-bit codes and its scale (`x ≈ code · scale`); empty before any row arrived.
    #[inline]
    pub fn codes(&self, i: usize) -> (&[i8], f32) {
        assert!(i < self.rows, "row {i} out of range");
        if self.dim == 0 {
            return (&[], 1.0);
        }
        (self.row_codes(i), self.scales[i])
    }

    /// Row `i`'s scale (`x ≈ code · scale`; 0 for a row not stored): [`CompactRows::codes`]
    /// without the codes, for the kernels' inner loops.
    #[inline]
    pub fn scale(&self, i: usize) -> f32 {
        self.scales[i]
    }

    /// Row `i`'s codes once the dimension is known (zeros for a row not stored).
    #[inline]
    fn row_codes(&self, i: usize) -> &[i8] {
        let chunk = &self.chunks[i / CHUNK_ROWS];
        if chunk.is_empty() {
            return &self.zeros;
        }
        let at = i % CHUNK_ROWS;
        &chunk[at * self.dim..(at + 1) * self.dim]
    }

    /// `Σ code²` of row `i` (0 for a row not present): the row's squared norm is this times
    /// its scale squared. Exact for rows of up to 266,000 values.
    pub fn code_sq(&self, i: usize) -> u32 {
        self.code_sq[i]
    }

    /// Row `i`'s squared norm, `scale² · Σ code²` (0 for a row not present).
    pub fn sq_norm(&self, i: usize) -> f64 {
        let scale = f64::from(self.scales[i]);
        scale * scale * f64::from(self.code_sq[i])
    }

    /// Bytes held by the store (codes, scales, norms, presence flags).
    pub fn heap_bytes(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum::<usize>()
            + self.chunks.capacity() * std::mem::size_of::<Vec<i8>>()
            + self.zeros.capacity()
            + self.scales.capacity() * 4
            + self.code_sq.capacity() * 4
            + self.present.capacity()
    }
}

/// Equal when they hold the same rows, whichever pieces of memory were taken for them.
impl PartialEq for CompactRows {
    fn eq(&self, other: &CompactRows) -> bool {
        self.rows == other.rows
            && self.dim == other.dim
            && self.scales == other.scales
            && self.code_sq == other.code_sq
            && self.present == other.present
            && self.filled == other.filled
            && self.rewrites == other.rewrites
            && (self.dim == 0 || (0..self.rows).all(|i| self.row_codes(i) == other.row_codes(i)))
    }
}

/// Writes `values` (finite) as 8-bit `codes` (`codes.len() == values.len()`) with one scale,
/// returned: `values ≈ codes × scale`, the largest magnitude at ±127. How every row is kept
/// ([`CompactRows::set`], the embedding cache's [`crate::cache::compact`]).
pub fn quantise(values: &[f32], codes: &mut [i8]) -> f32 {
    let max = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    for (c, v) in codes.iter_mut().zip(values) {
        *c = (v / scale).round().clamp(-127.0, 127.0) as i8;
    }
    scale
}

impl Rows for CompactRows {
    fn rows(&self) -> usize {
        self.rows
    }
    fn cols(&self) -> usize {
        self.dim
    }
    fn row_into(&self, i: usize, out: &mut [f32]) {
        assert!(i < self.rows, "row {i} out of range");
        if self.dim == 0 {
            return;
        }
        let scale = self.scales[i];
        let codes = self.row_codes(i);
        for (o, &c) in out.iter_mut().zip(codes) {
            *o = f32::from(c) * scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::cosine;
    use crate::rng::Rng;

    #[test]
    fn rows_round_trip_within_half_a_step() {
        let mut rng = Rng::new(3);
        let mut store = CompactRows::new(20);
        let mut worst_cos = 1f32;
        for i in 0..20 {
            // Embedding-like: mostly small non-negative values, a few large ones.
            let row: Vec<f32> = (0..1280)
                .map(|_| {
                    (rng.normal() as f32).max(0.0) * if rng.below(50) == 0 { 4.0 } else { 0.5 }
                })
                .collect();
            store.set(i, &row).unwrap();
            let mut back = vec![0.0; 1280];
            store.row_into(i, &mut back);
            let step = row.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
            for (a, b) in row.iter().zip(&back) {
                assert!((a - b).abs() <= step / 2.0 + 1e-6);
            }
            worst_cos = worst_cos.min(cosine(&row, &back));
        }
        assert!(worst_cos > 0.999, "cosine {worst_cos}");
        assert_eq!(store.filled(), 20);
        // The rows, and one row of zeros for rows not stored yet.
        assert!(store.heap_bytes() < 21 * (1280 + 12));
    }

    #[test]
    fn rows_arrive_in_any_order_and_bad_rows_are_refused() {
        let mut store = CompactRows::new(3);
        assert_eq!(store.cols(), 0);
        store.set(2, &[1.0, -2.0]).unwrap();
        assert!(store.is_present(2) && !store.is_present(0));
        assert_eq!(store.filled(), 1);
        assert!(store.set(0, &[1.0]).is_err());
        assert!(store.set(3, &[1.0, 1.0]).is_err());
        assert!(store.set(0, &[f32::NAN, 1.0]).is_err());
        store.set(2, &[0.0, 0.0]).unwrap();
        assert_eq!(store.filled(), 1);
        assert_eq!(store.decode(&[2, 0]).as_slice(), &[0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn memory_is_taken_as_rows_arrive() {
        let rows = 3 * CHUNK_ROWS + 5;
        let mut store = CompactRows::new(rows);
        let row = |v: f32| vec![v, -v, 0.5 * v, 1.0];
        store.set(rows - 1, &row(2.0)).unwrap();
        // One piece of five rows, not the whole pool.
        let one = store.heap_bytes();
        assert!(one < rows * (4 + 4 + 1) + 5 * 4 + 1024, "{one}");
        store.set(CHUNK_ROWS, &row(1.0)).unwrap();
        assert!(store.heap_bytes() >= one + CHUNK_ROWS * 4);
        // Rows in pieces not taken, and rows not stored in a taken one, read as zeros.
        assert_eq!(store.codes(0).0, &[0, 0, 0, 0]);
        assert_eq!(store.codes(CHUNK_ROWS + 1).0, &[0, 0, 0, 0]);
        assert_eq!(
            store.decode(&[CHUNK_ROWS]).as_slice(),
            store.decode(&[CHUNK_ROWS]).as_slice()
        );
        assert_eq!(store.codes(rows - 1).0, &[127, -127, 64, 64]);
        assert_eq!(store.codes(CHUNK_ROWS).0, &[127, -127, 64, 127]);
        // The same rows stored in another order are the same store.
        let mut other = CompactRows::new(rows);
        other.set(CHUNK_ROWS, &row(1.0)).unwrap();
        other.set(rows - 1, &row(2.0)).unwrap();
        assert_eq!(store, other);
        other.set(0, &row(3.0)).unwrap();
        assert_ne!(store, other);
    }

    #[test]
    fn a_cached_row_is_stored_as_the_row_it_was_made_from() {
        let mut rng = Rng::new(9);
        let (mut from_values, mut from_cache) = (CompactRows::new(4), CompactRows::new(4));
        for i in 0..4 {
            let row: Vec<f32> = (0..384).map(|_| rng.normal() as f32).collect();
            from_values.set(i, &row).unwrap();
            from_cache
                .set_compact(i, &crate::cache::compact(&row))
                .unwrap();
        }
        assert_eq!(from_values, from_cache);
        // Bytes `compact` never writes are refused, and nothing is stored.
        let mut bytes = crate::cache::compact(&[1.0; 384]);
        bytes[10] = 0x80;
        assert!(from_cache.set_compact(0, &bytes).is_err());
        assert!(from_cache.set_compact(0, &[0, 0, 0, 0, 1]).is_err());
        assert!(from_cache
            .set_compact(0, &crate::cache::compact(&[1.0; 3]))
            .is_err());
        assert_eq!(from_values, from_cache);
    }
}
