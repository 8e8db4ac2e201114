//! BADGE (Ash et al., 2020): k-means++ seeding on the head's gradient embeddings.
//!
//! The gradient embedding of item `i` is `gᵢ = uᵢ ⊗ x̃ᵢ` with `uᵢ = pᵢ − e(ŷᵢ)` (C values) and
//! `x̃ᵢ = [xᵢ, 1]` (d + 1 values). It is never materialised: `⟨gᵢ, gⱼ⟩ = ⟨uᵢ, uⱼ⟩·⟨x̃ᵢ, x̃ⱼ⟩`,
//! so distances cost O(C + d) and memory stays O(n·(C + d)), never O(n·C·d).

use super::weighted::Weights;
use super::{Pool, RandomSampler, Strategy};
use crate::compute::GradientCentres;
use crate::matrix::dot;
use crate::rng::Rng;

/// Diverse and uncertain: k-means++ D² sampling over gradient embeddings, starting from the
/// largest gradient. Without a head it falls back to random.
#[derive(Debug, Clone, Copy)]
pub struct Badge;

/// `p − e(ŷ)`, where `ŷ` is the most probable class (the first of equals).
fn gradient_u(p: &[f32]) -> Vec<f32> {
    let top = p
        .iter()
        .enumerate()
        .fold(0, |b, (k, v)| if *v > p[b] { k } else { b });
    p.iter()
        .enumerate()
        .map(|(k, v)| v - f32::from(k == top))
        .collect()
}

/// The factors of one item's gradient embedding `g = u ⊗ [x, 1]` (shared with VeSSAL).
pub(super) struct Factors {
    /// `p − e(ŷ)`.
    pub u: Vec<f32>,
    /// `‖u‖²`.
    pub u_sq: f32,
    /// `‖x‖² + 1`; `‖g‖² = u_sq · x_sq`.
    pub x_sq: f32,
}

/// The gradient-embedding factors of an item with class probabilities `p` and embedding `x`.
pub(super) fn factors(p: &[f32], x: &[f32]) -> Factors {
    let u = gradient_u(p);
    let u_sq = dot(&u, &u);
    Factors {
        u,
        u_sq,
        x_sq: dot(x, x) + 1.0,
    }
}

/// Squared distance between the gradient embeddings of `a` and `b`, from their factors.
fn grad_sq_dist(fa: &Factors, xa: &[f32], fb: &Factors, xb: &[f32]) -> f32 {
    let cross = dot(&fa.u, &fb.u) * (dot(xa, xb) + 1.0);
    (fa.u_sq * fa.x_sq + fb.u_sq * fb.x_sq - 2.0 * cross).max(0.0)
}

/// What k-means++ seeding reads of the gradient embeddings: their norms, and each one's
/// distance to the nearest centre picked so far, kept lazily.
trait Seeding {
    fn len(&self) -> usize;
    /// `‖gₖ‖²`.
    fn norm_sq(&self, k: usize) -> f64;
    /// Makes `k` a centre; with `pass`, every distance is brought up to date at once.
    fn add(&mut self, k: usize, pass: bool);
    /// `k`'s exact distance to its nearest centre.
    fn refresh(&mut self, k: usize) -> f32;
    /// Distances as last computed: upper bounds of the exact ones.
    fn nearest(&self) -> &[f32];
}

/// Gradient embeddings from f32 rows.
struct F32Gradients<'a> {
    f: Vec<Factors>,
    rows: Vec<&'a [f32]>,
    centres: Vec<usize>,
    upto: Vec<usize>,
    nearest: Vec<f32>,
}

impl Seeding for F32Gradients<'_> {
    fn len(&self) -> usize {
        self.f.len()
    }
    fn norm_sq(&self, k: usize) -> f64 {
        f64::from(self.f[k].u_sq * self.f[k].x_sq)
    }
    fn add(&mut self, j: usize, pass: bool) {
        self.centres.push(j);
        if pass {
            (0..self.f.len()).for_each(|k| {
                self.refresh(k);
            });
        }
    }
    fn refresh(&mut self, k: usize) -> f32 {
        for &j in &self.centres[self.upto[k]..] {
            let d = grad_sq_dist(&self.f[k], self.rows[k], &self.f[j], self.rows[j]);
            self.nearest[k] = self.nearest[k].min(d);
        }
        self.upto[k] = self.centres.len();
        self.nearest[k]
    }
    fn nearest(&self) -> &[f32] {
        &self.nearest
    }
}

impl Seeding for GradientCentres<'_> {
    fn len(&self) -> usize {
        self.norms_sq().len()
    }
    fn norm_sq(&self, k: usize) -> f64 {
        self.norms_sq()[k]
    }
    fn add(&mut self, k: usize, pass: bool) {
        GradientCentres::add(self, k, pass);
    }
    fn refresh(&mut self, k: usize) -> f32 {
        GradientCentres::refresh(self, k)
    }
    fn nearest(&self) -> &[f32] {
        GradientCentres::nearest(self)
    }
}

