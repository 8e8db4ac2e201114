//! Seeded k-means (k-means++ initialisation, Lloyd iterations).

use crate::matrix::{sq_dist, Matrix};
use crate::rng::Rng;

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
    let k = k.min(idx.len());
    let dim = x.cols();
    if k == 0 {
        return Clustering {
            centroids: Matrix::zeros(0, dim),
            assignment: Vec::new(),
        };
    }
    let mut centroids = Matrix::zeros(k, dim);
    centroids
        .row_mut(0)
        .copy_from_slice(x.row(idx[rng.below(idx.len())]));
    let mut nearest: Vec<f32> = idx
        .iter()
        .map(|&i| sq_dist(x.row(i), centroids.row(0)))
        .collect();
    for c in 1..k {
        let total: f64 = nearest.iter().map(|&d| f64::from(d)).sum();
        let pick = if total <= 0.0 {
            rng.below(idx.len())
        } else {
            let mut target = rng.next_f64() * total;
            let mut chosen = idx.len() - 1;
            for (j, &d) in nearest.iter().enumerate() {
                target -= f64::from(d);
                if target <= 0.0 {
                    chosen = j;
                    break;
                }
            }
            chosen
        };
        centroids.row_mut(c).copy_from_slice(x.row(idx[pick]));
        for (j, &i) in idx.iter().enumerate() {
            nearest[j] = nearest[j].min(sq_dist(x.row(i), centroids.row(c)));
        }
    }
    let mut assignment = vec![0; idx.len()];
    for iter in 0..max_iter.max(1) {
        let mut changed = false;
        for (j, &i) in idx.iter().enumerate() {
            let best = closest(&centroids, x.row(i));
            if best != assignment[j] || iter == 0 {
                changed |= best != assignment[j];
                assignment[j] = best;
            }
        }
        if !changed && iter > 0 {
            break;
        }
        let mut sums = vec![0.0f64; k * dim];
        let mut counts = vec![0usize; k];
        for (j, &i) in idx.iter().enumerate() {
            let c = assignment[j];
            counts[c] += 1;
            for (s, v) in sums[c * dim..(c + 1) * dim].iter_mut().zip(x.row(i)) {
                *s += f64::from(*v);
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

/// Index of the centroid nearest to `v`.
pub fn closest(centroids: &Matrix, v: &[f32]) -> usize {
    let mut best = (0, f32::INFINITY);
    for c in 0..centroids.rows() {
        let d = sq_dist(centroids.row(c), v);
        if d < best.1 {
            best = (c, d);
        }
    }
    best.0
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
