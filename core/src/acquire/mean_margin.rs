//! Mean label margin, for multi-label projects: every probability column is an independent
//! "has this label" estimate; ask about the items whose labels are, on average, least decided.

use super::{top_k_by_probabilities, Pool, Strategy};
use crate::rng::Rng;

/// Smallest mean `|2p − 1|` over labels first. Without a head it falls back to random.
#[derive(Debug, Clone, Copy)]
pub struct MeanMargin;

/// `mean_k |2 p_k − 1|`: 0 when every label is a coin flip, 1 when every label is certain.
pub fn mean_label_margin(p: &[f32]) -> f32 {
    if p.is_empty() {
        return 1.0;
    }
    p.iter().map(|v| (2.0 * v - 1.0).abs()).sum::<f32>() / p.len() as f32
}

impl Strategy for MeanMargin {
    fn name(&self) -> &'static str {
        "mean-margin"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        top_k_by_probabilities(pool, batch, rng, |p| -mean_label_margin(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn picks_the_items_whose_labels_are_least_decided() {
        let x = Matrix::zeros(3, 0);
        // Independent label probabilities (rows need not sum to 1).
        let p = Matrix::from_rows(&[
            vec![0.95, 0.05, 0.9],
            vec![0.5, 0.6, 0.1],
            vec![0.5, 0.5, 0.45],
        ])
        .unwrap();
        let c = [0, 1, 2];
        let pool = Pool::unlabeled(&x, &c, 3).with_probabilities(&p, None);
        assert_eq!(MeanMargin.select(&pool, 2, &mut Rng::new(1)), vec![2, 1]);
        assert!((mean_label_margin(&[0.5, 1.0]) - 0.5).abs() < 1e-6);
    }
}
