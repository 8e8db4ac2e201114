//! Seeded k-means (k-means++ initialisation, Lloyd iterations) on the compute layer's kernel.
//!
//! The rows are quantised to 8 bits once ([`sample::quantised`], the form the learner keeps
//! them in) and every distance comes from the exact integer dot products of [`compute`]: a
//! seeding step is one pass of the rows against the new centre's codes, an assignment step one
//! pass against the centres (quantised to 14 bits each time they move). The centres themselves
//! are the f32 means of the decoded rows. Deterministic for a given [`Rng`] state, on every
//! platform (the kernel's sums are integers).

use crate::compute::{self, sample, Centres, Vectors};
use crate::matrix::Matrix;
use crate::rng::Rng;
use crate::store::{CompactRows, Rows};

/// The result of [`kmeans`].
#[derive(Debug, Clone)]
pub struct Clustering {
    /// `k × dim` cluster centres.
    pub centroids: Matrix,
    /// Cluster of each input row.
    pub assignment: Vec<usize>,
}

/// Clusters the rows `idx` of `x` into `k` clusters (`k` is capped at `idx.len()`).
///
/// Deterministic for a given `rng` state. Runs at most `max_iter` Lloyd steps. An empty `idx`
/// gives zero clusters.
pub fn kmeans(x: &Matrix, idx: &[usize], k: usize, max_iter: usize, rng: &mut Rng) -> Clustering {
    let store = sample::quantised(x, idx);
    let rows: Vec<usize> = (0..idx.len()).collect();
    kmeans_rows(&store, &rows, k, max_iter, rng)
}

/// [`kmeans`] of the rows `rows` of an 8-bit store; the assignment follows `rows`.
pub fn kmeans_rows(
    store: &CompactRows,
    rows: &[usize],
    k: usize,
    max_iter: usize,
    rng: &mut Rng,
) -> Clustering {
    let k = k.min(rows.len());
    let dim = store.cols();
    if k == 0 || dim == 0 {
        return Clustering {
            centroids: Matrix::zeros(k, dim),
            assignment: vec![0; if k == 0 { 0 } else { rows.len() }],
        };
    }
    let seeds = seed(store, rows, k, rng);
    let mut centroids = store.decode(&seeds);
    let mut assignment = vec![0; rows.len()];
    for iter in 0..max_iter.max(1) {
        let best = nearest_centres(store, rows, &centroids);
        let changed = best != assignment;
        assignment = best;
        if !changed && iter > 0 {
            break;
        }
        let mut sums = vec![0.0f64; k * dim];
        let mut counts = vec![0usize; k];
        for (&i, &c) in rows.iter().zip(&assignment) {
            counts[c] += 1;
            let (codes, scale) = store.codes(i);
            let scale = f64::from(scale);
            for (s, &q) in sums[c * dim..(c + 1) * dim].iter_mut().zip(codes) {
                *s += f64::from(q) * scale;
            }
        }
        for c in 0..k {
            if counts[c] > 0 {
                for (dst, s) in centroids
                    .row_mut(c)
                    .iter_mut()
                    .zip(&sums[c * dim..(c + 1) * dim])
                {
                    *dst = (*s / counts[c] as f64) as f32;
                }
            }
        }
    }
    Clustering {
        centroids,
        assignment,
    }
}

/// k-means++ seeding: `k` store rows of `rows`, each drawn with probability proportional to
/// its squared distance to the nearest one drawn before (uniformly when all distances are 0);
/// the distances kept by [`Centres`], one pass over the rows per seed.
fn seed(store: &CompactRows, rows: &[usize], k: usize, rng: &mut Rng) -> Vec<usize> {
    let mut centres = Centres::new(store, rows);
    let mut pick = rng.below(rows.len());
    let mut seeds = Vec::with_capacity(k);
    loop {
        seeds.push(rows[pick]);
        centres.add(&[rows[pick]]);
        if seeds.len() == k {
            return seeds;
        }
        let nearest = centres.nearest();
        let total: f64 = nearest.iter().map(|&d| f64::from(d)).sum();
        pick = if total <= 0.0 {
            rng.below(rows.len())
        } else {
            let mut target = rng.next_f64() * total;
            let mut chosen = rows.len() - 1;
            for (j, &d) in nearest.iter().enumerate() {
                target -= f64::from(d);
                if target <= 0.0 {
                    chosen = j;
                    break;
                }
            }
            chosen
        };
    }
}

/// The nearest of `centroids` (`k × dim`) to each of the store rows `rows` (ties: the lower
/// centre), through the compute kernel with the centres quantised to 14 bits.
///
/// # Panics
/// When the centres' length differs from the rows'.
pub fn nearest_centres(store: &CompactRows, rows: &[usize], centroids: &Matrix) -> Vec<usize> {
    let mut best = vec![(f64::INFINITY, 0usize); rows.len()];
    if centroids.rows() == 0 || store.cols() == 0 {
        return vec![0; rows.len()];
    }
    let centres = Vectors::new(centroids.as_slice(), centroids.cols());
    // ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖²; ‖x‖² is the same for every centre of a row.
    let norms: Vec<f64> = (0..centres.count())
        .map(|c| {
            let s = f64::from(centres.scale(c));
            s * s * centres.code_sq(c) as f64
        })
        .collect();
    compute::each_dot(store, rows, &centres, |r, c, d| {
        let cross = f64::from(store.scale(rows[r])) * f64::from(centres.scale(c)) * d as f64;
        let score = norms[c] - 2.0 * cross;
        let b = &mut best[r];
        if score < b.0 || (score == b.0 && c < b.1) {
            *b = (score, c);
        }
    });
    best.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_well_separated_groups() {
        let mut rows = Vec::new();
        for g in 0..3 {
            for j in 0..10 {
                rows.push(vec![g as f32 * 100.0 + j as f32 * 0.1, 0.0]);
            }
        }
        let x = Matrix::from_rows(&rows).unwrap();
        let idx: Vec<usize> = (0..30).collect();
        let c = kmeans(&x, &idx, 3, 20, &mut Rng::new(0));
        for g in 0..3 {
            let a = c.assignment[g * 10];
            assert!(c.assignment[g * 10..g * 10 + 10].iter().all(|&v| v == a));
        }
        assert_ne!(c.assignment[0], c.assignment[10]);
        assert_ne!(c.assignment[10], c.assignment[20]);
    }

    #[test]
    fn k_is_capped_by_the_number_of_points() {
        let x = Matrix::from_rows(&[vec![0.0], vec![1.0]]).unwrap();
        assert_eq!(
            kmeans(&x, &[0, 1], 5, 10, &mut Rng::new(1))
                .centroids
                .rows(),
            2
        );
        assert_eq!(kmeans(&x, &[], 5, 10, &mut Rng::new(1)).centroids.rows(), 0);
    }
}
