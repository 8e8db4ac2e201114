//! The learner: embeddings of the pool, the head trained on the labels, and the next queue.

use crate::acquire::{default_strategy, select, Pool, StrategyKind, Subpool};
use crate::evaluate::{cross_validate, Accuracy};
use crate::head::{HeadOptions, SoftmaxHead};
use crate::matrix::Matrix;
use crate::rng::Rng;
use crate::session::Answer;
use crate::{Error, Result};

/// What the learner needs from a session to retrain and pick the next batch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LearnerInput {
    /// Every label so far, in the order given.
    pub labels: Vec<Answer>,
    /// Items the user skipped; never queued again.
    pub skipped: Vec<usize>,
    /// How many items to queue.
    pub batch: usize,
    /// The strategy the user chose; [`StrategyKind::Auto`] follows [`default_strategy`].
    #[serde(default)]
    pub strategy: StrategyKind,
    /// Whether large pools are narrowed to an AnchorAL subpool first.
    #[serde(default)]
    pub subpool: Subpool,
}

/// One point of the learning curve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CurvePoint {
    /// Number of labels.
    pub labels: usize,
    /// Cross-validated accuracy at that many labels.
    pub accuracy: f64,
}

/// What the learner answers after a refresh.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LearnerUpdate {
    /// Items to ask about next, most valuable first.
    pub queue: Vec<usize>,
    /// The strategy that picked them.
    pub strategy: StrategyKind,
    /// Cross-validated accuracy on the labels, when there are enough.
    pub accuracy: Option<Accuracy>,
    /// Accuracy against number of labels, ascending in labels.
    pub curve: Vec<CurvePoint>,
    /// Number of labels this update was computed from.
    pub labels: usize,
}

/// Holds the pool's embeddings and the current head. Deterministic: the same sequence of inputs
/// gives the same updates.
#[derive(Debug, Clone)]
pub struct Learner {
    embeddings: Matrix,
    classes: usize,
    head: Option<SoftmaxHead>,
    options: HeadOptions,
    curve: Vec<CurvePoint>,
    seed: u64,
}

impl Learner {
    /// A learner over `embeddings` (one row per item) for `classes` classes.
    ///
    /// # Errors
    /// [`Error::Invalid`] when there are no rows or fewer than two classes.
    pub fn new(embeddings: Matrix, classes: usize, seed: u64) -> Result<Learner> {
        if embeddings.rows() == 0 || classes < 2 {
            return Err(Error::Invalid(
                "a learner needs items and at least two classes".into(),
            ));
        }
        Ok(Learner {
            embeddings,
            classes,
            head: None,
            options: HeadOptions::default(),
            curve: Vec::new(),
            seed,
        })
    }

    /// The current head, once two classes have labels.
    pub fn head(&self) -> Option<&SoftmaxHead> {
        self.head.as_ref()
    }

