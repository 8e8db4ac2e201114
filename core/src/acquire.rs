//! Acquisition: which unlabeled items to ask about next.
//!
//! One trait, [`Strategy`], and one module per strategy. [`StrategyKind`] names them for the UI and
//! the worker protocol; [`default_strategy`] is the policy used when the user picks none.

mod badge;
mod cold_start;
mod coreset;
mod entropy;
mod least_confidence;
mod margin;
mod random;
mod stochastic;
mod typiclust;

pub use badge::Badge;
pub use cold_start::ColdStart;
pub use coreset::{k_center_greedy, CoreSet};
pub use entropy::{entropy, Entropy};
pub use least_confidence::{least_confidence, LeastConfidence};
pub use margin::{margin, Margin};
pub use random::RandomSampler;
pub use stochastic::{gumbel_top_k, inverse_margin, Sampling, StochasticSampler};
pub use typiclust::{typicality, TypiClust};

use crate::kmeans::{closest, kmeans, Clustering};
use crate::matrix::Matrix;
use crate::rng::Rng;

/// What a strategy may look at when it picks a batch.
#[derive(Debug, Clone, Copy)]
pub struct Pool<'a> {
    /// Embeddings of every item, one row each.
    pub embeddings: &'a Matrix,
    /// Items that may be picked (unlabeled, not skipped), ascending.
    pub candidates: &'a [usize],
    /// Items already labeled.
    pub labeled: &'a [usize],
    /// Class probabilities of every item from the current head, when one exists.
    pub probabilities: Option<&'a Matrix>,
}

/// An acquisition strategy.
pub trait Strategy {
    /// Short stable name, as shown in the UI and written to exports.
    fn name(&self) -> &'static str;

    /// Picks up to `batch` distinct items from `pool.candidates`, most valuable first.
    ///
    /// Contract: every returned item is in `pool.candidates`, none twice; fewer than `batch` only
    /// when fewer candidates exist. Deterministic for a given `rng` state.
    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize>;
}

/// The strategies a user can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    /// Uniformly random items.
    Random,
    /// Diverse, typical items: k-means centres not yet covered by a label.
    ColdStart,
    /// The smallest gap between the two most probable classes.
    Margin,
    /// The lowest top-class probability.
    LeastConfidence,
    /// The highest predictive entropy.
    Entropy,
    /// Margin, sampled with power weights instead of top-k (no near-duplicate batches).
    PowerMargin,
    /// BADGE: k-means++ over gradient embeddings (uncertain and diverse).
    Badge,
    /// Core-Set: k-center greedy in embedding space (coverage).
    CoreSet,
    /// TypiClust: the most typical item of each uncovered cluster (low budgets).
    TypiClust,
}

impl StrategyKind {
    /// Every kind, in the order a picker lists them.
    pub const ALL: [StrategyKind; 9] = [
        StrategyKind::Margin,
        StrategyKind::PowerMargin,
        StrategyKind::Entropy,
        StrategyKind::LeastConfidence,
        StrategyKind::Badge,
        StrategyKind::CoreSet,
        StrategyKind::TypiClust,
        StrategyKind::ColdStart,
        StrategyKind::Random,
    ];

    /// The strategy this kind names.
    pub fn build(self) -> Box<dyn Strategy> {
        match self {
            StrategyKind::Random => Box::new(RandomSampler),
            StrategyKind::ColdStart => Box::new(ColdStart),
            StrategyKind::Margin => Box::new(Margin),
            StrategyKind::LeastConfidence => Box::new(LeastConfidence),
            StrategyKind::Entropy => Box::new(Entropy),
            StrategyKind::PowerMargin => Box::new(StochasticSampler {
                sampling: Sampling::Power,
                temperature: 1.0,
                score: inverse_margin,
                name: "power-margin",
            }),
            StrategyKind::Badge => Box::new(Badge),
            StrategyKind::CoreSet => Box::new(CoreSet),
            StrategyKind::TypiClust => Box::new(TypiClust),
        }
    }

    /// Stable name, as on the command line and in exports.
    pub fn name(self) -> &'static str {
        self.build().name()
    }

    /// The kind with this [`StrategyKind::name`].
    pub fn from_name(name: &str) -> Option<StrategyKind> {
        StrategyKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// One line for people choosing a strategy.
    pub fn description(self) -> &'static str {
        match self {
            StrategyKind::Random => "random items: the baseline",
            StrategyKind::ColdStart => "diverse, typical items",
            StrategyKind::Margin => "the most uncertain items",
            StrategyKind::LeastConfidence => "items whose best guess is weakest",
            StrategyKind::Entropy => "items with the most spread-out prediction",
            StrategyKind::PowerMargin => {
                "uncertain items, sampled so a batch is not near-duplicates"
            }
            StrategyKind::Badge => "uncertain and diverse items (gradient embeddings)",
            StrategyKind::CoreSet => "items that cover the pool (k-center greedy)",
            StrategyKind::TypiClust => "the most typical item of each unlabeled cluster",
        }
    }
}

