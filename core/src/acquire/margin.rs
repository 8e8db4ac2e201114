//! Margin sampling: ask about the items whose two most probable classes are closest.

use super::{top_k_by_probabilities, Pool, Strategy};
use crate::rng::Rng;

/// Smallest `p(top1) - p(top2)` first. Without a head (no probabilities) it falls back to random.
#[derive(Debug, Clone, Copy)]
pub struct Margin;

/// The margin of one probability vector: top-1 minus top-2 (1 for a single class).
pub fn margin(p: &[f32]) -> f32 {
    let (mut a, mut b) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
    for &v in p {
        if v > a {
            b = a;
            a = v;
        } else if v > b {
            b = v;
        }
    }
    if b.is_finite() {
        a - b
    } else {
        1.0
    }
}

impl Strategy for Margin {
    fn name(&self) -> &'static str {
        "margin"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        top_k_by_probabilities(pool, batch, rng, |p| -margin(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn picks_the_item_nearest_the_decision_boundary() {
        let x = Matrix::zeros(4, 1);
        let p = Matrix::from_rows(&[
            vec![0.9, 0.05, 0.05],
            vec![0.45, 0.44, 0.11],
            vec![0.6, 0.3, 0.1],
            vec![0.34, 0.33, 0.33],
        ])
        .unwrap();
        let c = [0, 1, 2];
        let pool = Pool::unlabeled(&x, &c, p.cols()).with_probabilities(&p, None);
        // Item 3 has the smallest margin but is not a candidate.
        assert_eq!(Margin.select(&pool, 2, &mut Rng::new(0)), vec![1, 2]);
    }

    #[test]
    fn margin_of_a_vector() {
        assert!((margin(&[0.2, 0.5, 0.3]) - 0.2).abs() < 1e-6);
        assert_eq!(margin(&[1.0]), 1.0);
    }
}
