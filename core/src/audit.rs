//! Audit questions: items drawn at random from the unlabeled pool, asked like any other, and kept
//! out of training while they serve as audits. The current head's accuracy on them estimates its
//! accuracy on the pool without the bias of actively chosen labels (cross-validation on those
//! measures the hard items the strategy picked, not the pool).
//!
//! Two ways to draw them:
//! - [`AuditMethod::Uniform`]: uniformly from the unlabeled pool; the estimate is the share
//!   correct, post-stratified by the head's confidence to follow the pool as active learning
//!   drains it ([`Strata`]), with a Wilson 95% interval (optionally with the finite-population
//!   correction).
//! - [`AuditMethod::Active`]: active testing (Kossen et al. 2021): items are drawn with
//!   probability `q ∝ expected loss` under the head, mixed with a uniform floor so every item
//!   can be drawn; the LURE weights make the loss estimate unbiased again, and the interval is a
//!   seeded percentile bootstrap.

use crate::rng::Rng;

mod strata;

pub use strata::{Strata, STRATA};

/// How audits are drawn and estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditMethod {
    /// Uniformly at random from the unlabeled pool; Wilson interval.
    #[default]
    Uniform,
    /// Active testing: drawn ∝ expected loss (floored), LURE-weighted, bootstrap interval.
    Active,
}

impl AuditMethod {
    /// What the UI says is in use.
    pub fn description(self) -> &'static str {
        match self {
            AuditMethod::Uniform => {
                "random audits, Wilson interval, weighted to the pool's mix of sure and unsure items"
            }
            AuditMethod::Active => "active testing (LURE weights), bootstrap interval",
        }
    }
}

/// The share of questions that are audits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditSettings {
    /// One question in `every` is an audit; 0 turns audits off (and releases the audited items
    /// into training).
    pub every: usize,
    /// No more audits are drawn once this many were asked.
    pub max: usize,
    /// How they are drawn and weighted.
    #[serde(default)]
    pub method: AuditMethod,
    /// Whether the Wilson interval uses the finite-population correction (the unlabeled pool is
    /// finite and audits are drawn without replacement).
    #[serde(default)]
    pub finite_population: bool,
}

impl Default for AuditSettings {
    /// Off: a learner asked without audit settings draws none.
    fn default() -> Self {
        AuditSettings::OFF
    }
}

impl AuditSettings {
    /// What a new project starts with: one question in 10 until 30 audits, uniformly drawn.
    pub const RECOMMENDED: AuditSettings = AuditSettings {
        every: 10,
        max: 30,
        method: AuditMethod::Uniform,
        finite_population: false,
    };

    /// Audits off.
    pub const OFF: AuditSettings = AuditSettings {
        every: 0,
        max: 0,
        method: AuditMethod::Uniform,
        finite_population: false,
    };

    /// Whether audits are drawn and kept out of training.
    pub fn is_on(&self) -> bool {
        self.every > 0
    }

    /// Whether the next question should be an audit, after `answered` answers of which
    /// `asked` were audits (asked or waiting in the queue): audits keep up with one in `every`
    /// questions until `max` were asked.
    pub fn due(&self, answered: usize, asked: usize) -> bool {
        self.is_on() && asked < self.max && asked < (answered + 1) / self.every
    }
}

/// One audit question as drawn: the item, the probability the draw had of picking it, and how
/// many items it was drawn from (both needed by the LURE weights).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuditRecord {
    pub item: usize,
    /// Probability of this item under the draw (`1 / pool` for a uniform draw).
    pub q: f64,
    /// Number of items the draw chose among.
    pub pool: usize,
}

/// The head's accuracy on the audits, with a 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuditEstimate {
    pub method: AuditMethod,
    /// Audits answered.
    pub audits: usize,
    /// Audits the head predicts correctly (unweighted count).
    pub correct: usize,
    /// Estimated accuracy on the pool, in `[0, 1]`.
    pub accuracy: f64,
    /// 95% interval.
    pub low: f64,
    pub high: f64,
}

