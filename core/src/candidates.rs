//! Candidate set queries: instead of every class, a person is shown the few classes a
//! conformal predictor says the item's class is among, and answers with one key — or "Not
//! here" and then the rest of the list (after Gwon et al., "Enhancing Cost Efficiency in Active
//! Learning with Candidate Set Query", 2025).
//!
//! Split conformal prediction: the nonconformity of class `y` for an item is `s = 1 − p(y|x)`;
//! over calibration items whose class is known and whose probabilities come from a head that
//! did not train on them (out-of-fold cross-validation, audit answers), `q̂` is the
//! `⌈(n+1)(1−α)⌉`-th smallest score, and the candidate set is `C(x) = {y : p(y|x) ≥ 1 − q̂}`
//! (with probability ≥ 1 − α it holds the true class, when the calibration items are
//! exchangeable with the queried ones — active learning picks uncertain items, so the app
//! shows the sets' measured hit rate rather than promising it). `α` is chosen each refresh to
//! minimise the mean cost of the calibration items' answers, [`bits`].
//!
//! The cost model is the paper's: reading a list of `m` options costs `log2(m)` bits; a set of
//! `k` candidates plus "Not here" costs `log2(k+1)` on a hit, and a miss adds the rest of the
//! list, `log2(L−k)`. A set of every class is the full list, `log2(L)`.

/// Projects need at least this many classes for candidate sets: with fewer the full list is
/// short already.
pub const MIN_CLASSES: usize = 4;

/// Calibration items needed before sets are offered (fewer give a quantile too coarse to trust).
pub const MIN_CALIBRATION: usize = 10;

/// The `α` values searched each refresh (miscoverage: the share of calibration items whose
/// class would fall outside their set).
/// `0` is the full list (every class a candidate), so the rule chosen is never costlier than it
/// on the calibration items.
pub const ALPHAS: [f64; 21] = [
    0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55,
    0.6, 0.7, 0.8, 0.9,
];

/// A calibrated candidate-set rule for one refresh: a class is a candidate when its probability
/// reaches `threshold` (`= 1 − q̂`); the most probable class always is.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CandidateRule {
    /// The probability a class needs to be a candidate.
    pub threshold: f32,
    /// The miscoverage level chosen.
    pub alpha: f64,
    /// Calibration items the rule was fitted on.
    pub calibration: usize,
    /// Mean cost in bits of the calibration items' answers under this rule.
    pub mean_bits: f64,
    /// Share of calibration items whose class is in their set.
    pub coverage: f64,
    /// Number of classes of the project (the full list).
    pub classes: usize,
}

impl CandidateRule {
    /// The candidate classes of an item with class probabilities `p`: every class whose
    /// probability reaches the threshold, most probable first (ties: lower class first), at
    /// least one.
    pub fn set(&self, p: &[f32]) -> Vec<usize> {
        candidate_set(p, self.threshold)
    }

    /// Expected cost in bits of asking an item with probabilities `p`, taking `p` at its word:
    /// `log2(k+1) + P(miss) · log2(L−k)` (the full list: `log2(L)`).
    pub fn expected_bits(&self, p: &[f32]) -> f64 {
        // The set's size and mass without building it: this runs for every candidate of the
        // pool (`cost-margin`), so no sort and no allocation.
        let (mut k, mut hit, mut top) = (0, 0.0f64, 0.0f32);
        for &v in p {
            if v >= self.threshold {
                k += 1;
                hit += f64::from(v);
            }
            top = top.max(v);
        }
        if k == 0 {
            (k, hit) = (1, f64::from(top));
        }
        let l = p.len();
        if k >= l {
            return log2(l);
        }
        log2(k + 1) + (1.0 - hit.min(1.0)) * log2(l - k)
    }
}

fn log2(n: usize) -> f64 {
    (n.max(1) as f64).log2()
}

