//! Distances from every candidate row to its nearest centre, updated one pass per added centre:
//! Core-Set's k-center greedy ([`Centres`]) and BADGE's k-means++ seeding on gradient
//! embeddings ([`GradientCentres`]), both on the compact rows.
//!
//! Squared distances come from exact integer dot products: `‖x − c‖² = ‖x‖² + ‖c‖² − 2 x·c`
//! with each term an integer times the rows' scales, so a row's distance to itself is 0 and the
//! same pool gives the same picks on every machine.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::{each_dot_from, Vectors};
use crate::rng::Rng;
use crate::store::CompactRows;

/// A squared distance from a row to a centre, given the rows' dot product in real units.
trait Metric {
    fn dist(&self, r: usize, c: usize, dot: f64) -> f32;
}

/// Each row's squared distance to its nearest centre, kept lazily: `nearest[r]` accounts for
/// the first `upto[r]` centres only, so it is an upper bound that [`Nearest::refresh`] makes
/// exact (distances to a growing set of centres only fall).
#[derive(Debug, Clone)]
struct Nearest<'a, M> {
    store: &'a CompactRows,
    rows: &'a [usize],
    centres: Vectors,
    metric: M,
    upto: Vec<usize>,
    nearest: Vec<f32>,
}

impl<'a, M: Metric> Nearest<'a, M> {
    fn new(store: &'a CompactRows, rows: &'a [usize], metric: M) -> Nearest<'a, M> {
        Nearest {
            store,
            rows,
            centres: Vectors::from_rows(store, &[]),
            metric,
            upto: vec![0; rows.len()],
            nearest: vec![f32::INFINITY; rows.len()],
        }
    }

    fn is_fresh(&self, r: usize) -> bool {
        self.upto[r] == self.centres.count()
    }

    fn update(&mut self, rows: &[usize], offset: usize) {
        let from = self.upto[offset..offset + rows.len()]
            .iter()
            .copied()
            .min()
            .unwrap_or(0);
        let (store, centres, metric) = (self.store, &self.centres, &self.metric);
        let (upto, nearest) = (&mut self.upto, &mut self.nearest);
        each_dot_from(store, rows, centres, from, |k, c, d| {
            let r = offset + k;
            if c >= upto[r] {
                let scale = f64::from(store.scale(rows[k])) * f64::from(centres.scale(c));
                let dist = metric.dist(r, c, scale * d as f64);
                if dist < nearest[r] {
                    nearest[r] = dist;
                }
            }
        });
        let count = self.centres.count();
        self.upto[offset..offset + rows.len()].fill(count);
    }

    /// Brings every row up to date: one pass over the rows for all centres not yet counted.
    fn update_all(&mut self) {
        self.update(self.rows, 0);
    }

    /// Brings row `r` up to date and returns its distance.
    fn refresh(&mut self, r: usize) -> f32 {
        if !self.is_fresh(r) {
            let rows = self.rows;
            self.update(&rows[r..=r], r);
        }
        self.nearest[r]
    }
}

/// A heap entry: larger distance first, then the lower position.
#[derive(Debug, PartialEq)]
struct Far(f32, Reverse<usize>);

impl Eq for Far {}

impl PartialOrd for Far {
    fn partial_cmp(&self, other: &Far) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Far {
    fn cmp(&self, other: &Far) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

/// Squared Euclidean distance: `‖x‖² + ‖c‖² − 2 x·c`.
#[derive(Debug, Clone)]
struct Euclid {
    sq: Vec<f64>,
    centre_sq: Vec<f64>,
}

impl Metric for Euclid {
    fn dist(&self, r: usize, c: usize, dot: f64) -> f32 {
        (self.sq[r] + self.centre_sq[c] - 2.0 * dot).max(0.0) as f32
    }
}

/// The squared distance of each of `rows` (store indices) to its nearest centre: Core-Set.
#[derive(Debug, Clone)]
pub struct Centres<'a> {
    inner: Nearest<'a, Euclid>,
}

impl<'a> Centres<'a> {
    /// No centres yet: every distance is infinite.
    pub fn new(store: &'a CompactRows, rows: &'a [usize]) -> Centres<'a> {
        let sq = rows.iter().map(|&i| store.sq_norm(i)).collect();
        let metric = Euclid {
            sq,
            centre_sq: Vec::new(),
        };
        Centres {
            inner: Nearest::new(store, rows, metric),
        }
    }