impl AuditEstimate {
    /// The side panel's line, e.g. "Audited accuracy 87% (95% interval 79–92%, 34 audits)".
    pub fn summary(&self) -> String {
        let pct = |v: f64| (v * 100.0).round() as i64;
        format!(
            "Audited accuracy {}% (95% interval {}–{}%, {} audit{})",
            pct(self.accuracy),
            pct(self.low),
            pct(self.high),
            self.audits,
            if self.audits == 1 { "" } else { "s" }
        )
    }
}

/// Draws one audit item among `candidates` (the unlabeled pool). `expected_loss` gives, per
/// candidate, the head's expected 0–1 loss (`1 − max p`); it is read by the active method only,
/// and without it (no head yet) the draw is uniform. Returns `None` without candidates.
pub fn draw(
    candidates: &[usize],
    method: AuditMethod,
    expected_loss: Option<&[f64]>,
    rng: &mut Rng,
) -> Option<AuditRecord> {
    let n = candidates.len();
    if n == 0 {
        return None;
    }
    match (method, expected_loss) {
        (AuditMethod::Active, Some(loss)) if loss.len() == n => {
            let q = active_proposal(loss);
            let mut u = rng.next_f64();
            let mut pick = n - 1;
            for (k, &qk) in q.iter().enumerate() {
                if u < qk {
                    pick = k;
                    break;
                }
                u -= qk;
            }
            Some(AuditRecord {
                item: candidates[pick],
                q: q[pick],
                pool: n,
            })
        }
        _ => Some(AuditRecord {
            item: candidates[rng.below(n)],
            q: 1.0 / n as f64,
            pool: n,
        }),
    }
}

/// Share of the proposal that stays uniform, so every item keeps `q ≥ FLOOR / n`.
pub const FLOOR: f64 = 0.2;

/// The active-testing proposal: `q ∝ loss`, mixed with [`FLOOR`] of the uniform distribution.
fn active_proposal(loss: &[f64]) -> Vec<f64> {
    let n = loss.len() as f64;
    let total: f64 = loss.iter().map(|l| l.max(0.0)).sum();
    loss.iter()
        .map(|&l| {
            let share = if total > 0.0 {
                l.max(0.0) / total
            } else {
                1.0 / n
            };
            (1.0 - FLOOR) * share + FLOOR / n
        })
        .collect()
}

/// Wilson score interval for `correct` of `n` at `z` (1.96 for 95%). With `population`, the
/// finite-population correction `(N − n)/(N − 1)` shrinks the variance.
pub fn wilson(correct: usize, n: usize, z: f64, population: Option<usize>) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    wilson_share(correct as f64 / n as f64, n as f64, z, population)
}

