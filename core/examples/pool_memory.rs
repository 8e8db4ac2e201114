//! Memory of a large pool in the learner: `cargo run --release -p quarry-core --example
//! pool_memory [-- ITEMS [DIM]]` (defaults 50,000 × 1280, the image model's size).
//!
//! Embeddings arrive one at a time as the workers would send them (synthetic, 10 clustered
//! classes) and are stored as 8-bit codes. Prints the bytes per item the store holds, the
//! process's resident memory against what f32 rows alone would take, and the time and peak extra
//! memory of refreshes at 200 labels (default policy on the AnchorAL subpool; margin on the whole
//! pool, which decodes every candidate).

// A benchmark measures wall time; the clock ban is for the library.
#![allow(clippy::disallowed_methods)]

#[path = "support/rss.rs"]
mod rss;

use std::time::Instant;

use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::rng::Rng;
use quarry_core::{Answer, Learner, LearnerInput};

fn mib(kib: usize) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let items: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let dim: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1280);
    let classes = 10;
    let (start, _) = rss::rss_kib();
    let mut rng = Rng::new(7);
    let centres: Vec<Vec<f32>> = (0..classes)
        .map(|_| (0..dim).map(|_| rng.normal().max(0.0) as f32).collect())
        .collect();
    let mut learner = Learner::new(items, classes, 1).unwrap();
    let mut row = vec![0f32; dim];
    let t = Instant::now();
    for i in 0..items {
        let c = &centres[i % classes];
        for (v, m) in row.iter_mut().zip(c) {
            *v = (m + 0.6 * rng.normal() as f32).max(0.0);
        }
        learner.add_embedding(i, &row).unwrap();
    }
    let fill_ms = t.elapsed().as_secs_f64() * 1e3;
    let (after, _) = rss::rss_kib();
    let store = learner.store().heap_bytes();
    println!("pool: {items} items × {dim} dims, {classes} classes");
    println!(
        "store: {:.0} bytes per item, {:.1} MiB in all (f32 rows would be {:.1} MiB); filled in {fill_ms:.0} ms",
        store as f64 / items as f64,
        store as f64 / 1048576.0,
        (items * dim * 4) as f64 / 1048576.0
    );
    println!(
        "process resident: {:.1} MiB above start",
        mib(after.saturating_sub(start))
    );

    // 200 labels, 20 per class (item i was generated from class i % classes).
    let labels: Vec<Answer> = (0..200)
        .map(|k| k * (items / 200) + k % classes)
        .map(|item| Answer {
            item,
            class: item % classes,
        })
        .collect();
    for (what, strategy, subpool) in [
        (
            "default policy (power-margin), AnchorAL subpool",
            StrategyKind::Auto,
            Subpool::Auto,
        ),
        (
            "TypiClust, AnchorAL subpool",
            StrategyKind::TypiClust,
            Subpool::Auto,
        ),
        ("margin, whole pool", StrategyKind::Margin, Subpool::Off),
    ] {
        rss::reset_peak();
        let (base, _) = rss::rss_kib();
        let input = LearnerInput {
            labels: labels.clone(),
            batch: 10,
            strategy,
            subpool,
            ..LearnerInput::default()
        };
        let t = Instant::now();
        let update = learner.refresh(&input).unwrap();
        assert!(learner.head().is_some(), "the labels cover every class");
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let (_, peak) = rss::rss_kib();
        println!(
            "refresh, {what}: {ms:.0} ms, peak +{:.1} MiB, picked {}",
            mib(peak.saturating_sub(base)),
            update.queue.len()
        );
    }
}
