//! t-SNE: a map that keeps neighbours together (van der Maaten 2014, Barnes–Hut).
//!
//! On a seeded sample of at most [`MAX_ITEMS`] present rows (the items asked to be kept come
//! first): the exact `k = 3 × perplexity` nearest neighbours by cosine on the 8-bit rows (the
//! compute layer's integer dot products), affinities calibrated to the perplexity by bisection
//! and symmetrised, then gradient descent from the PCA map (scaled small: no random start),
//! early exaggeration 12 for the first [`EARLY_ITERATIONS`], momentum 0.5 then 0.8, per-
//! coordinate gains, learning rate `max(n / 12, 50)`, repulsion through a quadtree
//! ([`QuadTree`], θ = 0.5).
//!
//! The work is cut into steps ([`Tsne::step`]) so that a worker can report progress, draw the
//! map as it forms and answer other requests in between. Deterministic: no clock, no threads;
//! the same rows, kept items and seed give the same map.

use crate::compute::{self, Vectors};
use crate::rng::Rng;
use crate::store::{CompactRows, Rows};

use super::quadtree::QuadTree;
use super::{fit_unit_square, pca, Layout, Method};

/// Items laid out at most (a seeded sample beyond, the kept items first).
pub const MAX_ITEMS: usize = 3_000;
/// The perplexity: roughly how many neighbours each item keeps close.
pub const PERPLEXITY: f64 = 30.0;
/// Iterations in all.
pub const ITERATIONS: usize = 750;
/// Iterations with early exaggeration.
pub const EARLY_ITERATIONS: usize = 250;
const EXAGGERATION: f32 = 12.0;
const THETA: f32 = 0.5;
/// Query rows per neighbour step.
const ROWS_PER_STEP: usize = 128;
/// Iterations per descent step.
const ITERATIONS_PER_STEP: usize = 10;

/// Where a layout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// Neighbour rows searched plus iterations run.
    pub done: usize,
    /// The same, when finished.
    pub total: usize,
    /// Whether the neighbours are still being searched (else the map is forming).
    pub searching: bool,
}

/// A t-SNE layout under way.
#[derive(Debug, Clone)]
pub struct Tsne {
    /// The items laid out (increasing) and their rows, copied: the pool may change meanwhile.
    items: Vec<usize>,
    rows: CompactRows,
    /// Items present in the pool when the layout began.
    pool: usize,
    k: usize,
    perplexity: f64,
    /// `n × k` nearest neighbours: (row, squared distance on the unit sphere).
    neighbours: Vec<(u32, f32)>,
    searched: usize,
    /// The symmetric affinities, row by row (compressed sparse rows).
    p_start: Vec<usize>,
    p_col: Vec<u32>,
    p_val: Vec<f32>,
    y: Vec<f32>,
    velocity: Vec<f32>,
    gains: Vec<f32>,
    iteration: usize,
}

