//! TypiClust (Hacohen et al., 2022): the most typical item of each uncovered cluster.

use super::{cluster_pool, top_up_randomly, Pool, PoolClusters, Strategy};
use crate::compute::sample;
use crate::rng::Rng;
use crate::store::CompactRows;

/// Neighbours used for typicality.
const K_NEIGHBOURS: usize = 20;
/// Largest cluster sample on which typicality is computed (keeps it O(n) overall).
const MAX_SAMPLE: usize = 1000;

/// Clusters labeled + candidate items into `labeled + batch` k-means clusters; for each cluster
/// without a labeled item, largest first, picks the candidate with the highest typicality (inverse
/// mean distance to its K nearest neighbours within the cluster).
#[derive(Debug, Clone, Copy)]
pub struct TypiClust;

/// `1 / mean distance to the k nearest other members` of each of `members` (rows of `x`),
/// the distances from the compute kernel's exact integer dot products.
pub fn typicality(x: &CompactRows, members: &[usize]) -> Vec<f32> {
    let n = members.len();
    let k = K_NEIGHBOURS.min(n.saturating_sub(1));
    if k == 0 {
        return vec![1.0; n];
    }
    let d = sample::distances(x, members);
    let mut others = Vec::with_capacity(n - 1);
    (0..n)
        .map(|a| {
            others.clear();
            others.extend((0..n).filter(|&b| b != a).map(|b| d[a * n + b]));
            others.select_nth_unstable_by(k - 1, f32::total_cmp);
            let mean = others[..k].iter().sum::<f32>() / k as f32;
            1.0 / (mean + 1e-12)
        })
        .collect()
}

impl Strategy for TypiClust {
    fn name(&self) -> &'static str {
        "typiclust"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        let PoolClusters {
            all,
            codes,
            clustering,
            covered,
            ..
        } = cluster_pool(pool, batch, rng);
        let k = covered.len();
        let mut is_candidate = vec![false; pool.embeddings.rows()];
        pool.candidates.iter().for_each(|&i| is_candidate[i] = true);
        // Members by position in `all` (ascending like the items, so ties break alike).
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
        for j in 0..all.len() {
            members[clustering.assignment[j]].push(j);
        }
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| {
            covered[a]
                .cmp(&covered[b])
                .then(members[b].len().cmp(&members[a].len()))
                .then(a.cmp(&b))
        });
        let mut picked = Vec::with_capacity(batch);
        for c in order {
            if picked.len() == batch {
                break;
            }
            let mut sample = members[c].clone();
            if sample.len() > MAX_SAMPLE {
                rng.shuffle(&mut sample);
                sample.truncate(MAX_SAMPLE);
            }
            let typ = typicality(&codes, &sample);
            let best = sample
                .iter()
                .map(|&j| all[j])
                .zip(&typ)
                .filter(|(i, _)| is_candidate[*i] && !picked.contains(i))
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                .map(|(i, _)| i);
            if let Some(i) = best {
                picked.push(i);
            }
        }
        // Fewer usable clusters than the batch: top up with random candidates.
        top_up_randomly(pool, &mut picked, batch, rng);
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn one_typical_item_per_cluster() {
        // Four tight groups, each with one outlier; the pick in each group is a dense member.
        let mut rows = Vec::new();
        for g in 0..4 {
            for j in 0..6 {
                rows.push(vec![g as f32 * 100.0 + (j as f32) * 0.1, 0.0]);
            }
            rows.push(vec![g as f32 * 100.0 + 5.0, 5.0]);
        }
        let x = Matrix::from_rows(&rows).unwrap();
        let c: Vec<usize> = (0..28).collect();
        let pool = Pool::unlabeled(&x, &c, 2);
        let picked = TypiClust.select(&pool, 4, &mut Rng::new(1));
        let groups: std::collections::BTreeSet<usize> = picked.iter().map(|i| i / 7).collect();
        assert_eq!(groups.len(), 4, "{picked:?}");
        assert!(
            picked.iter().all(|i| i % 7 != 6),
            "an outlier was picked: {picked:?}"
        );
    }
}
