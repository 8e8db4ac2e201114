//! The classroom race: strategies learning side by side on a labeled dataset, one round at a
//! time, so a page can animate their learning curves as they grow.
//!
//! Same protocol as [`super::simulate`]: per seed, the items are shuffled, `test_fraction` held
//! out, `init` labeled at random; every round each lane (a strategy on a seed) trains its head,
//! records its accuracy on the held-out items, and asks for `batch` more labels, answered from
//! the ground truth. Every strategy sees the same splits and first labels for a seed, so the
//! race is fair; lanes differ only in what they ask.

use super::{accuracy, Split};
use crate::acquire::{select, Pool, StrategyKind, Subpool};
use crate::head::{HeadOptions, SoftmaxHead};
use crate::matrix::Matrix;
use crate::rng::Rng;
use crate::{Error, Result};

/// What to race.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RaceConfig {
    pub strategies: Vec<StrategyKind>,
    pub seeds: usize,
    pub init: usize,
    pub batch: usize,
    pub rounds: usize,
    pub test_fraction: f64,
    pub base_seed: u64,
}

impl Default for RaceConfig {
    /// Random against margin against the default policy, three seeds, 10 first labels, 10
    /// per round for 20 rounds (210 labels), 30% held out.
    fn default() -> Self {
        RaceConfig {
            strategies: vec![
                StrategyKind::Random,
                StrategyKind::Margin,
                StrategyKind::Auto,
            ],
            seeds: 3,
            init: 10,
            batch: 10,
            rounds: 20,
            test_fraction: 0.3,
            base_seed: 0,
        }
    }
}

/// One lane's point of a round.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LanePoint {
    /// Index into [`RaceConfig::strategies`].
    pub strategy: usize,
    /// Seed index, `0..seeds`.
    pub seed: usize,
    /// Labels the head was trained on.
    pub labels: usize,
    /// Its accuracy on the held-out items.
    pub accuracy: f64,
    /// The items (dataset indices) it asked for after this point (empty in the last round).
    pub asked: Vec<usize>,
}

/// One round of every lane.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RaceFrame {
    /// 0 for the first labels, then one per batch.
    pub round: usize,
    pub points: Vec<LanePoint>,
    /// Whether this was the last round.
    pub done: bool,
}

struct Lane {
    strategy: usize,
    seed: usize,
    labeled: Vec<usize>,
    is_labeled: Vec<bool>,
    head: Option<SoftmaxHead>,
    rng: Rng,
}

/// A race in progress: [`Race::step`] runs one round of every lane.
pub struct Race {
    x: Matrix,
    y: Vec<usize>,
    classes: usize,
    config: RaceConfig,
    splits: Vec<Split>,
    lanes: Vec<Lane>,
    round: usize,
}

impl Race {
    /// A race over rows `x` with true classes `y`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when rows and classes differ in number, fewer than two classes or
    /// four items exist, there is no strategy, seed or batch, or the first labels would take
    /// the whole training pool.
    pub fn new(x: Matrix, y: Vec<usize>, config: RaceConfig) -> Result<Race> {
        if x.rows() != y.len() || x.rows() < 4 {
            return Err(Error::Invalid(format!(
                "a race needs at least 4 items with a class each ({} rows, {} classes given)",
                x.rows(),
                y.len()
            )));
        }
        let classes = y.iter().max().map_or(0, |m| m + 1);
        if classes < 2
            || config.strategies.is_empty()
            || config.seeds == 0
            || config.batch == 0
            || !(0.0..1.0).contains(&config.test_fraction)
        {
            return Err(Error::Invalid(
                "a race needs two classes, a strategy, a seed, a batch and a test share in (0, 1)"
                    .into(),
            ));
        }
        let mut splits = Vec::new();
        let mut lanes = Vec::new();
        for seed in 0..config.seeds {
            let base = config.base_seed + seed as u64;
            let mut rng = Rng::new(base);
            let split = Split::new(&x, config.test_fraction, config.init, &mut rng);
            if split.init.len() >= split.train.len() {
                return Err(Error::Invalid(
                    "the first labels take the whole training pool".into(),
                ));
            }
            for strategy in 0..config.strategies.len() {
                let mut is_labeled = vec![false; split.train.len()];
                split.init.iter().for_each(|&j| is_labeled[j] = true);
                lanes.push(Lane {
                    strategy,
                    seed,
                    labeled: split.init.clone(),
                    is_labeled,
                    head: None,
                    // As `simulate`: the selection draws on from where the split left the seed.
                    rng: rng.clone(),
                });
            }
            splits.push(split);
        }
        Ok(Race {
            x,
            y,
            classes,
            config,
            splits,
            lanes,
            round: 0,
        })
    }

    /// Whether every round has been run.
    pub fn is_done(&self) -> bool {
        self.round > self.config.rounds
    }

