//! How far to trust the head, beyond one accuracy number: a confusion matrix with the items of
//! every cell, a stopping suggestion from stabilizing predictions, and labels that look wrong.

use crate::audit::AuditEstimate;
use crate::matrix::Matrix;

/// Everything the side panel shows about how far to trust the head (single-label projects).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Quality {
    /// The head's accuracy on the audit answers, once there are any.
    pub audit: Option<AuditEstimate>,
    /// From the audits once [`AUDITS_FOR_CONFUSION`] are answered, from out-of-fold
    /// predictions of the labels before.
    pub confusion: Option<Confusion>,
    /// The stopping check.
    pub stability: Option<Stability>,
    /// Labels that look wrong, most suspicious first.
    pub suspects: Vec<Suspect>,
}

/// Audit answers from which the confusion matrix comes from the audits instead of the labels.
pub const AUDITS_FOR_CONFUSION: usize = 20;

/// Where a confusion matrix's true classes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfusionSource {
    /// The audit answers against the current head (unbiased for the pool).
    Audits,
    /// The person's labels against out-of-fold predictions (while audits are few).
    CrossValidation,
}

/// Rows: the person's class; columns: the head's. Every cell keeps its items.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Confusion {
    pub source: ConfusionSource,
    pub classes: usize,
    /// `classes × classes` cells, row-major; each lists its items.
    pub cells: Vec<Vec<usize>>,
}

impl Confusion {
    /// Counts `(item, given, predicted)` triples.
    pub fn new(
        source: ConfusionSource,
        classes: usize,
        triples: impl IntoIterator<Item = (usize, usize, usize)>,
    ) -> Confusion {
        let mut cells = vec![Vec::new(); classes * classes];
        for (item, given, predicted) in triples {
            if given < classes && predicted < classes {
                cells[given * classes + predicted].push(item);
            }
        }
        Confusion {
            source,
            classes,
            cells,
        }
    }

    /// Items the person labeled `given` that the head calls `predicted`.
    pub fn cell(&self, given: usize, predicted: usize) -> &[usize] {
        &self.cells[given * self.classes + predicted]
    }

    /// Per class: the share of its items the head gets right (recall), `None` without items.
    pub fn per_class_accuracy(&self) -> Vec<Option<f64>> {
        (0..self.classes)
            .map(|c| {
                let total: usize = (0..self.classes).map(|p| self.cell(c, p).len()).sum();
                (total > 0).then(|| self.cell(c, c).len() as f64 / total as f64)
            })
            .collect()
    }
}

/// Cohen's κ between two labelings of the same items: `(p_o − p_e) / (1 − p_e)`. Two identical
/// labelings that use one class only have κ = 1.
pub fn cohen_kappa(a: &[u16], b: &[u16], classes: usize) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 1.0;
    }
    let mut ca = vec![0usize; classes];
    let mut cb = vec![0usize; classes];
    let mut agree = 0;
    for (&x, &y) in a.iter().zip(b) {
        ca[usize::from(x).min(classes - 1)] += 1;
        cb[usize::from(y).min(classes - 1)] += 1;
        agree += usize::from(x == y);
    }
    let nf = n as f64;
    let po = agree as f64 / nf;
    let pe: f64 = ca
        .iter()
        .zip(&cb)
        .map(|(&x, &y)| x as f64 * y as f64)
        .sum::<f64>()
        / (nf * nf);
    if (1.0 - pe).abs() < 1e-12 {
        return if po >= 1.0 { 1.0 } else { 0.0 };
    }
    (po - pe) / (1.0 - pe)
}

/// κ at or above which predictions count as stable (Bloodgood & Vijay-Shanker 2009).
pub const STABLE_KAPPA: f64 = 0.99;
/// A stop-set item with no prediction in a snapshot (not embedded yet); compared items skip it.
pub const ABSENT: u16 = u16::MAX;