/// [`wilson`] for a share `p` from `n` (effective, possibly fractional) audits.
fn wilson_share(p: f64, nf: f64, z: f64, population: Option<usize>) -> (f64, f64) {
    let f = match population {
        Some(big) if big as f64 > nf && big > 1 => (big as f64 - nf) / (big - 1) as f64,
        Some(_) => 0.0,
        None => 1.0,
    };
    let z2 = z * z * f;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = (z * f.sqrt()) * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// The estimate from the audits' outcomes for the current head: `correct[m]` says whether the
/// head predicts audit `records[m]` right (records in the order drawn). `population` (the
/// unlabeled pool's size) turns on the finite-population correction of the uniform method;
/// `strata` (the audits' and the pool's confidence strata) post-stratifies it
/// ([`strata`](self::strata)). `seed` fixes the bootstrap of the active method. `None`
/// without audits.
pub fn estimate(
    records: &[AuditRecord],
    correct: &[bool],
    method: AuditMethod,
    population: Option<usize>,
    strata: Option<&Strata>,
    seed: u64,
) -> Option<AuditEstimate> {
    let m = records.len().min(correct.len());
    if m == 0 {
        return None;
    }
    let hits = correct[..m].iter().filter(|&&c| c).count();
    let (accuracy, low, high) = match method {
        AuditMethod::Uniform => {
            let (p, n_eff) = match strata {
                Some(s) => strata::post_stratify(&correct[..m], s),
                None => (hits as f64 / m as f64, m as f64),
            };
            let (low, high) = wilson_share(p, n_eff, 1.96, population);
            (p, low, high)
        }
        AuditMethod::Active => {
            let weights = lure_weights(&records[..m]);
            let losses: Vec<f64> = correct[..m].iter().map(|&c| f64::from(!c)).collect();
            let risk = weighted_mean(&weights, &losses, (0..m).collect::<Vec<_>>().as_slice());
            let (low, high) = bootstrap(&weights, &losses, seed);
            (
                (1.0 - risk).clamp(0.0, 1.0),
                (1.0 - high).clamp(0.0, 1.0),
                (1.0 - low).clamp(0.0, 1.0),
            )
        }
    };
    Some(AuditEstimate {
        method,
        audits: m,
        correct: hits,
        accuracy,
        low,
        high,
    })
}

/// LURE weights (Kossen et al. 2021, eq. 4, after Farquhar et al.): for the `m`-th of `M` draws
/// (1-based) from a pool of `N`, `v = 1 + (N − M)/(N − m) · (1/((N − m + 1) q) − 1)`. The pool
/// left at draw `m` is taken from the record (`N − m + 1`), `N` from the first record. A
/// uniform draw has `q = 1/(N − m + 1)` and weight 1.
pub fn lure_weights(records: &[AuditRecord]) -> Vec<f64> {
    let big_m = records.len() as f64;
    let big_n = records.first().map_or(0, |r| r.pool) as f64;
    records
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let m = (k + 1) as f64;
            let left = r.pool.max(1) as f64;
            if big_n - m <= 0.0 {
                return 1.0;
            }
            1.0 + (big_n - big_m).max(0.0) / (big_n - m) * (1.0 / (left * r.q.max(1e-12)) - 1.0)
        })
        .collect()
}

fn weighted_mean(weights: &[f64], losses: &[f64], idx: &[usize]) -> f64 {
    idx.iter().map(|&i| weights[i] * losses[i]).sum::<f64>() / idx.len().max(1) as f64
}

/// Bootstrap resamples of the LURE risk.
const BOOTSTRAP: usize = 1000;

