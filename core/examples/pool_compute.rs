//! The pool-compute layer against the machine's limits: `cargo run -p quarry-core --example
//! pool_compute [-- ITEMS [DIM [CLASSES]]]` (defaults 100,000 × 1280, 10 classes).
//!
//! Times the class probabilities of the whole pool two ways — the old path (decode each 8-bit
//! row to f32, then the f32 head: what the learner did before `compute`) and
//! `compute::probabilities` (integer dot products on the codes) — and sets the new one against
//! two limits measured on this machine in the same run: reading the pool's bytes once (a plain
//! XOR over the codes: the memory-bandwidth floor) and the same dot kernel on one row that stays
//! in cache (the arithmetic ceiling). Then AnchorAL's retrieval (cosines to 50 anchors) against
//! its own ceiling, Core-Set's first pass (200 labeled centres) and 100 lazy picks, "More like
//! this" (the exact 48 nearest of one item), the Map's PCA and its t-SNE.

// A benchmark measures wall time; the clock ban is for the library.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::Instant;

use quarry_core::compute::{cosines, probabilities, scores, Centres, Vectors};
use quarry_core::head::{Activation, LinearHead};
use quarry_core::map::pca;
use quarry_core::neighbours::{nearest, Query};
use quarry_core::rng::Rng;
use quarry_core::store::{CompactRows, Rows};

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        out = Some(v);
    }
    (best, out.expect("at least one run"))
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let items = args.first().copied().unwrap_or(100_000);
    let dim = args.get(1).copied().unwrap_or(1280);
    let classes = args.get(2).copied().unwrap_or(10);
    let mut rng = Rng::new(5);
    let mut store = CompactRows::new(items);
    let mut row = vec![0f32; dim];
    for i in 0..items {
        row.iter_mut()
            .for_each(|v| *v = (rng.normal() as f32).max(0.0));
        store.set(i, &row).unwrap();
    }
    let head = LinearHead {
        weights: (0..classes * dim)
            .map(|_| rng.normal() as f32 * 0.05)
            .collect(),
        bias: vec![0.0; classes],
        classes,
        dim,
        activation: Activation::Softmax,
    };
    let rows: Vec<usize> = (0..items).collect();
    println!(
        "pool: {items} × {dim} (8-bit rows, {:.0} MB), {classes} classes",
        (items * dim) as f64 / 1e6
    );

    // Before: decode each row to f32 and score it with f32 weights.
    let (old_ms, old) = best_of(3, || {
        let mut out = vec![0f32; items * classes];
        let mut x = vec![0f32; dim];
        for (&i, o) in rows.iter().zip(out.chunks_exact_mut(classes)) {
            store.row_into(i, &mut x);
            for (c, o) in o.iter_mut().enumerate() {
                let w = &head.weights[c * dim..(c + 1) * dim];
                *o = w.iter().zip(&x).map(|(a, b)| a * b).sum::<f32>() + head.bias[c];
            }
            let max = o.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = o
                .iter_mut()
                .map(|v| {
                    *v = (*v - max).exp();
                    *v
                })
                .sum();
            o.iter_mut().for_each(|v| *v /= sum);
        }
        out
    });
    let (new_ms, new) = best_of(3, || probabilities(&store, &rows, &head));
    let worst = old
        .iter()
        .zip(new.as_slice())
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));

    // Limits: one pass over the codes; the kernel on a row in cache.
    // (An XOR of every byte into 64 lanes: as little arithmetic per byte as a pass can do.)
    let (read_ms, _) = best_of(3, || {
        let mut lanes = [0u8; 64];
        for i in 0..items {
            let (codes, _) = store.codes(i);
            for chunk in codes.chunks_exact(64) {
                for (l, &c) in lanes.iter_mut().zip(chunk) {
                    *l ^= c as u8;
                }
            }
        }
        black_box(lanes)
    });
    let vectors = Vectors::new(&head.weights, dim);
    let hot: Vec<usize> = vec![0; items];
    let mut out = vec![0f32; items * classes];
    let (hot_ms, _) = best_of(3, || {
        scores(&store, black_box(&hot), &vectors, &mut out);
        black_box(out[0])
    });
    // AnchorAL's retrieval: 50 pool rows (5 anchors × 10 classes) against every row.
    let anchors = Vectors::from_rows(&store, &(0..50).map(|a| a * 7).collect::<Vec<_>>());
    let (cos_ms, _) = best_of(3, || black_box(cosines(&store, &rows, &anchors)));
    let hot_anchors = Vectors::from_rows(&store, &[0; 50]);
    let mut hot_out = vec![0f32; items * 50];
    let (cos_hot_ms, _) = best_of(3, || {
        scores(&store, black_box(&hot), &hot_anchors, &mut hot_out);
        black_box(hot_out[0])
    });
    // Core-Set: 200 labeled centres in one pass, then 100 lazy k-center picks.
    let candidates: Vec<usize> = (200..items).collect();
    let labeled: Vec<usize> = (0..200).collect();
    let (centres_ms, mut centres) = best_of(1, || {
        let mut c = Centres::new(&store, &candidates);
        c.add(&labeled);
        c
    });
    let (picks_ms, _) = best_of(1, || centres.greedy(100, &mut Rng::new(1)));
    // More like this: the 48 nearest items to one item, exact; the Map (PCA).
    let (near_ms, _) = best_of(3, || black_box(nearest(&store, &Query::Item(17), 48)));
    let (map_ms, _) = best_of(1, || black_box(pca(&store, 1)));
    // The Map's t-SNE: a sample of 3,000 rows, its neighbours, then 750 iterations.
    let mut tsne = quarry_core::map::tsne::Tsne::new(&store, &[], 1);
    let t = Instant::now();
    while tsne.progress().searching {
        tsne.step();
    }
    let tsne_search_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    while !tsne.is_done() {
        tsne.step();
    }
    let tsne_descent_ms = t.elapsed().as_secs_f64() * 1e3;
    black_box(tsne.layout());
    let bytes = (items * dim) as f64;
    let ops = 2.0 * (items * dim * classes) as f64;
    println!("| step | time | rate |");
    println!("|---|---|---|");
    println!(
        "| probabilities, old path (decode to f32, f32 head) | {old_ms:.0} ms | {:.1} G mul-add/s |",
        ops / 2.0 / old_ms / 1e6
    );
    println!(
        "| probabilities, `compute` (i8·i16 on the codes) | {new_ms:.0} ms | {:.1} G mul-add/s, {:.1} GB/s of rows |",
        ops / 2.0 / new_ms / 1e6,
        bytes / new_ms / 1e6
    );
    println!(
        "| limit: read the pool's bytes once | {read_ms:.0} ms | {:.1} GB/s |",
        bytes / read_ms / 1e6
    );
    println!(
        "| limit: the kernel on one row in cache | {hot_ms:.0} ms | {:.1} G mul-add/s |",
        ops / 2.0 / hot_ms / 1e6
    );
    let cos_ops = (items * dim * 50) as f64;
    println!(
        "| cosines to 50 anchors (AnchorAL) | {cos_ms:.0} ms | {:.1} G mul-add/s |",
        cos_ops / cos_ms / 1e6
    );
    println!(
        "| limit: the same on one row in cache | {cos_hot_ms:.0} ms | {:.1} G mul-add/s |",
        cos_ops / cos_hot_ms / 1e6
    );
    println!(
        "cosines: memory ratio {:.2}, arithmetic ratio {:.2}",
        read_ms / cos_ms,
        cos_hot_ms / cos_ms
    );
    println!(
        "| Core-Set: 200 labeled centres, one pass | {centres_ms:.0} ms | {:.1} G mul-add/s |",
        (candidates.len() * dim * 200) as f64 / centres_ms / 1e6
    );
    println!("| Core-Set: then 100 lazy k-center picks | {picks_ms:.0} ms | |");
    println!(
        "| More like this: 48 nearest of one item, exact | {near_ms:.1} ms | {:.1} G mul-add/s |",
        (items * dim) as f64 / near_ms / 1e6
    );
    println!("| the Map: PCA fit on 4,000 rows + every row projected | {map_ms:.0} ms | |");
    println!(
        "| the Map: t-SNE of {} rows, exact neighbours | {tsne_search_ms:.0} ms | |",
        tsne.len()
    );
    println!(
        "| the Map: t-SNE, {} iterations (Barnes–Hut) | {tsne_descent_ms:.0} ms | |",
        quarry_core::map::tsne::ITERATIONS
    );
    println!(
        "speed-up {:.1}×; memory ratio (read floor / time) {:.2}; arithmetic ratio (in-cache kernel / time) {:.2}; largest probability difference {worst:.1e}",
        old_ms / new_ms,
        read_ms / new_ms,
        hot_ms / new_ms
    );
}
