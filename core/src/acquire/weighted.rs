//! Drawing an index with probability proportional to its weight while weights change: a
//! Fenwick tree of the weights, O(log n) per draw and per change.

/// Non-negative weights, drawable in proportion.
#[derive(Debug, Clone)]
pub(super) struct Weights {
    weights: Vec<f64>,
    tree: Vec<f64>,
}

impl Weights {
    /// Weights `w` (negative or non-finite ones count as 0).
    pub fn new(w: impl IntoIterator<Item = f64>) -> Weights {
        let weights: Vec<f64> = w
            .into_iter()
            .map(|v| if v.is_finite() && v > 0.0 { v } else { 0.0 })
            .collect();
        let mut out = Weights {
            tree: vec![0.0; weights.len() + 1],
            weights,
        };
        out.rebuild();
        out
    }

    fn rebuild(&mut self) {
        let n = self.weights.len();
        self.tree.fill(0.0);
        for i in 0..n {
            let k = i + 1;
            self.tree[k] += self.weights[i];
            let parent = k + (k & k.wrapping_neg());
            if parent <= n {
                self.tree[parent] += self.tree[k];
            }
        }
    }

    /// Weight `i`.
    pub fn get(&self, i: usize) -> f64 {
        self.weights[i]
    }

    /// Sets weight `i` (negative counts as 0).
    pub fn set(&mut self, i: usize, w: f64) {
        let w = w.max(0.0);
        let delta = w - self.weights[i];
        self.weights[i] = w;
        let mut k = i + 1;
        while k < self.tree.len() {
            self.tree[k] += delta;
            k += k & k.wrapping_neg();
        }
    }

    /// Sum of the weights.
    pub fn total(&self) -> f64 {
        let mut k = self.weights.len();
        let mut s = 0.0;
        while k > 0 {
            s += self.tree[k];
            k &= k - 1;
        }
        s
    }

    /// The index whose weight covers `u · total` in the running sum (`u` in [0, 1)), among
    /// positive weights; `None` when every weight is 0.
    pub fn draw(&mut self, u: f64) -> Option<usize> {
        for _ in 0..2 {
            let total = self.total();
            if total > 0.0 {
                let mut target = u * total;
                let mut pos = 0;
                let mut step = self.tree.len().next_power_of_two() / 2;
                while step > 0 {
                    let next = pos + step;
                    if next < self.tree.len() && self.tree[next] <= target {
                        target -= self.tree[next];
                        pos = next;
                    }
                    step /= 2;
                }
                if pos < self.weights.len() && self.weights[pos] > 0.0 {
                    return Some(pos);
                }
            }
            // Rounding in the sums after many changes: sum afresh and try once more.
            self.rebuild();
        }
        self.weights.iter().position(|&w| w > 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn draws_follow_the_weights_as_they_change() {
        let mut w = Weights::new([1.0, 0.0, 3.0, f64::NAN, 4.0]);
        assert_eq!(w.total(), 8.0);
        w.set(4, 0.0);
        let mut rng = Rng::new(1);
        let mut counts = [0usize; 5];
        for _ in 0..40_000 {
            counts[w.draw(rng.next_f64()).unwrap()] += 1;
        }
        assert_eq!(counts[1] + counts[3] + counts[4], 0);
        let share = counts[2] as f64 / 40_000.0;
        assert!((share - 0.75).abs() < 0.01, "{share}");
        [0, 2].iter().for_each(|&i| w.set(i, 0.0));
        assert_eq!(w.draw(0.5), None);
    }
}
