//! Random sampling: the baseline every other strategy must beat.

use super::{Pool, Strategy};
use crate::rng::Rng;

/// Picks candidates uniformly at random.
#[derive(Debug, Clone, Copy)]
pub struct RandomSampler;

impl Strategy for RandomSampler {
    fn name(&self) -> &'static str {
        "random"
    }

    fn select(&self, pool: &Pool<'_>, batch: usize, rng: &mut Rng) -> Vec<usize> {
        let mut c = pool.candidates.to_vec();
        rng.shuffle(&mut c);
        c.truncate(batch);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;

    #[test]
    fn different_seeds_give_different_batches() {
        let x = Matrix::zeros(100, 1);
        let c: Vec<usize> = (0..100).collect();
        let pool = Pool::unlabeled(&x, &c, 2);
        let a = RandomSampler.select(&pool, 10, &mut Rng::new(1));
        let b = RandomSampler.select(&pool, 10, &mut Rng::new(2));
        assert_ne!(a, b);
    }
}
