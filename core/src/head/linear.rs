//! The trained head as a plain linear layer and the function that turns its outputs into
//! probabilities: what the exported ONNX classifier writes (`Gemm` + `Softmax` or `Sigmoid`).

use super::SoftmaxHead;
use crate::{Error, Result};

/// How a [`LinearHead`]'s outputs become probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Single-label: one distribution over the classes.
    Softmax,
    /// Multi-label: an independent probability per class.
    Sigmoid,
}

/// `activation(W x + b)`: `weights` is `classes × dim` row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearHead {
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    pub classes: usize,
    pub dim: usize,
    pub activation: Activation,
}

impl LinearHead {
    /// A single-label project's head as it is.
    pub fn softmax(head: &SoftmaxHead) -> LinearHead {
        let (weights, bias) = head.weights_f32();
        LinearHead {
            weights,
            bias,
            classes: head.classes(),
            dim: head.dim(),
            activation: Activation::Softmax,
        }
    }

    /// A multi-label project's heads: per class a two-class head whose `P(class)` is
    /// `softmax(z₀, z₁)₁ = sigmoid(z₁ − z₀)`, so its row is the difference of the two; a class
    /// without a head (all or none of the labeled items have it) predicts its `prior`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when no class has a head, a head is not two-class or the sizes
    /// disagree.
    pub fn one_vs_rest(heads: &[Option<&SoftmaxHead>], priors: &[f32]) -> Result<LinearHead> {
        let dim = heads
            .iter()
            .flatten()
            .map(|h| h.dim())
            .next()
            .ok_or_else(|| Error::Invalid("no class has a trained head yet".into()))?;
        let mut weights = Vec::with_capacity(heads.len() * dim);
        let mut bias = Vec::with_capacity(heads.len());
        for (k, head) in heads.iter().enumerate() {
            match head {
                Some(h) if h.classes() == 2 && h.dim() == dim && h.is_well_formed() => {
                    let (w, b) = h.weights_f32();
                    weights.extend((0..dim).map(|j| w[dim + j] - w[j]));
                    bias.push(b[1] - b[0]);
                }
                Some(_) => {
                    return Err(Error::Invalid(format!(
                        "the head of class {k} is not a {dim}-d two-class head"
                    )))
                }
                None => {
                    let p = priors
                        .get(k)
                        .copied()
                        .unwrap_or(0.5)
                        .clamp(1e-6, 1.0 - 1e-6);
                    weights.extend(std::iter::repeat_n(0.0, dim));
                    bias.push((p / (1.0 - p)).ln());
                }
            }
        }
        Ok(LinearHead {
            weights,
            bias,
            classes: heads.len(),
            dim,
            activation: Activation::Sigmoid,
        })
    }

    /// The probabilities of one embedding, in f64 (the reference the export is checked against).
    pub fn probabilities(&self, x: &[f32]) -> Vec<f64> {
        let z: Vec<f64> = (0..self.classes)
            .map(|k| {
                let row = &self.weights[k * self.dim..(k + 1) * self.dim];
                let dot: f64 = row.iter().zip(x).map(|(&w, &v)| f64::from(w * v)).sum();
                dot + f64::from(self.bias[k])
            })
            .collect();
        match self.activation {
            Activation::Sigmoid => z.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect(),
            Activation::Softmax => {
                let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = z.iter().map(|&v| (v - m).exp()).collect();
                let s: f64 = e.iter().sum();
                e.iter().map(|v| v / s).collect()
            }
        }
    }

    /// Whether the sizes agree and every weight is finite.
    pub fn is_well_formed(&self) -> bool {
        self.classes >= 1
            && self.weights.len() == self.classes * self.dim
            && self.bias.len() == self.classes
            && self.weights.iter().chain(&self.bias).all(|w| w.is_finite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::HeadOptions;
    use crate::matrix::Matrix;

    fn two_class(seed: f32) -> SoftmaxHead {
        let rows: Vec<Vec<f32>> = (0..20)
            .map(|i| vec![i as f32 * 0.1 - 1.0 + seed, (i % 3) as f32 - seed])
            .collect();
        let y: Vec<usize> = (0..20).map(|i| usize::from(i >= 10)).collect();
        let x = Matrix::from_rows(&rows).unwrap();
        SoftmaxHead::fit(&x, &y, 2, &HeadOptions::default(), None).unwrap()
    }

    #[test]
    fn one_vs_rest_gives_each_heads_probability_and_the_prior_without_one() {
        let (a, b) = (two_class(0.0), two_class(0.3));
        let linear =
            LinearHead::one_vs_rest(&[Some(&a), None, Some(&b)], &[0.5, 0.2, 0.5]).unwrap();
        assert!(linear.is_well_formed());
        let x = [0.4f32, -0.7];
        let p = linear.probabilities(&x);
        assert!((p[0] - a.predict_proba(&x)[1]).abs() < 1e-6, "{p:?}");
        assert!((p[1] - 0.2).abs() < 1e-6, "{p:?}");
        assert!((p[2] - b.predict_proba(&x)[1]).abs() < 1e-6, "{p:?}");
        assert!(LinearHead::one_vs_rest(&[None, None], &[0.5, 0.5]).is_err());
    }

    #[test]
    fn softmax_gives_the_heads_probabilities() {
        let h = two_class(0.1);
        let linear = LinearHead::softmax(&h);
        let x = [0.2f32, 0.9];
        let (p, want) = (linear.probabilities(&x), h.predict_proba(&x));
        assert!(
            p.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{p:?} {want:?}"
        );
    }
}