/// k-means++ seeding: the largest gradient first, then D² sampling among the rest; positions.
///
/// The D² draws are exact but lazy (rejection sampling): an item is proposed in proportion to
/// its last computed distance (an upper bound, as distances only fall when centres are added),
/// brought up to date, and accepted with probability exact ÷ bound; a rejected item keeps its
/// exact distance as its new bound. After the first centre's pass, a pick costs the few items
/// it proposes, not a pass over the pool.
fn seed(g: &mut impl Seeding, batch: usize, rng: &mut Rng) -> Vec<usize> {
    let n = g.len();
    let want = batch.min(n);
    if want == 0 {
        return Vec::new();
    }
    let first = (0..n).fold(0, |b, k| if g.norm_sq(k) > g.norm_sq(b) { k } else { b });
    let mut picked = vec![first];
    if want == 1 {
        return picked;
    }
    g.add(first, true);
    let mut taken = vec![false; n];
    taken[first] = true;
    let mut bounds = Weights::new(g.nearest().iter().map(|&d| f64::from(d)));
    bounds.set(first, 0.0);
    while picked.len() < want {
        let j = loop {
            let Some(k) = bounds.draw(rng.next_f64()) else {
                // Every remaining gradient coincides with a centre: take any remaining item.
                break (0..n).find(|&k| !taken[k]).expect("a remaining candidate");
            };
            let bound = bounds.get(k);
            let exact = f64::from(g.refresh(k));
            if exact >= bound || rng.next_f64() * bound < exact {
                break k;
            }
            bounds.set(k, exact);
        };
        taken[j] = true;
        bounds.set(j, 0.0);
        picked.push(j);
        if picked.len() < want {
            g.add(j, false);
        }
    }
    picked
}

impl Strategy for Badge {
    fn name(&self) -> &'static str {
        "badge"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        let Some(probs) = pool.probabilities else {
            return RandomSampler.select(pool, batch, rng);
        };
        let c = pool.candidates;
        let picked = match pool.stored {
            Some(stored) => {
                let rows = stored.rows_of(c);
                let classes = probs.cols();
                let u: Vec<f32> = c.iter().flat_map(|&i| gradient_u(probs.row(i))).collect();
                seed(
                    &mut GradientCentres::new(stored.store, &rows, &u, classes),
                    batch,
                    rng,
                )
            }
            None => {
                let x = pool.embeddings;
                seed(
                    &mut F32Gradients {
                        f: c.iter().map(|&i| factors(probs.row(i), x.row(i))).collect(),
                        rows: c.iter().map(|&i| x.row(i)).collect(),
                        centres: Vec::new(),
                        upto: vec![0; c.len()],
                        nearest: vec![f32::INFINITY; c.len()],
                    },
                    batch,
                    rng,
                )
            }
        };
        picked.into_iter().map(|j| c[j]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn factorised_distance_equals_the_explicit_outer_product() {
        let p1 = [0.7f32, 0.2, 0.1];
        let p2 = [0.1f32, 0.3, 0.6];
        let x1 = [1.0f32, -2.0];
        let x2 = [0.5f32, 3.0];
        let explicit = |p: &[f32], x: &[f32]| -> Vec<f32> {
            let f = factors(p, x);
            let xt = [x[0], x[1], 1.0];
            f.u.iter()
                .flat_map(|u| xt.iter().map(move |v| u * v))
                .collect()
        };
        let (g1, g2) = (explicit(&p1, &x1), explicit(&p2, &x2));
        let want: f32 = g1.iter().zip(&g2).map(|(a, b)| (a - b) * (a - b)).sum();
        let got = grad_sq_dist(&factors(&p1, &x1), &x1, &factors(&p2, &x2), &x2);
        assert!((want - got).abs() < 1e-4, "{want} vs {got}");
    }

    #[test]
    fn memory_does_not_grow_with_classes_times_dimensions() {
        // Per item BADGE keeps C + 2 floats besides the shared embeddings: with 100 classes and
        // 768 dimensions that is 102 floats, not 76,800.
        let f = factors(&[0.01; 100], &[0.5; 768]);
        assert_eq!(f.u.len(), 100);
    }

    #[test]
    fn first_pick_is_the_largest_gradient() {
        let x = Matrix::from_rows(&[vec![1.0], vec![10.0], vec![1.0]]).unwrap();
        let p = Matrix::from_rows(&[vec![0.9, 0.1], vec![0.6, 0.4], vec![0.99, 0.01]]).unwrap();
        let c = [0, 1, 2];
        let pool = Pool::unlabeled(&x, &c, 2).with_probabilities(&p, None);
        assert_eq!(Badge.select(&pool, 1, &mut Rng::new(0)), vec![1]);
    }
}