/// Consecutive stable windows before the suggestion shows.
pub const STABLE_WINDOWS: usize = 3;

/// Stabilizing predictions: the pool's predicted classes every `window` labels; κ between
/// consecutive snapshots; stable once the last [`STABLE_WINDOWS`] κ are ≥ [`STABLE_KAPPA`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StabilityTracker {
    /// (labels, predicted class per item of the stop set), ascending in labels.
    snapshots: Vec<(usize, Vec<u16>)>,
}

/// What the stopping check says now.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stability {
    /// Labels between snapshots.
    pub window: usize,
    /// κ of each consecutive pair of snapshots, oldest first (at most the last 10).
    pub kappas: Vec<f64>,
    /// Whether the last [`STABLE_WINDOWS`] κ are all ≥ [`STABLE_KAPPA`].
    pub stable: bool,
    /// Labels at the first snapshot of the stable run, when stable.
    pub since: Option<usize>,
}

impl StabilityTracker {
    /// Whether a snapshot is due at `labels` labels (one every `window`).
    pub fn due(&self, labels: usize, window: usize) -> bool {
        window > 0
            && labels > 0
            && labels.is_multiple_of(window)
            && self.snapshots.last().is_none_or(|(l, _)| *l != labels)
    }

    /// Records the predictions at `labels` labels; an undo below the last snapshot drops the
    /// later ones first. The stop set must be the same items every time.
    pub fn record(&mut self, labels: usize, predictions: Vec<u16>) {
        self.snapshots.retain(|(l, _)| *l < labels);
        self.snapshots.push((labels, predictions));
    }

    /// Forgets snapshots taken after `labels` labels (an undo).
    pub fn truncate(&mut self, labels: usize) {
        self.snapshots.retain(|(l, _)| *l <= labels);
    }

    /// The check, for `classes` classes and snapshots every `window` labels.
    pub fn status(&self, classes: usize, window: usize) -> Stability {
        let kappas: Vec<(usize, f64)> = self
            .snapshots
            .windows(2)
            .map(|w| {
                let (a, b): (Vec<u16>, Vec<u16>) = w[0]
                    .1
                    .iter()
                    .zip(&w[1].1)
                    .filter(|(x, y)| **x != ABSENT && **y != ABSENT)
                    .map(|(x, y)| (*x, *y))
                    .unzip();
                (w[0].0, cohen_kappa(&a, &b, classes))
            })
            .collect();
        let tail = &kappas[kappas.len().saturating_sub(STABLE_WINDOWS)..];
        let stable = tail.len() == STABLE_WINDOWS && tail.iter().all(|(_, k)| *k >= STABLE_KAPPA);
        Stability {
            window,
            kappas: kappas[kappas.len().saturating_sub(10)..]
                .iter()
                .map(|(_, k)| *k)
                .collect(),
            stable,
            since: stable.then(|| tail[0].0),
        }
    }
}

/// A label that looks wrong.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Suspect {
    pub item: usize,
    /// The person's class.
    pub given: usize,
    /// The class the out-of-fold probabilities are confident of.
    pub suggested: usize,
    /// Out-of-fold probability of the given class (low first: most suspicious).
    pub self_confidence: f32,
}