/// Cost in bits of one answer given a set of `k` of `classes` classes: `hit` when the class was
/// among them. `k ≥ classes` (or `k == 0`, no set) is the full list.
pub fn bits(k: usize, classes: usize, hit: bool) -> f64 {
    if k == 0 || k >= classes {
        log2(classes)
    } else if hit {
        log2(k + 1)
    } else {
        log2(k + 1) + log2(classes - k)
    }
}

/// The classes whose probability reaches `threshold`, most probable first (ties: lower class
/// first); the most probable class even when none does.
pub fn candidate_set(p: &[f32], threshold: f32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
    let k = order.iter().take_while(|&&c| p[c] >= threshold).count();
    order.truncate(k.max(1).min(p.len()));
    order
}

/// The split-conformal quantile of `scores` (nonconformity, in `[0, 1]`) at miscoverage
/// `alpha`: the `⌈(n+1)(1−α)⌉`-th smallest, or 1 (every class) when that rank exceeds `n`.
pub fn conformal_quantile(sorted_scores: &[f32], alpha: f64) -> f32 {
    let n = sorted_scores.len();
    // (Less a hair, so that an exact product is not rounded up past its rank.)
    let rank = ((n as f64 + 1.0) * (1.0 - alpha) - 1e-9).ceil() as usize;
    if rank == 0 {
        0.0
    } else if rank > n {
        1.0
    } else {
        sorted_scores[rank - 1]
    }
}

