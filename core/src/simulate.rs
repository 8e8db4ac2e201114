//! Replaying a labeled dataset to compare strategies: the simulator behind `quarry simulate`.
//!
//! Protocol, per seed: shuffle the items with the seed; the first `test_fraction` are held out;
//! `init` random training items are labeled; then for `rounds` rounds the head is trained on the
//! labels, its accuracy on the held-out items recorded, and the strategy picks `batch` more.
//! AULC is the mean accuracy over all recorded rounds (the initial one included).

use crate::acquire::{select, Pool, StrategyKind, Subpool};
use crate::head::{HeadOptions, SoftmaxHead};
use crate::matrix::Matrix;
use crate::rng::Rng;
use crate::{Error, Result};

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub strategies: Vec<StrategyKind>,
    pub init: usize,
    pub batch: usize,
    pub rounds: usize,
    pub seeds: usize,
    pub test_fraction: f64,
    /// Seed of the first run; run `s` uses `base_seed + s`.
    pub base_seed: u64,
    /// Whether large pools are narrowed to an AnchorAL subpool first.
    pub subpool: Subpool,
}

/// One round averaged over seeds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RoundSummary {
    pub labels: usize,
    pub accuracy_mean: f64,
    pub accuracy_std: f64,
    /// Mean time the strategy took to pick this round's batch, in ms (0 for the last round).
    pub select_ms_mean: f64,
}

/// One strategy's curve and AULC over seeds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StrategySummary {
    pub strategy: String,
    pub aulc_mean: f64,
    pub aulc_std: f64,
    pub rounds: Vec<RoundSummary>,
}

/// The whole simulation's result (the JSON `quarry simulate` writes).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimReport {
    pub items: usize,
    pub dim: usize,
    pub classes: usize,
    pub seeds: usize,
    pub init: usize,
    pub batch: usize,
    pub test_fraction: f64,
    pub strategies: Vec<StrategySummary>,
}

struct Run {
    accuracy: Vec<f64>,
    labels: Vec<usize>,
    select_ms: Vec<f64>,
}

/// Checks shapes and settings.
fn validate(x: &Matrix, y: &[usize], cfg: &SimConfig) -> Result<usize> {
    if x.rows() != y.len() {
        return Err(Error::Invalid(format!(
            "{} embedding rows but {} labels",
            x.rows(),
            y.len()
        )));
    }
    if x.rows() < 4 {
        return Err(Error::Invalid("at least 4 items are needed".into()));
    }
    if !(0.0..1.0).contains(&cfg.test_fraction) || cfg.test_fraction == 0.0 {
        return Err(Error::Invalid("--test-fraction must be in (0, 1)".into()));
    }
    if cfg.strategies.is_empty() || cfg.seeds == 0 || cfg.batch == 0 {
        return Err(Error::Invalid(
            "need at least one strategy, one seed and a batch of 1".into(),
        ));
    }
    let classes = y.iter().max().map_or(0, |m| m + 1);
    if classes < 2 {
        return Err(Error::Invalid(
            "the labels name fewer than two classes".into(),
        ));
    }
    Ok(classes)
}