    fn push(&mut self, centre: usize) {
        let store = self.inner.store;
        self.inner.centres.push_row(store, centre);
        self.inner.metric.centre_sq.push(store.sq_norm(centre));
    }

    /// Adds the store rows `centres` as centres (one pass over the rows for all of them).
    pub fn add(&mut self, centres: &[usize]) {
        centres.iter().for_each(|&c| self.push(c));
        self.inner.update_all();
    }

    /// Squared distance of each row to its nearest centre (∞ before any centre).
    pub fn nearest(&self) -> &[f32] {
        &self.inner.nearest
    }

    /// k-center greedy: `batch` times the row farthest from every centre (the first of
    /// equals), which then becomes a centre; positions, in order. Without a centre the first
    /// pick is a seeded uniform draw. Exactly the picks of a full pass per pick, but lazy: the
    /// rows wait in a heap by their last distance (an upper bound), and only a row at the top
    /// is brought up to date, so a pick costs a few rows, not the pool.
    pub fn greedy(&mut self, batch: usize, rng: &mut Rng) -> Vec<usize> {
        let n = self.inner.rows.len();
        let want = batch.min(n);
        let mut picked = Vec::with_capacity(want);
        let mut heap: BinaryHeap<Far> = (0..n)
            .map(|r| Far(self.inner.nearest[r], Reverse(r)))
            .collect();
        while picked.len() < want {
            let j = if self.inner.centres.count() == 0 {
                let j = rng.below(n);
                heap.retain(|f| f.1 .0 != j);
                j
            } else {
                loop {
                    let Far(_, Reverse(r)) = heap.pop().expect("a row is left");
                    if self.inner.is_fresh(r) {
                        break r;
                    }
                    let d = self.inner.refresh(r);
                    heap.push(Far(d, Reverse(r)));
                }
            };
            picked.push(j);
            self.push(self.inner.rows[j]);
        }
        picked
    }
}

/// Squared distance of gradient embeddings: `‖gᵣ‖² + ‖g꜀‖² − 2 ⟨uᵣ, u꜀⟩ (xᵣ·x꜀ + 1)`.
#[derive(Debug, Clone)]
struct Gradient<'a> {
    u: &'a [f32],
    classes: usize,
    g_sq: Vec<f64>,
    /// Row position of each centre.
    centre_row: Vec<usize>,
}

impl Metric for Gradient<'_> {
    fn dist(&self, r: usize, c: usize, dot: f64) -> f32 {
        let k = self.classes;
        let j = self.centre_row[c];
        let cross = u_dot(&self.u[r * k..(r + 1) * k], &self.u[j * k..(j + 1) * k]) * (dot + 1.0);
        (self.g_sq[r] + self.g_sq[j] - 2.0 * cross).max(0.0) as f32
    }
}

/// BADGE's gradient embeddings `gᵢ = uᵢ ⊗ [xᵢ, 1]` (`uᵢ = pᵢ − e(ŷᵢ)`), never materialised:
/// `⟨gᵢ, gⱼ⟩ = ⟨uᵢ, uⱼ⟩ · (⟨xᵢ, xⱼ⟩ + 1)`, with `⟨xᵢ, xⱼ⟩` from the integer kernel. Keeps each
/// row's squared gradient distance to its nearest centre, lazily (see [`GradientCentres::add`]
/// and [`GradientCentres::refresh`]).
#[derive(Debug, Clone)]
pub struct GradientCentres<'a> {
    inner: Nearest<'a, Gradient<'a>>,
}

