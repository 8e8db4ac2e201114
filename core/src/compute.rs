//! The pool-compute layer: the passes over every stored row that a refresh makes, working on
//! the learner's 8-bit rows ([`CompactRows`]) directly, never decoding the pool to f32.
//!
//! [`scores`] is the kernel every pass goes through: exact integer dot products of rows with a
//! few vectors ([`Vectors`]: class weights quantised to 14 bits with one scale each, or pool rows
//! themselves), in tiles of two rows × four vectors (or four rows × one vector) so each loaded
//! value serves several products ([`simd`]: SSE2/AVX2, wasm SIMD128, or a plain loop). Rows go
//! in blocks of [`ROW_BLOCK`] so a tile's vectors stay in the first-level cache while a block of
//! rows streams past. On top: [`probabilities`] (softmax or per-class sigmoid of a
//! [`LinearHead`]), [`cosines`] (AnchorAL's retrieval), [`kcenter`] (distances to a growing
//! set of centres: Core-Set's k-center greedy and BADGE's k-means++ seeding) and [`sample`]
//! (the same kernel on a strategy's f32 sample: k-means, ball graphs, typicality).

pub mod backend;
mod best;
pub mod kcenter;
pub mod sample;
mod simd;

pub use backend::{now, Backend, Cpu};
pub use best::Best;
pub use kcenter::{Centres, GradientCentres};

use crate::head::{softmax_f32, Activation, LinearHead};
use crate::matrix::Matrix;
use crate::store::{CompactRows, Rows};

/// Largest magnitude of a quantised vector value.
const VECTOR_MAX: f32 = 8191.0;

/// Values summed in `i32` before moving to `i64`.
pub const BLOCK: usize = simd::MAX_LEN;

/// Rows per block of a pass.
pub const ROW_BLOCK: usize = 64;

/// A few vectors for [`scores`]: `count × dim` integer codes, one scale per vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Vectors {
    count: usize,
    dim: usize,
    codes: Vec<i16>,
    scales: Vec<f32>,
}

impl Vectors {
    /// Quantises `values` (`count × dim`, row-major) to 14 bits, one scale per vector.
    ///
    /// # Panics
    /// When `values.len()` is not a multiple of `dim`.
    pub fn new(values: &[f32], dim: usize) -> Vectors {
        assert!(
            dim > 0 && values.len().is_multiple_of(dim),
            "values are count × dim"
        );
        let count = values.len() / dim;
        let mut codes = Vec::with_capacity(values.len());
        let mut scales = Vec::with_capacity(count);
        for v in values.chunks_exact(dim) {
            let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
            let scale = if max > 0.0 { max / VECTOR_MAX } else { 1.0 };
            codes.extend(v.iter().map(|x| (x / scale).round() as i16));
            scales.push(scale);
        }
        Vectors {
            count,
            dim,
            codes,
            scales,
        }
    }

    /// Rows of `store` as vectors, exactly (their 8-bit codes and scales).
    pub fn from_rows(store: &CompactRows, rows: &[usize]) -> Vectors {
        let dim = store.cols();
        let mut codes = Vec::with_capacity(rows.len() * dim);
        let mut scales = Vec::with_capacity(rows.len());
        for &i in rows {
            let (c, s) = store.codes(i);
            codes.extend(c.iter().map(|&c| i16::from(c)));
            scales.push(s);
        }
        Vectors {
            count: rows.len(),
            dim,
            codes,
            scales,
        }
    }

    /// Appends row `i` of `store` as one more vector, exactly.
    ///
    /// # Panics
    /// When the row's length differs from the vectors'.
    pub fn push_row(&mut self, store: &CompactRows, i: usize) {
        let (c, s) = store.codes(i);
        assert_eq!(c.len(), self.dim, "rows and vectors differ in length");
        self.codes.extend(c.iter().map(|&c| i16::from(c)));
        self.scales.push(s);
        self.count += 1;
    }

