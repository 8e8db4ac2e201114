//! Entropy sampling: ask about the items whose predicted distribution is most spread out.

use super::{top_k_by_probabilities, Pool, Strategy};
use crate::rng::Rng;

/// Largest Shannon entropy first. Without a head it falls back to random.
#[derive(Debug, Clone, Copy)]
pub struct Entropy;

/// Shannon entropy in nats.
pub fn entropy(p: &[f32]) -> f32 {
    -p.iter()
        .filter(|&&v| v > 0.0)
        .map(|&v| v * v.ln())
        .sum::<f32>()
}

impl Strategy for Entropy {
    fn name(&self) -> &'static str {
        "entropy"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        top_k_by_probabilities(pool, batch, rng, entropy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn picks_the_flattest_distribution() {
        let x = Matrix::zeros(3, 1);
        let p = Matrix::from_rows(&[
            vec![0.5, 0.5, 0.0],
            vec![0.4, 0.3, 0.3],
            vec![1.0, 0.0, 0.0],
        ])
        .unwrap();
        let c = [0, 1, 2];
        let pool = Pool::unlabeled(&x, &c, p.cols()).with_probabilities(&p, None);
        assert_eq!(Entropy.select(&pool, 2, &mut Rng::new(0)), vec![1, 0]);
        assert!((entropy(&[0.5, 0.5]) - std::f32::consts::LN_2).abs() < 1e-6);
    }
}
