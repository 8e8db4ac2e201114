//! Distances from every candidate row to its nearest centre, updated one pass per added centre:
//! Core-Set's k-center greedy ([`Centres`]) and BADGE's k-means++ seeding on gradient
//! embeddings ([`GradientCentres`]), both on the compact rows.
//!
//! Squared distances come from exact integer dot products: `‖x − c‖² = ‖x‖² + ‖c‖² − 2 x·c`
//! with each term an integer times the rows' scales, so a row's distance to itself is 0 and the
//! same pool gives the same picks on every machine.

use super::{each_dot, row_code_sq, Vectors};
use crate::store::CompactRows;

/// The squared distance of each of `rows` (store indices) to its nearest centre.
#[derive(Debug, Clone)]
pub struct Centres<'a> {
    store: &'a CompactRows,
    rows: &'a [usize],
    sq: Vec<f64>,
    nearest: Vec<f32>,
}

impl<'a> Centres<'a> {
    /// No centres yet: every distance is infinite.
    pub fn new(store: &'a CompactRows, rows: &'a [usize]) -> Centres<'a> {
        let sq = rows.iter().map(|&i| sq_norm(store, i)).collect();
        Centres {
            store,
            rows,
            sq,
            nearest: vec![f32::INFINITY; rows.len()],
        }
    }

    /// Adds the store rows `centres` as centres (one pass over the rows for all of them).
    pub fn add(&mut self, centres: &[usize]) {
        let vectors = Vectors::from_rows(self.store, centres);
        let csq: Vec<f64> = centres.iter().map(|&c| sq_norm(self.store, c)).collect();
        let (store, rows, sq, nearest) = (self.store, self.rows, &self.sq, &mut self.nearest);
        each_dot(store, rows, &vectors, |r, v, d| {
            let scale = f64::from(store.codes(rows[r]).1) * f64::from(vectors.scale(v));
            let dist = (sq[r] + csq[v] - 2.0 * scale * d as f64).max(0.0) as f32;
            if dist < nearest[r] {
                nearest[r] = dist;
            }
        });
    }

    /// Squared distance of each row to its nearest centre (∞ before any centre).
    pub fn nearest(&self) -> &[f32] {
        &self.nearest
    }

    /// The position of the row farthest from every centre among those not `taken` (the first
    /// of equals), or `None` when all are taken.
    pub fn farthest(&self, taken: &[bool]) -> Option<usize> {
        farthest(&self.nearest, taken)
    }
}

/// The first position of the largest value among those not `taken`.
pub fn farthest(values: &[f32], taken: &[bool]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (k, v) in values.iter().enumerate() {
        if !taken[k] && best.is_none_or(|b| *v > values[b]) {
            best = Some(k);
        }
    }
    best
}

fn sq_norm(store: &CompactRows, i: usize) -> f64 {
    let s = f64::from(store.codes(i).1);
    row_code_sq(store, i) as f64 * s * s
}

/// BADGE's gradient embeddings `gᵢ = uᵢ ⊗ [xᵢ, 1]` (`uᵢ = pᵢ − e(ŷᵢ)`), never materialised:
/// `⟨gᵢ, gⱼ⟩ = ⟨uᵢ, uⱼ⟩ · (⟨xᵢ, xⱼ⟩ + 1)`, with `⟨xᵢ, xⱼ⟩` from the integer kernel. Keeps each
/// row's squared gradient distance to its nearest centre.
#[derive(Debug, Clone)]
pub struct GradientCentres<'a> {
    store: &'a CompactRows,
    rows: &'a [usize],
    u: &'a [f32],
    classes: usize,
    /// `‖uᵢ‖²·(‖xᵢ‖² + 1)`: the squared norm of each gradient embedding.
    g_sq: Vec<f64>,
    nearest: Vec<f32>,
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
            .map(|(&i, u)| u_dot(u, u) * (sq_norm(store, i) + 1.0))
            .collect();
        GradientCentres {
            store,
            rows,
            u,
            classes,
            g_sq,
            nearest: vec![f32::INFINITY; rows.len()],
        }
    }

    /// The squared norm of each row's gradient embedding.
    pub fn norms_sq(&self) -> &[f64] {
        &self.g_sq
    }

    /// Adds the row at position `j` as a centre (one pass over the rows).
    pub fn add(&mut self, j: usize) {
        let store = self.store;
        let c = self.classes;
        let vectors = Vectors::from_rows(store, &[self.rows[j]]);
        let uj = &self.u[j * c..(j + 1) * c];
        let gj = self.g_sq[j];
        let (rows, u, g_sq, nearest) = (self.rows, self.u, &self.g_sq, &mut self.nearest);
        each_dot(store, rows, &vectors, |r, _, d| {
            let x = f64::from(store.codes(rows[r]).1) * f64::from(vectors.scale(0)) * d as f64;
            let cross = u_dot(&u[r * c..(r + 1) * c], uj) * (x + 1.0);
            let dist = (g_sq[r] + gj - 2.0 * cross).max(0.0) as f32;
            if dist < nearest[r] {
                nearest[r] = dist;
            }
        });
    }

    /// Squared gradient distance of each row to its nearest centre (∞ before any centre).
    pub fn nearest(&self) -> &[f32] {
        &self.nearest
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
    use crate::matrix::sq_dist;
    use crate::rng::Rng;
    use crate::store::Rows;

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
        let taken: Vec<bool> = (0..rows.len()).map(|r| r == 0).collect();
        let far = centres.farthest(&taken).unwrap();
        assert!(far != 0);
        assert!(centres
            .nearest()
            .iter()
            .skip(1)
            .all(|d| *d <= centres.nearest()[far]));
    }

    #[test]
    fn gradient_distances_match_the_outer_products() {
        let store = pool(6, 5, 2);
        let rows = [0, 1, 2, 3, 4, 5];
        let mut rng = Rng::new(3);
        let u: Vec<f32> = (0..18).map(|_| rng.normal() as f32).collect();
        let mut g = GradientCentres::new(&store, &rows, &u, 3);
        g.add(4);
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
