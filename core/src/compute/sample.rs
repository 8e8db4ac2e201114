//! Passes over a small sample that a strategy holds in f32 already (TypiClust's and cold
//! start's clustered sample, ProbCover's ball graph): the sample quantised to 8-bit rows once
//! ([`quantised`]), then the same integer kernel as the pool passes, for every pair of it
//! ([`each_pair`]) or against a few centres.

use super::{each_dot_from, Vectors, ROW_BLOCK};
use crate::matrix::Matrix;
use crate::store::{CompactRows, Rows};

/// Rows `idx` of `x` as 8-bit rows: row `j` of the result is `x.row(idx[j])`, quantised as the
/// learner stores rows (so a row decoded from a [`CompactRows`] gets its own codes back). A
/// value that is not finite is stored as 0; a matrix of no columns gives rows of none.
pub fn quantised(x: &Matrix, idx: &[usize]) -> CompactRows {
    let mut store = CompactRows::new(idx.len());
    let mut clean = Vec::new();
    for (j, &i) in idx.iter().enumerate() {
        let mut row = x.row(i);
        if row.iter().any(|v| !v.is_finite()) {
            clean.clear();
            clean.extend(row.iter().map(|&v| if v.is_finite() { v } else { 0.0 }));
            row = &clean;
        }
        // Refused only for an empty row (no columns): such rows read as empty.
        let _ = store.set(j, row);
    }
    store
}

/// Calls `f(a, b, dot)` for every pair `a ≤ b` of positions in `rows` (each pair once, the
/// diagonal included) with the exact integer dot product of the two rows' codes.
pub fn each_pair(store: &CompactRows, rows: &[usize], mut f: impl FnMut(usize, usize, i64)) {
    let vectors = Vectors::from_rows(store, rows);
    for (b, block) in rows.chunks(ROW_BLOCK).enumerate() {
        let first = b * ROW_BLOCK;
        each_dot_from(store, block, &vectors, first, |r, v, d| {
            if v >= first + r {
                f(first + r, v, d);
            }
        });
    }
}

/// Squared Euclidean distance of rows `a` and `b` of `store`, given their codes' dot product.
fn sq_dist_from_dot(store: &CompactRows, a: usize, b: usize, dot: i64) -> f64 {
    let cross = f64::from(store.scale(a)) * f64::from(store.scale(b)) * dot as f64;
    (store.sq_norm(a) + store.sq_norm(b) - 2.0 * cross).max(0.0)
}

/// The `n × n` Euclidean distances of the rows `rows` (row-major, by position), from exact
/// integer dot products; 0 on the diagonal.
pub fn distances(store: &CompactRows, rows: &[usize]) -> Vec<f32> {
    let n = rows.len();
    let mut d = vec![0f32; n * n];
    if store.cols() == 0 {
        return d;
    }
    each_pair(store, rows, |a, b, dot| {
        if a != b {
            let v = sq_dist_from_dot(store, rows[a], rows[b], dot).sqrt() as f32;
            d[a * n + b] = v;
            d[b * n + a] = v;
        }
    });
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::sq_dist;
    use crate::rng::Rng;

    #[test]
    fn every_pair_once_with_its_exact_dot() {
        let store = super::super::tests::pool(150, 37, 4);
        let rows: Vec<usize> = (0..150).rev().collect();
        let mut seen = vec![0u8; 150 * 150];
        each_pair(&store, &rows, |a, b, d| {
            assert!(a <= b);
            seen[a * 150 + b] += 1;
            let (x, _) = store.codes(rows[a]);
            let (y, _) = store.codes(rows[b]);
            let want: i64 = x
                .iter()
                .zip(y)
                .map(|(&p, &q)| i64::from(p) * i64::from(q))
                .sum();
            assert_eq!(d, want);
        });
        for a in 0..150 {
            for b in 0..150 {
                assert_eq!(seen[a * 150 + b], u8::from(a <= b), "{a} {b}");
            }
        }
    }

    #[test]
    fn distances_match_the_decoded_rows() {
        let mut rng = Rng::new(9);
        let x = Matrix::new(40, 300, (0..12_000).map(|_| rng.normal() as f32).collect()).unwrap();
        let idx: Vec<usize> = (0..40).step_by(3).collect();
        let store = quantised(&x, &idx);
        let rows: Vec<usize> = (0..idx.len()).collect();
        let d = distances(&store, &rows);
        let decoded = store.decode(&rows);
        let n = rows.len();
        for a in 0..n {
            assert_eq!(d[a * n + a], 0.0);
            for b in 0..n {
                let want = sq_dist(decoded.row(a), decoded.row(b)).sqrt();
                assert!(
                    (d[a * n + b] - want).abs() < 1e-3 * want.max(1.0),
                    "{a} {b}"
                );
                // And the 8-bit rows are close to the originals.
                let orig = sq_dist(x.row(idx[a]), x.row(idx[b])).sqrt();
                assert!((d[a * n + b] - orig).abs() < 0.02 * orig.max(1.0));
            }
        }
    }

    #[test]
    fn quantising_decoded_rows_gives_their_codes_back() {
        let store = super::super::tests::pool(20, 64, 5);
        let rows: Vec<usize> = (0..20).collect();
        let again = quantised(&store.decode(&rows), &rows);
        for i in 0..20 {
            assert_eq!(again.codes(i).0, store.codes(i).0);
        }
        let bad = Matrix::new(1, 3, vec![1.0, f32::NAN, -2.0]).unwrap();
        let q = quantised(&bad, &[0]);
        assert_eq!(q.codes(0).0[1], 0);
    }
}
