//! Accuracy estimates from the labels alone.

use crate::head::{HeadOptions, SoftmaxHead};
use crate::matrix::Matrix;
use crate::rng::Rng;
use crate::Result;

/// A cross-validated accuracy estimate.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Accuracy {
    /// Fraction of held-out labeled items predicted correctly, pooled over folds.
    pub value: f64,
    /// Number of folds used.
    pub folds: usize,
    /// Number of labeled items it was computed on.
    pub labels: usize,
}

/// Out-of-fold class probabilities: every labeled row predicted by a head that never saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutOfFold {
    /// `rows × classes`, in the order of the labels given.
    pub probabilities: Matrix,
    /// Number of folds used.
    pub folds: usize,
}

impl OutOfFold {
    /// The accuracy of the out-of-fold predictions (most probable class, first on ties).
    pub fn accuracy(&self, y: &[usize]) -> Accuracy {
        let correct = y
            .iter()
            .enumerate()
            .filter(|&(r, &c)| argmax_f32(self.probabilities.row(r)) == c)
            .count();
        Accuracy {
            value: correct as f64 / y.len().max(1) as f64,
            folds: self.folds,
            labels: y.len(),
        }
    }
}

fn argmax_f32(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Stratified k-fold cross-validation of the head on labeled rows `x` with classes `y`, as
/// out-of-fold probabilities.
///
/// `k = min(5, n)`. Items of each class are dealt to folds round-robin after a seeded shuffle, so
/// every fold sees every class where counts allow. Each fold trains from zero (no warm start, so
/// no information leaks from the held-out items); a one-class training fold predicts that class
/// with certainty. Returns `None` below 4 labels or when fewer than two classes are labeled: no
/// meaningful estimate exists then.
///
/// # Errors
/// Propagates [`crate::Error::Invalid`] from the head on malformed input.
pub fn out_of_fold(
    x: &Matrix,
    y: &[usize],
    classes: usize,
    opts: &HeadOptions,
    seed: u64,
) -> Result<Option<OutOfFold>> {
    let n = y.len();
    let mut present = vec![false; classes];
    y.iter().for_each(|&c| present[c] = true);
    if n < 4 || present.iter().filter(|&&p| p).count() < 2 {
        return Ok(None);
    }
    let k = n.min(5);
    let mut fold_of = vec![0; n];
    let mut rng = Rng::new(seed);
    let mut next = 0;
    for c in 0..classes {
        let mut members: Vec<usize> = (0..n).filter(|&i| y[i] == c).collect();
        rng.shuffle(&mut members);
        for i in members {
            fold_of[i] = next % k;
            next += 1;
        }
    }
    fit_folds(x, y, classes, opts, &fold_of, k, None)
}

/// Labels from which [`out_of_fold_warm`] keeps its fold heads between calls.
pub const WARM_FROM: usize = 100;

/// The fold heads [`out_of_fold_warm`] keeps between calls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WarmFolds {
    heads: Vec<Option<SoftmaxHead>>,
}

impl WarmFolds {
    /// Follows a change of the class list (as [`SoftmaxHead::remap`]).
    pub fn remap(&mut self, sources: &[Option<usize>]) {
        for h in &mut self.heads {
            *h = h.take().map(|h| h.remap(sources));
        }
    }
}

/// [`out_of_fold`] for a learner that calls it after every answer: from [`WARM_FROM`] labels
/// on, each item's fold is fixed by its id (`items[r]`, a seeded hash, 5 folds), so a fold's
/// training set changes by the one new answer, and each fold head starts from the one of the
/// previous call and converges in a few steps instead of from zero. No held-out item leaks:
/// an item is never in its own fold's training set, in this call or any earlier one. Below
/// [`WARM_FROM`] labels it is [`out_of_fold`] (stratified folds, cold fits: cheap there).
///
/// # Errors
/// As [`out_of_fold`].
pub fn out_of_fold_warm(
    x: &Matrix,
    y: &[usize],
    items: &[usize],
    classes: usize,
    opts: &HeadOptions,
    seed: u64,
    warm: &mut WarmFolds,
) -> Result<Option<OutOfFold>> {
    if y.len() < WARM_FROM {
        warm.heads.clear();
        return out_of_fold(x, y, classes, opts, seed);
    }
    const K: usize = 5;
    let fold_of: Vec<usize> = items
        .iter()
        .map(|&i| {
            (Rng::new(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).next_u64() % K as u64)
                as usize
        })
        .collect();
    warm.heads.resize(K, None);
    fit_folds(x, y, classes, opts, &fold_of, K, Some(&mut warm.heads))
}