    /// Number of vectors.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Values per vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Vector `v`'s codes.
    pub fn codes(&self, v: usize) -> &[i16] {
        &self.codes[v * self.dim..(v + 1) * self.dim]
    }

    /// Vector `v`'s scale: its values are `codes · scale`.
    pub fn scale(&self, v: usize) -> f32 {
        self.scales[v]
    }

    /// `Σ code²` of vector `v` (its squared norm is this times its scale squared).
    pub fn code_sq(&self, v: usize) -> i64 {
        self.codes(v)
            .iter()
            .map(|&c| i64::from(c) * i64::from(c))
            .sum()
    }
}

/// The exact dot products of the rows `rows` (store indices) with the vectors `vs`.
#[inline]
fn tile<const R: usize, const V: usize>(
    store: &CompactRows,
    rows: [usize; R],
    vectors: &Vectors,
    vs: [usize; V],
) -> [[i64; V]; R] {
    let codes = rows.map(|i| store.codes(i).0);
    let vecs = vs.map(|v| vectors.codes(v));
    let mut out = [[0i64; V]; R];
    let mut from = 0;
    while from < vectors.dim {
        let to = (from + BLOCK).min(vectors.dim);
        let part = simd::dots(codes.map(|c| &c[from..to]), vecs.map(|v| &v[from..to]));
        for (o, p) in out.iter_mut().zip(part) {
            for (o, p) in o.iter_mut().zip(p) {
                *o += i64::from(p);
            }
        }
        from = to;
    }
    out
}

/// Calls `f(r, v, dot)` with the exact integer dot product of row `rows[r]`'s codes and vector
/// `v`'s codes, for every `r` and `v` (in an order chosen for speed).
///
/// # Panics
/// When the rows and the vectors differ in length.
pub fn each_dot(
    store: &CompactRows,
    rows: &[usize],
    vectors: &Vectors,
    f: impl FnMut(usize, usize, i64),
) {
    each_dot_from(store, rows, vectors, 0, f);
}

/// [`each_dot`] with the vectors from `first` on only.
pub fn each_dot_from(
    store: &CompactRows,
    rows: &[usize],
    vectors: &Vectors,
    first: usize,
    mut f: impl FnMut(usize, usize, i64),
) {
    if vectors.count <= first || rows.is_empty() {
        return;
    }
    assert_eq!(
        store.cols(),
        vectors.dim,
        "rows and vectors differ in length"
    );
    let k = vectors.count;
    for (b, block) in rows.chunks(ROW_BLOCK).enumerate() {
        let base = b * ROW_BLOCK;
        // Four vectors at a time against pairs of rows; the vectors left over one at a time
        // against four rows.
        let mut v = first;
        while v + 4 <= k {
            tiles::<2, 4>(
                store,
                block,
                base,
                vectors,
                [v, v + 1, v + 2, v + 3],
                &mut f,
            );
            v += 4;
        }
        for v in v..k {
            tiles::<4, 1>(store, block, base, vectors, [v], &mut f);
        }
    }
}

/// Runs `R × V` tiles down `block` (whose first row is row `base` of the pass), the rows left
/// over one at a time, handing each dot product to `f`.
fn tiles<const R: usize, const V: usize>(
    store: &CompactRows,
    block: &[usize],
    base: usize,
    vectors: &Vectors,
    vs: [usize; V],
    f: &mut impl FnMut(usize, usize, i64),
) {
    let mut emit = |at: usize, d: &[[i64; V]]| {
        for (r, d) in d.iter().enumerate() {
            for (&v, &d) in vs.iter().zip(d) {
                f(at + r, v, d);
            }
        }
    };
    let mut chunks = block.chunks_exact(R);
    for (c, rs) in chunks.by_ref().enumerate() {
        let rows: [usize; R] = rs.try_into().expect("chunks of R rows");
        emit(base + c * R, &tile(store, rows, vectors, vs));
    }
    let done = block.len() - chunks.remainder().len();
    for (r, &i) in chunks.remainder().iter().enumerate() {
        emit(base + done + r, &tile(store, [i], vectors, vs));
    }
}

