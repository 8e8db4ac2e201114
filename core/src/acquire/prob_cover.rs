//! ProbCover (Yehuda et al., 2022, "Active Learning Through a Covering Lens"): greedy maximum
//! coverage with balls of radius δ, for very low budgets.
//!
//! Distances are Euclidean between L2-normalised embeddings. δ comes from the paper's purity
//! heuristic: cluster the pool into one k-means cluster per class; a ball is pure when every item
//! in it shares the centre's cluster; δ is the largest radius at which at least [`ALPHA`] of the
//! balls are pure. Each item's "purity radius" (distance to its nearest item of another cluster)
//! gives that δ exactly, as a quantile, with no grid to search.

use super::{sample_at_most, top_up_randomly, Pool, Strategy, MAX_GRAPH};
use crate::compute::sample;
use crate::kmeans::kmeans_rows;
use crate::rng::Rng;

/// Fraction of balls that must be pure.
pub const ALPHA: f32 = 0.95;

/// See the module docs. Items already labeled cover their balls. When every ball is covered the
/// rest of the batch is random. On pools above [`MAX_GRAPH`] candidates the ball graph is built on
/// a uniform sample of them.
#[derive(Debug, Clone, Copy)]
pub struct ProbCover;

/// The largest δ at which at least `alpha` of the balls are pure, given each item's cluster.
pub fn purity_radius(d: &[f32], cluster: &[usize], alpha: f32) -> f32 {
    let n = cluster.len();
    let mut r: Vec<f32> = (0..n)
        .map(|i| {
            (0..n)
                .filter(|&j| cluster[j] != cluster[i])
                .map(|j| d[i * n + j])
                .fold(f32::INFINITY, f32::min)
        })
        .collect();
    r.sort_by(f32::total_cmp);
    // Balls with δ < rᵢ are pure; allow at most `impure` of them to be impure.
    let impure = ((1.0 - alpha) * n as f32).floor() as usize;
    match r.get(impure) {
        Some(v) if v.is_finite() => v * (1.0 - 1e-6),
        // One cluster only: every ball is pure at any radius; the diameter covers all.
        _ => 2.0,
    }
}

impl Strategy for ProbCover {
    fn name(&self) -> &'static str {
        "probcover"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        let cands = sample_at_most(pool.candidates, MAX_GRAPH, rng);
        let labeled = sample_at_most(pool.labeled, MAX_GRAPH, rng);
        let nodes: Vec<usize> = labeled.iter().chain(&cands).copied().collect();
        let n = nodes.len();
        if n == 0 {
            return Vec::new();
        }
        let all: Vec<usize> = (0..n).collect();
        let z = sample::quantised(&pool.select_rows(&nodes).normalised(), &all);
        let d = sample::distances(&z, &all);
        let clusters = kmeans_rows(&z, &all, pool.classes.max(2), 25, rng);
        let delta = purity_radius(&d, &clusters.assignment, ALPHA);
        let neighbours: Vec<Vec<usize>> = (0..n)
            .map(|i| (0..n).filter(|&j| d[i * n + j] <= delta).collect())
            .collect();
        let mut covered = vec![false; n];
        let mut degree: Vec<usize> = neighbours.iter().map(Vec::len).collect();
        let cover = |i: usize, covered: &mut [bool], degree: &mut [usize]| {
            for &j in &neighbours[i] {
                if !covered[j] {
                    covered[j] = true;
                    // j no longer counts for any ball that holds it (distances are symmetric).
                    neighbours[j].iter().for_each(|&m| degree[m] -= 1);
                }
            }
        };
        (0..labeled.len()).for_each(|i| cover(i, &mut covered, &mut degree));
        let mut picked = Vec::with_capacity(batch);
        let mut is_picked = vec![false; n];
        while picked.len() < batch.min(cands.len()) {
            let best = (labeled.len()..n)
                .filter(|&i| !is_picked[i])
                .max_by(|&a, &b| degree[a].cmp(&degree[b]).then(b.cmp(&a)));
            match best {
                Some(i) if degree[i] > 0 => {
                    is_picked[i] = true;
                    picked.push(nodes[i]);
                    cover(i, &mut covered, &mut degree);
                }
                _ => break,
            }
        }
        top_up_randomly(pool, &mut picked, batch, rng);
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    fn ring_groups() -> Matrix {
        // Three tight groups of different sizes at well separated directions.
        let mut rows = Vec::new();
        for (g, size) in [(0.0f32, 12), (2.1, 8), (4.2, 4)] {
            for j in 0..size {
                let a = g + 0.01 * j as f32;
                rows.push(vec![a.cos(), a.sin()]);
            }
        }
        Matrix::from_rows(&rows).unwrap()
    }

    #[test]
    fn purity_radius_stops_before_balls_cross_clusters() {
        let all: Vec<usize> = (0..24).collect();
        let d = sample::distances(&sample::quantised(&ring_groups(), &all), &all);
        let cluster: Vec<usize> = (0..24)
            .map(|i| usize::from(i >= 12) + usize::from(i >= 20))
            .collect();
        let delta = purity_radius(&d, &cluster, ALPHA);
        // Within-group spread is ≤ 0.12; groups are ≥ 1.7 apart.
        assert!(delta > 0.12 && delta < 1.7, "{delta}");
    }

    #[test]
    fn covers_the_largest_uncovered_group_first() {
        let x = ring_groups();
        let candidates: Vec<usize> = (0..24).collect();
        let pool = Pool::unlabeled(&x, &candidates, 3);
        let picked = ProbCover.select(&pool, 3, &mut Rng::new(2));
        let groups: Vec<usize> = picked
            .iter()
            .map(|&i| usize::from(i >= 12) + usize::from(i >= 20))
            .collect();
        assert_eq!(groups, vec![0, 1, 2], "{picked:?}");
        // A labeled item in the big group: the first pick moves to the next group.
        let labeled = [3];
        let candidates: Vec<usize> = (0..24).filter(|&i| i != 3).collect();
        let pool = Pool::unlabeled(&x, &candidates, 3).with_labels(&labeled, &[0]);
        let picked = ProbCover.select(&pool, 1, &mut Rng::new(2));
        assert!((12..20).contains(&picked[0]), "{picked:?}");
    }
}