/// Top-k over a score of each candidate's class probabilities (higher = ask first); random
/// when there is no head yet. The shared body of the single-point uncertainty strategies.
pub fn top_k_by_probabilities(
    pool: &Pool<'_>,
    batch: usize,
    rng: &mut Rng,
    score: impl Fn(&[f32]) -> f32,
) -> Vec<usize> {
    match pool.probabilities {
        Some(p) => top_k_by_score(pool.candidates, batch, |i| score(p.row(i))),
        None => RandomSampler.select(pool, batch, rng),
    }
}

/// The k-means view of a pool shared by the cluster-based strategies.
pub struct PoolClusters {
    /// Labeled and candidate items, ascending: the rows that were clustered.
    pub all: Vec<usize>,
    /// `labeled + batch` clusters (fewer when the pool is smaller); assignment follows `all`.
    pub clustering: Clustering,
    /// Whether each cluster's centre is the nearest centre of some labeled item.
    pub covered: Vec<bool>,
}

/// Clusters labeled + candidate items into `labeled + batch` k-means clusters and marks the
/// clusters a label already covers.
pub fn cluster_pool(pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> PoolClusters {
    let x = pool.embeddings;
    let mut all: Vec<usize> = pool
        .candidates
        .iter()
        .chain(pool.labeled)
        .copied()
        .collect();
    all.sort_unstable();
    let k = (pool.labeled.len() + batch).min(all.len());
    let clustering = kmeans(x, &all, k, 25, rng);
    let mut covered = vec![false; k];
    for &l in pool.labeled {
        covered[closest(&clustering.centroids, x.row(l))] = true;
    }
    PoolClusters {
        all,
        clustering,
        covered,
    }
}

/// The `batch` candidates with the highest `score`, highest first (ties: lower index first).
pub fn top_k_by_score(
    candidates: &[usize],
    batch: usize,
    score: impl Fn(usize) -> f32,
) -> Vec<usize> {
    let mut scored: Vec<(f32, usize)> = candidates.iter().map(|&i| (score(i), i)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(batch).map(|(_, i)| i).collect()
}

/// The default policy: cold-start picks until every class has at least one label (a head cannot
/// rank classes it has never seen), then margin sampling.
pub fn default_strategy(label_counts: &[usize]) -> StrategyKind {
    if label_counts.iter().all(|&n| n > 0) && label_counts.len() >= 2 {
        StrategyKind::Margin
    } else {
        StrategyKind::ColdStart
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_switches_to_margin_once_every_class_is_labeled() {
        assert_eq!(default_strategy(&[0, 0, 0]), StrategyKind::ColdStart);
        assert_eq!(default_strategy(&[3, 0, 1]), StrategyKind::ColdStart);
        assert_eq!(default_strategy(&[1, 1, 1]), StrategyKind::Margin);
    }

    #[test]
    fn names_round_trip() {
        for kind in StrategyKind::ALL {
            assert_eq!(StrategyKind::from_name(kind.name()), Some(kind));
        }
    }

    #[test]
    fn every_strategy_keeps_the_contract() {
        let rows: Vec<Vec<f32>> = (0..40)
            .map(|i| vec![(i % 7) as f32, (i / 7) as f32])
            .collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let probs = Matrix::from_rows(
            &(0..40)
                .map(|i| vec![i as f32 / 40.0, 1.0 - i as f32 / 40.0])
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let candidates: Vec<usize> = (0..40).filter(|i| i % 3 != 0).collect();
        let labeled: Vec<usize> = (0..40).filter(|i| i % 3 == 0).collect();
        let pool = Pool {
            embeddings: &x,
            candidates: &candidates,
            labeled: &labeled,
            probabilities: Some(&probs),
        };
        for kind in StrategyKind::ALL {
            for batch in [1, 5, 100] {
                let picked = kind.build().select(&pool, batch, &mut Rng::new(3));
                assert_eq!(picked.len(), batch.min(candidates.len()), "{kind:?}");
                let mut sorted = picked.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(sorted.len(), picked.len(), "{kind:?} repeated an item");
                assert!(picked.iter().all(|i| candidates.contains(i)), "{kind:?}");
                let again = kind.build().select(&pool, batch, &mut Rng::new(3));
                assert_eq!(picked, again, "{kind:?} is not deterministic");
            }
        }
    }
}
