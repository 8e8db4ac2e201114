//! AnchorAL (Lesci & Vlachos, 2024): on large pools, any strategy runs on a small subpool
//! retrieved around per-class anchors.
//!
//! Anchors are up to [`ANCHORS_PER_CLASS`] labeled items of each class (a seeded uniform draw).
//! Each anchor retrieves its [`NEIGHBOURS`] most cosine-similar candidates. Per class, the items
//! its anchors retrieved are ranked by mean similarity to those anchors, and the classes take
//! turns filling the subpool of [`SUBPOOL`] items: a rare class gets as large a share as a common
//! one, and the subpool's size does not grow with the pool.

use super::{Pool, StrategyKind};
use crate::matrix::{dot, norm};
use crate::rng::Rng;

/// Anchors drawn per class.
pub const ANCHORS_PER_CLASS: usize = 5;
/// Candidates each anchor retrieves.
pub const NEIGHBOURS: usize = 200;
/// Size of the subpool handed to the strategy.
pub const SUBPOOL: usize = 2_000;
/// Candidates above which [`Subpool::Auto`] turns AnchorAL on.
pub const AUTO_ABOVE: usize = 20_000;

/// Whether a strategy runs on the whole pool or on an AnchorAL subpool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subpool {
    /// AnchorAL when the pool has more than [`AUTO_ABOVE`] candidates and labels exist.
    #[default]
    Auto,
    /// AnchorAL whenever labels exist.
    Anchoral,
    /// Always the whole pool.
    Off,
}

impl Subpool {
    /// Every mode, for pickers.
    pub const ALL: [Subpool; 3] = [Subpool::Auto, Subpool::Anchoral, Subpool::Off];

    /// Stable name, as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Subpool::Auto => "auto",
            Subpool::Anchoral => "anchoral",
            Subpool::Off => "off",
        }
    }

    /// The mode with this [`Subpool::name`].
    pub fn from_name(name: &str) -> Option<Subpool> {
        Subpool::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether this mode applies AnchorAL to `pool`.
    pub fn applies(self, pool: &Pool<'_>) -> bool {
        let has_anchors = !pool.labels.is_empty() && pool.labels.len() == pool.labeled.len();
        match self {
            Subpool::Auto => has_anchors && pool.candidates.len() > AUTO_ABOVE,
            Subpool::Anchoral => has_anchors,
            Subpool::Off => false,
        }
    }
}

/// Picks `batch` items with `kind`, on an AnchorAL subpool when `mode` applies to `pool`.
/// The one entry point the learner and the simulator use.
pub fn select(
    kind: StrategyKind,
    pool: &Pool<'_>,
    batch: usize,
    mode: Subpool,
    rng: &mut Rng,
) -> Vec<usize> {
    let strategy = kind.build();
    if !mode.applies(pool) {
        return strategy.select(pool, batch, rng);
    }
    let sub = anchor_subpool(pool, rng);
    if sub.len() < batch.min(pool.candidates.len()) {
        return strategy.select(pool, batch, rng);
    }
    let sub_pool = Pool {
        candidates: &sub,
        ..*pool
    };
    strategy.select(&sub_pool, batch, rng)
}

