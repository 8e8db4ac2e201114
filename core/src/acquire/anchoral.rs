//! AnchorAL (Lesci & Vlachos, 2024): on large pools, any strategy runs on a small subpool
//! retrieved around per-class anchors.
//!
//! Anchors are up to [`ANCHORS_PER_CLASS`] labeled items of each class (a seeded uniform draw).
//! Each anchor retrieves its [`NEIGHBOURS`] most cosine-similar candidates. Per class, the items
//! its anchors retrieved are ranked by mean similarity to those anchors, and the classes take
//! turns filling the subpool of [`SUBPOOL`] items: a rare class gets as large a share as a common
//! one, and the subpool's size does not grow with the pool.

use std::collections::BTreeMap;

use super::{Pool, StrategyKind};
use crate::compute::{self, Best, Vectors};
use crate::matrix::{dot, norm};
use crate::rng::Rng;
use crate::store::{CompactRows, Rows};

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
        self.applies_to(pool.candidates.len(), has_anchors)
    }

    /// Whether this mode applies AnchorAL to a pool of `candidates` candidates, with or without
    /// labeled items to anchor on.
    pub fn applies_to(self, candidates: usize, has_anchors: bool) -> bool {
        match self {
            Subpool::Auto => has_anchors && candidates > AUTO_ABOVE,
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
    subpool(
        pool.embeddings,
        pool.candidates,
        pool.labeled,
        pool.labels,
        pool.classes,
        rng,
    )
}

/// The AnchorAL subpool of `candidates` (ascending) over any row storage, anchored on `labeled`
/// items of classes `labels`: at most [`SUBPOOL`] candidates, ascending. The learner calls this
/// on its compact rows, so a large pool is never decoded as a whole.
pub fn subpool(
    rows: &impl Rows,
    candidates: &[usize],
    labeled: &[usize],
    labels: &[usize],
    classes: usize,
    rng: &mut Rng,
) -> Vec<usize> {
    anchored(candidates, labeled, labels, classes, rng, |anchors| {
        similarities(rows, candidates, anchors)
    })
}

/// [`subpool`] on the learner's 8-bit rows: the cosines come from the compute layer's integer
/// kernel (every anchor against a block of rows at once), not from decoded rows, and only each
/// anchor's best [`NEIGHBOURS`] are kept (never an anchors × pool table: 200 MB at a million).
pub fn compact_subpool(
    store: &CompactRows,
    candidates: &[usize],
    labeled: &[usize],
    labels: &[usize],
    classes: usize,
    rng: &mut Rng,
) -> Vec<usize> {
    anchored(candidates, labeled, labels, classes, rng, |anchors| {
        let mut best = vec![Best::new(NEIGHBOURS); anchors.len()];
        let vectors = Vectors::from_rows(store, anchors);
        compute::each_cosine(store, candidates, &vectors, |r, v, c| best[v].offer(c, r));
        best.into_iter().map(Best::into_vec).collect()
    })
}

/// The subpool: anchors drawn, each anchor's [`NEIGHBOURS`] most similar candidates (`nearest`:
/// one list of (candidate position, cosine) per anchor, in any order), retrieval, then the
/// classes' turns.
fn anchored(
    candidates: &[usize],
    labeled: &[usize],
    labels: &[usize],
    classes: usize,
    rng: &mut Rng,
    nearest: impl FnOnce(&[usize]) -> Vec<Vec<(usize, f64)>>,
) -> Vec<usize> {
    let (anchors, anchor_class) = pick_anchors(labeled, labels, classes, rng);
    let nearest = nearest(&anchors);
    let ranked = retrieve(&nearest, &anchor_class, classes);
    let mut sub: Vec<usize> = round_robin(&ranked, candidates.len(), SUBPOOL)
        .into_iter()
        .map(|j| candidates[j])
        .collect();
    sub.sort_unstable();
    sub
}

/// Up to [`ANCHORS_PER_CLASS`] labeled items of each class (a seeded draw), and their classes.
fn pick_anchors(
    labeled: &[usize],
    labels: &[usize],
    classes: usize,
    rng: &mut Rng,
) -> (Vec<usize>, Vec<usize>) {
    let mut anchors = Vec::new();
    let mut anchor_class = Vec::new();
    for class in 0..classes {
        let mut members: Vec<usize> = labeled
            .iter()
            .zip(labels)
            .filter(|(_, &c)| c == class)
            .map(|(&i, _)| i)
            .collect();
        rng.shuffle(&mut members);
        members.truncate(ANCHORS_PER_CLASS);
        anchor_class.extend(members.iter().map(|_| class));
        anchors.extend(members);
    }
    (anchors, anchor_class)
}

/// Each anchor's [`NEIGHBOURS`] most cosine-similar candidates (position in `candidates`,
/// cosine). Candidates go in blocks, every anchor against a block, so the rows are read once.
fn similarities(
    rows: &impl Rows,
    candidates: &[usize],
    anchors: &[usize],
) -> Vec<Vec<(usize, f64)>> {
    const BLOCK: usize = 64;
    let units = rows.decode(anchors).normalised();
    let mut best = vec![Best::new(NEIGHBOURS); anchors.len()];
    for (b, block) in candidates.chunks(BLOCK).enumerate() {
        let x = rows.decode(block);
        let norms: Vec<f32> = (0..block.len())
            .map(|r| norm(x.row(r)).max(1e-12))
            .collect();
        for (k, best) in best.iter_mut().enumerate() {
            let a = units.row(k);
            for (r, n) in norms.iter().enumerate() {
                best.offer(f64::from(dot(a, x.row(r)) / n), b * BLOCK + r);
            }
        }
    }
    best.into_iter().map(Best::into_vec).collect()
}

/// Per class: candidate positions its anchors retrieved, best first by mean similarity to the
/// anchors that retrieved them.
fn retrieve(
    nearest: &[Vec<(usize, f64)>],
    anchor_class: &[usize],
    classes: usize,
) -> Vec<Vec<usize>> {
    let mut per_class: Vec<BTreeMap<usize, (f64, u32)>> = vec![BTreeMap::new(); classes];
    for (found, &class) in nearest.iter().zip(anchor_class) {
        for &(j, s) in found {
            let e = per_class[class].entry(j).or_insert((0.0, 0));
            e.0 += s;
            e.1 += 1;
        }
    }
    per_class
        .into_iter()
        .map(|m| {
            let mut v: Vec<(f64, usize)> = m
                .into_iter()
                .map(|(j, (t, h))| (t / f64::from(h), j))
                .collect();
            v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            v.into_iter().map(|(_, j)| j).collect()
        })
        .collect()
}

/// Takes from the ranked lists in turn, skipping what another list already gave, until `cap`
/// positions (of `n`) are taken or the lists run out: every class gets an equal share.
fn round_robin(ranked: &[Vec<usize>], n: usize, cap: usize) -> Vec<usize> {
    let mut taken = vec![false; n];
    let mut lists: Vec<_> = ranked.iter().map(|r| r.iter().copied()).collect();
    let mut out = Vec::with_capacity(cap);
    loop {
        let before = out.len();
        for list in &mut lists {
            if out.len() == cap {
                return out;
            }
            if let Some(j) = list.find(|&j| !taken[j]) {
                taken[j] = true;
                out.push(j);
            }
        }
        if out.len() == before {
            return out;
        }
    }
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
        // The same subpool from the integer kernel on the 8-bit rows, up to rounding at the
        // edge of a retrieval: in 3 dimensions many cosines nearly tie.
        let store = CompactRows::from_matrix(&x);
        let compact = compact_subpool(&store, &candidates, &labeled, &labels, 3, &mut Rng::new(1));
        let decoded = subpool(&store, &candidates, &labeled, &labels, 3, &mut Rng::new(1));
        let shared = compact
            .iter()
            .filter(|i| decoded.binary_search(i).is_ok())
            .count();
        assert!(
            shared * 100 >= 99 * decoded.len() && compact.len() == decoded.len(),
            "{shared} of {}",
            decoded.len()
        );
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
