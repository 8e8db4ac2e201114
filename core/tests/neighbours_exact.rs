//! Evidence for "More like this" (issue 13): the neighbour search on the learner's 8-bit rows is
//! exact — it returns what a brute-force scan returns. The reference decodes every row to f32
//! and computes cosines in f64 with plain loops, sorts the whole pool, and takes the top `k`;
//! the search must give the same items in the same order wherever the reference's similarities
//! are not within float noise of each other, and the same similarities throughout. (A query from
//! outside the pool is quantised to 14 bits by the search; the reference scans with that query.)

use quarry_core::compute::Vectors;
use quarry_core::matrix::Matrix;
use quarry_core::neighbours::{nearest, Neighbour, Query};
use quarry_core::rng::Rng;
use quarry_core::store::{CompactRows, Rows};

#[path = "support/demo.rs"]
mod support;

/// Float noise between the two ways of computing a cosine.
const NOISE: f64 = 1e-5;

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa.sqrt() * bb.sqrt())
    }
}

/// Every present row but `skip`, by decreasing cosine to `q` (ties: lower item first).
fn brute_force(store: &CompactRows, q: &[f32], skip: Option<usize>) -> Vec<(usize, f64)> {
    let mut row = vec![0f32; store.cols()];
    let mut all: Vec<(usize, f64)> = (0..store.rows())
        .filter(|&i| store.is_present(i) && Some(i) != skip)
        .map(|i| {
            store.row_into(i, &mut row);
            (i, cosine(&row, q))
        })
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all
}

fn check(store: &CompactRows, query: &Query, k: usize) {
    let (q, skip) = match query {
        Query::Item(i) => {
            let mut q = vec![0f32; store.cols()];
            store.row_into(*i, &mut q);
            (q, Some(*i))
        }
        // The search quantises an outside query to 14 bits (one scale); so does the reference.
        Query::Vector(v) => {
            let q = Vectors::new(v, v.len());
            let decoded = q.codes(0).iter().map(|&c| f32::from(c) * q.scale(0));
            (decoded.collect(), None)
        }
    };
    let found: Vec<Neighbour> = nearest(store, query, k).unwrap();
    let reference = brute_force(store, &q, skip);
    assert_eq!(found.len(), k.min(reference.len()));
    let by_item: std::collections::HashMap<usize, f64> = reference.iter().copied().collect();
    for (rank, n) in found.iter().enumerate() {
        let (want_item, want) = reference[rank];
        // The similarity at each rank is the reference's…
        assert!(
            (f64::from(n.similarity) - want).abs() < NOISE,
            "rank {rank}: {} vs {want}",
            n.similarity
        );
        // …and each item found has the similarity the reference gives it.
        assert!((f64::from(n.similarity) - by_item[&n.item]).abs() < NOISE);
        // The same item, unless the reference has a near-tie at this rank.
        let tied = reference
            .iter()
            .filter(|(_, s)| (s - want).abs() < NOISE)
            .count()
            > 1;
        if !tied {
            assert_eq!(n.item, want_item, "rank {rank}");
        }
    }
}

fn gaussian_pool(n: usize, dim: usize, seed: u64) -> CompactRows {
    let mut rng = Rng::new(seed);
    let mut x = Matrix::zeros(n, dim);
    for v in x.as_mut_slice() {
        *v = rng.normal() as f32;
    }
    CompactRows::from_matrix(&x)
}

#[test]
fn neighbours_match_a_brute_force_scan_on_random_pools() {
    // Sizes around the kernel's blocks (64 rows, tiles of 4) and dimensions around its lanes.
    for (n, dim, seed) in [
        (1, 8, 1),
        (5, 3, 2),
        (63, 17, 3),
        (64, 64, 4),
        (1_001, 130, 5),
    ] {
        let store = gaussian_pool(n, dim, seed);
        for k in [1, 4, 50, n + 3] {
            if n > 1 {
                check(&store, &Query::Item(n / 2), k);
            }
            let mut rng = Rng::new(seed + 100);
            let q: Vec<f32> = (0..dim).map(|_| rng.normal() as f32).collect();
            check(&store, &Query::Vector(q), k);
        }
    }
}

#[test]
fn neighbours_match_a_brute_force_scan_on_the_fashion_demo() {
    let (x, _, _) = support::demo("fashion");
    let store = CompactRows::from_matrix(&x);
    for item in [0, 17, 999, x.rows() - 1] {
        check(&store, &Query::Item(item), 48);
    }
    // An example from outside the pool: the mean of two items.
    let q: Vec<f32> = x
        .row(3)
        .iter()
        .zip(x.row(4))
        .map(|(a, b)| (a + b) / 2.0)
        .collect();
    check(&store, &Query::Vector(q), 48);
}

#[test]
fn duplicates_tie_and_come_in_item_order() {
    let mut store = CompactRows::new(6);
    for i in [0, 2, 4, 5] {
        store.set(i, &[1.0, 2.0, 3.0]).unwrap();
    }
    store.set(1, &[-1.0, 0.0, 0.0]).unwrap();
    let found = nearest(&store, &Query::Item(2), 10).unwrap();
    let items: Vec<usize> = found.iter().map(|n| n.item).collect();
    assert_eq!(items, vec![0, 4, 5, 1]);
    assert!((found[0].similarity - 1.0).abs() < 1e-6);
}
