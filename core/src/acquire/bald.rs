//! BALD (Houlsby et al., 2011) over a bootstrap ensemble of linear heads.
//!
//! A linear head has no dropout of its own, so the "posterior samples" are heads refitted on
//! bootstrap resamples of the labels (warm-started from the current head). An item scores the
//! mutual information between its label and the ensemble member: `H[p̄] − mean H[pₑ]`, high where
//! the members are each confident but disagree.

use super::{entropy, top_k_by_score, Pool, RandomSampler, Strategy};
use crate::head::{HeadOptions, SoftmaxHead};
use crate::rng::Rng;

/// Number of bootstrap heads.
pub const ENSEMBLE: usize = 8;

/// Top-k by BALD over [`ENSEMBLE`] bootstrap heads. Random when there is no head or the pool
/// carries no labels.
#[derive(Debug, Clone, Copy)]
pub struct Bald;

/// BALD score of each row: `H[mean of members] − mean of H[member]`, members given as
/// probability rows `members[e][i]`.
pub fn bald_scores(members: &[Vec<Vec<f32>>]) -> Vec<f32> {
    let Some(first) = members.first() else {
        return Vec::new();
    };
    let e = members.len() as f32;
    (0..first.len())
        .map(|i| {
            let mut mean = vec![0.0; first[i].len()];
            let mut mean_h = 0.0;
            for m in members {
                mean.iter_mut().zip(&m[i]).for_each(|(a, b)| *a += b / e);
                mean_h += entropy(&m[i]) / e;
            }
            (entropy(&mean) - mean_h).max(0.0)
        })
        .collect()
}

/// Heads fitted on bootstrap resamples of the labeled items; resamples with a single class are
/// redrawn (a few times) so every member is a real classifier.
pub fn bootstrap_heads(pool: &Pool<'_>, warm: &SoftmaxHead, rng: &mut Rng) -> Vec<SoftmaxHead> {
    let n = pool.labeled.len();
    let options = HeadOptions::default().quick();
    let mut heads = Vec::with_capacity(ENSEMBLE);
    for _ in 0..ENSEMBLE {
        for _attempt in 0..10 {
            let pick: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            let y: Vec<usize> = pick.iter().map(|&j| pool.labels[j]).collect();
            if y.iter().all(|&c| c == y[0]) {
                continue;
            }
            let items: Vec<usize> = pick.iter().map(|&j| pool.labeled[j]).collect();
            let x = pool.embeddings.select_rows(&items);
            if let Ok(h) = SoftmaxHead::fit(&x, &y, warm.classes(), &options, Some(warm)) {
                heads.push(h);
            }
            break;
        }
    }
    heads
}

impl Strategy for Bald {
    fn name(&self) -> &'static str {
        "bald"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        let Some(head) = pool.head else {
            return RandomSampler.select(pool, batch, rng);
        };
        if pool.labels.len() != pool.labeled.len() {
            return RandomSampler.select(pool, batch, rng);
        }
        let heads = bootstrap_heads(pool, head, rng);
        if heads.len() < 2 {
            return RandomSampler.select(pool, batch, rng);
        }
        let c = head.classes();
        let members: Vec<Vec<Vec<f32>>> = heads
            .iter()
            .map(|h| {
                let f = h.to_f32();
                pool.candidates
                    .iter()
                    .map(|&i| {
                        let mut p = vec![0.0; c];
                        f.proba_into(pool.embeddings.row(i), &mut p);
                        p
                    })
                    .collect()
            })
            .collect();
        let scores = bald_scores(&members);
        // Candidates are ascending (the `Pool` contract): find each one's score by position.
        top_k_by_score(pool.candidates, batch, |i| {
            scores[pool.candidates.binary_search(&i).expect("a candidate")]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn disagreement_scores_above_shared_uncertainty() {
        // Row 0: members agree on 50/50 (aleatoric): BALD 0. Row 1: members confident but
        // opposite (epistemic): BALD = ln 2. Row 2: all agree and confident: ~0.
        let a = vec![vec![0.5, 0.5], vec![0.99, 0.01], vec![0.99, 0.01]];
        let b = vec![vec![0.5, 0.5], vec![0.01, 0.99], vec![0.99, 0.01]];
        let s = bald_scores(&[a, b]);
        assert!(s[0].abs() < 1e-6);
        assert!(s[1] > 0.5 && s[1] <= std::f32::consts::LN_2 + 1e-6, "{s:?}");
        assert!(s[2] < 1e-6);
    }

    #[test]
    fn asks_where_few_labels_leave_the_boundary_open() {
        // Two labeled groups far apart on x; candidates along the line between and beyond.
        // Bootstrap heads disagree about the middle, not about the far ends.
        let mut rows = vec![
            vec![-5.0, 0.0],
            vec![-4.0, 0.0],
            vec![4.0, 0.0],
            vec![5.0, 0.0],
        ];
        rows.extend((0..21).map(|k| vec![-10.0 + k as f32, 0.0]));
        let x = Matrix::from_rows(&rows).unwrap();
        let labeled = [0, 1, 2, 3];
        let labels = [0, 0, 1, 1];
        let candidates: Vec<usize> = (4..25).collect();
        let head = SoftmaxHead::fit(
            &x.select_rows(&labeled),
            &labels,
            2,
            &HeadOptions::default(),
            None,
        )
        .unwrap();
        let probs = head.predict_proba_rows(&x);
        let pool = Pool::unlabeled(&x, &candidates, 2)
            .with_labels(&labeled, &labels)
            .with_probabilities(&probs, Some(&head));
        let picked = Bald.select(&pool, 3, &mut Rng::new(5));
        for i in picked {
            assert!(x.row(i)[0].abs() <= 3.0, "picked x = {}", x.row(i)[0]);
        }
    }
}
