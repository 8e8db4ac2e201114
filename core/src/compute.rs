//! The pool-compute layer: the passes over every stored row that a refresh makes, working on
//! the learner's 8-bit rows ([`CompactRows`]) directly, never decoding the pool to f32.
//!
//! [`scores`] is the kernel: the dot products of rows with a few vectors (class weights), each
//! row read once for all the vectors. The vectors are quantised to 14-bit integers with one
//! scale each (relative error ~6e-5, far below the rows' own 8-bit error), so the inner loop is
//! an integer multiply-add of `i8 · i16` into `i32` lanes — what `pmaddwd` (x86) and
//! `i32x4.dot_i16x8_s` (wasm SIMD128) do in one instruction; the loop is written plainly and
//! left to the compiler to vectorise. Blocks of [`BLOCK`] values keep each `i32` sum from
//! overflowing (127 · 8191 · 2048 < 2³¹); blocks add up in `i64`.
//! [`class_probabilities`] and [`label_probabilities`] put the softmax or the per-class sigmoid
//! of a [`LinearHead`] on top.

use crate::head::{softmax_f32, Activation, LinearHead};
use crate::matrix::Matrix;
use crate::store::{CompactRows, Rows};

/// Largest magnitude of a quantised vector value.
const VECTOR_MAX: f32 = 8191.0;

/// Values summed in `i32` before moving to `i64`.
pub const BLOCK: usize = 2048;

/// A few vectors quantised for [`scores`]: `count × dim` 14-bit codes, one scale per vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Vectors {
    count: usize,
    dim: usize,
    codes: Vec<i16>,
    scales: Vec<f32>,
}

impl Vectors {
    /// Quantises `values` (`count × dim`, row-major).
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
}

/// `Σ a·b` over one row's codes and one vector's codes.
#[inline]
fn dot(a: &[i8], b: &[i16]) -> i64 {
    let mut total = 0i64;
    for (a, b) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
        // Wrapping ops: the block bound rules out overflow, and without overflow checks the
        // loop vectorises in every profile.
        let s = a.iter().zip(b).fold(0i32, |s, (&x, &y)| {
            s.wrapping_add(i32::from(x).wrapping_mul(i32::from(y)))
        });
        total += i64::from(s);
    }
    total
}

/// `out[r · k + c] = row(rows[r]) · vector c` for the `k` vectors, each row read once. Rows not
/// present score 0.
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
    assert_eq!(
        store.cols(),
        vectors.dim,
        "rows and vectors differ in length"
    );
    for (&i, o) in rows.iter().zip(out.chunks_exact_mut(k)) {
        let (codes, scale) = store.codes(i);
        for ((o, v), s) in o
            .iter_mut()
            .zip(vectors.codes.chunks_exact(vectors.dim))
            .zip(&vectors.scales)
        {
            *o = (dot(codes, v) as f64 * f64::from(scale * s)) as f32;
        }
    }
}

/// `head`'s probabilities of `rows` (one row of the result per item): the softmax over classes,
/// or for a multi-label head each class's sigmoid.
pub fn probabilities(store: &CompactRows, rows: &[usize], head: &LinearHead) -> Matrix {
    let vectors = Vectors::new(&head.weights, head.dim);
    let mut out = Matrix::zeros(rows.len(), head.classes);
    scores(store, rows, &vectors, out.as_mut_slice());
    for r in 0..rows.len() {
        let row = out.row_mut(r);
        for (v, b) in row.iter_mut().zip(&head.bias) {
            *v += b;
        }
        match head.activation {
            Activation::Softmax => softmax_f32(row),
            Activation::Sigmoid => row.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn pool(rows: usize, dim: usize, seed: u64) -> CompactRows {
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
