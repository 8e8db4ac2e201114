//! Evidence for the Map's t-SNE layout (issue 13) on the Fashion-MNIST demo embeddings (2,000
//! items, 10 classes): it keeps each item's nearest neighbours near far better than the PCA map
//! does, and items of one class together, while staying deterministic.

use quarry_core::map::{self, tsne::Tsne, Layout, Method};
use quarry_core::matrix::Matrix;
use quarry_core::store::CompactRows;

#[path = "support/demo.rs"]
mod support;

const K: usize = 10;

/// Each row's `K` nearest other rows by `distance` (ties: lower row).
fn knn(n: usize, distance: impl Fn(usize, usize) -> f64) -> Vec<Vec<usize>> {
    (0..n)
        .map(|i| {
            let mut d: Vec<(f64, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (distance(i, j), j))
                .collect();
            d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            d.into_iter().take(K).map(|(_, j)| j).collect()
        })
        .collect()
}

fn cosine_knn(x: &Matrix) -> Vec<Vec<usize>> {
    let norm: Vec<f64> = (0..x.rows())
        .map(|i| {
            x.row(i)
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    knn(x.rows(), |i, j| {
        let dot: f64 = x
            .row(i)
            .iter()
            .zip(x.row(j))
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum();
        1.0 - dot / (norm[i] * norm[j])
    })
}

fn map_knn(layout: &Layout) -> Vec<Vec<usize>> {
    knn(layout.items.len(), |i, j| {
        let (a, b) = (layout.point(i), layout.point(j));
        f64::from((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2))
    })
}

/// Share of each item's `K` nearest neighbours in the pool that are among its `K` nearest on
/// the map, and share of its `K` nearest on the map that are of its class.
fn quality(pool: &[Vec<usize>], layout: &Layout, truth: &[usize]) -> (f64, f64) {
    let near = map_knn(layout);
    let n = near.len() as f64;
    let kept = pool
        .iter()
        .zip(&near)
        .map(|(a, b)| a.iter().filter(|j| b.contains(j)).count() as f64 / K as f64)
        .sum::<f64>()
        / n;
    let same = near
        .iter()
        .enumerate()
        .map(|(i, b)| b.iter().filter(|&&j| truth[j] == truth[i]).count() as f64 / K as f64)
        .sum::<f64>()
        / n;
    (kept, same)
}

#[test]
fn tsne_keeps_neighbours_and_classes_together_far_better_than_pca() {
    let (x, y, _) = support::demo("fashion");
    let store = CompactRows::from_matrix(&x);
    let pool = cosine_knn(&x);
    let pca = map::pca(&store, 7);
    let mut tsne = Tsne::new(&store, &[], 7);
    let mut steps = 0;
    let mut last = tsne.progress();
    while !tsne.is_done() {
        let p = tsne.step();
        assert!(p.done > last.done, "every step moves on");
        last = p;
        steps += 1;
    }
    assert_eq!(last.done, last.total);
    let layout = tsne.layout();
    assert_eq!(layout.items.len(), x.rows());
    assert!(matches!(layout.method, Method::Tsne { pool: 2000, .. }));
    assert!(layout.points.iter().all(|p| (0.0..=1.0).contains(p)));
    let (pca_kept, pca_same) = quality(&pool, &pca, &y);
    let (tsne_kept, tsne_same) = quality(&pool, &layout, &y);
    println!(
        "{K} nearest neighbours kept: PCA {pca_kept:.3}, t-SNE {tsne_kept:.3}; \
         same class among the {K} nearest on the map: PCA {pca_same:.3}, t-SNE {tsne_same:.3} \
         ({steps} steps)"
    );
    assert!(
        tsne_kept > 3.0 * pca_kept && tsne_kept > 0.35,
        "{tsne_kept} vs {pca_kept}"
    );
    assert!(
        tsne_same > pca_same + 0.05 && tsne_same > 0.7,
        "{tsne_same} vs {pca_same}"
    );
    // Deterministic: the same rows and seed give the same map.
    let mut again = Tsne::new(&store, &[], 7);
    while !again.is_done() {
        again.step();
    }
    assert_eq!(again.layout(), layout);
}
