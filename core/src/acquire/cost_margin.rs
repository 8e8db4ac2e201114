//! Cost-weighted margin, for candidate set queries: uncertain items that are cheap to answer.
//!
//! `a(x) = (1 + g(x))^d / E[c(x)]` (Gwon et al. 2025), with `g(x) = 1 − margin` the
//! uncertainty in `[0, 1]`, `d` = [`COST_EXPONENT`], and `E[c(x)]` the expected bits of the
//! item's candidate set query under the model's own probabilities
//! ([`CandidateRule::expected_bits`]). Without a calibrated rule every query costs the full
//! list, `E[c]` is constant, and this is margin sampling.

use super::{margin, top_k_by_probabilities, Pool, Strategy};
use crate::candidates::CandidateRule;
use crate::rng::Rng;

/// How strongly information outweighs cost: `(1 + g)^d` spans `1 ..= 2^d` against a cost that
/// spans `1 ..= log2(L) + …` bits. On the Fashion-MNIST demo `d = 4` traded too much accuracy
/// for cheap answers and `d = 8` less (docs/evidence.md, "Candidate set queries").
pub const COST_EXPONENT: i32 = 8;

/// Margin uncertainty over expected answer cost; margin without a candidate-set rule.
#[derive(Debug, Clone, Copy)]
pub struct CostMargin;

/// The acquisition value of an item with probabilities `p` under `rule`.
pub fn cost_weighted(p: &[f32], rule: Option<&CandidateRule>) -> f32 {
    let gain = (1.0 + f64::from(1.0 - margin(p))).powi(COST_EXPONENT);
    let cost = rule.map_or((p.len().max(1) as f64).log2(), |r| r.expected_bits(p));
    (gain / cost.max(1e-9)) as f32
}

impl Strategy for CostMargin {
    fn name(&self) -> &'static str {
        "cost-margin"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        let rule = pool.candidate_sets;
        top_k_by_probabilities(pool, batch, rng, |p| cost_weighted(p, rule.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquire::Margin;
    use crate::matrix::Matrix;

    #[test]
    fn without_a_rule_it_is_margin_and_with_one_cheap_items_gain() {
        let x = Matrix::zeros(3, 1);
        // Item 0: uncertain between two classes (a set of two, cheap). Item 1: slightly less
        // uncertain but spread over many classes (a large set, dear). Item 2: confident.
        let p = Matrix::from_rows(&[
            vec![0.46, 0.44, 0.04, 0.03, 0.03],
            vec![0.30, 0.22, 0.16, 0.16, 0.16],
            vec![0.96, 0.01, 0.01, 0.01, 0.01],
        ])
        .unwrap();
        let c = [0, 1, 2];
        let pool = Pool::unlabeled(&x, &c, 5).with_probabilities(&p, None);
        let plain = CostMargin.select(&pool, 3, &mut Rng::new(0));
        assert_eq!(plain, Margin.select(&pool, 3, &mut Rng::new(0)));
        let rule = CandidateRule {
            threshold: 0.15,
            alpha: 0.1,
            calibration: 50,
            mean_bits: 1.5,
            coverage: 0.9,
            classes: 5,
        };
        let ranked = CostMargin.select(&pool.with_candidate_sets(rule), 3, &mut Rng::new(0));
        assert_eq!(ranked[0], 0);
        assert!(cost_weighted(p.row(0), Some(&rule)) > cost_weighted(p.row(1), Some(&rule)));
    }
}
