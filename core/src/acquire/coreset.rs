//! Core-Set (Sener & Savarese, 2018): k-center greedy in embedding space.

use super::{Pool, RandomSampler, Stored, Strategy};
use crate::compute::{Backend, Centres};
use crate::matrix::sq_dist;
use crate::rng::Rng;
use crate::store::CompactRows;

/// Repeatedly picks the candidate farthest from everything labeled or already picked, which
/// greedily minimises the covering radius. Starts from a random candidate when nothing is labeled.
#[derive(Debug, Clone, Copy)]
pub struct CoreSet;

/// Runs k-center greedy and also returns the covering radius (largest distance from a candidate
/// to its nearest centre) before each pick: non-increasing by construction.
pub fn k_center_greedy(pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> (Vec<usize>, Vec<f32>) {
    let x = pool.embeddings;
    let c = pool.candidates;
    let mut nearest = vec![f32::INFINITY; c.len()];
    for &l in pool.labeled {
        for (j, &i) in c.iter().enumerate() {
            nearest[j] = nearest[j].min(sq_dist(x.row(i), x.row(l)));
        }
    }
    let mut picked = Vec::with_capacity(batch.min(c.len()));
    let mut radii = Vec::new();
    while picked.len() < batch.min(c.len()) {
        let j = if nearest.iter().all(|d| d.is_infinite()) {
            RandomSampler
                .select(pool, 1, rng)
                .first()
                .map(|i| c.binary_search(i).unwrap_or(0))
                .unwrap_or(0)
        } else {
            let mut best = 0;
            for (k, d) in nearest.iter().enumerate() {
                if *d > nearest[best] {
                    best = k;
                }
            }
            radii.push(nearest[best].sqrt());
            best
        };
        let centre = c[j];
        picked.push(centre);
        for (k, &i) in c.iter().enumerate() {
            nearest[k] = nearest[k].min(sq_dist(x.row(i), x.row(centre)));
        }
        nearest[j] = f32::NEG_INFINITY;
    }
    (picked, radii)
}

/// [`k_center_greedy`]'s picks on the learner's compact rows ([`Centres`]): the labeled items
/// are added as centres in one pass, then [`Centres::greedy`] picks lazily.
fn k_center_compact(
    pool: &Pool<'_>,
    stored: Stored<'_>,
    batch: usize,
    rng: &mut Rng,
) -> Vec<usize> {
    let rows = stored.rows_of(pool.candidates);
    let mut centres = Centres::new(stored.store, &rows);
    let labeled = stored.rows_of(pool.labeled);
    if !labeled.is_empty() {
        centres.add(&labeled);
    }
    centres
        .greedy(batch, rng)
        .into_iter()
        .map(|j| pool.candidates[j])
        .collect()
}

/// [`k_center_compact`]'s picks from `backend` (positions into `candidates`, which like
/// `labeled` are store rows), drawing from `rng` exactly as [`Centres::greedy`] does; `None` when
/// the backend declines. Without labels the seeded first pick is made here and handed to the
/// backend as its one centre, the other candidates as its rows.
pub(crate) async fn k_center_on<B: Backend>(
    backend: &mut B,
    store: &CompactRows,
    candidates: &[usize],
    labeled: &[usize],
    batch: usize,
    rng: &mut Rng,
) -> Option<Vec<usize>> {
    let want = batch.min(candidates.len());
    if want == 0 {
        return Some(Vec::new());
    }
    if !labeled.is_empty() {
        return backend.k_center(store, candidates, labeled, want).await;
    }
    let first = rng.below(candidates.len());
    let mut rest = candidates.to_vec();
    rest.remove(first);
    let picked = backend
        .k_center(store, &rest, &[candidates[first]], want - 1)
        .await?;
    let shifted = picked
        .into_iter()
        .map(|j| if j >= first { j + 1 } else { j });
    Some(std::iter::once(first).chain(shifted).collect())
}

impl Strategy for CoreSet {
    fn name(&self) -> &'static str {
        "coreset"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        match pool.stored {
            Some(stored) => k_center_compact(pool, stored, batch, rng),
            None => k_center_greedy(pool, batch, rng).0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn covering_radius_never_increases_and_far_points_come_first() {
        let mut rng = Rng::new(5);
        let rows: Vec<Vec<f32>> = (0..200)
            .map(|_| vec![rng.normal() as f32, rng.normal() as f32])
            .collect();
        let x = Matrix::from_rows(&rows).unwrap();
        let labeled = [0, 1];
        let c: Vec<usize> = (2..200).collect();
        let pool = Pool::unlabeled(&x, &c, 2).with_labels(&labeled, &[0, 1]);
        let (picked, radii) = k_center_greedy(&pool, 30, &mut Rng::new(0));
        assert_eq!(picked.len(), 30);
        assert!(radii.windows(2).all(|w| w[1] <= w[0]), "{radii:?}");
    }
}
