//! Selection speed and memory on a synthetic pool (issue 3's benchmark): 100,000 × 1,280
//! embeddings, 10 classes, 200 labels, batch 100, natively on one thread.
//!
//! `cargo run --release -p quarry-core --example select_speed [-- ROWS DIM [NAME-FILTER]]`
//!
//! Prints, per strategy, the wall time of one selection and how far the process's peak resident
//! memory rose above the pool and probabilities already held (Linux).

// A native benchmark measures wall time; core itself never reads a clock.
#![allow(clippy::disallowed_methods)]

#[path = "support/rss.rs"]
mod rss;

use std::time::Instant;

use quarry_core::acquire::{select, Pool, StrategyKind, Subpool};
use quarry_core::head::{HeadOptions, SoftmaxHead};
use quarry_core::matrix::Matrix;
use quarry_core::rng::Rng;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs `f`, returning its result, wall time in ms and how far the peak resident memory rose
/// above the resident memory at the start, in MiB (the peak is reset through
/// `/proc/self/clear_refs`).
fn measure<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    rss::reset_peak();
    let (base, _) = rss::rss_kib();
    let t = Instant::now();
    let out = f();
    let ms = t.elapsed().as_secs_f64() * 1e3;
    let (_, peak) = rss::rss_kib();
    (out, ms, peak.saturating_sub(base) as f64 / 1024.0)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rows = args.first().copied().unwrap_or(100_000);
    let dim = args.get(1).copied().unwrap_or(1_280);
    let (classes, labels, batch) = (10, 200, 100);

    // Gaussian classes around random centres, overlapping enough that the head is unsure of some.
    let mut rng = Rng::new(7);
    let centres: Vec<Vec<f32>> = (0..classes)
        .map(|_| (0..dim).map(|_| rng.normal() as f32 * 0.15).collect())
        .collect();
    let mut data = Vec::with_capacity(rows * dim);
    let mut truth = Vec::with_capacity(rows);
    for i in 0..rows {
        let c = i % classes;
        data.extend(centres[c].iter().map(|m| m + rng.normal() as f32));
        truth.push(c);
    }
    let x = Matrix::new(rows, dim, data).expect("rows × dim");
    println!(
        "pool: {rows} × {dim} f32 ({:.0} MiB), {classes} classes, {labels} labels, batch {batch}",
        mib(rows * dim * 4)
    );
    println!(
        "resident after building the pool: {:.0} MiB",
        rss::rss_kib().0 as f64 / 1024.0
    );

    let labeled: Vec<usize> = (0..labels).collect();
    let y: Vec<usize> = labeled.iter().map(|&i| truth[i]).collect();
    let candidates: Vec<usize> = (labels..rows).collect();
    let (head, ms, peak) = measure(|| {
        SoftmaxHead::fit(
            &x.select_rows(&labeled),
            &y,
            classes,
            &HeadOptions::default(),
            None,
        )
        .expect("head")
    });
    println!(
        "{:<28}{:>10.0} ms{:>10.1} MiB",
        "head fit (200 labels)", ms, peak
    );
    let (probs, ms, peak) = measure(|| head.predict_proba_rows(&x));
    println!(
        "{:<28}{:>10.0} ms{:>10.1} MiB",
        "class probabilities (all)", ms, peak
    );

    let pool = Pool {
        embeddings: &x,
        candidates: &candidates,
        labeled: &labeled,
        labels: &y,
        classes,
        probabilities: Some(&probs),
        head: Some(&head),
    };
    println!(
        "{:<28}{:>13}{:>14}",
        "selection (batch 100)", "time", "peak extra"
    );
    let runs: Vec<(String, StrategyKind, Subpool)> = StrategyKind::ALL
        .into_iter()
        .filter(|k| *k != StrategyKind::Auto)
        .map(|k| (k.name().to_string(), k, Subpool::Off))
        .chain(
            [
                StrategyKind::Margin,
                StrategyKind::Badge,
                StrategyKind::CoreSet,
                StrategyKind::TypiClust,
                StrategyKind::ProbCover,
            ]
            .into_iter()
            .map(|k| (format!("anchoral + {}", k.name()), k, Subpool::Anchoral)),
        )
        .collect();
    // An optional third argument keeps only the rows whose name contains it.
    let only = std::env::args().nth(3).unwrap_or_default();
    for (name, kind, mode) in runs.into_iter().filter(|r| r.0.contains(&only)) {
        let (picked, ms, peak) = measure(|| select(kind, &pool, batch, mode, &mut Rng::new(1)));
        assert_eq!(picked.len(), batch);
        println!("{name:<28}{ms:>10.1} ms{peak:>10.1} MiB");
    }
}
