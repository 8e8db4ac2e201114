//! VeSSAL-style streaming selection (Saran et al., 2023, "Streaming Active Learning with Deep
//! Neural Networks"): decide for each arriving item, once, whether to ask about it.
//!
//! Each item is mapped to its gradient embedding `g = u ⊗ [x, 1]` (`u = p − e(ŷ)`, as in BADGE).
//! With `A = λI + Σ gₛgₛᵀ/qₛ` over the items asked so far (importance-weighted by the probability
//! `qₛ` each was asked with), an item is asked with probability
//! `min(1, rate · gᵀA⁻¹g / mean of gᵀA⁻¹g over the stream so far)`: items in directions the asked
//! set already spans are unlikely, novel ones likely, and the long-run rate follows `rate`. The
//! paper normalises by `tr(A⁻¹Σ̂)`, the expected score under the current `A`; an exponential
//! moving average of the scores (window ≈ [`WINDOW`] offers) tracks the same quantity as `A`
//! grows, without a d×d covariance.
//!
//! `A` lives in the C·(d+1)-dimensional gradient space, so it is never formed: by Woodbury,
//! `gᵀA⁻¹g = (‖g‖² − bᵀ(λI + K)⁻¹b)/λ` with `b = Gᵀg` and `K = GᵀG` over the k asked items, and
//! every inner product of gradient embeddings factorises, `⟨gₐ, g_b⟩ = ⟨uₐ, u_b⟩(⟨xₐ, x_b⟩ + 1)`.
//! Memory is O(k² + k(C + d)) and an offer costs O(k(C + d) + k²).

use super::badge::{factors, Factors};
use crate::matrix::dot;
use crate::rng::Rng;
use crate::{Error, Result};

/// Ridge of `A`.
const LAMBDA: f64 = 1.0;
/// Offers the score average looks back over.
pub const WINDOW: usize = 100;

/// A streaming selector: offer items one by one; it answers whether to ask about each.
#[derive(Debug, Clone)]
pub struct StreamSelector {
    rate: f64,
    rng: Rng,
    offered: usize,
    score_mean: f64,
    /// Per asked item: `u/√q`, `x`.
    asked_u: Vec<Vec<f32>>,
    asked_x: Vec<Vec<f32>>,
    /// `(λI + K)⁻¹`, k × k, row-major.
    inverse: Vec<f64>,
}

impl StreamSelector {
    /// A selector that asks about a `rate` fraction of the stream in the long run.
    ///
    /// # Errors
    /// [`Error::Invalid`] unless `0 < rate ≤ 1`.
    pub fn new(rate: f64, seed: u64) -> Result<StreamSelector> {
        if !(rate > 0.0 && rate <= 1.0) {
            return Err(Error::Invalid(format!(
                "a query rate must be in (0, 1], got {rate}"
            )));
        }
        Ok(StreamSelector {
            rate,
            rng: Rng::new(seed),
            offered: 0,
            score_mean: 0.0,
            asked_u: Vec::new(),
            asked_x: Vec::new(),
            inverse: Vec::new(),
        })
    }

    /// Items asked about so far.
    pub fn asked(&self) -> usize {
        self.asked_u.len()
    }

    /// Items offered so far.
    pub fn offered(&self) -> usize {
        self.offered
    }

    /// Offers one item (embedding `x`, class probabilities `p` from the current head) and
    /// answers whether to ask the user about it.
    pub fn offer(&mut self, x: &[f32], p: &[f32]) -> bool {
        let Factors { u, u_sq, x_sq } = factors(p, x);
        let g_sq = f64::from(u_sq) * f64::from(x_sq);
        let b: Vec<f64> = self
            .asked_u
            .iter()
            .zip(&self.asked_x)
            .map(|(au, ax)| f64::from(dot(au, &u)) * (f64::from(dot(ax, x)) + 1.0))
            .collect();
        let k = b.len();
        let inv_b: Vec<f64> = (0..k)
            .map(|i| dot64(&self.inverse[i * k..(i + 1) * k], &b))
            .collect();
        let score = ((g_sq - dot64(&b, &inv_b)) / LAMBDA).max(0.0);
        self.offered += 1;
        let weight = 1.0 / self.offered.min(WINDOW) as f64;
        self.score_mean += weight * (score - self.score_mean);
        let mean = self.score_mean;
        let q = if mean > 0.0 {
            (self.rate * score / mean).min(1.0)
        } else {
            self.rate
        };
        if q <= 0.0 || self.rng.next_f64() >= q {
            return false;
        }
        // Grow (λI + K)⁻¹ by one row and column (block inverse), with the new item scaled
        // by 1/√q: b and its squared norm scale accordingly.
        let s = 1.0 / q.sqrt();
        let b: Vec<f64> = b.iter().map(|v| v * s).collect();
        let inv_b: Vec<f64> = inv_b.iter().map(|v| v * s).collect();
        let schur = (LAMBDA + g_sq * s * s - dot64(&b, &inv_b)).max(1e-12);
        let mut next = vec![0.0; (k + 1) * (k + 1)];
        for i in 0..k {
            for j in 0..k {
                next[i * (k + 1) + j] = self.inverse[i * k + j] + inv_b[i] * inv_b[j] / schur;
            }
            next[i * (k + 1) + k] = -inv_b[i] / schur;
            next[k * (k + 1) + i] = -inv_b[i] / schur;
        }
        next[k * (k + 1) + k] = 1.0 / schur;
        self.inverse = next;
        self.asked_u.push(u.iter().map(|v| v * s as f32).collect());
        self.asked_x.push(x.to_vec());
        true
    }
}

fn dot64(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: usize, seed: u64) -> Vec<(Vec<f32>, Vec<f32>)> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| {
                let x: Vec<f32> = (0..32).map(|_| rng.normal() as f32).collect();
                let a = rng.next_f64() as f32;
                (x, vec![a, 1.0 - a])
            })
            .collect()
    }

    #[test]
    fn follows_the_target_rate() {
        for rate in [0.05, 0.2] {
            let mut s = StreamSelector::new(rate, 1).unwrap();
            let items = stream(2_000, 2);
            let asked = items.iter().filter(|(x, p)| s.offer(x, p)).count();
            let expected = rate * 2_000.0;
            assert!(
                (asked as f64) > 0.5 * expected && (asked as f64) < 1.5 * expected,
                "rate {rate}: asked {asked}"
            );
        }
        assert!(StreamSelector::new(0.0, 1).is_err());
    }

    #[test]
    fn repeats_of_an_asked_item_are_rarely_asked_again() {
        // Every other offer repeats the first item asked; the rest are new.
        let items = stream(600, 3);
        let mut s = StreamSelector::new(0.2, 4).unwrap();
        let first = items.iter().find(|(x, p)| s.offer(x, p)).unwrap().clone();
        let (mut repeats, mut novel) = (0, 0);
        for (x, p) in &items[300..] {
            novel += usize::from(s.offer(x, p));
            repeats += usize::from(s.offer(&first.0, &first.1));
        }
        assert!(novel > 20, "novel {novel}");
        assert!(repeats * 4 < novel, "repeats {repeats}, novel {novel}");
    }
}
