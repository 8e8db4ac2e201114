//! Stochastic batch acquisition (Kirsch et al., 2023): sample a batch in proportion to a
//! transformed single-point score instead of taking the top-k, which avoids near-duplicate picks.

use super::{Pool, RandomSampler, Strategy};
use crate::rng::Rng;

/// How scores become sampling weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampling {
    /// weight ∝ score^(1/T)
    Power,
    /// weight ∝ exp(score / T)
    Softmax,
    /// weight ∝ rank^(-1/T), rank 1 = highest score
    Softrank,
}

/// Samples `batch` candidates without replacement with the chosen weights over a score where
/// higher means more informative. `temperature → 0` gives the top-k. Uses the Gumbel-top-k trick.
#[derive(Debug, Clone, Copy)]
pub struct StochasticSampler {
    pub sampling: Sampling,
    pub temperature: f64,
    pub score: fn(&[f32]) -> f32,
    pub name: &'static str,
}

/// Picks `batch` of `candidates` by sampling with log-weights `log_w` (Gumbel-top-k).
pub fn gumbel_top_k(
    candidates: &[usize],
    log_w: &[f64],
    batch: usize,
    rng: &mut Rng,
) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = candidates
        .iter()
        .zip(log_w)
        .map(|(&i, &lw)| {
            let u = rng.next_f64().max(f64::MIN_POSITIVE);
            (lw - (-u.ln()).ln(), i)
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keyed.into_iter().take(batch).map(|(_, i)| i).collect()
}

impl Strategy for StochasticSampler {
    fn name(&self) -> &'static str {
        self.name
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        let Some(p) = pool.probabilities else {
            return RandomSampler.select(pool, batch, rng);
        };
        let t = self.temperature.max(1e-9);
        let scores: Vec<f64> = pool
            .candidates
            .iter()
            .map(|&i| f64::from((self.score)(p.row(i))))
            .collect();
        let log_w: Vec<f64> = match self.sampling {
            Sampling::Power => scores.iter().map(|s| s.max(1e-12).ln() / t).collect(),
            Sampling::Softmax => scores.iter().map(|s| s / t).collect(),
            Sampling::Softrank => {
                let mut order: Vec<usize> = (0..scores.len()).collect();
                order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
                let mut lw = vec![0.0; scores.len()];
                for (rank, &j) in order.iter().enumerate() {
                    lw[j] = -((rank + 1) as f64).ln() / t;
                }
                lw
            }
        };
        gumbel_top_k(pool.candidates, &log_w, batch, rng)
    }
}

/// The margin turned into an informativeness score: `1 - (p₁ - p₂)`.
pub fn inverse_margin(p: &[f32]) -> f32 {
    1.0 - super::margin::margin(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquire::{top_k_by_score, Margin};
    use crate::matrix::Matrix;

    fn pool_data() -> (Matrix, Matrix, Vec<usize>) {
        let mut rng = Rng::new(2);
        let probs: Vec<Vec<f32>> = (0..200)
            .map(|_| {
                let a = rng.next_f64() as f32;
                vec![a, 1.0 - a]
            })
            .collect();
        (
            Matrix::zeros(200, 1),
            Matrix::from_rows(&probs).unwrap(),
            (0..200).collect(),
        )
    }

    #[test]
    fn cold_temperature_is_top_k() {
        let (x, p, c) = pool_data();
        let pool = Pool::unlabeled(&x, &c, 2).with_probabilities(&p, None);
        let top = Margin.select(&pool, 10, &mut Rng::new(0));
        for sampling in [Sampling::Power, Sampling::Softmax, Sampling::Softrank] {
            let s = StochasticSampler {
                sampling,
                temperature: 1e-6,
                score: inverse_margin,
                name: "t",
            };
            let mut got = s.select(&pool, 10, &mut Rng::new(7));
            let mut want = top.clone();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{sampling:?}");
        }
        let by_score = top_k_by_score(&c, 3, |i| inverse_margin(p.row(i)));
        assert_eq!(by_score, top[..3]);
    }

    #[test]
    fn warm_temperature_is_not_top_k() {
        let (x, p, c) = pool_data();
        let pool = Pool::unlabeled(&x, &c, 2).with_probabilities(&p, None);
        let s = StochasticSampler {
            sampling: Sampling::Power,
            temperature: 1.0,
            score: inverse_margin,
            name: "t",
        };
        let mut got = s.select(&pool, 10, &mut Rng::new(7));
        let mut top = Margin.select(&pool, 10, &mut Rng::new(0));
        got.sort();
        top.sort();
        assert_ne!(got, top);
    }
}