/// Fits the rule on calibration items: `probabilities[i]` from a head that never trained on
/// item `i`, whose class is `labels[i]`. Searches [`ALPHAS`] for the least mean cost (ties: the
/// smaller α, the safer sets). `None` with fewer than [`MIN_CLASSES`] classes or
/// [`MIN_CALIBRATION`] items.
pub fn calibrate(
    probabilities: &[&[f32]],
    labels: &[usize],
    classes: usize,
) -> Option<CandidateRule> {
    let n = probabilities.len().min(labels.len());
    if classes < MIN_CLASSES || n < MIN_CALIBRATION {
        return None;
    }
    let mut scores: Vec<f32> = (0..n)
        .map(|i| 1.0 - probabilities[i].get(labels[i]).copied().unwrap_or(0.0))
        .collect();
    scores.sort_by(f32::total_cmp);
    let mut best: Option<CandidateRule> = None;
    for alpha in ALPHAS {
        let threshold = 1.0 - conformal_quantile(&scores, alpha);
        let (mut total, mut hits) = (0.0, 0);
        for i in 0..n {
            let set = candidate_set(probabilities[i], threshold);
            let hit = set.contains(&labels[i]);
            hits += usize::from(hit);
            total += bits(set.len(), classes, hit);
        }
        let rule = CandidateRule {
            threshold,
            alpha,
            calibration: n,
            mean_bits: total / n as f64,
            coverage: hits as f64 / n as f64,
            classes,
        };
        if best.is_none_or(|b| rule.mean_bits < b.mean_bits - 1e-12) {
            best = Some(rule);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn costs_follow_the_paper() {
        assert_eq!(bits(0, 8, true), 3.0);
        assert_eq!(bits(8, 8, true), 3.0);
        assert_eq!(bits(1, 8, true), 1.0);
        assert_eq!(bits(3, 8, true), 2.0);
        assert!((bits(3, 8, false) - (2.0 + 5f64.log2())).abs() < 1e-12);
    }

    #[test]
    fn sets_are_ordered_and_never_empty() {
        let p = [0.1, 0.5, 0.05, 0.35];
        assert_eq!(candidate_set(&p, 0.3), vec![1, 3]);
        assert_eq!(candidate_set(&p, 0.9), vec![1]);
        assert_eq!(candidate_set(&p, 0.0), vec![1, 3, 0, 2]);
    }

    #[test]
    fn quantile_is_the_conformal_rank() {
        let s: Vec<f32> = (1..=9).map(|i| i as f32 / 10.0).collect();
        // n = 9, α = 0.1: rank ⌈10 · 0.9⌉ = 9.
        assert_eq!(conformal_quantile(&s, 0.1), 0.9);
        // α = 0.5: rank 5.
        assert_eq!(conformal_quantile(&s, 0.5), 0.5);
        // α too small for 9 items: every class.
        assert_eq!(conformal_quantile(&s, 0.01), 1.0);
    }

    /// Coverage holds on fresh items exchangeable with the calibration ones: the defining
    /// property of split conformal prediction (≥ 1 − α, here averaged over many draws).
    #[test]
    fn coverage_holds_on_exchangeable_items() {
        let mut rng = Rng::new(7);
        let classes = 10;
        let draw = |rng: &mut Rng| {
            let y = rng.below(classes);
            // A noisy classifier: the true class gets a random boost.
            let mut p: Vec<f32> = (0..classes).map(|_| rng.next_f64() as f32).collect();
            p[y] += 2.0 * rng.next_f64() as f32;
            let s: f32 = p.iter().sum();
            p.iter_mut().for_each(|v| *v /= s);
            (p, y)
        };
        let (mut covered, mut total) = (0usize, 0usize);
        for _ in 0..40 {
            let cal: Vec<(Vec<f32>, usize)> = (0..200).map(|_| draw(&mut rng)).collect();
            let probs: Vec<&[f32]> = cal.iter().map(|(p, _)| p.as_slice()).collect();
            let labels: Vec<usize> = cal.iter().map(|(_, y)| *y).collect();
            let rule = calibrate(&probs, &labels, classes).unwrap();
            // The chosen α's promise, checked on 200 fresh items.
            for _ in 0..200 {
                let (p, y) = draw(&mut rng);
                covered += usize::from(rule.set(&p).contains(&y));
                total += 1;
            }
            // α = 0 (the full list) is among the choices: never worse than it.
            assert!(rule.mean_bits <= (classes as f64).log2() + 1e-9);
        }
        assert!(covered as f64 / total as f64 > 0.5);
        // A fixed α: coverage ≥ 1 − α on average.
        let cal: Vec<(Vec<f32>, usize)> = (0..500).map(|_| draw(&mut rng)).collect();
        let mut scores: Vec<f32> = cal.iter().map(|(p, y)| 1.0 - p[*y]).collect();
        scores.sort_by(f32::total_cmp);
        let threshold = 1.0 - conformal_quantile(&scores, 0.1);
        let fresh: Vec<(Vec<f32>, usize)> = (0..5000).map(|_| draw(&mut rng)).collect();
        let hits = fresh
            .iter()
            .filter(|(p, y)| candidate_set(p, threshold).contains(y))
            .count();
        assert!(
            hits as f64 / 5000.0 >= 0.88,
            "coverage {}",
            hits as f64 / 5000.0
        );
    }

    #[test]
    fn a_confident_model_gets_small_sets_and_saves_bits() {
        let classes = 10;
        let mut probs = Vec::new();
        let mut labels = Vec::new();
        for i in 0..100 {
            let y = i % classes;
            let mut p = vec![0.01f32; classes];
            p[y] = 0.91;
            probs.push(p);
            labels.push(y);
        }
        let refs: Vec<&[f32]> = probs.iter().map(Vec::as_slice).collect();
        let rule = calibrate(&refs, &labels, classes).unwrap();
        assert_eq!(rule.set(&probs[3]), vec![3]);
        assert_eq!(rule.mean_bits, 1.0);
        assert!(rule.expected_bits(&probs[3]) < (classes as f64).log2());
        // The same as counting through the set itself.
        let p = [0.4f32, 0.3, 0.2, 0.05, 0.05];
        let wide = CandidateRule {
            threshold: 0.25,
            classes: 5,
            ..rule
        };
        let set = wide.set(&p);
        let mass: f64 = set.iter().map(|&c| f64::from(p[c])).sum();
        let by_set = log2(set.len() + 1) + (1.0 - mass) * log2(5 - set.len());
        assert!((wide.expected_bits(&p) - by_set).abs() < 1e-9);
        // Too few classes or calibration items: no rule.
        assert!(calibrate(&refs[..5], &labels[..5], classes).is_none());
        assert!(calibrate(&refs, &labels, 3).is_none());
    }
}
