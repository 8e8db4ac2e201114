//! The refresh `quarry bench` times, set up the same way natively and in wasm (the browser
//! benchmark in `tools/wasm-bench` runs this module in a worker): a learner over a pool, every
//! answer but the last already refreshed on, and the refresh after the last answer.

use crate::acquire::{StrategyKind, Subpool};
use crate::audit::AuditSettings;
use crate::rng::Rng;
use crate::{Answer, Learner, LearnerInput, Result};

/// A learner one answer behind, and that answer.
#[derive(Debug, Clone)]
pub struct Bench {
    learner: Learner,
    input: LearnerInput,
}

impl Bench {
    /// `rows` (each `dim` long) with classes `y`: `labels` answers (a seeded sample, labeled by
    /// `y`), all but the last refreshed on, batch `batch`, audits at the app's default.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] when the rows, classes or counts do not fit together.
    pub fn new(
        rows: impl IntoIterator<Item = impl AsRef<[f32]>>,
        y: &[usize],
        classes: usize,
        labels: usize,
        batch: usize,
    ) -> Result<Bench> {
        let n = y.len();
        if labels == 0 || labels >= n {
            return Err(crate::Error::Invalid(format!(
                "{labels} labels of a pool of {n} leave nothing to measure"
            )));
        }
        let mut learner = Learner::new(n, classes, 1)?;
        for (i, row) in rows.into_iter().enumerate() {
            learner.add_embedding(i, row.as_ref())?;
        }
        let mut order: Vec<usize> = (0..n).collect();
        Rng::new(11).shuffle(&mut order);
        let answers: Vec<Answer> = order[..labels]
            .iter()
            .map(|&item| Answer {
                item,
                class: y[item],
            })
            .collect();
        let mut input = LearnerInput {
            labels: answers[..labels - 1].to_vec(),
            batch,
            audit: AuditSettings::RECOMMENDED,
            ..LearnerInput::default()
        };
        // As in the app, the refresh after an answer starts from the previous one's head.
        learner.refresh(&input)?;
        input.labels = answers;
        Ok(Bench { learner, input })
    }

    /// A seeded synthetic pool of `pool` rows of `dim` values: Gaussian classes around seeded
    /// centres, overlapping enough that the head is unsure of some. Generated row by row, so
    /// only the learner's 8-bit rows stay in memory.
    ///
    /// # Errors
    /// As [`Bench::new`].
    pub fn synthetic(
        pool: usize,
        dim: usize,
        classes: usize,
        labels: usize,
        batch: usize,
    ) -> Result<Bench> {
        let mut rng = Rng::new(7);
        let centres: Vec<Vec<f32>> = (0..classes)
            .map(|_| (0..dim).map(|_| rng.normal() as f32 * 0.15).collect())
            .collect();
        let y: Vec<usize> = (0..pool).map(|i| i % classes.max(1)).collect();
        let rows = y.iter().map(|&c| {
            centres[c]
                .iter()
                .map(|m| m + rng.normal() as f32)
                .collect::<Vec<f32>>()
        });
        Bench::new(rows, &y, classes, labels, batch)
    }

    /// The measured refresh with strategy `kind` (as [`Bench::prepared`] sets it up) on the
    /// learner itself instead of a copy — for measuring memory: a copy of a million-row pool is
    /// 1.2 GB more. The bench is then one answer ahead: measure this way once.
    ///
    /// # Errors
    /// As [`Learner::refresh_timed`].
    pub fn refresh_in_place(
        &mut self,
        kind: StrategyKind,
        clock: &mut dyn FnMut() -> f64,
    ) -> Result<crate::RefreshTimes> {
        let input = self.input_for(kind);
        Ok(self.learner.refresh_timed(&input, clock)?.1)
    }

    /// The learner, one answer behind (for timing its other passes: neighbours, the map).
    pub fn learner(&self) -> &Learner {
        &self.learner
    }

    /// The learner and the input of the measured refresh with strategy `kind`: the whole pool
    /// (AnchorAL off), except `auto` with its default.
    pub fn prepared(&self, kind: StrategyKind) -> (Learner, LearnerInput) {
        (self.learner.clone(), self.input_for(kind))
    }

    fn input_for(&self, kind: StrategyKind) -> LearnerInput {
        let mut input = self.input.clone();
        input.strategy = kind;
        input.subpool = if kind == StrategyKind::Auto {
            Subpool::Auto
        } else {
            Subpool::Off
        };
        input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_measured_refresh_is_the_one_after_the_last_answer() {
        assert!(Bench::synthetic(50, 8, 3, 50, 5).is_err());
        let b = Bench::synthetic(300, 8, 3, 20, 5).unwrap();
        let (mut learner, input) = b.prepared(StrategyKind::CoreSet);
        assert_eq!(input.labels.len(), 20);
        assert_eq!(input.subpool, Subpool::Off);
        assert_eq!(b.prepared(StrategyKind::Auto).1.subpool, Subpool::Auto);
        let update = learner.refresh(&input).unwrap();
        // The batch, and an audit question when one is due.
        assert!((5..=6).contains(&update.queue.len()));
        assert_eq!(update.labels, 20);
    }
}