impl<'a> GradientCentres<'a> {
    /// `u` holds `rows.len() × classes` values `p − e(ŷ)`, row by row.
    ///
    /// # Panics
    /// When `u` is not `rows.len() × classes`.
    pub fn new(
        store: &'a CompactRows,
        rows: &'a [usize],
        u: &'a [f32],
        classes: usize,
    ) -> GradientCentres<'a> {
        assert_eq!(u.len(), rows.len() * classes, "u is rows × classes");
        let g_sq = rows
            .iter()
            .zip(u.chunks_exact(classes.max(1)))
            .map(|(&i, u)| u_dot(u, u) * (store.sq_norm(i) + 1.0))
            .collect();
        let metric = Gradient {
            u,
            classes,
            g_sq,
            centre_row: Vec::new(),
        };
        GradientCentres {
            inner: Nearest::new(store, rows, metric),
        }
    }

    /// The squared norm of each row's gradient embedding.
    pub fn norms_sq(&self) -> &[f64] {
        &self.inner.metric.g_sq
    }

    /// Makes the row at position `j` a centre. With `pass`, every row is brought up to date
    /// at once (one pass over the rows); without, distances stay upper bounds until
    /// [`GradientCentres::refresh`].
    pub fn add(&mut self, j: usize, pass: bool) {
        let store = self.inner.store;
        self.inner.centres.push_row(store, self.inner.rows[j]);
        self.inner.metric.centre_row.push(j);
        if pass {
            self.inner.update_all();
        }
    }

    /// Row `r`'s exact distance to its nearest centre.
    pub fn refresh(&mut self, r: usize) -> f32 {
        self.inner.refresh(r)
    }

    /// Squared gradient distance of each row to its nearest centre as last computed (∞ before
    /// any centre; an upper bound for rows not refreshed since the last centre).
    pub fn nearest(&self) -> &[f32] {
        &self.inner.nearest
    }
}

fn u_dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::tests::pool;
    use crate::matrix::sq_dist;
    use crate::rng::Rng;
    use crate::store::Rows;

    #[test]
    fn distances_match_the_decoded_rows() {
        let store = pool(50, 37, 1);
        let rows: Vec<usize> = (10..50).collect();
        let mut centres = Centres::new(&store, &rows);
        assert!(centres.nearest().iter().all(|d| d.is_infinite()));
        // Five centres: more than one tile of four, and a row that is its own centre.
        centres.add(&[0, 1, 2, 3, 12]);
        let x = store.decode(&(0..50).collect::<Vec<_>>());
        for (r, &i) in rows.iter().enumerate() {
            let want = [0, 1, 2, 3, 12]
                .iter()
                .map(|&c| sq_dist(x.row(i), x.row(c)))
                .fold(f32::INFINITY, f32::min);
            let got = centres.nearest()[r];
            assert!(
                (got - want).abs() <= 1e-4 * want.max(1.0),
                "{got} vs {want}"
            );
        }
        assert!(centres.nearest()[2] < 1e-3);
        // The greedy's first pick is the row farthest from every centre.
        let far = centres.greedy(1, &mut Rng::new(0))[0];
        assert!(far != 2);
        assert!(centres
            .nearest()
            .iter()
            .all(|d| *d <= centres.nearest()[far]));
    }

    #[test]
    fn gradient_distances_match_the_outer_products() {
        let store = pool(6, 5, 2);
        let rows = [0, 1, 2, 3, 4, 5];
        let mut rng = Rng::new(3);
        let u: Vec<f32> = (0..18).map(|_| rng.normal() as f32).collect();
        let mut g = GradientCentres::new(&store, &rows, &u, 3);
        g.add(4, true);
        let x = store.decode(&rows);
        let explicit = |r: usize| -> Vec<f32> {
            let xt: Vec<f32> = x.row(r).iter().copied().chain([1.0]).collect();
            u[r * 3..r * 3 + 3]
                .iter()
                .flat_map(|a| xt.iter().map(move |b| a * b))
                .collect()
        };
        for r in 0..6 {
            let want = sq_dist(&explicit(r), &explicit(4));
            let got = g.nearest()[r];
            assert!(
                (got - want).abs() <= 1e-3 * want.max(1.0),
                "{r}: {got} vs {want}"
            );
        }
        assert!(g.nearest()[4] < 1e-3);
    }
}
