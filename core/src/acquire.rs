//! Acquisition: which unlabeled items to ask about next.
//!
//! One trait, [`Strategy`], and one module per strategy. [`StrategyKind`] names them for the UI and
//! the worker protocol; [`default_strategy`] is the policy used when the user picks none.

pub mod anchoral;
mod badge;
mod bald;
mod cold_start;
pub(crate) mod coreset;
mod cost_margin;
mod drop_query;
mod entropy;
mod least_confidence;
mod margin;
mod mean_margin;
mod prob_cover;
mod random;
mod stochastic;
mod typiclust;
mod vessal;
mod weighted;

pub use anchoral::{anchor_subpool, select, Subpool, AUTO_ABOVE as ANCHORAL_AUTO_ABOVE};
pub use badge::Badge;
pub use bald::{bald_scores, Bald};
pub use cold_start::ColdStart;
pub use coreset::{k_center_greedy, CoreSet};
pub use cost_margin::{cost_weighted, CostMargin, COST_EXPONENT};
pub use drop_query::{dropout_disagreement, DropQuery};
pub use entropy::{entropy, Entropy};
pub use least_confidence::{least_confidence, LeastConfidence};
pub use margin::{margin, Margin};
pub use mean_margin::{mean_label_margin, MeanMargin};
pub use prob_cover::{purity_radius, ProbCover};
pub use random::RandomSampler;
pub use stochastic::{gumbel_top_k, inverse_margin, Sampling, StochasticSampler};
pub use typiclust::{typicality, TypiClust};
pub use vessal::StreamSelector;

/// Cluster-based strategies cluster at most this many candidates (a seeded uniform sample) so
/// their cost stays bounded on large pools.
pub const MAX_CLUSTERED: usize = 2_000;
/// ProbCover builds its ball graph (quadratic in size) on at most this many candidates.
pub const MAX_GRAPH: usize = 2_000;

use crate::candidates::CandidateRule;
use crate::compute::sample;
use crate::head::SoftmaxHead;
use crate::kmeans::{kmeans_rows, nearest_centres, Clustering};
use crate::matrix::Matrix;
use crate::rng::Rng;
use crate::store::{CompactRows, Rows};

/// What a strategy may look at when it picks a batch.
#[derive(Debug, Clone, Copy)]
pub struct Pool<'a> {
    /// Embeddings of every item, one row each.
    pub embeddings: &'a Matrix,
    /// Items that may be picked (unlabeled, not skipped), ascending.
    pub candidates: &'a [usize],
    /// Items already labeled.
    pub labeled: &'a [usize],
    /// Class of each item of `labeled`, in the same order; empty when the caller has no labels
    /// to give (strategies that need them then fall back as their docs say).
    pub labels: &'a [usize],
    /// Number of classes of the project.
    pub classes: usize,
    /// Class probabilities of every item from the current head, when one exists.
    pub probabilities: Option<&'a Matrix>,
    /// The current head (the one `probabilities` came from), when one exists.
    pub head: Option<&'a SoftmaxHead>,
    /// The same rows as the learner holds them (8-bit), when it does: strategies with a
    /// compute-layer path ([`StrategyKind::runs_on_compact_rows`]) read these instead of
    /// `embeddings`, which the learner then leaves empty.
    pub stored: Option<Stored<'a>>,
    /// The refresh's calibrated candidate-set rule, when candidate set queries are on (read by
    /// [`StrategyKind::CostMargin`]: the expected cost of answering each item).
    pub candidate_sets: Option<CandidateRule>,
}

/// A pool's rows in the learner's compact store: pool row `r` is store row `index[r]`.
#[derive(Debug, Clone, Copy)]
pub struct Stored<'a> {
    /// The 8-bit rows.
    pub store: &'a CompactRows,
    /// Store row of each pool row.
    pub index: &'a [usize],
}

impl Stored<'_> {
    /// The store rows of pool rows `items`.
    pub fn rows_of(&self, items: &[usize]) -> Vec<usize> {
        items.iter().map(|&i| self.index[i]).collect()
    }
}

