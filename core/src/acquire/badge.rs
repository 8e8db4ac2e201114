//! BADGE (Ash et al., 2020): k-means++ seeding on the head's gradient embeddings.
//!
//! The gradient embedding of item `i` is `gᵢ = uᵢ ⊗ x̃ᵢ` with `uᵢ = pᵢ − e(ŷᵢ)` (C values) and
//! `x̃ᵢ = [xᵢ, 1]` (d + 1 values). It is never materialised: `⟨gᵢ, gⱼ⟩ = ⟨uᵢ, uⱼ⟩·⟨x̃ᵢ, x̃ⱼ⟩`,
//! so distances cost O(C + d) and memory stays O(n·(C + d)), never O(n·C·d).

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
/// distance to the nearest centre picked so far.
trait Seeding {
    fn len(&self) -> usize;
    /// `‖gₖ‖²`.
    fn norm_sq(&self, k: usize) -> f64;
    /// Makes `k` a centre.
    fn add(&mut self, k: usize);
    /// Squared distance of each embedding to its nearest centre.
    fn nearest(&self) -> &[f32];
}

/// Gradient embeddings from f32 rows.
struct F32Gradients<'a> {
    f: Vec<Factors>,
    rows: Vec<&'a [f32]>,
    nearest: Vec<f32>,
}

impl Seeding for F32Gradients<'_> {
    fn len(&self) -> usize {
        self.f.len()
    }
    fn norm_sq(&self, k: usize) -> f64 {
        f64::from(self.f[k].u_sq * self.f[k].x_sq)
    }
    fn add(&mut self, j: usize) {
        for k in 0..self.f.len() {
            let d = grad_sq_dist(&self.f[k], self.rows[k], &self.f[j], self.rows[j]);
            self.nearest[k] = self.nearest[k].min(d);
        }
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
    fn add(&mut self, k: usize) {
        GradientCentres::add(self, k);
    }
    fn nearest(&self) -> &[f32] {
        GradientCentres::nearest(self)
    }
}

/// k-means++ seeding: the largest gradient first, then D² sampling among the rest. Positions.
fn seed(g: &mut impl Seeding, batch: usize, rng: &mut Rng) -> Vec<usize> {
    let n = g.len();
    let want = batch.min(n);
    let mut picked: Vec<usize> = Vec::with_capacity(want);
    let mut taken = vec![false; n];
    while picked.len() < want {
        let j = if picked.is_empty() {
            (0..n).fold(0, |b, k| if g.norm_sq(k) > g.norm_sq(b) { k } else { b })
        } else {
            let nearest = g.nearest();
            let total: f64 = (0..n)
                .filter(|&k| !taken[k])
                .map(|k| f64::from(nearest[k]))
                .sum();
            if total <= 0.0 {
                // Every remaining gradient coincides with a centre: take any remaining item.
                (0..n).find(|&k| !taken[k]).expect("a remaining candidate")
            } else {
                let mut target = rng.next_f64() * total;
                let mut choice = None;
                for k in (0..n).filter(|&k| !taken[k]) {
                    choice = Some(k);
                    target -= f64::from(nearest[k]);
                    if target <= 0.0 {
                        break;
                    }
                }
                choice.expect("a remaining candidate")
            }
        };
        taken[j] = true;
        picked.push(j);
        if picked.len() < want {
            g.add(j);
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