/// `out[r · k + c] = row(rows[r]) · vector c` for the `k` vectors. Rows not present score 0.
///
/// # Panics
/// When the dimensions disagree or `out` is not `rows.len() × k`.
pub fn scores(store: &CompactRows, rows: &[usize], vectors: &Vectors, out: &mut [f32]) {
    let k = vectors.count;
    assert_eq!(out.len(), rows.len() * k, "out is rows × vectors");
    if store.cols() == 0 {
        out.fill(0.0);
        return;
    }
    each_dot(store, rows, vectors, |r, v, d| {
        let scale = f64::from(store.scale(rows[r])) * f64::from(vectors.scales[v]);
        out[r * k + v] = (d as f64 * scale) as f32;
    });
}

/// Cosine similarity of every row of `rows` to every vector: `out[v][r]`. A zero row or vector
/// has similarity 0.
pub fn cosines(store: &CompactRows, rows: &[usize], vectors: &Vectors) -> Vec<Vec<f32>> {
    let mut out = vec![vec![0f32; rows.len()]; vectors.count];
    each_cosine(store, rows, vectors, |r, v, c| out[v][r] = c as f32);
    out
}

/// Calls `f(r, v, cosine)` with the cosine of row `rows[r]`'s codes and vector `v`'s (from the
/// exact integer dot product; [`cosines`] in f64) for every `r` and `v`, in an order chosen for
/// speed, holding nothing per pair: what a caller that keeps only the best few of a large pool
/// uses ([`Best`]).
pub fn each_cosine(
    store: &CompactRows,
    rows: &[usize],
    vectors: &Vectors,
    mut f: impl FnMut(usize, usize, f64),
) {
    if store.cols() == 0 {
        for r in 0..rows.len() {
            (0..vectors.count).for_each(|v| f(r, v, 0.0));
        }
        return;
    }
    let row_norms: Vec<f64> = rows
        .iter()
        .map(|&i| f64::from(store.code_sq(i)).sqrt())
        .collect();
    let vec_norms: Vec<f64> = (0..vectors.count)
        .map(|v| (vectors.code_sq(v) as f64).sqrt())
        .collect();
    each_dot(store, rows, vectors, |r, v, d| {
        let n = row_norms[r] * vec_norms[v];
        f(r, v, if n > 0.0 { d as f64 / n } else { 0.0 });
    });
}

/// `head`'s probabilities of `rows` (one row of the result per item): the softmax over classes,
/// or for a multi-label head each class's sigmoid.
pub fn probabilities(store: &CompactRows, rows: &[usize], head: &LinearHead) -> Matrix {
    let vectors = head_vectors(head);
    let mut out = Matrix::zeros(rows.len(), head.classes);
    scores(store, rows, &vectors, out.as_mut_slice());
    activate(&mut out, head);
    out
}

/// `head`'s class weights as [`Vectors`] (what [`probabilities`] scores against).
pub fn head_vectors(head: &LinearHead) -> Vectors {
    Vectors::new(&head.weights, head.dim)
}

/// [`probabilities`] from the dot products a [`Backend`] computed of `rows` with
/// [`head_vectors`]`(head)` (`vectors`): the same numbers as the CPU's, bit for bit.
///
/// # Panics
/// When `dots` is not `rows.len() × classes`.
pub fn probabilities_from_dots(
    store: &CompactRows,
    rows: &[usize],
    head: &LinearHead,
    vectors: &Vectors,
    dots: &[i32],
) -> Matrix {
    let k = head.classes;
    assert_eq!(dots.len(), rows.len() * k, "dots are rows × classes");
    let mut out = Matrix::zeros(rows.len(), k);
    for (r, (o, d)) in out
        .as_mut_slice()
        .chunks_exact_mut(k)
        .zip(dots.chunks_exact(k))
        .enumerate()
    {
        let row_scale = f64::from(store.scale(rows[r]));
        for (v, (o, &d)) in o.iter_mut().zip(d).enumerate() {
            *o = (f64::from(d) * (row_scale * f64::from(vectors.scales[v]))) as f32;
        }
    }
    activate(&mut out, head);
    out
}

