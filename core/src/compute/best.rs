//! [`Best`]: the `k` highest values of a stream (one pass over a pool through
//! [`super::each_dot`] or [`super::each_cosine`]), held in a bounded heap, never the whole
//! pool's values.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// The `k` highest values offered with their positions. Among equal values the lower position
/// is kept and comes first, whatever the order they were offered in.
#[derive(Debug, Clone)]
pub struct Best {
    k: usize,
    heap: BinaryHeap<Worse>,
}

/// Heap order: a larger entry is a worse one (lower value, then higher position), so the top is
/// the first to go.
#[derive(Debug, Clone, PartialEq)]
struct Worse(f64, usize);

impl Eq for Worse {}

impl PartialOrd for Worse {
    fn partial_cmp(&self, o: &Worse) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Worse {
    fn cmp(&self, o: &Worse) -> Ordering {
        o.0.total_cmp(&self.0).then(self.1.cmp(&o.1))
    }
}

impl Best {
    /// Keeps at most `k`.
    pub fn new(k: usize) -> Best {
        Best {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    /// Offers `value` at `position`.
    pub fn offer(&mut self, value: f64, position: usize) {
        let entry = Worse(value, position);
        if self.heap.len() < self.k {
            self.heap.push(entry);
        } else if self.heap.peek().is_some_and(|w| entry < *w) {
            self.heap.pop();
            self.heap.push(entry);
        }
    }

    /// (position, value) of those kept, in no particular order.
    pub fn into_vec(self) -> Vec<(usize, f64)> {
        self.heap.into_iter().map(|w| (w.1, w.0)).collect()
    }

    /// (position, value) of those kept, the best first.
    pub fn into_sorted(self) -> Vec<(usize, f64)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|w| (w.1, w.0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn the_best_kept_do_not_depend_on_the_order_offered() {
        // Ties at the cut: positions decide, the lower first, whatever the order.
        let values: Vec<f64> = (0..500).map(|i| ((i * 37) % 50) as f64 / 10.0).collect();
        let mut want: Vec<(usize, f64)> = values.iter().copied().enumerate().collect();
        want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        want.truncate(25);
        let mut order: Vec<usize> = (0..values.len()).collect();
        for seed in 0..4 {
            Rng::new(seed).shuffle(&mut order);
            let mut best = Best::new(25);
            for &j in &order {
                best.offer(values[j], j);
            }
            assert_eq!(best.clone().into_sorted(), want);
            let mut any = best.into_vec();
            any.sort_by_key(|e| e.0);
            let mut sorted = want.clone();
            sorted.sort_by_key(|e| e.0);
            assert_eq!(any, sorted);
        }
    }
}
