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
    let mut probabilities = Matrix::zeros(n, classes);
    for f in 0..k {
        let train: Vec<usize> = (0..n).filter(|&i| fold_of[i] != f).collect();
        let test: Vec<usize> = (0..n).filter(|&i| fold_of[i] == f).collect();
        let ty: Vec<usize> = train.iter().map(|&i| y[i]).collect();
        let mut seen = vec![false; classes];
        ty.iter().for_each(|&c| seen[c] = true);
        if seen.iter().filter(|&&s| s).count() < 2 {
            for &i in &test {
                probabilities.row_mut(i)[ty[0]] = 1.0;
            }
            continue;
        }
        let head = SoftmaxHead::fit(&x.select_rows(&train), &ty, classes, opts, None)?;
        for &i in &test {
            let p = head.predict_proba(x.row(i));
            probabilities
                .row_mut(i)
                .iter_mut()
                .zip(p)
                .for_each(|(o, v)| *o = v as f32);
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
