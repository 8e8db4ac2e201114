//! DropQuery (Gupte et al., 2024, "Revisiting Active Learning in the Era of Vision Foundation
//! Models"): dropout on the features finds uncertain items, k-means keeps the batch diverse.
//!
//! The head predicts each candidate [`SAMPLES`] times with [`RATE`] of its features dropped
//! (inverted dropout, as torch does). Items whose prediction changes in more than half of the
//! samples are the uncertain set (topped up to the batch size with the next most inconsistent);
//! the set (a uniform sample of at most 1,000 of it on large pools) is clustered into `batch`
//! k-means clusters (10 Lloyd steps) and the item nearest each centre is asked.

use super::{sample_at_most, ColdStart, Pool, Strategy, MAX_CLUSTERED};
use crate::kmeans::kmeans;
use crate::matrix::{sq_dist, Matrix};
use crate::rng::Rng;

/// Dropout samples per item (the paper's M).
pub const SAMPLES: usize = 3;
/// Fraction of features dropped in each sample.
pub const RATE: f32 = 0.75;

/// See the module docs. Before a head exists it asks centroid items, as the paper's cold start
/// does ([`ColdStart`]).
#[derive(Debug, Clone, Copy)]
pub struct DropQuery;

/// How many of [`SAMPLES`] dropout predictions of each candidate differ from the plain one.
pub fn dropout_disagreement(pool: &Pool<'_>, rng: &mut Rng) -> Option<Vec<u8>> {
    let head = pool.head?.to_f32();
    let x = pool.embeddings;
    let keep_above = (RATE * 65536.0) as u32;
    let scale = 1.0 / (1.0 - RATE);
    let mut dropped = vec![0.0; x.cols()];
    Some(
        pool.candidates
            .iter()
            .map(|&i| {
                let row = x.row(i);
                let plain = head.predict(row);
                let mut changed = 0;
                for _ in 0..SAMPLES {
                    for (chunk_out, chunk_in) in dropped.chunks_mut(4).zip(row.chunks(4)) {
                        let bits = rng.next_u64();
                        for (k, (o, v)) in chunk_out.iter_mut().zip(chunk_in).enumerate() {
                            let r = ((bits >> (16 * k)) & 0xffff) as u32;
                            *o = if r >= keep_above { v * scale } else { 0.0 };
                        }
                    }
                    changed += u8::from(head.predict(&dropped) != plain);
                }
                changed
            })
            .collect(),
    )
}

impl Strategy for DropQuery {
    fn name(&self) -> &'static str {
        "dropquery"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        let Some(changed) = dropout_disagreement(pool, rng) else {
            return ColdStart.select(pool, batch, rng);
        };
        let c = pool.candidates;
        let batch = batch.min(c.len());
        let mut order: Vec<usize> = (0..c.len()).collect();
        order.sort_by(|&a, &b| changed[b].cmp(&changed[a]).then(a.cmp(&b)));
        let uncertain = changed
            .iter()
            .filter(|&&n| 2 * usize::from(n) > SAMPLES)
            .count();
        let mut set: Vec<usize> = order[..uncertain.max(batch)]
            .iter()
            .map(|&j| c[j])
            .collect();
        set.sort_unstable();
        let set = sample_at_most(&set, MAX_CLUSTERED / 2, rng);
        let clustering = kmeans(pool.embeddings, &set, batch, 10, rng);
        nearest_to_centres(pool.embeddings, &set, &clustering.centroids, batch)
    }
}

/// For each centre in turn, the not yet picked item of `items` nearest to it; `batch` in all
/// (fewer only when `items` is smaller).
fn nearest_to_centres(x: &Matrix, items: &[usize], centres: &Matrix, batch: usize) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::with_capacity(batch);
    let mut taken = vec![false; items.len()];
    for k in 0..centres.rows() {
        let best = (0..items.len()).filter(|&j| !taken[j]).min_by(|&a, &b| {
            sq_dist(x.row(items[a]), centres.row(k))
                .total_cmp(&sq_dist(x.row(items[b]), centres.row(k)))
        });
        if let Some(j) = best {
            taken[j] = true;
            picked.push(items[j]);
        }
    }
    picked.extend(
        (0..items.len())
            .filter(|&j| !taken[j])
            .take(batch.saturating_sub(picked.len()))
            .map(|j| items[j]),
    );
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::{HeadOptions, SoftmaxHead};

    #[test]
    fn asks_inconsistent_items_from_different_regions() {
        // The class signal is spread over 32 noisy features (as in real embeddings), so dropping
        // 75% of them leaves confident items alone and flips items near the boundary. The
        // boundary items form two groups (feature 32 = ±8, which the head ignores); a batch of 2
        // takes one from each.
        let mut noise = Rng::new(3);
        let mut row = |s: f32, group: f32| -> Vec<f32> {
            let mut r: Vec<f32> = (0..32).map(|_| s + 0.5 * noise.normal() as f32).collect();
            r.push(group);
            r
        };
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for k in 0..20 {
            let side = if k % 2 == 0 { 1.0 } else { -1.0 };
            rows.push(row(side * (1.0 + 0.05 * (k % 4) as f32), 0.0));
            labels.push(usize::from(side > 0.0));
        }
        let labeled: Vec<usize> = (0..20).collect();
        for k in 0..40 {
            rows.push(if k < 20 {
                row(2.0 + 0.1 * k as f32, 0.0)
            } else {
                let group = if k < 30 { 8.0 } else { -8.0 };
                row(0.01 * (k % 10) as f32 - 0.045, group)
            });
        }
        let x = Matrix::from_rows(&rows).unwrap();
        let head = SoftmaxHead::fit(
            &x.select_rows(&labeled),
            &labels,
            2,
            &HeadOptions::default(),
            None,
        )
        .unwrap();
        let probs = head.predict_proba_rows(&x);
        let candidates: Vec<usize> = (20..60).collect();
        let pool = Pool::unlabeled(&x, &candidates, 2)
            .with_labels(&labeled, &labels)
            .with_probabilities(&probs, Some(&head));
        let changed = dropout_disagreement(&pool, &mut Rng::new(1)).unwrap();
        let far_flips: usize = changed[..20].iter().map(|&n| usize::from(n)).sum();
        let near_flips: usize = changed[20..].iter().map(|&n| usize::from(n)).sum();
        assert!(near_flips > far_flips, "{changed:?}");
        let picked = DropQuery.select(&pool, 2, &mut Rng::new(1));
        assert!(picked.iter().all(|&i| i >= 40), "{picked:?}");
        let high = picked.iter().filter(|&&i| x.row(i)[1] > 0.0).count();
        assert_eq!(high, 1, "{picked:?}");
    }
}
