//! Cold-start picks: diverse, typical items before a head can rank anything.

use super::{cluster_pool, Pool, PoolClusters, Strategy};
use crate::matrix::sq_dist;
use crate::rng::Rng;

/// Clusters the whole pool into `labeled + batch` k-means clusters and asks, for each cluster that
/// holds no labeled item (largest first), about the candidate nearest its centre: typical items
/// from regions no label covers yet. Tops up with further nearest-to-centre items if clusters run
/// out.
#[derive(Debug, Clone, Copy)]
pub struct ColdStart;

impl Strategy for ColdStart {
    fn name(&self) -> &'static str {
        "cold-start"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        let PoolClusters {
            all,
            rows,
            clustering,
            covered,
            ..
        } = cluster_pool(pool, batch, rng);
        let k = covered.len();
        let mut members: Vec<Vec<(f32, usize)>> = vec![Vec::new(); k];
        let mut is_candidate = vec![false; pool.embeddings.rows()];
        pool.candidates.iter().for_each(|&i| is_candidate[i] = true);
        for (j, &i) in all.iter().enumerate() {
            let c = clustering.assignment[j];
            if is_candidate[i] {
                members[c].push((sq_dist(rows.row(j), clustering.centroids.row(c)), i));
            }
        }
        let mut sizes: Vec<(usize, usize)> = (0..k)
            .map(|c| (clustering.assignment.iter().filter(|&&a| a == c).count(), c))
            .collect();
        sizes.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for m in &mut members {
            m.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        let mut picked = Vec::with_capacity(batch);
        let mut round = 0;
        // First one per uncovered cluster, then one per covered cluster, then deeper rounds.
        while picked.len() < batch.min(pool.candidates.len()) {
            let mut progressed = false;
            for pass_covered in [false, true] {
                for &(_, c) in &sizes {
                    if covered[c] != pass_covered || picked.len() == batch {
                        continue;
                    }
                    if let Some(&(_, i)) = members[c].get(round) {
                        picked.push(i);
                        progressed = true;
                    }
                }
            }
            if !progressed {
                break;
            }
            round += 1;
        }
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    fn groups() -> Matrix {
        let mut rows = Vec::new();
        for g in 0..4 {
            for j in 0..5 {
                rows.push(vec![g as f32 * 50.0 + j as f32, 0.0]);
            }
        }
        Matrix::from_rows(&rows).unwrap()
    }

    #[test]
    fn first_batch_covers_every_group_with_a_central_item() {
        let x = groups();
        let c: Vec<usize> = (0..20).collect();
        let pool = Pool::unlabeled(&x, &c, 2);
        let mut picked = ColdStart.select(&pool, 4, &mut Rng::new(0));
        picked.sort();
        assert_eq!(picked, vec![2, 7, 12, 17]);
    }

    #[test]
    fn labeled_groups_are_asked_about_last() {
        let x = groups();
        let labeled = [2, 7];
        let c: Vec<usize> = (0..20).filter(|i| !labeled.contains(i)).collect();
        let pool = Pool::unlabeled(&x, &c, 2).with_labels(&labeled, &[0, 1]);
        let mut picked = ColdStart.select(&pool, 2, &mut Rng::new(0));
        picked.sort();
        assert_eq!(picked, vec![12, 17]);
    }
}