impl Tsne {
    /// Starts a layout of the present rows of `store`: all of them up to [`MAX_ITEMS`], else the
    /// items of `keep` that are present (up to the limit) and a seeded sample of the rest.
    pub fn new(store: &CompactRows, keep: &[usize], seed: u64) -> Tsne {
        let present: Vec<usize> = (0..store.rows()).filter(|&i| store.is_present(i)).collect();
        let pool = present.len();
        let mut items: Vec<usize> = if pool <= MAX_ITEMS {
            present
        } else {
            let mut chosen = vec![false; store.rows()];
            let mut items = Vec::with_capacity(MAX_ITEMS);
            for &i in keep {
                if items.len() < MAX_ITEMS && store.is_present(i) && !chosen[i] {
                    chosen[i] = true;
                    items.push(i);
                }
            }
            let mut rest: Vec<usize> = present.into_iter().filter(|&i| !chosen[i]).collect();
            Rng::new(seed).shuffle(&mut rest);
            rest.truncate(MAX_ITEMS - items.len());
            items.extend(rest);
            items
        };
        items.sort_unstable();
        let n = items.len();
        let mut rows = CompactRows::new(n);
        let mut buf = vec![0f32; store.cols()];
        for (r, &i) in items.iter().enumerate() {
            store.row_into(i, &mut buf);
            // The same codes again: the values decoded are codes × scale.
            rows.set(r, &buf).expect("a present row is finite");
        }
        let perplexity = PERPLEXITY.min((n.saturating_sub(1)) as f64 / 3.0).max(1.0);
        let k = ((3.0 * perplexity) as usize).min(n.saturating_sub(1));
        let mut y = pca(&rows, seed).points;
        // The PCA map, centred and scaled to a standard deviation of 1e-4 along x.
        let mean = [0, 1].map(|a| y.iter().skip(a).step_by(2).sum::<f32>() / n.max(1) as f32);
        for p in y.chunks_exact_mut(2) {
            p[0] -= mean[0];
            p[1] -= mean[1];
        }
        let sd = (y.iter().step_by(2).map(|v| v * v).sum::<f32>() / n.max(1) as f32).sqrt();
        let scale = if sd > 0.0 { 1e-4 / sd } else { 0.0 };
        y.iter_mut().for_each(|v| *v *= scale);
        Tsne {
            items,
            rows,
            pool,
            k,
            perplexity,
            neighbours: Vec::with_capacity(n * k),
            searched: 0,
            p_start: Vec::new(),
            p_col: Vec::new(),
            p_val: Vec::new(),
            velocity: vec![0.0; 2 * n],
            gains: vec![1.0; 2 * n],
            y,
            iteration: 0,
        }
    }

    /// Items laid out.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is nothing to lay out.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Where the layout stands.
    pub fn progress(&self) -> Progress {
        let n = self.len();
        let iterations = if n > 1 { ITERATIONS } else { 0 };
        Progress {
            done: self.searched + self.iteration,
            total: n + iterations,
            searching: self.searched < n,
        }
    }

    /// Whether the layout is finished.
    pub fn is_done(&self) -> bool {
        let p = self.progress();
        p.done >= p.total
    }

    /// Does the next bit of work (a block of neighbour searches, or a few iterations) and says
    /// where the layout stands.
    pub fn step(&mut self) -> Progress {
        let n = self.len();
        if self.searched < n {
            self.search();
            if self.searched == n {
                self.affinities();
            }
        } else if !self.is_done() {
            for _ in 0..ITERATIONS_PER_STEP.min(ITERATIONS - self.iteration) {
                self.iterate();
            }
        }
        self.progress()
    }

    /// The map as it stands (the starting map until the neighbours are found).
    pub fn layout(&self) -> Layout {
        Layout {
            items: self.items.clone(),
            points: fit_unit_square(self.y.clone()),
            explained: [0.0; 2],
            method: Method::Tsne {
                pool: self.pool,
                perplexity: self.perplexity as f32,
            },
        }
    }