impl<'a> Pool<'a> {
    /// A pool of `classes` classes with nothing labeled and no head yet.
    pub fn unlabeled(embeddings: &'a Matrix, candidates: &'a [usize], classes: usize) -> Pool<'a> {
        Pool {
            embeddings,
            candidates,
            labeled: &[],
            labels: &[],
            classes,
            probabilities: None,
            head: None,
            stored: None,
            candidate_sets: None,
        }
    }

    /// The embeddings of pool rows `items`, one row each: decoded from [`Pool::stored`] when the
    /// learner left `embeddings` empty, else copied from `embeddings`. What the sampling
    /// strategies read: only their sample is ever decoded.
    pub fn select_rows(&self, items: &[usize]) -> Matrix {
        match self.stored {
            Some(s) if self.embeddings.cols() == 0 => s.store.decode(&s.rows_of(items)),
            _ => self.embeddings.select_rows(items),
        }
    }

    /// The same pool with its rows also in the learner's compact store.
    pub fn with_stored(self, store: &'a CompactRows, index: &'a [usize]) -> Pool<'a> {
        Pool {
            stored: Some(Stored { store, index }),
            ..self
        }
    }

    /// The same pool with `labeled` items of classes `labels` (same order).
    pub fn with_labels(self, labeled: &'a [usize], labels: &'a [usize]) -> Pool<'a> {
        Pool {
            labeled,
            labels,
            ..self
        }
    }

    /// The same pool with a candidate-set rule (answers are asked as candidate set queries).
    pub fn with_candidate_sets(self, rule: CandidateRule) -> Pool<'a> {
        Pool {
            candidate_sets: Some(rule),
            ..self
        }
    }

    /// The same pool with class probabilities and, when known, the head they came from.
    pub fn with_probabilities(
        self,
        probabilities: &'a Matrix,
        head: Option<&'a SoftmaxHead>,
    ) -> Pool<'a> {
        Pool {
            probabilities: Some(probabilities),
            head,
            ..self
        }
    }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    /// The default policy, [`default_strategy`]: TypiClust at low budgets, then power-margin.
    #[default]
    Auto,
    /// Uniformly random items.
    Random,
    /// Diverse, typical items: k-means centres not yet covered by a label.
    ColdStart,
    /// The smallest gap between the two most probable classes.
    Margin,
    /// Multi-label: smallest mean label margin `|2p − 1|` first.
    MeanMargin,
    /// The lowest top-class probability.
    LeastConfidence,
    /// The highest predictive entropy.
    Entropy,
    /// Margin, sampled with power weights instead of top-k (no near-duplicate batches).
    PowerMargin,
    /// Margin uncertainty over the expected cost of a candidate set query.
    CostMargin,
    /// BALD: disagreement of a bootstrap ensemble of heads.
    Bald,
    /// DropQuery: inconsistent under feature dropout, then one per k-means cluster.
    DropQuery,
    /// BADGE: k-means++ over gradient embeddings (uncertain and diverse).
    Badge,
    /// Core-Set: k-center greedy in embedding space (coverage).
    CoreSet,
    /// TypiClust: the most typical item of each uncovered cluster (low budgets).
    TypiClust,
    /// ProbCover: greedy ball cover with a purity-chosen radius (low budgets).
    ProbCover,
}

impl StrategyKind {
    /// Every kind, in the order a picker lists them (the default policy first).
    pub const ALL: [StrategyKind; 15] = [
        StrategyKind::Auto,
        StrategyKind::Margin,
        StrategyKind::MeanMargin,
        StrategyKind::PowerMargin,
        StrategyKind::CostMargin,
        StrategyKind::Entropy,
        StrategyKind::LeastConfidence,
        StrategyKind::Bald,
        StrategyKind::DropQuery,
        StrategyKind::Badge,
        StrategyKind::CoreSet,
        StrategyKind::TypiClust,
        StrategyKind::ProbCover,
        StrategyKind::ColdStart,
        StrategyKind::Random,
    ];