/// Seeded percentile bootstrap (2.5%, 97.5%) of the LURE risk estimate.
fn bootstrap(weights: &[f64], losses: &[f64], seed: u64) -> (f64, f64) {
    let m = weights.len();
    let mut rng = Rng::new(seed ^ 0xa0d1_7000);
    let mut idx = vec![0; m];
    let mut risks: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            idx.iter_mut().for_each(|i| *i = rng.below(m));
            weighted_mean(weights, losses, &idx)
        })
        .collect();
    risks.sort_by(f64::total_cmp);
    let at = |p: f64| risks[((p * (BOOTSTRAP - 1) as f64).round() as usize).min(BOOTSTRAP - 1)];
    (at(0.025), at(0.975))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audits_keep_up_with_one_in_ten_until_the_cap() {
        let s = AuditSettings::RECOMMENDED;
        assert!(!s.due(0, 0));
        assert!(!s.due(8, 0));
        assert!(s.due(9, 0), "the 10th question is the first audit");
        assert!(!s.due(9, 1));
        assert!(s.due(19, 1));
        assert!(!s.due(1000, 30), "no more than 30");
        assert!(!AuditSettings::OFF.due(1000, 0));
    }

    #[test]
    fn wilson_matches_the_textbook_values() {
        // 8 of 10 at 95%: (0.490, 0.943) (Wilson 1927; Newcombe 1998, table I).
        let (lo, hi) = wilson(8, 10, 1.96, None);
        assert!(
            (lo - 0.490).abs() < 1e-3 && (hi - 0.943).abs() < 1e-3,
            "{lo} {hi}"
        );
        // All correct still leaves room below 1.
        let (lo, hi) = wilson(30, 30, 1.96, None);
        assert!(lo < 0.9 && hi == 1.0);
        // The whole population audited: no uncertainty left.
        let (lo, hi) = wilson(8, 10, 1.96, Some(10));
        assert!((lo - 0.8).abs() < 1e-9 && (hi - 0.8).abs() < 1e-9);
        let (lo2, hi2) = wilson(8, 10, 1.96, Some(20));
        assert!(lo2 > 0.490 && hi2 < 0.943);
    }

    #[test]
    fn uniform_draws_have_unit_lure_weights() {
        let records: Vec<AuditRecord> = (0..5)
            .map(|m| AuditRecord {
                item: m,
                q: 1.0 / (100 - m) as f64,
                pool: 100 - m,
            })
            .collect();
        for w in lure_weights(&records) {
            assert!((w - 1.0).abs() < 1e-12, "{w}");
        }
    }

    #[test]
    fn the_summary_reads_as_the_side_panel_says() {
        let e = estimate(
            &vec![
                AuditRecord {
                    item: 0,
                    q: 0.1,
                    pool: 10
                };
                34
            ],
            &(0..34).map(|i| i % 8 != 0).collect::<Vec<_>>(),
            AuditMethod::Uniform,
            None,
            None,
            0,
        )
        .unwrap();
        assert_eq!(
            e.summary(),
            "Audited accuracy 85% (95% interval 70–94%, 34 audits)"
        );
    }

    /// Active testing is unbiased: over many seeded runs, the LURE estimate of the error rate of
    /// a fixed classifier on a fixed pool averages to the true rate, though items are drawn far
    /// from uniformly.
    #[test]
    fn active_testing_is_unbiased_and_sharper_than_uniform() {
        let n = 400;
        let mut rng = Rng::new(3);
        // Item i is misclassified with probability loss[i]; the truth is one fixed draw.
        let loss: Vec<f64> = (0..n)
            .map(|i| if i % 5 == 0 { 0.7 } else { 0.05 })
            .collect();
        let wrong: Vec<bool> = loss.iter().map(|&l| rng.next_f64() < l).collect();
        let truth = 1.0 - wrong.iter().filter(|&&w| w).count() as f64 / n as f64;
        let (mut sum_active, mut sum_uniform, mut sq_active, mut sq_uniform) = (0.0, 0.0, 0.0, 0.0);
        let runs = 400;
        for run in 0..runs {
            for method in [AuditMethod::Active, AuditMethod::Uniform] {
                let mut rng = Rng::new(1000 + run);
                let mut left: Vec<usize> = (0..n).collect();
                let mut records = Vec::new();
                for _ in 0..30 {
                    let l: Vec<f64> = left.iter().map(|&i| loss[i]).collect();
                    let r = draw(&left, method, Some(&l), &mut rng).unwrap();
                    left.retain(|&i| i != r.item);
                    records.push(r);
                }
                let correct: Vec<bool> = records.iter().map(|r| !wrong[r.item]).collect();
                let e = estimate(&records, &correct, method, None, None, run).unwrap();
                let err = e.accuracy - truth;
                if method == AuditMethod::Active {
                    sum_active += err;
                    sq_active += err * err;
                } else {
                    sum_uniform += err;
                    sq_uniform += err * err;
                }
            }
        }
        let r = runs as f64;
        let (bias_a, bias_u) = (sum_active / r, sum_uniform / r);
        let (sd_a, sd_u) = (
            (sq_active / r - bias_a * bias_a).sqrt(),
            (sq_uniform / r - bias_u * bias_u).sqrt(),
        );
        // Within 3 standard errors of no bias.
        assert!(
            bias_a.abs() < 3.0 * sd_a / r.sqrt(),
            "bias {bias_a}, sd {sd_a}"
        );
        assert!(
            bias_u.abs() < 3.0 * sd_u / r.sqrt(),
            "bias {bias_u}, sd {sd_u}"
        );
        assert!(sd_a < sd_u, "active {sd_a} vs uniform {sd_u}");
    }
}