    /// The exact nearest neighbours of the next block of rows.
    fn search(&mut self) {
        let n = self.len();
        let from = self.searched;
        let to = (from + ROWS_PER_STEP).min(n);
        let queries: Vec<usize> = (from..to).collect();
        let all: Vec<usize> = (0..n).collect();
        let vectors = Vectors::from_rows(&self.rows, &queries);
        let mut d2 = vec![0f32; queries.len() * n];
        let rows = &self.rows;
        compute::each_dot(rows, &all, &vectors, |r, v, dot| {
            let norm = (f64::from(rows.code_sq(r)) * f64::from(rows.code_sq(from + v))).sqrt();
            let cos = if norm > 0.0 { dot as f64 / norm } else { 0.0 };
            d2[v * n + r] = (2.0 - 2.0 * cos).max(0.0) as f32;
        });
        for (v, row) in d2.chunks_exact(n).enumerate() {
            let q = from + v;
            let mut near: Vec<(u32, f32)> = (0..n)
                .filter(|&j| j != q)
                .map(|j| (j as u32, row[j]))
                .collect();
            let order = |a: &(u32, f32), b: &(u32, f32)| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0));
            if self.k < near.len() {
                near.select_nth_unstable_by(self.k, order);
                near.truncate(self.k);
            }
            near.sort_unstable_by(order);
            self.neighbours.extend(near);
        }
        self.searched = to;
    }

    /// Conditional affinities calibrated to the perplexity, then symmetrised:
    /// `p_ij = (p_j|i + p_i|j) / 2n`.
    fn affinities(&mut self) {
        let (n, k) = (self.len(), self.k);
        let target = self.perplexity.ln();
        let mut triplets: Vec<(u32, u32, f32)> = Vec::with_capacity(2 * n * k);
        let mut p = vec![0f64; k];
        for i in 0..n {
            let near = &self.neighbours[i * k..(i + 1) * k];
            let base = near.first().map_or(0.0, |&(_, d)| f64::from(d));
            let (mut beta, mut lo, mut hi) = (1.0f64, 0.0f64, f64::INFINITY);
            for _ in 0..200 {
                let mut sum = 0.0;
                let mut weighted = 0.0;
                for (pj, &(_, d)) in p.iter_mut().zip(near) {
                    let d = f64::from(d) - base;
                    *pj = (-beta * d).exp();
                    sum += *pj;
                    weighted += d * *pj;
                }
                let entropy = sum.ln() + beta * weighted / sum;
                if (entropy - target).abs() < 1e-5 {
                    break;
                }
                if entropy > target {
                    lo = beta;
                    beta = if hi.is_finite() {
                        (beta + hi) / 2.0
                    } else {
                        beta * 2.0
                    };
                } else {
                    hi = beta;
                    beta = (beta + lo) / 2.0;
                }
            }
            let sum: f64 = p.iter().sum();
            for (&pj, &(j, _)) in p.iter().zip(near) {
                let v = (pj / sum / (2.0 * n as f64)) as f32;
                triplets.push((i as u32, j, v));
                triplets.push((j, i as u32, v));
            }
        }
        triplets.sort_unstable_by_key(|&(i, j, _)| (i, j));
        // Entries of one (i, j) are neighbours: one entry of their sum.
        let mut counts = vec![0usize; n + 1];
        let mut last = None;
        for (i, j, v) in triplets {
            if last == Some((i, j)) {
                *self.p_val.last_mut().expect("an entry before") += v;
                continue;
            }
            last = Some((i, j));
            self.p_col.push(j);
            self.p_val.push(v);
            counts[i as usize + 1] += 1;
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        self.p_start = counts;
        self.neighbours = Vec::new();
    }

    /// One iteration of gradient descent.
    fn iterate(&mut self) {
        let n = self.len();
        let early = self.iteration < EARLY_ITERATIONS;
        let exaggeration = if early { EXAGGERATION } else { 1.0 };
        let momentum = if early { 0.5 } else { 0.8 };
        let rate = (n as f32 / EXAGGERATION).max(50.0);
        let y = &self.y;
        let mut grad = vec![0f64; 2 * n];
        for i in 0..n {
            let (xi, yi) = (y[2 * i], y[2 * i + 1]);
            let (mut ax, mut ay) = (0f64, 0f64);
            for e in self.p_start[i]..self.p_start[i + 1] {
                let j = self.p_col[e] as usize;
                let dx = f64::from(xi - y[2 * j]);
                let dy = f64::from(yi - y[2 * j + 1]);
                let w = f64::from(self.p_val[e]) / (1.0 + dx * dx + dy * dy);
                ax += w * dx;
                ay += w * dy;
            }
            grad[2 * i] = f64::from(exaggeration) * ax;
            grad[2 * i + 1] = f64::from(exaggeration) * ay;
        }
        let mut tree = QuadTree::build(y);
        let mut repulsion = vec![0f64; 2 * n];
        let mut z = 0f64;
        for i in 0..n {
            let (fx, fy, zi) = tree.repulsion(y[2 * i], y[2 * i + 1], THETA);
            repulsion[2 * i] = fx;
            repulsion[2 * i + 1] = fy;
            z += zi;
        }
        let z = z.max(f64::MIN_POSITIVE);
        for d in 0..2 * n {
            let g = (4.0 * (grad[d] - repulsion[d] / z)) as f32;
            let gain = &mut self.gains[d];
            *gain = if (g > 0.0) != (self.velocity[d] > 0.0) {
                *gain + 0.2
            } else {
                (*gain * 0.8).max(0.01)
            };
            self.velocity[d] = momentum * self.velocity[d] - rate * *gain * g;
            self.y[d] += self.velocity[d];
        }
        // Centred (the layout is scaled for display anyway; this keeps the numbers small).
        let mean = [0, 1].map(|a| self.y.iter().skip(a).step_by(2).sum::<f32>() / n as f32);
        for p in self.y.chunks_exact_mut(2) {
            p[0] -= mean[0];
            p[1] -= mean[1];
        }
        self.iteration += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    /// `groups` tight clusters of `each` rows in `dim` dimensions, on random directions.
    fn clusters(groups: usize, each: usize, dim: usize, seed: u64) -> CompactRows {
        let mut rng = Rng::new(seed);
        let centres: Vec<Vec<f64>> = (0..groups)
            .map(|_| (0..dim).map(|_| rng.normal()).collect())
            .collect();
        let mut x = Matrix::zeros(groups * each, dim);
        for (i, row) in (0..groups * each).map(|i| (i, i % groups)) {
            for (d, v) in x.row_mut(i).iter_mut().enumerate() {
                *v = (centres[row][d] + 0.15 * rng.normal()) as f32;
            }
        }
        CompactRows::from_matrix(&x)
    }

    fn run(t: &mut Tsne) -> Layout {
        while !t.is_done() {
            t.step();
        }
        t.layout()
    }

    #[test]
    fn separate_groups_land_apart() {
        let store = clusters(4, 40, 24, 1);
        let layout = run(&mut Tsne::new(&store, &[], 3));
        assert_eq!(layout.items.len(), 160);
        // Each point's nearest point on the map is of its group.
        for r in 0..160 {
            let (x, y) = layout.point(r);
            let nearest = (0..160)
                .filter(|&s| s != r)
                .min_by(|&a, &b| {
                    let d = |s: usize| {
                        let (px, py) = layout.point(s);
                        (px - x).powi(2) + (py - y).powi(2)
                    };
                    d(a).total_cmp(&d(b))
                })
                .unwrap();
            assert_eq!(nearest % 4, r % 4, "item {r}");
        }
    }

    #[test]
    fn a_large_pool_is_sampled_with_the_kept_items_in_it() {
        let store = clusters(3, 1_100, 8, 2);
        let keep = [5, 3_299, 17, 17, 4_000];
        let t = Tsne::new(&store, &keep, 9);
        assert_eq!(t.len(), MAX_ITEMS);
        let layout = t.layout();
        assert!(layout.items.windows(2).all(|w| w[0] < w[1]));
        for i in [5, 3_299, 17] {
            assert!(layout.items.binary_search(&i).is_ok(), "{i} kept");
        }
        assert_eq!(
            layout.method,
            Method::Tsne {
                pool: 3_300,
                perplexity: 30.0
            }
        );
        assert_eq!(Tsne::new(&store, &keep, 9).layout(), layout, "seeded");
        let p = t.progress();
        assert_eq!(
            (p.done, p.total, p.searching),
            (0, MAX_ITEMS + ITERATIONS, true)
        );
    }

    #[test]
    fn tiny_pools_and_missing_rows() {
        let empty = Tsne::new(&CompactRows::new(4), &[], 0);
        assert!(empty.is_empty() && empty.is_done());
        assert!(empty.layout().items.is_empty());
        let mut store = CompactRows::new(5);
        store.set(1, &[1.0, 0.0, 0.5]).unwrap();
        let mut one = Tsne::new(&store, &[], 0);
        assert_eq!(run(&mut one).items, vec![1]);
        store.set(4, &[0.0, 1.0, 0.5]).unwrap();
        store.set(2, &[0.5, 0.5, 0.5]).unwrap();
        let layout = run(&mut Tsne::new(&store, &[], 0));
        assert_eq!(layout.items, vec![1, 2, 4]);
        assert!(layout
            .points
            .iter()
            .all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
    }
}