/// Runs every strategy for every seed. `clock()` returns milliseconds (natively, a monotonic
/// timer; tests may pass a constant): `core` itself never reads a clock.
///
/// # Errors
/// [`Error::Invalid`] when rows and labels differ in number, fewer than two classes exist, or a
/// setting is out of range.
pub fn simulate(
    x: &Matrix,
    y: &[usize],
    cfg: &SimConfig,
    clock: &mut dyn FnMut() -> f64,
) -> Result<SimReport> {
    let classes = validate(x, y, cfg)?;
    let mut strategies = Vec::new();
    for &kind in &cfg.strategies {
        let runs: Vec<Run> = (0..cfg.seeds)
            .map(|s| run_one(x, y, classes, kind, cfg, cfg.base_seed + s as u64, clock))
            .collect::<Result<_>>()?;
        strategies.push(summarise(kind, &runs));
    }
    Ok(SimReport {
        items: x.rows(),
        dim: x.cols(),
        classes,
        seeds: cfg.seeds,
        init: cfg.init,
        batch: cfg.batch,
        test_fraction: cfg.test_fraction,
        strategies,
    })
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

fn summarise(kind: StrategyKind, runs: &[Run]) -> StrategySummary {
    let rounds = runs.iter().map(|r| r.accuracy.len()).min().unwrap_or(0);
    let aulcs: Vec<f64> = runs
        .iter()
        .map(|r| r.accuracy[..rounds].iter().sum::<f64>() / rounds.max(1) as f64)
        .collect();
    let (aulc_mean, aulc_std) = mean_std(&aulcs);
    let rounds = (0..rounds)
        .map(|k| {
            let accs: Vec<f64> = runs.iter().map(|r| r.accuracy[k]).collect();
            let (accuracy_mean, accuracy_std) = mean_std(&accs);
            let times: Vec<f64> = runs
                .iter()
                .map(|r| r.select_ms.get(k).copied().unwrap_or(0.0))
                .collect();
            RoundSummary {
                labels: runs[0].labels[k],
                accuracy_mean,
                accuracy_std,
                select_ms_mean: mean_std(&times).0,
            }
        })
        .collect();
    StrategySummary {
        strategy: kind.name().to_string(),
        aulc_mean,
        aulc_std,
        rounds,
    }
}

fn accuracy(
    head: Option<&SoftmaxHead>,
    fallback: usize,
    x: &Matrix,
    y: &[usize],
    test: &[usize],
) -> f64 {
    let correct = test
        .iter()
        .filter(|&&i| head.map_or(fallback, |h| h.predict(x.row(i))) == y[i])
        .count();
    correct as f64 / test.len() as f64
}

fn run_one(
    x: &Matrix,
    y: &[usize],
    classes: usize,
    kind: StrategyKind,
    cfg: &SimConfig,
    seed: u64,
    clock: &mut dyn FnMut() -> f64,
) -> Result<Run> {
    let mut rng = Rng::new(seed);
    let mut order: Vec<usize> = (0..x.rows()).collect();
    rng.shuffle(&mut order);
    let n_test = ((x.rows() as f64 * cfg.test_fraction).round() as usize).clamp(1, x.rows() - 1);
    let test: Vec<usize> = order[..n_test].to_vec();
    let mut train: Vec<usize> = order[n_test..].to_vec();
    train.sort_unstable();
    let train_x = x.select_rows(&train);
    let mut labeled: Vec<usize> = order[n_test..]
        .iter()
        .take(cfg.init)
        .map(|&i| train.binary_search(&i).expect("train"))
        .collect();
    let mut is_labeled = vec![false; train.len()];
    labeled.iter().for_each(|&j| is_labeled[j] = true);
    let options = HeadOptions::default();
    let mut head: Option<SoftmaxHead> = None;
    let mut run = Run {
        accuracy: Vec::new(),
        labels: Vec::new(),
        select_ms: Vec::new(),
    };
    for round in 0..=cfg.rounds {
        let ly: Vec<usize> = labeled.iter().map(|&j| y[train[j]]).collect();
        let distinct = {
            let mut c = ly.clone();
            c.sort_unstable();
            c.dedup();
            c
        };
        head = if distinct.len() >= 2 {
            Some(SoftmaxHead::fit(
                &train_x.select_rows(&labeled),
                &ly,
                classes,
                &options,
                head.as_ref(),
            )?)
        } else {
            None
        };
        let fallback = distinct.first().copied().unwrap_or(0);
        run.accuracy
            .push(accuracy(head.as_ref(), fallback, x, y, &test));
        run.labels.push(labeled.len());
        if round == cfg.rounds {
            break;
        }
        let candidates: Vec<usize> = (0..train.len()).filter(|&j| !is_labeled[j]).collect();
        if candidates.is_empty() {
            break;
        }
        let probabilities = head
            .as_ref()
            .filter(|_| kind.reads_probabilities())
            .map(|h| h.predict_proba_rows(&train_x));
        let pool = Pool {
            embeddings: &train_x,
            candidates: &candidates,
            labeled: &labeled,
            labels: &ly,
            classes,
            probabilities: probabilities.as_ref(),
            head: head.as_ref(),
        };
        let t0 = clock();
        let picked = select(kind, &pool, cfg.batch, cfg.subpool, &mut rng);
        run.select_ms.push(clock() - t0);
        for j in picked {
            is_labeled[j] = true;
            labeled.push(j);
        }
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs(n: usize) -> (Matrix, Vec<usize>) {
        let mut rng = Rng::new(11);
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let c = i % 3;
            rows.push(vec![
                c as f32 * 3.0 + rng.normal() as f32,
                (c == 2) as u8 as f32 * 3.0 + rng.normal() as f32,
            ]);
            y.push(c);
        }
        (Matrix::from_rows(&rows).unwrap(), y)
    }

    fn cfg(strategies: Vec<StrategyKind>) -> SimConfig {
        SimConfig {
            strategies,
            init: 4,
            batch: 3,
            rounds: 5,
            seeds: 3,
            test_fraction: 0.3,
            base_seed: 0,
            subpool: Subpool::Auto,
        }
    }

    #[test]
    fn deterministic_and_shaped_as_documented() {
        let (x, y) = blobs(120);
        let c = cfg(vec![StrategyKind::Margin, StrategyKind::Random]);
        let a = simulate(&x, &y, &c, &mut || 0.0).unwrap();
        let b = simulate(&x, &y, &c, &mut || 0.0).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.strategies.len(), 2);
        let labels: Vec<usize> = a.strategies[0].rounds.iter().map(|r| r.labels).collect();
        assert_eq!(labels, vec![4, 7, 10, 13, 16, 19]);
        assert!(a.strategies[0].aulc_mean > 0.5);
    }

    #[test]
    fn bad_input_is_rejected() {
        let (x, y) = blobs(20);
        assert!(simulate(&x, &y[..10], &cfg(vec![StrategyKind::Random]), &mut || 0.0).is_err());
        assert!(simulate(&x, &[0; 20], &cfg(vec![StrategyKind::Random]), &mut || 0.0).is_err());
        let mut bad = cfg(vec![StrategyKind::Random]);
        bad.test_fraction = 1.5;
        assert!(simulate(&x, &y, &bad, &mut || 0.0).is_err());
    }
}
