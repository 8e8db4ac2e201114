//! Post-stratification of uniform audits by the head's confidence.
//!
//! Audits are drawn uniformly from the pool *as it was* at each draw. Active learning then takes
//! the items it finds hard out of the pool, so the pool left is easier than the audits drawn
//! early: the plain share correct on the audits underestimates the accuracy on the pool that
//! an export labels (on the emoji demo, 60% of the pool labeled, by 1–4 points). The selection
//! is a function of the head's scores, so it is (nearly) ignorable given the head's confidence:
//! within a confidence stratum audits and pool items are alike. The estimate weights each
//! stratum's share correct on the audits by the stratum's share of the pool now, and the Wilson
//! interval uses the effective number of audits (Kish; Korn & Graubard 1998), never more than
//! the audits there are. With the pool's mix equal to the audits' mix this is the plain share
//! and the plain Wilson interval.

/// Cut points on the head's top probability: strata `< 0.5`, `0.5–0.8`, `0.8–0.95`,
/// `0.95–0.99`, `≥ 0.99`.
pub const CUTS: [f32; 4] = [0.5, 0.8, 0.95, 0.99];

/// Number of strata.
pub const STRATA: usize = CUTS.len() + 1;

/// The stratum of an item the head gives top probability `confidence`.
pub fn stratum(confidence: f32) -> usize {
    CUTS.iter().take_while(|&&c| confidence >= c).count()
}

/// The audits' strata and the pool's make-up under the current head.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Strata {
    /// The stratum of each audit, in the order of the audits.
    pub audits: Vec<usize>,
    /// Unlabeled, unaudited items per stratum (or a uniform sample's counts: only shares matter).
    pub pool: [usize; STRATA],
}

impl Strata {
    /// Strata from the head's top probability on each audit (in order) and on the unlabeled,
    /// unaudited pool (or a uniform sample of it).
    pub fn new(audits: &[f32], pool: &[f32]) -> Strata {
        let mut counts = [0; STRATA];
        pool.iter().for_each(|&c| counts[stratum(c)] += 1);
        Strata {
            audits: audits.iter().map(|&c| stratum(c)).collect(),
            pool: counts,
        }
    }
}

/// The post-stratified share correct and the effective number of audits behind it. Falls back
/// to the plain share (and `n`) without pool counts.
pub(super) fn post_stratify(correct: &[bool], strata: &Strata) -> (f64, f64) {
    let m = correct.len();
    let plain = (
        correct.iter().filter(|&&c| c).count() as f64 / m.max(1) as f64,
        m as f64,
    );
    let mut n = [0usize; STRATA];
    let mut hits = [0usize; STRATA];
    for (k, &c) in correct.iter().enumerate() {
        let b = strata.audits.get(k).copied().unwrap_or(0).min(STRATA - 1);
        n[b] += 1;
        hits[b] += usize::from(c);
    }
    let mut w = strata.pool.map(|c| c as f64);
    if m == 0 || w.iter().sum::<f64>() <= 0.0 {
        return plain;
    }
    // A stratum without audits lends its pool share to the nearest one with audits, the less
    // confident side first (the cautious choice).
    for b in 0..STRATA {
        if n[b] == 0 && w[b] > 0.0 {
            let target = (1..STRATA)
                .flat_map(|d| [b.checked_sub(d), Some(b + d)])
                .flatten()
                .find(|&t| t < STRATA && n[t] > 0)
                .expect("some stratum has audits");
            w[target] += w[b];
            w[b] = 0.0;
        }
    }
    let total: f64 = w.iter().sum();
    let (mut p, mut p_adj, mut var) = (0.0, 0.0, 0.0);
    for b in (0..STRATA).filter(|&b| n[b] > 0) {
        let (wb, nb) = (w[b] / total, n[b] as f64);
        p += wb * hits[b] as f64 / nb;
        // Agresti–Coull-adjusted share, so an all-correct stratum still carries uncertainty.
        let adj = (hits[b] as f64 + 1.0) / (nb + 2.0);
        p_adj += wb * adj;
        var += wb * wb * adj * (1.0 - adj) / nb;
    }
    let n_eff = (p_adj * (1.0 - p_adj) / var).clamp(1.0, m as f64);
    (p, n_eff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strata_follow_the_cut_points() {
        assert_eq!(stratum(0.3), 0);
        assert_eq!(stratum(0.8), 2);
        assert_eq!(stratum(0.949), 2);
        assert_eq!(stratum(0.999), 4);
        let s = Strata::new(&[0.1, 0.6, 0.999], &[0.2, 0.3, 0.97, 0.995]);
        assert_eq!(s.audits, vec![0, 1, 4]);
        assert_eq!(s.pool, [2, 0, 0, 1, 1]);
    }

    #[test]
    fn a_pool_like_the_audits_gives_the_plain_share() {
        let correct = [true, false, true, true, true, false];
        let strata = Strata {
            audits: vec![0, 0, 1, 1, 2, 2],
            pool: [100, 100, 100, 0, 0],
        };
        let (p, n_eff) = post_stratify(&correct, &strata);
        assert!((p - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(n_eff, 6.0);
    }

    #[test]
    fn an_easier_pool_weights_the_sure_audits_up() {
        // Half the audits unsure (half right), half sure (all right); the pool is 90% sure.
        let correct = [true, false, true, false, true, true, true, true];
        let strata = Strata {
            audits: vec![0, 0, 0, 0, 2, 2, 2, 2],
            pool: [10, 0, 90, 0, 0],
        };
        let (p, n_eff) = post_stratify(&correct, &strata);
        assert!((p - (0.1 * 0.5 + 0.9 * 1.0)).abs() < 1e-12, "{p}");
        assert!((1.0..8.0).contains(&n_eff), "{n_eff}");
        // A stratum of the pool without audits falls to its less confident neighbour.
        let (p, _) = post_stratify(
            &correct,
            &Strata {
                audits: vec![0, 0, 0, 0, 1, 1, 1, 1],
                pool: [10, 0, 90, 0, 0],
            },
        );
        assert!((p - (0.1 * 0.5 + 0.9 * 1.0)).abs() < 1e-12, "{p}");
    }
}