/// Fits one head per fold on the other folds' rows (from `warm[f]` when given, which then
/// holds the new head) and predicts the fold's rows.
fn fit_folds(
    x: &Matrix,
    y: &[usize],
    classes: usize,
    opts: &HeadOptions,
    fold_of: &[usize],
    k: usize,
    mut warm: Option<&mut Vec<Option<SoftmaxHead>>>,
) -> Result<Option<OutOfFold>> {
    let n = y.len();
    let mut probabilities = Matrix::zeros(n, classes);
    for f in 0..k {
        let train: Vec<usize> = (0..n).filter(|&i| fold_of[i] != f).collect();
        let test: Vec<usize> = (0..n).filter(|&i| fold_of[i] == f).collect();
        let ty: Vec<usize> = train.iter().map(|&i| y[i]).collect();
        let mut seen = vec![false; classes];
        ty.iter().for_each(|&c| seen[c] = true);
        if seen.iter().filter(|&&s| s).count() < 2 {
            if let Some(&c) = ty.first() {
                for &i in &test {
                    probabilities.row_mut(i)[c] = 1.0;
                }
            }
            continue;
        }
        let start = warm.as_deref().and_then(|w| w[f].as_ref());
        let head = SoftmaxHead::fit(&x.select_rows(&train), &ty, classes, opts, start)?;
        for &i in &test {
            let p = head.predict_proba(x.row(i));
            probabilities
                .row_mut(i)
                .iter_mut()
                .zip(p)
                .for_each(|(o, v)| *o = v as f32);
        }
        if let Some(w) = warm.as_deref_mut() {
            w[f] = Some(head);
        }
    }
    Ok(Some(OutOfFold {
        probabilities,
        folds: k,
    }))
}

/// Stratified k-fold cross-validated accuracy: [`out_of_fold`]'s predictions scored.
///
/// Caveat shown in the UI: labels chosen by active learning are harder than average, so this
/// estimate tends to be pessimistic.
///
/// # Errors
/// As [`out_of_fold`].
pub fn cross_validate(
    x: &Matrix,
    y: &[usize],
    classes: usize,
    opts: &HeadOptions,
    seed: u64,
) -> Result<Option<Accuracy>> {
    Ok(out_of_fold(x, y, classes, opts, seed)?.map(|o| o.accuracy(y)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_data_scores_high_and_random_labels_near_chance() {
        let mut rng = Rng::new(9);
        let rows: Vec<Vec<f32>> = (0..60)
            .map(|i| {
                vec![
                    (i % 2) as f32 * 6.0 + rng.normal() as f32,
                    rng.normal() as f32,
                ]
            })
            .collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let y: Vec<usize> = (0..60).map(|i| i % 2).collect();
        let acc = cross_validate(&x, &y, 2, &HeadOptions::default(), 1)
            .unwrap()
            .unwrap();
        assert!(acc.value > 0.95, "{acc:?}");
        let noise: Vec<usize> = (0..60).map(|_| rng.below(2)).collect();
        let acc = cross_validate(&x, &noise, 2, &HeadOptions::default(), 1)
            .unwrap()
            .unwrap();
        assert!(acc.value < 0.75, "{acc:?}");
    }

    #[test]
    fn warm_folds_agree_with_cold_ones_and_keep_items_in_their_fold() {
        // 3 overlapping classes in 8 dimensions; 150 labels, then one more.
        let mut rng = Rng::new(5);
        let rows: Vec<Vec<f32>> = (0..151)
            .map(|i| {
                (0..8)
                    .map(|d| if d == i % 3 { 1.5 } else { 0.0 } + rng.normal() as f32)
                    .collect()
            })
            .collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let y: Vec<usize> = (0..151).map(|i| i % 3).collect();
        let items: Vec<usize> = (0..151).map(|i| 1000 + 7 * i).collect();
        let opts = HeadOptions::default().quick();
        let mut warm = WarmFolds::default();
        let first = x.select_rows(&(0..150).collect::<Vec<_>>());
        out_of_fold_warm(&first, &y[..150], &items[..150], 3, &opts, 2, &mut warm).unwrap();
        assert_eq!(warm.heads.iter().flatten().count(), 5);
        let got = out_of_fold_warm(&x, &y, &items, 3, &opts, 2, &mut warm)
            .unwrap()
            .unwrap();
        let cold = out_of_fold_warm(&x, &y, &items, 3, &opts, 2, &mut WarmFolds::default())
            .unwrap()
            .unwrap();
        let worst = got
            .probabilities
            .as_slice()
            .iter()
            .zip(cold.probabilities.as_slice())
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(worst < 0.02, "{worst}");
        assert_eq!(got.accuracy(&y).folds, 5);
        // Below WARM_FROM labels: the stratified cold estimate, and no heads kept.
        let small = x.select_rows(&(0..60).collect::<Vec<_>>());
        let a = out_of_fold_warm(&small, &y[..60], &items[..60], 3, &opts, 2, &mut warm).unwrap();
        assert_eq!(a, out_of_fold(&small, &y[..60], 3, &opts, 2).unwrap());
        assert!(warm.heads.is_empty());
    }

    #[test]
    fn no_estimate_without_two_classes() {
        let x = Matrix::zeros(5, 2);
        assert!(cross_validate(&x, &[0; 5], 2, &HeadOptions::default(), 0)
            .unwrap()
            .is_none());
        assert!(cross_validate(
            &x.select_rows(&[0, 1, 2]),
            &[0, 1, 0],
            2,
            &HeadOptions::default(),
            0
        )
        .unwrap()
        .is_none());
    }
}