    /// Retrains the head on `input.labels` (warm-started from the previous head), estimates
    /// accuracy by cross-validation, extends the learning curve, and picks the next queue.
    ///
    /// # Errors
    /// [`Error::Invalid`] when a label names an item or class out of range.
    pub fn refresh(&mut self, input: &LearnerInput) -> Result<LearnerUpdate> {
        let n = self.embeddings.rows();
        let mut labeled = vec![false; n];
        for a in &input.labels {
            if a.item >= n || a.class >= self.classes {
                return Err(Error::Invalid(format!("label {a:?} is out of range")));
            }
            labeled[a.item] = true;
        }
        let items: Vec<usize> = input.labels.iter().map(|a| a.item).collect();
        let y: Vec<usize> = input.labels.iter().map(|a| a.class).collect();
        let mut counts = vec![0; self.classes];
        y.iter().for_each(|&c| counts[c] += 1);
        let x = self.embeddings.select_rows(&items);

        self.head = if counts.iter().filter(|&&c| c > 0).count() >= 2 {
            Some(SoftmaxHead::fit(
                &x,
                &y,
                self.classes,
                &self.options,
                self.head.as_ref(),
            )?)
        } else {
            None
        };
        let cv_options = self.options.quick();
        let accuracy = cross_validate(&x, &y, self.classes, &cv_options, self.seed)?;
        self.curve.retain(|p| p.labels < items.len());
        if let Some(a) = accuracy {
            self.curve.push(CurvePoint {
                labels: items.len(),
                accuracy: a.value,
            });
        }

        let strategy = match input.strategy {
            StrategyKind::Auto => default_strategy(&counts),
            kind => kind,
        };
        let probabilities = self
            .head
            .as_ref()
            .filter(|_| strategy.reads_probabilities())
            .map(|h| h.predict_proba_rows(&self.embeddings));
        let mut skipped = vec![false; n];
        input
            .skipped
            .iter()
            .filter(|&&i| i < n)
            .for_each(|&i| skipped[i] = true);
        let mut candidates: Vec<usize> = (0..n).filter(|&i| !labeled[i] && !skipped[i]).collect();
        if candidates.is_empty() {
            // Everything was labeled or skipped: offer the skipped items again.
            candidates = (0..n).filter(|&i| !labeled[i]).collect();
        }
        let pool = Pool {
            embeddings: &self.embeddings,
            candidates: &candidates,
            labeled: &items,
            labels: &y,
            classes: self.classes,
            probabilities: probabilities.as_ref(),
            head: self.head.as_ref(),
        };
        let mut rng = Rng::new(self.seed ^ (items.len() as u64).wrapping_mul(0x9e37_79b9));
        let queue = select(strategy, &pool, input.batch, input.subpool, &mut rng);
        Ok(LearnerUpdate {
            queue,
            strategy,
            accuracy,
            curve: self.curve.clone(),
            labels: items.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> (Matrix, Vec<usize>) {
        let mut rng = Rng::new(4);
        let mut rows = Vec::new();
        let mut truth = Vec::new();
        for i in 0..90 {
            let c = i % 3;
            rows.push(vec![
                c as f32 * 4.0 + rng.normal() as f32,
                (c == 1) as u8 as f32 * 4.0 + rng.normal() as f32,
            ]);
            truth.push(c);
        }
        (Matrix::from_rows(&rows).unwrap(), truth)
    }

    #[test]
    fn the_loop_learns_and_the_policy_switches() {
        let (x, truth) = blobs();
        let mut learner = Learner::new(x, 3, 1).unwrap();
        let mut input = LearnerInput {
            labels: vec![],
            skipped: vec![],
            batch: 3,
            strategy: StrategyKind::Auto,
            subpool: Subpool::Auto,
        };
        let first = learner.refresh(&input).unwrap();
        assert_eq!(first.strategy, StrategyKind::TypiClust);
        assert_eq!(first.accuracy, None);
        let mut update = first;
        for _ in 0..8 {
            for &item in &update.queue {
                input.labels.push(Answer {
                    item,
                    class: truth[item],
                });
            }
            update = learner.refresh(&input).unwrap();
            assert!(update
                .queue
                .iter()
                .all(|i| input.labels.iter().all(|a| a.item != *i)));
        }
        assert_eq!(update.strategy, StrategyKind::PowerMargin);
        assert!(
            update.accuracy.unwrap().value > 0.6,
            "{:?}",
            update.accuracy
        );
        assert_eq!(update.curve.last().unwrap().labels, input.labels.len());
        // Undo: fewer labels truncate the curve.
        input.labels.truncate(10);
        let after = learner.refresh(&input).unwrap();
        assert!(after.curve.iter().all(|p| p.labels <= 10));
    }

    #[test]
    fn out_of_range_labels_are_errors() {
        let (x, _) = blobs();
        let mut learner = Learner::new(x, 3, 1).unwrap();
        let bad = LearnerInput {
            labels: vec![Answer {
                item: 999,
                class: 0,
            }],
            skipped: vec![],
            batch: 1,
            strategy: StrategyKind::Auto,
            subpool: Subpool::Auto,
        };
        assert!(learner.refresh(&bad).is_err());
    }
}
