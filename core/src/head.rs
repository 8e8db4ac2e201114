//! The linear head: multinomial logistic regression with an L2 penalty.

use crate::lbfgs::{minimize, LbfgsOptions};
use crate::matrix::{dot, Matrix};
use crate::{Error, Result};

mod linear;

pub use linear::{Activation, LinearHead};

/// Training settings, in scikit-learn's convention so results can be compared with
/// `LogisticRegression(C=c, solver="lbfgs")`: minimise `C · Σᵢ CEᵢ + ½‖W‖²` (bias unpenalised).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeadOptions {
    /// Inverse regularisation strength (scikit-learn's `C`).
    pub c: f64,
    /// Most L-BFGS iterations.
    pub max_iter: usize,
    /// Gradient tolerance (on the objective divided by `C·n`).
    pub tol: f64,
}

impl Default for HeadOptions {
    fn default() -> Self {
        HeadOptions {
            c: 1.0,
            max_iter: 300,
            tol: 1e-5,
        }
    }
}

impl HeadOptions {
    /// The same penalty with fewer iterations and a looser tolerance: for the many auxiliary fits
    /// (cross-validation folds, bootstrap ensembles) whose heads are never shown as the model.
    pub fn quick(self) -> HeadOptions {
        HeadOptions {
            max_iter: 100,
            tol: 1e-4,
            ..self
        }
    }
}

/// A trained softmax classifier over `dim`-long embeddings and `classes` classes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SoftmaxHead {
    classes: usize,
    dim: usize,
    /// `classes × (dim + 1)`, row `k` = weights of class `k` then its bias.
    weights: Vec<f64>,
}

impl SoftmaxHead {
    /// Fits the head on rows of `x` with class ids `y` (each `< classes`).
    ///
    /// `warm` (a head of the same shape) starts the optimiser from its weights, so a refit after one
    /// more label takes a few iterations; the optimum is the same as from zero. Deterministic.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `x` and `y` differ in length, a class id is out of range, `x` is
    /// empty, or `classes < 2`.
    pub fn fit(
        x: &Matrix,
        y: &[usize],
        classes: usize,
        opts: &HeadOptions,
        warm: Option<&SoftmaxHead>,
    ) -> Result<SoftmaxHead> {
        let (n, dim) = (x.rows(), x.cols());
        if n == 0 || n != y.len() || classes < 2 {
            return Err(Error::Invalid(format!(
                "cannot fit a head on {n} rows, {} labels and {classes} classes",
                y.len()
            )));
        }
        if let Some(bad) = y.iter().find(|&&c| c >= classes) {
            return Err(Error::Invalid(format!(
                "class id {bad} out of range 0..{classes}"
            )));
        }
        let stride = dim + 1;
        let mut w = match warm {
            Some(h) if h.classes == classes && h.dim == dim => h.weights.clone(),
            _ => vec![0.0; classes * stride],
        };
        let lambda = 1.0 / (opts.c * n as f64);
        let lbfgs = LbfgsOptions {
            max_iter: opts.max_iter,
            grad_tol: opts.tol,
            memory: 10,
        };
        let mut logits = vec![0.0; classes];
        minimize(&mut w, lbfgs, |w, g| {
            g.iter_mut().for_each(|v| *v = 0.0);
            let mut loss = 0.0;
            for (i, &yi) in y.iter().enumerate() {
                let row = x.row(i);
                softmax_into(w, row, stride, &mut logits);
                loss -= logits[yi].max(1e-300).ln();
                for (k, p) in logits.iter().enumerate() {
                    let coef = (p - if k == yi { 1.0 } else { 0.0 }) / n as f64;
                    let gk = &mut g[k * stride..(k + 1) * stride];
                    for (gj, xj) in gk.iter_mut().zip(row) {
                        *gj += coef * f64::from(*xj);
                    }
                    gk[dim] += coef;
                }
            }
            let mut reg = 0.0;
            for k in 0..classes {
                for j in 0..dim {
                    let v = w[k * stride + j];
                    reg += v * v;
                    g[k * stride + j] += lambda * v;
                }
            }
            loss / n as f64 + 0.5 * lambda * reg
        });
        Ok(SoftmaxHead {
            classes,
            dim,
            weights: w,
        })
    }

    /// The head for a changed class list: class `k` of the result takes the weights of class
    /// `sources[k]` of this head, or zeros for `None` (a new class). A warm start from it keeps
    /// what was learned about every class that is still there.
    pub fn remap(&self, sources: &[Option<usize>]) -> SoftmaxHead {
        let stride = self.dim + 1;
        let mut weights = vec![0.0; sources.len() * stride];
        for (k, src) in sources.iter().enumerate() {
            if let Some(s) = src.filter(|&s| s < self.classes) {
                weights[k * stride..(k + 1) * stride]
                    .copy_from_slice(&self.weights[s * stride..(s + 1) * stride]);
            }
        }
        SoftmaxHead {
            classes: sources.len(),
            dim: self.dim,
            weights,
        }
    }

