//! The Map: a 2-D projection of the pool for display: PCA on the learner's 8-bit rows
//! (instant, every item), or t-SNE ([`tsne`]: neighbours kept together, a sample, in steps).
//!
//! The two principal axes are found by seeded block power iteration on a sample of at most
//! [`FIT_ROWS`] present rows (decoded to f32, centred), then every present row is projected
//! with one pass of the compute layer's integer dot products ([`compute::scores`]): instant at
//! 50,000 items. Deterministic: the same rows and seed give the same map.

mod quadtree;
pub mod tsne;

use crate::compute::{self, Vectors};
use crate::rng::Rng;
use crate::store::{CompactRows, Rows};

/// Rows the axes are fitted on, at most (a seeded sample beyond).
pub const FIT_ROWS: usize = 4_000;
/// Power iterations.
const ITERATIONS: usize = 40;

/// Where each present item lies on the map.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    /// The items placed, in increasing order.
    pub items: Vec<usize>,
    /// `items.len() × 2`: x then y of each item, scaled into `[0, 1]` (the wider axis fills it;
    /// the other keeps its proportion and is centred).
    pub points: Vec<f32>,
    /// Share of the sample's variance along each axis (how much of the pool the map shows;
    /// PCA only, zeros otherwise).
    pub explained: [f32; 2],
    /// How the points were placed.
    pub method: Method,
}

/// How a [`Layout`] was made.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum Method {
    /// Principal components of every present item: distances along the two axes of largest
    /// spread are kept, neighbourhoods only roughly.
    #[default]
    Pca,
    /// t-SNE ([`tsne::Tsne`]): near items stay near, distances between groups mean little.
    Tsne {
        /// Items present in the pool when it began (the layout holds at most
        /// [`tsne::MAX_ITEMS`] of them).
        pool: usize,
        /// The perplexity used.
        perplexity: f32,
    },
}

impl Layout {
    /// Item `r`'s point.
    pub fn point(&self, r: usize) -> (f32, f32) {
        (self.points[2 * r], self.points[2 * r + 1])
    }

    /// The row of the point nearest to `(x, y)` within `radius` (map units), if any (ties: the
    /// lower row). A scan: a hover or a click, not a pass per frame.
    pub fn nearest(&self, x: f32, y: f32, radius: f32) -> Option<usize> {
        let mut best: Option<(f32, usize)> = None;
        for r in 0..self.items.len() {
            let (px, py) = self.point(r);
            let d = (px - x).powi(2) + (py - y).powi(2);
            if d <= radius * radius && best.is_none_or(|(b, _)| d < b) {
                best = Some((d, r));
            }
        }
        best.map(|(_, r)| r)
    }

    /// The items whose points lie inside the closed polygon `lasso` (map units, vertices in
    /// order; even–odd rule), in item order.
    pub fn inside(&self, lasso: &[(f32, f32)]) -> Vec<usize> {
        if lasso.len() < 3 {
            return Vec::new();
        }
        (0..self.items.len())
            .filter(|&r| {
                let (x, y) = self.point(r);
                let mut inside = false;
                let mut j = lasso.len() - 1;
                for (i, &(xi, yi)) in lasso.iter().enumerate() {
                    let (xj, yj) = lasso[j];
                    if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                        inside = !inside;
                    }
                    j = i;
                }
                inside
            })
            .map(|r| self.items[r])
            .collect()
    }
}

/// The PCA map of every present row of `store` (empty before any row arrives).
pub fn pca(store: &CompactRows, seed: u64) -> Layout {
    let items: Vec<usize> = (0..store.rows()).filter(|&i| store.is_present(i)).collect();
    let dim = store.cols();
    if items.is_empty() || dim == 0 {
        return Layout::default();
    }
    let mut rng = Rng::new(seed);
    let mut sample = items.clone();
    if sample.len() > FIT_ROWS {
        rng.shuffle(&mut sample);
        sample.truncate(FIT_ROWS);
        sample.sort_unstable();
    }
    // The sample, centred.
    let mut x = vec![0f32; sample.len() * dim];
    for (r, &i) in sample.iter().enumerate() {
        store.row_into(i, &mut x[r * dim..(r + 1) * dim]);
    }
    let mut mean = vec![0f64; dim];
    for row in x.chunks_exact(dim) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= sample.len() as f64);
    for row in x.chunks_exact_mut(dim) {
        for (v, &m) in row.iter_mut().zip(&mean) {
            *v -= m as f32;
        }
    }
    let total: f64 = x.iter().map(|&v| f64::from(v).powi(2)).sum();
    // Block power iteration on XᵀX with two vectors, orthonormalised each step.
    let mut axes: [Vec<f64>; 2] = [
        (0..dim).map(|_| rng.normal()).collect(),
        (0..dim).map(|_| rng.normal()).collect(),
    ];
    orthonormalise(&mut axes);
    let mut variance = [0f64; 2];
    for _ in 0..ITERATIONS {
        let mut next = [vec![0f64; dim], vec![0f64; dim]];
        for row in x.chunks_exact(dim) {
            for (a, n) in axes.iter().zip(next.iter_mut()) {
                let y: f64 = row.iter().zip(a).map(|(&v, &w)| f64::from(v) * w).sum();
                for (n, &v) in n.iter_mut().zip(row) {
                    *n += y * f64::from(v);
                }
            }
        }
        // ‖XᵀX a‖ for a unit axis a is its eigenvalue once converged; aᵀXᵀXa is its variance.
        for (v, (a, n)) in variance.iter_mut().zip(axes.iter().zip(&next)) {
            *v = a.iter().zip(n).map(|(a, n)| a * n).sum();
        }
        axes = next;
        orthonormalise(&mut axes);
    }
    // Project every present row: x·a − mean·a.
    let flat: Vec<f32> = axes.iter().flatten().map(|&v| v as f32).collect();
    let vectors = Vectors::new(&flat, dim);
    let mut scores = vec![0f32; items.len() * 2];
    compute::scores(store, &items, &vectors, &mut scores);
    let offsets: Vec<f32> = axes
        .iter()
        .map(|a| a.iter().zip(&mean).map(|(a, m)| a * m).sum::<f64>() as f32)
        .collect();
    for p in scores.chunks_exact_mut(2) {
        p[0] -= offsets[0];
        p[1] -= offsets[1];
    }
    let explained = variance.map(|v| if total > 0.0 { (v / total) as f32 } else { 0.0 });
    Layout {
        items,
        points: fit_unit_square(scores),
        explained,
        method: Method::Pca,
    }
}