    /// The strategy this kind names.
    pub fn build(self) -> Box<dyn Strategy> {
        match self {
            StrategyKind::Auto => Box::new(DefaultPolicy),
            StrategyKind::Random => Box::new(RandomSampler),
            StrategyKind::ColdStart => Box::new(ColdStart),
            StrategyKind::Margin => Box::new(Margin),
            StrategyKind::MeanMargin => Box::new(MeanMargin),
            StrategyKind::LeastConfidence => Box::new(LeastConfidence),
            StrategyKind::Entropy => Box::new(Entropy),
            StrategyKind::PowerMargin => Box::new(StochasticSampler {
                sampling: Sampling::Power,
                temperature: 1.0,
                score: inverse_margin,
                name: "power-margin",
            }),
            StrategyKind::CostMargin => Box::new(CostMargin),
            StrategyKind::Bald => Box::new(Bald),
            StrategyKind::DropQuery => Box::new(DropQuery),
            StrategyKind::Badge => Box::new(Badge),
            StrategyKind::CoreSet => Box::new(CoreSet),
            StrategyKind::TypiClust => Box::new(TypiClust),
            StrategyKind::ProbCover => Box::new(ProbCover),
        }
    }

    /// Stable name, as on the command line and in exports.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Auto => "auto",
            StrategyKind::Random => "random",
            StrategyKind::ColdStart => "cold-start",
            StrategyKind::Margin => "margin",
            StrategyKind::MeanMargin => "mean-margin",
            StrategyKind::LeastConfidence => "least-confidence",
            StrategyKind::Entropy => "entropy",
            StrategyKind::PowerMargin => "power-margin",
            StrategyKind::CostMargin => "cost-margin",
            StrategyKind::Bald => "bald",
            StrategyKind::DropQuery => "dropquery",
            StrategyKind::Badge => "badge",
            StrategyKind::CoreSet => "coreset",
            StrategyKind::TypiClust => "typiclust",
            StrategyKind::ProbCover => "probcover",
        }
    }

    /// The kind with this [`StrategyKind::name`].
    pub fn from_name(name: &str) -> Option<StrategyKind> {
        StrategyKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the strategy reads [`Pool::probabilities`]; callers skip computing them (a pass
    /// over the whole pool) when it does not. `Auto` answers for either choice of the policy.
    pub fn reads_probabilities(self) -> bool {
        use StrategyKind::*;
        match self {
            Auto | Margin | MeanMargin | LeastConfidence | Entropy | PowerMargin | CostMargin
            | Badge => true,
            Random | ColdStart | Bald | DropQuery | CoreSet | TypiClust | ProbCover => false,
        }
    }

    /// Whether the strategy, given [`Pool::stored`], reads only those compact rows (never
    /// [`Pool::embeddings`]): the learner then decodes nothing for it.
    pub fn runs_on_compact_rows(self) -> bool {
        use StrategyKind::*;
        matches!(self, Badge | CoreSet | TypiClust | ProbCover | ColdStart)
    }

    /// Whether the strategy reads embeddings (else only class probabilities, or nothing): the
    /// learner decodes its compact rows only for those that do.
    pub fn reads_embeddings(self) -> bool {
        use StrategyKind::*;
        match self {
            Random | Margin | MeanMargin | LeastConfidence | Entropy | PowerMargin | CostMargin => {
                false
            }
            Auto | ColdStart | Bald | DropQuery | Badge | CoreSet | TypiClust | ProbCover => true,
        }
    }

    /// One line for people choosing a strategy.
    pub fn description(self) -> &'static str {
        match self {
            StrategyKind::Auto => {
                "typical items while labels are few, then uncertain ones (power-sampled margin)"
            }
            StrategyKind::Random => "random items: the baseline",
            StrategyKind::ColdStart => "diverse, typical items",
            StrategyKind::Margin => "the most uncertain items",
            StrategyKind::MeanMargin => {
                "multi-label: items whose labels are least decided on average"
            }
            StrategyKind::LeastConfidence => "items whose best guess is weakest",
            StrategyKind::Entropy => "items with the most spread-out prediction",
            StrategyKind::PowerMargin => {
                "uncertain items, sampled so a batch is not near-duplicates"
            }
            StrategyKind::CostMargin => {
                "uncertain items that are cheap to answer from candidate sets (margin ÷ cost)"
            }
            StrategyKind::Bald => "items an ensemble of heads disagrees on",
            StrategyKind::DropQuery => "items whose prediction flips under dropout, spread out",
            StrategyKind::Badge => "uncertain and diverse items (gradient embeddings)",
            StrategyKind::CoreSet => "items that cover the pool (k-center greedy)",
            StrategyKind::TypiClust => "the most typical item of each unlabeled cluster",
            StrategyKind::ProbCover => "items whose neighbourhoods cover the most of the pool",
        }
    }
}

