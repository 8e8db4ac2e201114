//! Least-confidence sampling: ask about the items whose most probable class is least probable.

use super::{top_k_by_probabilities, Pool, Strategy};
use crate::rng::Rng;

/// Largest `1 - max p` first. Without a head it falls back to random.
#[derive(Debug, Clone, Copy)]
pub struct LeastConfidence;

/// `1 - max(p)`: 0 for a certain prediction, up to `1 - 1/C` for a uniform one.
pub fn least_confidence(p: &[f32]) -> f32 {
    1.0 - p.iter().cloned().fold(0.0, f32::max)
}

impl Strategy for LeastConfidence {
    fn name(&self) -> &'static str {
        "least-confidence"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        top_k_by_probabilities(pool, batch, rng, least_confidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn picks_the_least_confident_prediction() {
        let x = Matrix::zeros(3, 1);
        let p = Matrix::from_rows(&[
            vec![0.9, 0.1, 0.0],
            vec![0.5, 0.5, 0.0],
            vec![0.4, 0.3, 0.3],
        ])
        .unwrap();
        let c = [0, 1, 2];
        let pool = Pool::unlabeled(&x, &c, p.cols()).with_probabilities(&p, None);
        // Item 1 has the smaller margin (0) but item 2 the lower top probability.
        assert_eq!(LeastConfidence.select(&pool, 1, &mut Rng::new(0)), vec![2]);
    }
}