/// Scales points (x, y pairs) into `[0, 1]²`: the wider extent fills it, the other is centred.
fn fit_unit_square(mut points: Vec<f32>) -> Vec<f32> {
    let mut lo = [f32::INFINITY; 2];
    let mut hi = [f32::NEG_INFINITY; 2];
    for p in points.chunks_exact(2) {
        for a in 0..2 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]);
    let scale = if extent > 0.0 { 1.0 / extent } else { 0.0 };
    let pad = [0, 1].map(|a| (1.0 - (hi[a] - lo[a]) * scale) / 2.0);
    for p in points.chunks_exact_mut(2) {
        for a in 0..2 {
            p[a] = if scale > 0.0 {
                (p[a] - lo[a]) * scale + pad[a]
            } else {
                0.5
            };
        }
    }
    points
}

/// Gram–Schmidt on the two axes (a zero axis is left as it is).
fn orthonormalise(axes: &mut [Vec<f64>; 2]) {
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let n0 = norm(&axes[0]);
    if n0 > 0.0 {
        axes[0].iter_mut().for_each(|v| *v /= n0);
    }
    let d: f64 = axes[0].iter().zip(&axes[1]).map(|(a, b)| a * b).sum();
    let [a0, a1] = axes;
    for (b, a) in a1.iter_mut().zip(a0.iter()) {
        *b -= d * a;
    }
    let n1 = norm(&axes[1]);
    if n1 > 0.0 {
        axes[1].iter_mut().for_each(|v| *v /= n1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn the_map_follows_the_two_directions_of_largest_spread() {
        // Variance 100 along dim 2, 25 along dim 0, 1 elsewhere: the map's x is dim 2, y dim 0.
        let mut rng = Rng::new(4);
        let (n, dim) = (500, 6);
        let mut x = Matrix::zeros(n, dim);
        for i in 0..n {
            for d in 0..dim {
                let s = match d {
                    2 => 10.0,
                    0 => 5.0,
                    _ => 1.0,
                };
                x.row_mut(i)[d] = (s * rng.normal()) as f32 + 3.0;
            }
        }
        let store = CompactRows::from_matrix(&x);
        let map = pca(&store, 1);
        assert_eq!(map.items.len(), n);
        assert!(
            map.explained[0] > 0.7 && map.explained[1] > 0.15,
            "{:?}",
            map.explained
        );
        assert!(map.points.iter().all(|p| (0.0..=1.0).contains(p)));
        // x follows dim 2 (up to sign): strong correlation.
        let xs: Vec<f64> = (0..n).map(|r| f64::from(map.point(r).0)).collect();
        let ds: Vec<f64> = (0..n).map(|i| f64::from(x.row(i)[2])).collect();
        assert!(correlation(&xs, &ds).abs() > 0.95);
        assert_eq!(pca(&store, 1), map, "deterministic");
    }

    #[test]
    fn missing_rows_are_left_out_and_a_single_point_sits_in_the_middle() {
        assert!(pca(&CompactRows::new(3), 0).items.is_empty());
        let mut store = CompactRows::new(4);
        store.set(2, &[1.0, 2.0]).unwrap();
        let map = pca(&store, 0);
        assert_eq!(map.items, vec![2]);
        assert_eq!(map.point(0), (0.5, 0.5));
    }

    #[test]
    fn hover_finds_the_nearest_point_and_a_lasso_takes_what_it_encloses() {
        let map = Layout {
            items: vec![3, 5, 9],
            points: vec![0.1, 0.1, 0.5, 0.5, 0.52, 0.5],
            explained: [0.5, 0.2],
            method: Method::Pca,
        };
        assert_eq!(map.nearest(0.11, 0.1, 0.05), Some(0));
        assert_eq!(map.nearest(0.515, 0.5, 0.05), Some(2));
        assert_eq!(map.nearest(0.9, 0.9, 0.05), None);
        let square = [(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)];
        assert_eq!(map.inside(&square), vec![5, 9]);
        assert!(map.inside(&square[..2]).is_empty());
    }

    fn correlation(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    }
}