/// The AnchorAL subpool of `pool`: candidates, ascending, at most [`SUBPOOL`] of them.
pub fn anchor_subpool(pool: &Pool<'_>, rng: &mut Rng) -> Vec<usize> {
    let x = pool.embeddings;
    let mut anchors: Vec<usize> = Vec::new();
    let mut anchor_class: Vec<usize> = Vec::new();
    for class in 0..pool.classes {
        let mut members: Vec<usize> = pool
            .labeled
            .iter()
            .zip(pool.labels)
            .filter(|(_, &c)| c == class)
            .map(|(&i, _)| i)
            .collect();
        rng.shuffle(&mut members);
        members.truncate(ANCHORS_PER_CLASS);
        anchor_class.extend(members.iter().map(|_| class));
        anchors.extend(members);
    }
    let anchor_rows = x.select_rows(&anchors).normalised();
    // Candidates in blocks, every anchor against a block: one pass over the pool's memory.
    const BLOCK: usize = 64;
    let c = pool.candidates;
    let mut sims: Vec<Vec<f32>> = vec![Vec::with_capacity(c.len()); anchors.len()];
    for block in c.chunks(BLOCK) {
        let norms: Vec<f32> = block.iter().map(|&i| norm(x.row(i)).max(1e-12)).collect();
        for (a, s) in (0..anchors.len())
            .map(|k| anchor_rows.row(k))
            .zip(&mut sims)
        {
            s.extend(block.iter().zip(&norms).map(|(&i, n)| dot(a, x.row(i)) / n));
        }
    }
    // Per class: the items its anchors retrieved, by mean similarity to those anchors.
    let mut per_class: Vec<std::collections::BTreeMap<usize, (f32, u32)>> =
        vec![Default::default(); pool.classes];
    let k = NEIGHBOURS.min(c.len());
    for (s, &class) in sims.iter().zip(&anchor_class) {
        if k == 0 {
            break;
        }
        let mut order: Vec<usize> = (0..c.len()).collect();
        order.select_nth_unstable_by(k - 1, |&p, &q| s[q].total_cmp(&s[p]).then(p.cmp(&q)));
        for &j in &order[..k] {
            let e = per_class[class].entry(j).or_insert((0.0, 0));
            e.0 += s[j];
            e.1 += 1;
        }
    }
    let ranked: Vec<Vec<(f32, usize)>> = per_class
        .into_iter()
        .map(|m| {
            let mut v: Vec<(f32, usize)> =
                m.into_iter().map(|(j, (t, h))| (t / h as f32, j)).collect();
            v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            v
        })
        .collect();
    // Equal shares per class, round robin, until the subpool is full or all are used.
    let mut taken = vec![false; c.len()];
    let mut sub = Vec::with_capacity(SUBPOOL);
    let mut cursor = vec![0; ranked.len()];
    let mut progressed = true;
    while sub.len() < SUBPOOL && progressed {
        progressed = false;
        for (r, cur) in ranked.iter().zip(&mut cursor) {
            while let Some(&(_, j)) = r.get(*cur) {
                *cur += 1;
                if !taken[j] {
                    taken[j] = true;
                    sub.push(c[j]);
                    progressed = true;
                    break;
                }
            }
            if sub.len() == SUBPOOL {
                break;
            }
        }
    }
    sub.sort_unstable();
    sub
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn subpool_is_small_balanced_and_near_the_anchors() {
        // 3 classes in different directions; class 2 is rare (1 in 20). The pool also holds a
        // far-away blob no class is near.
        let mut rng = Rng::new(9);
        let dirs = [
            [1.0f32, 0.0, 0.0],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            [-1.0, -1.0, 0.0],
        ];
        let mut rows = Vec::new();
        let mut class = Vec::new();
        for i in 0..30_000 {
            let c = if i % 20 == 0 {
                2
            } else if i % 10 == 1 {
                3
            } else {
                i % 2
            };
            let d = dirs[c];
            rows.push((0..3).map(|k| d[k] + 0.2 * rng.normal() as f32).collect());
            class.push(c);
        }
        let x = Matrix::from_rows(&rows).unwrap();
        let labeled: Vec<usize> = (0..200).filter(|&i| class[i] < 3).collect();
        let labels: Vec<usize> = labeled.iter().map(|&i| class[i]).collect();
        let candidates: Vec<usize> = (200..30_000).collect();
        let pool = Pool::unlabeled(&x, &candidates, 3).with_labels(&labeled, &labels);
        assert!(Subpool::Auto.applies(&pool));
        assert!(!Subpool::Off.applies(&pool));
        let sub = anchor_subpool(&pool, &mut Rng::new(1));
        assert!(sub.len() <= SUBPOOL && sub.len() >= 1_000, "{}", sub.len());
        assert!(sub.iter().all(|i| candidates.binary_search(i).is_ok()));
        let count = |c: usize| sub.iter().filter(|&&i| class[i] == c).count();
        // The rare class is well represented; the blob no anchor is near is absent.
        assert!(
            count(2) * 5 >= sub.len(),
            "rare class {} of {}",
            count(2),
            sub.len()
        );
        assert_eq!(count(3), 0);
        let picked = select(
            StrategyKind::Random,
            &pool,
            10,
            Subpool::Anchoral,
            &mut Rng::new(1),
        );
        assert_eq!(picked.len(), 10);
        assert!(picked.iter().all(|&i| class[i] != 3));
    }
}