/// The default policy as a strategy: reads the label counts from the pool and delegates to
/// [`default_strategy`]'s choice.
#[derive(Debug, Clone, Copy)]
pub struct DefaultPolicy;

impl Strategy for DefaultPolicy {
    fn name(&self) -> &'static str {
        "auto"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        let mut counts = vec![0; pool.classes];
        for &c in pool.labels {
            if let Some(n) = counts.get_mut(c) {
                *n += 1;
            }
        }
        default_strategy(&counts).build().select(pool, batch, rng)
    }
}

/// Tops `picked` up to `batch` (or all candidates) with random candidates not yet picked: for
/// strategies that can run out of structured picks (every cluster or ball already covered).
pub fn top_up_randomly(pool: &Pool<'_>, picked: &mut Vec<usize>, batch: usize, rng: &mut Rng) {
    if picked.len() >= batch.min(pool.candidates.len()) {
        return;
    }
    let rest: Vec<usize> = pool
        .candidates
        .iter()
        .copied()
        .filter(|i| !picked.contains(i))
        .collect();
    let fill = Pool {
        candidates: &rest,
        ..*pool
    };
    picked.extend(RandomSampler.select(&fill, batch - picked.len(), rng));
}

/// A seeded uniform sample of at most `cap` of `items`, ascending; `items` itself (no draw) when
/// it is small enough.
pub fn sample_at_most(items: &[usize], cap: usize, rng: &mut Rng) -> Vec<usize> {
    let mut out = items.to_vec();
    if out.len() > cap {
        rng.shuffle(&mut out);
        out.truncate(cap);
        out.sort_unstable();
    }
    out
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
    /// Their embeddings, row `j` = item `all[j]`.
    pub rows: Matrix,
    /// The same rows in 8 bits, for the compute kernel ([`sample`]).
    pub codes: CompactRows,
    /// `labeled + batch` clusters (fewer when the pool is smaller); assignment follows `all`.
    pub clustering: Clustering,
    /// Whether each cluster's centre is the nearest centre of some labeled item.
    pub covered: Vec<bool>,
}