/// Confident learning (Northcutt et al. 2021) on out-of-fold probabilities `oof` (one row per
/// labeled item, rows in `items` order) with the person's classes `given`: the threshold of
/// class `j` is the mean `p(j)` over the items labeled `j`; an item's confident class is its
/// most probable class among those at or above their threshold; items whose confident class is
/// not the given one are flagged, least self-confident first.
pub fn suspicious_labels(oof: &Matrix, items: &[usize], given: &[usize]) -> Vec<Suspect> {
    let classes = oof.cols();
    let mut sum = vec![0.0f64; classes];
    let mut count = vec![0usize; classes];
    for (r, &g) in given.iter().enumerate() {
        sum[g] += f64::from(oof.row(r)[g]);
        count[g] += 1;
    }
    let threshold: Vec<f64> = sum
        .iter()
        .zip(&count)
        .map(|(&s, &c)| if c > 0 { s / c as f64 } else { f64::INFINITY })
        .collect();
    let mut out: Vec<Suspect> = given
        .iter()
        .enumerate()
        .filter_map(|(r, &g)| {
            let p = oof.row(r);
            let confident = (0..classes)
                .filter(|&j| f64::from(p[j]) >= threshold[j])
                .max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))?;
            (confident != g).then(|| Suspect {
                item: items[r],
                given: g,
                suggested: confident,
                self_confidence: p[g],
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.self_confidence
            .total_cmp(&b.self_confidence)
            .then(a.item.cmp(&b.item))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_of_known_tables() {
        assert_eq!(cohen_kappa(&[0, 1, 0, 1], &[0, 1, 0, 1], 2), 1.0);
        // Agreement no better than chance.
        assert!(cohen_kappa(&[0, 0, 1, 1], &[0, 1, 0, 1], 2).abs() < 1e-12);
        // Cohen's 1960 style example: 70% agreement, 50% expected → 0.4.
        let a: Vec<u16> = [0; 50].into_iter().chain([1; 50]).collect();
        let b: Vec<u16> = [0; 35]
            .into_iter()
            .chain([1; 15])
            .chain([0; 15])
            .chain([1; 35])
            .collect();
        assert!((cohen_kappa(&a, &b, 2) - 0.4).abs() < 1e-12);
    }

    #[test]
    fn stability_needs_three_stable_windows_and_follows_undo() {
        let mut t = StabilityTracker::default();
        let same: Vec<u16> = (0..200).map(|i| (i % 3) as u16).collect();
        let mut changed = same.clone();
        changed[..40].iter_mut().for_each(|c| *c = (*c + 1) % 3);
        t.record(10, changed);
        assert!(t.due(20, 10) && !t.due(10, 10) && !t.due(25, 10));
        for l in [20, 30, 40] {
            t.record(l, same.clone());
        }
        let s = t.status(3, 10);
        assert!(!s.stable, "{s:?}");
        t.record(50, same.clone());
        let s = t.status(3, 10);
        assert!(s.stable && s.since == Some(20), "{s:?}");
        t.truncate(35);
        assert!(!t.status(3, 10).stable);
    }

    #[test]
    fn flipped_labels_are_flagged_least_confident_first() {
        // Four items of class 0 and four of class 1, confidently predicted; item 7 is labeled 0
        // though the model is sure it is 1, item 6 likewise but less sure.
        let rows = vec![
            vec![0.9, 0.1],
            vec![0.8, 0.2],
            vec![0.85, 0.15],
            vec![0.9, 0.1],
            vec![0.1, 0.9],
            vec![0.2, 0.8],
            vec![0.12, 0.88],
            vec![0.05, 0.95],
        ];
        let oof = Matrix::from_rows(&rows).unwrap();
        let items: Vec<usize> = (100..108).collect();
        let given = [0, 0, 0, 0, 1, 1, 0, 0];
        let flagged = suspicious_labels(&oof, &items, &given);
        let ids: Vec<usize> = flagged.iter().map(|s| s.item).collect();
        assert_eq!(ids, vec![107, 106]);
        assert!(flagged.iter().all(|s| s.suggested == 1 && s.given == 0));
    }

    #[test]
    fn confusion_cells_keep_their_items() {
        let c = Confusion::new(
            ConfusionSource::Audits,
            2,
            [(5, 0, 0), (6, 0, 1), (7, 1, 1), (8, 0, 0)],
        );
        assert_eq!(c.cell(0, 1), &[6]);
        assert_eq!(c.cell(0, 0), &[5, 8]);
        let acc = c.per_class_accuracy();
        assert!((acc[0].unwrap() - 2.0 / 3.0).abs() < 1e-12 && acc[1] == Some(1.0));
    }
}