    /// Runs the next round of every lane: trains, measures, and (but in the last round) asks
    /// for the next batch, answered from the truth.
    ///
    /// # Errors
    /// [`Error::Invalid`] once the race is over; a head that cannot be fitted.
    pub fn step(&mut self) -> Result<RaceFrame> {
        if self.is_done() {
            return Err(Error::Invalid("the race is over".into()));
        }
        let last = self.round == self.config.rounds;
        let mut points = Vec::with_capacity(self.lanes.len());
        for lane in &mut self.lanes {
            let split = &self.splits[lane.seed];
            let ly: Vec<usize> = lane
                .labeled
                .iter()
                .map(|&j| self.y[split.train[j]])
                .collect();
            let mut distinct = ly.clone();
            distinct.sort_unstable();
            distinct.dedup();
            lane.head = if distinct.len() >= 2 {
                Some(SoftmaxHead::fit(
                    &split.train_x.select_rows(&lane.labeled),
                    &ly,
                    self.classes,
                    &HeadOptions::default(),
                    lane.head.as_ref(),
                )?)
            } else {
                None
            };
            let fallback = distinct.first().copied().unwrap_or(0);
            let acc = accuracy(lane.head.as_ref(), fallback, &self.x, &self.y, &split.test);
            let labels = lane.labeled.len();
            let mut asked = Vec::new();
            let kind = self.config.strategies[lane.strategy];
            let candidates: Vec<usize> = (0..split.train.len())
                .filter(|&j| !lane.is_labeled[j])
                .collect();
            if !last && !candidates.is_empty() {
                let probabilities = lane
                    .head
                    .as_ref()
                    .filter(|_| kind.reads_probabilities())
                    .map(|h| h.predict_proba_rows(&split.train_x));
                let pool = Pool {
                    embeddings: &split.train_x,
                    candidates: &candidates,
                    labeled: &lane.labeled,
                    labels: &ly,
                    classes: self.classes,
                    probabilities: probabilities.as_ref(),
                    head: lane.head.as_ref(),
                    stored: None,
                    candidate_sets: None,
                };
                let picked = select(kind, &pool, self.config.batch, Subpool::Off, &mut lane.rng);
                for j in picked {
                    lane.is_labeled[j] = true;
                    lane.labeled.push(j);
                    asked.push(split.train[j]);
                }
            }
            points.push(LanePoint {
                strategy: lane.strategy,
                seed: lane.seed,
                labels,
                accuracy: acc,
                asked,
            });
        }
        let frame = RaceFrame {
            round: self.round,
            points,
            done: last,
        };
        self.round += 1;
        Ok(frame)
    }
}

/// Per strategy, a round's accuracy over the seeds: mean, lowest, highest.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spread {
    pub labels: f64,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

/// The curve of strategy `strategy` over `frames`: one [`Spread`] per round.
pub fn spread(frames: &[RaceFrame], strategy: usize) -> Vec<Spread> {
    frames
        .iter()
        .filter_map(|f| {
            let mine: Vec<&LanePoint> =
                f.points.iter().filter(|p| p.strategy == strategy).collect();
            if mine.is_empty() {
                return None;
            }
            let n = mine.len() as f64;
            Some(Spread {
                labels: mine.iter().map(|p| p.labels as f64).sum::<f64>() / n,
                mean: mine.iter().map(|p| p.accuracy).sum::<f64>() / n,
                low: mine
                    .iter()
                    .map(|p| p.accuracy)
                    .fold(f64::INFINITY, f64::min),
                high: mine
                    .iter()
                    .map(|p| p.accuracy)
                    .fold(f64::NEG_INFINITY, f64::max),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{simulate, SimConfig};

    fn blobs(n: usize, seed: u64) -> (Matrix, Vec<usize>) {
        let mut rng = Rng::new(seed);
        let mut x = Matrix::zeros(n, 6);
        let y: Vec<usize> = (0..n).map(|i| i % 3).collect();
        for (i, &class) in y.iter().enumerate() {
            for d in 0..6 {
                let centre = if d == class { 2.0 } else { 0.0 };
                x.row_mut(i)[d] = (centre + rng.normal()) as f32;
            }
        }
        (x, y)
    }

    #[test]
    fn a_race_replays_what_simulate_reports() {
        let (x, y) = blobs(240, 3);
        let config = RaceConfig {
            strategies: vec![StrategyKind::Random, StrategyKind::Margin],
            seeds: 2,
            init: 6,
            batch: 5,
            rounds: 4,
            test_fraction: 0.25,
            base_seed: 7,
        };
        let mut race = Race::new(x.clone(), y.clone(), config.clone()).unwrap();
        let mut frames = Vec::new();
        while !race.is_done() {
            frames.push(race.step().unwrap());
        }
        assert!(race.step().is_err());
        assert_eq!(frames.len(), 5);
        assert!(frames.last().unwrap().done);
        assert_eq!(frames[0].points.len(), 4);
        assert!(frames[4]
            .points
            .iter()
            .all(|p| p.asked.is_empty() && p.labels == 26));
        assert!(frames[1].points.iter().all(|p| p.asked.len() == 5));
        // The same numbers as the simulator, lane for lane.
        let report = simulate(
            &x,
            &y,
            &SimConfig {
                strategies: config.strategies.clone(),
                init: 6,
                batch: 5,
                rounds: 4,
                seeds: 2,
                test_fraction: 0.25,
                base_seed: 7,
                subpool: Subpool::Off,
                audit: None,
                candidate_sets: false,
            },
            &mut || 0.0,
        )
        .unwrap();
        for (s, summary) in report.strategies.iter().enumerate() {
            let curve = spread(&frames, s);
            for (r, round) in summary.rounds.iter().enumerate() {
                assert!(
                    (curve[r].mean - round.accuracy_mean).abs() < 1e-12,
                    "{s} {r}"
                );
                assert!(curve[r].low <= curve[r].mean && curve[r].mean <= curve[r].high);
            }
        }
    }

    #[test]
    fn bad_races_are_refused() {
        let (x, y) = blobs(30, 1);
        assert!(Race::new(x.clone(), y[..10].to_vec(), RaceConfig::default()).is_err());
        let none = RaceConfig {
            strategies: Vec::new(),
            ..RaceConfig::default()
        };
        assert!(Race::new(x.clone(), y.clone(), none).is_err());
        let greedy = RaceConfig {
            init: 30,
            ..RaceConfig::default()
        };
        assert!(Race::new(x, y, greedy).is_err());
    }
}
