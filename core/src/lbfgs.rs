//! Limited-memory BFGS for smooth convex objectives, in f64.

/// Stopping rules for [`minimize`].
#[derive(Debug, Clone, Copy)]
pub struct LbfgsOptions {
    /// Most iterations (each runs one line search).
    pub max_iter: usize,
    /// Stop when the largest absolute gradient entry falls below this.
    pub grad_tol: f64,
    /// Number of correction pairs kept.
    pub memory: usize,
}

impl Default for LbfgsOptions {
    fn default() -> Self {
        LbfgsOptions {
            max_iter: 200,
            grad_tol: 1e-5,
            memory: 10,
        }
    }
}

/// Minimises `f` from `x` in place; `f(x, grad)` returns the value and writes the gradient.
/// Returns the number of iterations run. Deterministic: no randomness, fixed arithmetic order.
pub fn minimize(
    x: &mut [f64],
    opts: LbfgsOptions,
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
) -> usize {
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut fx = f(x, &mut g);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    for iter in 0..opts.max_iter {
        if max_abs(&g) < opts.grad_tol {
            return iter;
        }
        let d = direction(&g, &s_hist, &y_hist);
        let slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            continue;
        }
        let mut step = if s_hist.is_empty() {
            1.0 / norm(&g).max(1e-12)
        } else {
            1.0
        };
        let mut accepted = false;
        for _ in 0..40 {
            for i in 0..n {
                x_new[i] = x[i] + step * d[i];
            }
            let f_new = f(&x_new, &mut g_new);
            if f_new.is_finite() && f_new <= fx + 1e-4 * step * slope {
                let s: Vec<f64> = (0..n).map(|i| x_new[i] - x[i]).collect();
                let y: Vec<f64> = (0..n).map(|i| g_new[i] - g[i]).collect();
                if dot(&s, &y) > 1e-12 {
                    if s_hist.len() == opts.memory {
                        s_hist.remove(0);
                        y_hist.remove(0);
                    }
                    s_hist.push(s);
                    y_hist.push(y);
                }
                let decrease = fx - f_new;
                x.copy_from_slice(&x_new);
                g.copy_from_slice(&g_new);
                fx = f_new;
                accepted = true;
                if decrease.abs() <= 1e-12 * fx.abs().max(1.0) {
                    return iter + 1;
                }
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            return iter + 1;
        }
    }
    opts.max_iter
}

fn direction(g: &[f64], s_hist: &[Vec<f64>], y_hist: &[Vec<f64>]) -> Vec<f64> {
    let mut q: Vec<f64> = g.to_vec();
    let k = s_hist.len();
    let mut alpha = vec![0.0; k];
    for i in (0..k).rev() {
        let rho = 1.0 / dot(&y_hist[i], &s_hist[i]);
        alpha[i] = rho * dot(&s_hist[i], &q);
        for (qj, yj) in q.iter_mut().zip(&y_hist[i]) {
            *qj -= alpha[i] * yj;
        }
    }
    if let (Some(s), Some(y)) = (s_hist.last(), y_hist.last()) {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|v| *v *= gamma);
    }
    for i in 0..k {
        let rho = 1.0 / dot(&y_hist[i], &s_hist[i]);
        let beta = rho * dot(&y_hist[i], &q);
        for (qj, sj) in q.iter_mut().zip(&s_hist[i]) {
            *qj += (alpha[i] - beta) * sj;
        }
    }
    q.iter_mut().for_each(|v| *v = -*v);
    q
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_an_ill_conditioned_quadratic() {
        let scales = [1.0, 10.0, 100.0, 1000.0];
        let mut x = vec![1.0; 4];
        minimize(
            &mut x,
            LbfgsOptions {
                max_iter: 100,
                grad_tol: 1e-9,
                memory: 5,
            },
            |x, g| {
                let mut f = 0.0;
                for i in 0..4 {
                    f += 0.5 * scales[i] * (x[i] - i as f64).powi(2);
                    g[i] = scales[i] * (x[i] - i as f64);
                }
                f
            },
        );
        for (i, v) in x.iter().enumerate() {
            assert!((v - i as f64).abs() < 1e-6, "{x:?}");
        }
    }
}
