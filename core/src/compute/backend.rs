//! Where a refresh's heavy passes run. The CPU kernels of this module are the reference; a
//! [`Backend`] may take the passes that it does better (the WebGPU backend in `quarry-gpu`), and
//! the learner falls back to the CPU for any pass a backend declines.
//!
//! Backends are asynchronous because the browser's GPU answers only through its event loop.
//! Core has no executor: [`now`] polls a future once and is for futures that never wait (the
//! CPU's, and a native GPU backend that blocks on its device); the worker awaits the WebGPU one.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use super::Vectors;
use crate::store::CompactRows;

/// The passes over the stored rows that a backend other than the CPU may run. Each returns
/// `None` when the backend declines (it cannot run the pass, or it failed): the caller then runs
/// the CPU kernels, so the result never depends on whether a backend took part, beyond the
/// tolerance each method states.
pub trait Backend {
    /// The exact integer dot products of the store rows `rows` with the vectors,
    /// `out[r · count + v]` (as [`super::each_dot`]); rows not present give 0.
    fn dots(
        &mut self,
        store: &CompactRows,
        rows: &[usize],
        vectors: &Vectors,
    ) -> impl Future<Output = Option<Vec<i32>>>;

    /// k-center greedy over the store rows `rows` (Core-Set): the store rows `centres` are
    /// centres from the start, then `want` times the row farthest from every centre (larger
    /// squared distance first, then the lower position) becomes one; returns positions into
    /// `rows`, in order. `centres` is never empty. Squared distances may be computed in `f32`:
    /// picks may differ from [`super::Centres::greedy`]'s only where two rows' distances agree
    /// to about 1e-6 of the rows' squared norms.
    fn k_center(
        &mut self,
        store: &CompactRows,
        rows: &[usize],
        centres: &[usize],
        want: usize,
    ) -> impl Future<Output = Option<Vec<usize>>>;
}

/// The CPU: declines every pass, so the caller's own kernels run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu;

impl Backend for Cpu {
    async fn dots(&mut self, _: &CompactRows, _: &[usize], _: &Vectors) -> Option<Vec<i32>> {
        None
    }

    async fn k_center(
        &mut self,
        _: &CompactRows,
        _: &[usize],
        _: &[usize],
        _: usize,
    ) -> Option<Vec<usize>> {
        None
    }
}

/// The output of a future that completes without waiting.
///
/// # Panics
/// When `future` is not ready on its first poll (it waits for an event loop: await it there).
pub fn now<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("compute::now: the future waits for an event loop"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquire::StrategyKind;
    use crate::bench::Bench;
    use crate::compute::each_dot;

    /// Takes every pass, the plain way: the integer kernel's dots, and k-center greedy with a
    /// full pass per pick in `f64`.
    struct Plain {
        calls: usize,
    }

    impl Backend for Plain {
        async fn dots(
            &mut self,
            store: &CompactRows,
            rows: &[usize],
            v: &Vectors,
        ) -> Option<Vec<i32>> {
            self.calls += 1;
            let mut out = vec![0; rows.len() * v.count()];
            each_dot(store, rows, v, |r, c, d| out[r * v.count() + c] = d as i32);
            Some(out)
        }

        async fn k_center(
            &mut self,
            store: &CompactRows,
            rows: &[usize],
            centres: &[usize],
            want: usize,
        ) -> Option<Vec<usize>> {
            self.calls += 1;
            let dist = |a: usize, b: usize| {
                let ((x, sx), (y, sy)) = (store.codes(a), store.codes(b));
                let d: f64 = x
                    .iter()
                    .zip(y)
                    .map(|(&p, &q)| {
                        (f64::from(p) * f64::from(sx) - f64::from(q) * f64::from(sy)).powi(2)
                    })
                    .sum();
                d
            };
            let mut nearest: Vec<f64> = rows
                .iter()
                .map(|&r| {
                    centres
                        .iter()
                        .map(|&c| dist(r, c))
                        .fold(f64::INFINITY, f64::min)
                })
                .collect();
            let mut picked = Vec::new();
            while picked.len() < want {
                let best =
                    (0..rows.len()).fold(0, |b, j| if nearest[j] > nearest[b] { j } else { b });
                picked.push(best);
                for (j, n) in nearest.iter_mut().enumerate() {
                    *n = n.min(dist(rows[j], rows[best]));
                }
                nearest[best] = f64::NEG_INFINITY;
            }
            Some(picked)
        }
    }

    #[test]
    fn a_backend_that_takes_the_passes_changes_no_pick_and_no_probability() {
        for labels in [1, 12] {
            let bench = Bench::synthetic(400, 24, 3, labels, 7).unwrap();
            for kind in [
                StrategyKind::CoreSet,
                StrategyKind::Margin,
                StrategyKind::Entropy,
            ] {
                let (learner, input) = bench.prepared(kind);
                let mut unlabeled = input.clone();
                unlabeled.labels.clear();
                for input in [input, unlabeled] {
                    let (mut cpu, mut other) = (learner.clone(), learner.clone());
                    let mut plain = Plain { calls: 0 };
                    let on_cpu = cpu.refresh(&input).unwrap();
                    let mut clock = || 0.0;
                    let (on_plain, _) =
                        now(other.refresh_on(&input, &mut clock, &mut plain)).unwrap();
                    let n = input.labels.len();
                    // Before two classes are labeled there is no head to score with.
                    let offers = kind == StrategyKind::CoreSet || n > 1;
                    assert_eq!(plain.calls > 0, offers, "{kind:?} with {n} labels");
                    assert_eq!(on_cpu.queue, on_plain.queue, "{kind:?} with {n} labels");
                    let p = now(other.predictions_on(&mut plain));
                    assert_eq!(cpu.predictions(), p);
                }
            }
        }
    }
}