    /// Whether the weights have the shape the class count and dimension say (a head read from a
    /// file may not).
    pub fn is_well_formed(&self) -> bool {
        self.classes >= 2
            && self.weights.len() == self.classes * (self.dim + 1)
            && self.weights.iter().all(|w| w.is_finite())
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Length of the embeddings it takes.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The weights as f32: `classes × dim` row-major, and the biases.
    pub fn weights_f32(&self) -> (Vec<f32>, Vec<f32>) {
        let stride = self.dim + 1;
        let mut w = Vec::with_capacity(self.classes * self.dim);
        let mut b = Vec::with_capacity(self.classes);
        for row in self.weights.chunks_exact(stride) {
            w.extend(row[..self.dim].iter().map(|&v| v as f32));
            b.push(row[self.dim] as f32);
        }
        (w, b)
    }

    /// Class probabilities for one embedding (length [`SoftmaxHead::classes`]).
    pub fn predict_proba(&self, x: &[f32]) -> Vec<f64> {
        let mut p = vec![0.0; self.classes];
        softmax_into(&self.weights, x, self.dim + 1, &mut p);
        p
    }

    /// Class probabilities of every row of `x`, as an `x.rows() × classes` f32 matrix (the shape
    /// strategies read through [`crate::acquire::Pool::probabilities`]). Computed in f32.
    pub fn predict_proba_rows(&self, x: &Matrix) -> Matrix {
        let fast = self.to_f32();
        let mut data = vec![0.0; x.rows() * self.classes];
        for (i, out) in data.chunks_exact_mut(self.classes.max(1)).enumerate() {
            fast.proba_into(x.row(i), out);
        }
        Matrix::new(x.rows(), self.classes, data).expect("rows × classes values")
    }

    /// An f32 copy for scoring many rows fast.
    pub fn to_f32(&self) -> HeadF32 {
        let stride = self.dim + 1;
        HeadF32 {
            dim: self.dim,
            weights: (0..self.classes)
                .map(|k| {
                    self.weights[k * stride..k * stride + self.dim]
                        .iter()
                        .map(|&w| w as f32)
                        .collect()
                })
                .collect(),
            bias: (0..self.classes)
                .map(|k| self.weights[k * stride + self.dim] as f32)
                .collect(),
        }
    }

    /// Most probable class of one embedding.
    pub fn predict(&self, x: &[f32]) -> usize {
        argmax(&self.predict_proba(x))
    }
}

/// A [`SoftmaxHead`] in f32, for scoring: the pool's probabilities and the perturbed predictions
/// of the ensemble strategies.
#[derive(Debug, Clone)]
pub struct HeadF32 {
    dim: usize,
    weights: Vec<Vec<f32>>,
    bias: Vec<f32>,
}

impl HeadF32 {
    /// Writes the class probabilities of `x` into `out` (length = classes).
    pub fn proba_into(&self, x: &[f32], out: &mut [f32]) {
        debug_assert_eq!(x.len(), self.dim);
        for ((o, w), b) in out.iter_mut().zip(&self.weights).zip(&self.bias) {
            *o = dot(w, x) + b;
        }
        softmax_f32(out);
    }

    /// The most probable class of `x` (the first on ties).
    pub fn predict(&self, x: &[f32]) -> usize {
        let mut best = (0, f32::NEG_INFINITY);
        for (k, (w, b)) in self.weights.iter().zip(&self.bias).enumerate() {
            let v = dot(w, x) + b;
            if v > best.1 {
                best = (k, v);
            }
        }
        best.0
    }
}

/// Turns logits into probabilities in place (shifted by the largest, so nothing overflows).
pub(crate) fn softmax_f32(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    row.iter_mut().for_each(|v| *v /= sum);
}

/// `Σ a·b` in eight independent lanes (so the compiler can vectorise the sum), then the lanes.
fn dot_mixed(a: &[f64], b: &[f32]) -> f64 {
    let mut lanes = [0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * f64::from(*y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] += x[l] * f64::from(y[l]);
        }
    }
    lanes.iter().sum::<f64>() + tail
}

fn softmax_into(w: &[f64], x: &[f32], stride: usize, out: &mut [f64]) {
    let dim = stride - 1;
    for (k, o) in out.iter_mut().enumerate() {
        let wk = &w[k * stride..(k + 1) * stride];
        *o = wk[dim] + dot_mixed(&wk[..dim], x);
    }
    let max = out.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for o in out.iter_mut() {
        *o = (*o - max).exp();
        sum += *o;
    }
    out.iter_mut().for_each(|o| *o /= sum);
}

/// Index of the largest value (the first on ties).
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn blobs(n: usize, seed: u64) -> (Matrix, Vec<usize>) {
        let mut rng = Rng::new(seed);
        let centers = [[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]];
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let c = i % 3;
            rows.push(vec![
                (centers[c][0] + rng.normal()) as f32,
                (centers[c][1] + rng.normal()) as f32,
            ]);
            y.push(c);
        }
        (Matrix::from_rows(&rows).unwrap(), y)
    }

    #[test]
    fn separates_gaussian_blobs() {
        let (x, y) = blobs(90, 1);
        let head = SoftmaxHead::fit(&x, &y, 3, &HeadOptions::default(), None).unwrap();
        let (tx, ty) = blobs(300, 2);
        let correct = (0..300)
            .filter(|&i| head.predict(tx.row(i)) == ty[i])
            .count();
        assert!(correct > 270, "{correct}/300");
        let p = head.predict_proba(tx.row(0));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn warm_start_reaches_the_same_optimum() {
        let (x, y) = blobs(60, 3);
        let opts = HeadOptions {
            tol: 1e-8,
            ..HeadOptions::default()
        };
        let cold = SoftmaxHead::fit(&x, &y, 3, &opts, None).unwrap();
        let (x2, y2) = blobs(30, 4);
        let other = SoftmaxHead::fit(&x2, &y2, 3, &opts, None).unwrap();
        let warm = SoftmaxHead::fit(&x, &y, 3, &opts, Some(&other)).unwrap();
        for (a, b) in cold.weights.iter().zip(&warm.weights) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
    }

    #[test]
    fn rejects_bad_labels() {
        let (x, _) = blobs(3, 5);
        assert!(SoftmaxHead::fit(&x, &[0, 1, 7], 3, &HeadOptions::default(), None).is_err());
        assert!(SoftmaxHead::fit(&x, &[0, 1], 3, &HeadOptions::default(), None).is_err());
    }
}