/// Adds the bias and applies the activation to every row of scores.
fn activate(out: &mut Matrix, head: &LinearHead) {
    for r in 0..out.rows() {
        let row = out.row_mut(r);
        for (v, b) in row.iter_mut().zip(&head.bias) {
            *v += b;
        }
        match head.activation {
            Activation::Softmax => softmax_f32(row),
            Activation::Sigmoid => row.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// `rows` seeded Gaussian rows of `dim` values (also for `kcenter`'s tests).
    pub(super) fn pool(rows: usize, dim: usize, seed: u64) -> CompactRows {
        let mut rng = Rng::new(seed);
        let mut store = CompactRows::new(rows);
        for i in 0..rows {
            let row: Vec<f32> = (0..dim).map(|_| rng.normal() as f32).collect();
            store.set(i, &row).unwrap();
        }
        store
    }

    #[test]
    fn scores_match_the_decoded_rows() {
        // 3000 values: more than one block.
        for dim in [7, 1280, 3000] {
            let store = pool(20, dim, dim as u64);
            let mut rng = Rng::new(1);
            let w: Vec<f32> = (0..3 * dim).map(|_| rng.normal() as f32 * 0.1).collect();
            let v = Vectors::new(&w, dim);
            let rows: Vec<usize> = (0..20).rev().collect();
            let mut out = vec![0.0; 60];
            scores(&store, &rows, &v, &mut out);
            let mut x = vec![0.0; dim];
            for (r, &i) in rows.iter().enumerate() {
                store.row_into(i, &mut x);
                for c in 0..3 {
                    let want: f64 = x
                        .iter()
                        .zip(&w[c * dim..(c + 1) * dim])
                        .map(|(a, b)| f64::from(*a) * f64::from(*b))
                        .sum();
                    let norm: f64 = x.iter().map(|a| f64::from(a.abs())).sum::<f64>() * 0.5;
                    let got = f64::from(out[r * 3 + c]);
                    assert!(
                        (got - want).abs() <= 1e-4 * norm + 1e-6,
                        "{dim}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn extreme_codes_do_not_overflow() {
        let dim = 5000;
        let mut store = CompactRows::new(1);
        store.set(0, &vec![-1.0; dim]).unwrap();
        let v = Vectors::new(&vec![-2.0; dim], dim);
        let mut out = [0.0];
        scores(&store, &[0], &v, &mut out);
        assert!(
            (out[0] - 2.0 * dim as f32).abs() < 1e-2 * dim as f32,
            "{}",
            out[0]
        );
    }

    #[test]
    fn probabilities_follow_the_heads_activation() {
        let store = pool(5, 16, 3);
        let mut rng = Rng::new(2);
        let head = LinearHead {
            weights: (0..48).map(|_| rng.normal() as f32).collect(),
            bias: vec![0.1, -0.2, 0.3],
            classes: 3,
            dim: 16,
            activation: Activation::Softmax,
        };
        let mut x = vec![0.0; 16];
        for activation in [Activation::Softmax, Activation::Sigmoid] {
            let head = LinearHead {
                activation,
                ..head.clone()
            };
            let p = probabilities(&store, &[4, 0], &head);
            for (r, i) in [4, 0].into_iter().enumerate() {
                store.row_into(i, &mut x);
                let want = head.probabilities(&x);
                for (got, want) in p.row(r).iter().zip(&want) {
                    assert!((f64::from(*got) - want).abs() < 1e-4);
                }
            }
        }
    }
}