/// Clusters labeled + candidate items into `labeled + batch` k-means clusters and marks the
/// clusters a label already covers. Above [`MAX_CLUSTERED`] candidates (or labels) a uniform
/// sample of them is clustered.
pub fn cluster_pool(pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> PoolClusters {
    let mut all = sample_at_most(pool.candidates, MAX_CLUSTERED, rng);
    all.extend(sample_at_most(pool.labeled, MAX_CLUSTERED, rng));
    all.sort_unstable();
    let rows = pool.select_rows(&all);
    let positions: Vec<usize> = (0..all.len()).collect();
    let codes = sample::quantised(&rows, &positions);
    let k = (pool.labeled.len() + batch).min(all.len());
    let clustering = kmeans_rows(&codes, &positions, k, 25, rng);
    let mut covered = vec![false; k];
    // Labeled items in the sample are quantised already; only the others are read again.
    let (sampled, others): (Vec<usize>, Vec<usize>) = pool
        .labeled
        .iter()
        .partition(|l| all.binary_search(l).is_ok());
    let at: Vec<usize> = sampled
        .iter()
        .map(|l| all.binary_search(l).expect("sampled"))
        .collect();
    let others = pool.select_rows(&others);
    let others_at: Vec<usize> = (0..others.rows()).collect();
    let others = sample::quantised(&others, &others_at);
    let nearest = nearest_centres(&codes, &at, &clustering.centroids)
        .into_iter()
        .chain(nearest_centres(&others, &others_at, &clustering.centroids));
    nearest.for_each(|c| covered[c] = true);
    PoolClusters {
        all,
        rows,
        codes,
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

/// Labels per class below which the default policy treats the budget as low.
pub const LOW_BUDGET_PER_CLASS: usize = 2;

/// The default policy ("Active Learning on a Budget", Hacohen et al., 2022: typical items suit
/// low budgets, uncertain items high ones). TypiClust while some class has no label yet or there
/// are fewer than [`LOW_BUDGET_PER_CLASS`] labels per class on average; from then on
/// power-sampled margin.
pub fn default_strategy(label_counts: &[usize]) -> StrategyKind {
    let classes = label_counts.len();
    let total: usize = label_counts.iter().sum();
    if classes >= 2
        && label_counts.iter().all(|&n| n > 0)
        && total >= LOW_BUDGET_PER_CLASS * classes
    {
        StrategyKind::PowerMargin
    } else {
        StrategyKind::TypiClust
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_switches_from_typical_to_uncertain_as_labels_grow() {
        use StrategyKind::{PowerMargin, TypiClust};
        assert_eq!(default_strategy(&[0, 0, 0]), TypiClust);
        // A class without a label: a head cannot rank it yet, however many labels exist.
        assert_eq!(default_strategy(&[30, 0, 10]), TypiClust);
        // Every class seen but under 2 labels per class on average: still the low-budget regime.
        assert_eq!(default_strategy(&[1, 1, 1]), TypiClust);
        assert_eq!(default_strategy(&[2, 2, 1]), TypiClust);
        assert_eq!(default_strategy(&[2, 2, 2]), PowerMargin);
        assert_eq!(default_strategy(&[5, 1, 1]), PowerMargin);
    }

    #[test]
    fn the_auto_strategy_follows_the_policy() {
        let rows: Vec<Vec<f32>> = (0..30).map(|i| vec![i as f32, (i % 3) as f32]).collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let candidates: Vec<usize> = (3..30).collect();
        let pool = Pool::unlabeled(&x, &candidates, 2).with_labels(&[0, 1, 2], &[0, 1, 1]);
        let auto = DefaultPolicy.select(&pool, 4, &mut Rng::new(1));
        let typi = TypiClust.select(&pool, 4, &mut Rng::new(1));
        assert_eq!(auto, typi);
    }

    #[test]
    fn names_round_trip() {
        for kind in StrategyKind::ALL {
            assert_eq!(StrategyKind::from_name(kind.name()), Some(kind));
        }
    }

    #[test]
    fn strategies_that_do_not_read_probabilities_ignore_them() {
        let rows: Vec<Vec<f32>> = (0..30)
            .map(|i| vec![(i % 5) as f32, (i / 5) as f32])
            .collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let candidates: Vec<usize> = (4..30).collect();
        let labeled = [0, 1, 2, 3];
        let labels = [0, 1, 0, 1];
        let head = SoftmaxHead::fit(
            &x.select_rows(&labeled),
            &labels,
            2,
            &crate::head::HeadOptions::default(),
            None,
        )
        .unwrap();
        let probs = head.predict_proba_rows(&x);
        let without = Pool::unlabeled(&x, &candidates, 2).with_labels(&labeled, &labels);
        let with = without.with_probabilities(&probs, Some(&head));
        let without = Pool {
            head: Some(&head),
            ..without
        };
        for kind in StrategyKind::ALL
            .into_iter()
            .filter(|k| !k.reads_probabilities())
        {
            let a = kind.build().select(&with, 5, &mut Rng::new(4));
            let b = kind.build().select(&without, 5, &mut Rng::new(4));
            assert_eq!(a, b, "{kind:?} reads the probabilities");
        }
        // Kinds that say they read no embeddings pick the same from an empty matrix.
        let empty = Matrix::zeros(x.rows(), 0);
        let blind = Pool {
            embeddings: &empty,
            ..with
        };
        for kind in StrategyKind::ALL
            .into_iter()
            .filter(|k| !k.reads_embeddings())
        {
            let a = kind.build().select(&with, 5, &mut Rng::new(4));
            let b = kind.build().select(&blind, 5, &mut Rng::new(4));
            assert_eq!(a, b, "{kind:?} reads the embeddings");
        }
    }

    #[test]
    fn every_strategy_keeps_the_contract() {
        let rows: Vec<Vec<f32>> = (0..40)
            .map(|i| vec![(i % 7) as f32, (i / 7) as f32])
            .collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let candidates: Vec<usize> = (0..40).filter(|i| i % 3 != 0).collect();
        let labeled: Vec<usize> = (0..40).filter(|i| i % 3 == 0).collect();
        let labels: Vec<usize> = labeled.iter().map(|i| i % 2).collect();
        // A real head, so the strategies that need one (BALD, DropQuery) run their own code.
        let head = SoftmaxHead::fit(
            &x.select_rows(&labeled),
            &labels,
            2,
            &crate::head::HeadOptions::default(),
            None,
        )
        .unwrap();
        let probs = head.predict_proba_rows(&x);
        let pool = Pool::unlabeled(&x, &candidates, 2)
            .with_labels(&labeled, &labels)
            .with_probabilities(&probs, Some(&head));
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

    #[test]
    fn compact_rows_pick_what_the_f32_rows_pick() {
        // 2,000 rows of 64 dimensions in 8 clusters, 20 labeled. The f32 path runs on the
        // decoded 8-bit rows, so both paths see the same points and differ only in rounding.
        let mut rng = Rng::new(8);
        let centres: Vec<Vec<f32>> = (0..8)
            .map(|_| (0..64).map(|_| 3.0 * rng.normal() as f32).collect())
            .collect();
        let rows: Vec<Vec<f32>> = (0..2000)
            .map(|i| {
                centres[i % 8]
                    .iter()
                    .map(|c| c + rng.normal() as f32)
                    .collect()
            })
            .collect();
        let store = CompactRows::from_matrix(&Matrix::from_rows(&rows).unwrap());
        let index: Vec<usize> = (0..2000).collect();
        let x = crate::store::Rows::decode(&store, &index);
        let labeled: Vec<usize> = (0..20).collect();
        let labels: Vec<usize> = (0..20).map(|i| i % 8).collect();
        let c: Vec<usize> = (20..2000).collect();
        let probs = Matrix::from_rows(
            &(0..2000)
                .map(|i| {
                    let mut p = vec![0.02f32; 8];
                    p[i % 8] += 0.5 + 0.3 * ((i * 7 % 13) as f32 / 13.0);
                    p[(i + 3) % 8] += 0.34 - 0.3 * ((i * 7 % 13) as f32 / 13.0);
                    p
                })
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let pool = Pool::unlabeled(&x, &c, 8)
            .with_labels(&labeled, &labels)
            .with_probabilities(&probs, None);
        let empty = Matrix::zeros(2000, 0);
        let compact = Pool {
            embeddings: &empty,
            ..pool
        }
        .with_stored(&store, &index);
        let kinds: Vec<StrategyKind> = StrategyKind::ALL
            .into_iter()
            .filter(|k| k.runs_on_compact_rows())
            .collect();
        use StrategyKind::*;
        assert_eq!(kinds, [Badge, CoreSet, TypiClust, ProbCover, ColdStart]);
        for kind in kinds {
            let want = kind.build().select(&pool, 40, &mut Rng::new(1));
            let got = kind.build().select(&compact, 40, &mut Rng::new(1));
            assert_eq!(got, want, "{kind:?}");
        }
    }
}
