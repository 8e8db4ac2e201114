//! The GPU backend against the CPU kernels, on whatever adapter this machine has (in CI:
//! Mesa's lavapipe, a software Vulkan driver). Without one the tests say so and pass, unless
//! `QUARRY_REQUIRE_GPU` is set (CI sets it after installing lavapipe): then they fail.

use quarry_core::acquire::StrategyKind;
use quarry_core::bench::Bench;
use quarry_core::compute::{each_dot, now, Backend, Centres, Cpu, Vectors};
use quarry_core::rng::Rng;
use quarry_core::store::CompactRows;
use quarry_gpu::{self_check, Gpu};

fn gpu() -> Option<Gpu> {
    match now(Gpu::new(true)) {
        Ok(gpu) => Some(gpu),
        Err(e) if std::env::var_os("QUARRY_REQUIRE_GPU").is_none() => {
            eprintln!("no GPU here ({e}); skipped");
            None
        }
        Err(e) => panic!("QUARRY_REQUIRE_GPU is set but {e}"),
    }
}

/// `n` seeded rows of `dim` values, `absent` of them left out.
fn pool(n: usize, dim: usize, absent: &[usize], seed: u64) -> CompactRows {
    let mut rng = Rng::new(seed);
    let mut store = CompactRows::new(n);
    for i in 0..n {
        let row: Vec<f32> = (0..dim).map(|_| rng.normal() as f32).collect();
        if !absent.contains(&i) {
            store.set(i, &row).unwrap();
        }
    }
    store
}

fn cpu_dots(store: &CompactRows, rows: &[usize], v: &Vectors) -> Vec<i32> {
    let mut out = vec![0; rows.len() * v.count()];
    each_dot(store, rows, v, |r, c, d| out[r * v.count() + c] = d as i32);
    out
}

#[test]
fn the_self_check_passes() {
    let Some(mut gpu) = gpu() else { return };
    eprintln!("adapter: {} (fallback: {})", gpu.name(), gpu.is_fallback());
    now(self_check(&mut gpu)).unwrap();
    assert_eq!(gpu.fault(), None);
}

#[test]
fn dot_products_are_exact_across_chunks_and_as_rows_arrive() {
    let Some(mut gpu) = gpu() else { return };
    gpu.limit_chunk_rows(37);
    // 33 values: a row's last word is padded; 11 vectors: one group of eight and a partial one.
    let mut store = pool(200, 33, &[5, 150], 3);
    let mut rng = Rng::new(9);
    let weights: Vec<f32> = (0..11 * 33).map(|_| rng.normal() as f32 * 4.0).collect();
    let vectors = Vectors::new(&weights, 33);
    let rows: Vec<usize> = (0..200).rev().step_by(3).chain([5, 7]).collect();
    assert_eq!(
        now(gpu.dots(&store, &rows, &vectors)).unwrap(),
        cpu_dots(&store, &rows, &vectors)
    );
    // Rows that arrive later, and one replaced, are uploaded before the next pass.
    store.set(5, &[0.5; 33]).unwrap();
    store.set(7, &[-0.25; 33]).unwrap();
    assert_eq!(
        now(gpu.dots(&store, &rows, &vectors)).unwrap(),
        cpu_dots(&store, &rows, &vectors)
    );
    let largest = Vectors::new(&[1e6; 33], 33);
    assert_eq!(
        now(gpu.dots(&store, &rows, &largest)).unwrap(),
        cpu_dots(&store, &rows, &largest)
    );
    assert_eq!(gpu.fault(), None);
}

#[test]
fn k_center_picks_what_the_cpu_picks() {
    let Some(mut gpu) = gpu() else { return };
    gpu.limit_chunk_rows(300);
    let store = pool(1000, 50, &[], 21);
    let rows: Vec<usize> = (0..1000).filter(|i| i % 7 != 0).collect();
    for centres in [vec![0usize], vec![7, 14, 21, 700, 994]] {
        let mut cpu = Centres::new(&store, &rows);
        cpu.add(&centres);
        let expected = cpu.greedy(25, &mut Rng::new(1));
        let got = now(gpu.k_center(&store, &rows, &centres, 25)).unwrap();
        assert_eq!(got, expected, "from centres {centres:?}");
    }
    assert_eq!(gpu.fault(), None);
}

#[test]
fn refreshes_on_the_gpu_queue_what_the_cpu_queues() {
    let Some(mut gpu) = gpu() else { return };
    let bench = Bench::synthetic(4000, 128, 6, 40, 20).unwrap();
    for kind in [
        StrategyKind::CoreSet,
        StrategyKind::Margin,
        StrategyKind::Entropy,
    ] {
        let (mut cpu, input) = bench.prepared(kind);
        let mut on_gpu = cpu.clone();
        let expected = cpu.refresh(&input).unwrap();
        let mut clock = || 0.0;
        let (got, _) = now(on_gpu.refresh_on(&input, &mut clock, &mut gpu)).unwrap();
        assert_eq!(got.queue, expected.queue, "{}", kind.name());
        assert_eq!(
            now(on_gpu.predictions_on(&mut gpu)),
            now(cpu.predictions_on(&mut Cpu))
        );
    }
    assert_eq!(gpu.fault(), None);
}
