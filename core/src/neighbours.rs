//! "More like this" and search by example: the items of the pool nearest to a query, by cosine
//! similarity on the learner's 8-bit rows ([`CompactRows`]).
//!
//! The search is exact at every pool size: one pass of the compute layer's integer dot products
//! ([`compute::each_cosine`]) against every present row, a bounded heap ([`Best`]) keeping the
//! best `k`. The similarity of a row to a query is `codes · query / (‖codes‖ ‖query‖)` computed from exact
//! integers, so the order is the order a brute-force scan of the same codes gives (ties broken
//! by the lower item index). At 100,000 × 1,280 the pass is tens of milliseconds (docs/evidence.md
//! "More like this"), so no approximate index is needed.

use crate::compute::{self, Best, Vectors};
use crate::error::{Error, Result};
use crate::store::{CompactRows, Rows};

/// How many neighbours "More like this" asks for by default.
pub const DEFAULT_K: usize = 48;

/// One item near the query.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Neighbour {
    /// The item (index in the pool).
    pub item: usize,
    /// Cosine similarity to the query, in `[-1, 1]`.
    pub similarity: f32,
}

/// What to search near.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Query {
    /// An item of the pool (its own row, exactly); the item itself is left out of the answer.
    Item(usize),
    /// An embedding from outside the pool (search by example), quantised to 14 bits.
    Vector(Vec<f32>),
}

/// The `k` present rows of `store` most similar to `query`, most similar first (ties: lower item
/// first). An `Item` query leaves its own item out. Rows with a zero norm have similarity 0.
///
/// # Errors
/// [`Error::Invalid`] when the query item is out of range or not embedded, or the query vector
/// is empty, not finite, or of another dimension than the rows.
pub fn nearest(store: &CompactRows, query: &Query, k: usize) -> Result<Vec<Neighbour>> {
    if store.filled() == 0 || k == 0 {
        return Ok(Vec::new());
    }
    let (vectors, skip) = match query {
        Query::Item(i) => {
            if !store.is_present(*i) {
                return Err(Error::Invalid(format!(
                    "item {i} has no embedding yet to search near"
                )));
            }
            (Vectors::from_rows(store, &[*i]), Some(*i))
        }
        Query::Vector(v) => {
            if v.len() != store.cols() || v.iter().any(|x| !x.is_finite()) {
                return Err(Error::Invalid(format!(
                    "the example's embedding has {} values (the pool's have {}) or a value \
                     that is not a number",
                    v.len(),
                    store.cols()
                )));
            }
            (Vectors::new(v, store.cols()), None)
        }
    };
    let rows: Vec<usize> = (0..store.rows())
        .filter(|&i| store.is_present(i) && Some(i) != skip)
        .collect();
    let mut best = Best::new(k);
    compute::each_cosine(store, &rows, &vectors, |r, _, s| best.offer(s, rows[r]));
    Ok(best
        .into_sorted()
        .into_iter()
        .map(|(item, s)| Neighbour {
            item,
            similarity: s as f32,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;
    use crate::rng::Rng;

    fn pool(n: usize, dim: usize, seed: u64) -> CompactRows {
        let mut rng = Rng::new(seed);
        let mut x = Matrix::zeros(n, dim);
        for v in x.as_mut_slice() {
            *v = rng.normal() as f32;
        }
        CompactRows::from_matrix(&x)
    }

    #[test]
    fn an_item_is_not_its_own_neighbour_and_the_best_come_first() {
        let store = pool(200, 16, 1);
        let found = nearest(&store, &Query::Item(7), 10).unwrap();
        assert_eq!(found.len(), 10);
        assert!(found.iter().all(|n| n.item != 7));
        assert!(found.windows(2).all(|w| w[0].similarity >= w[1].similarity));
    }

    #[test]
    fn a_vector_query_finds_the_row_it_was_taken_from() {
        let store = pool(300, 32, 2);
        let mut row = vec![0f32; 32];
        store.row_into(123, &mut row);
        let found = nearest(&store, &Query::Vector(row), 3).unwrap();
        assert_eq!(found[0].item, 123);
        assert!(found[0].similarity > 0.999);
    }

    #[test]
    fn bad_queries_are_refused_and_empty_pools_give_nothing() {
        let store = pool(10, 8, 3);
        assert!(nearest(&store, &Query::Vector(vec![1.0; 7]), 3).is_err());
        assert!(nearest(&store, &Query::Vector(vec![f32::NAN; 8]), 3).is_err());
        assert!(nearest(&store, &Query::Item(10), 3).is_err());
        let empty = CompactRows::new(5);
        assert!(nearest(&empty, &Query::Item(0), 3).unwrap().is_empty());
        let partly = {
            let mut s = CompactRows::new(5);
            s.set(1, &[1.0, 0.0]).unwrap();
            s.set(3, &[0.5, 0.5]).unwrap();
            s
        };
        assert!(nearest(&partly, &Query::Item(0), 3).is_err());
        let found = nearest(&partly, &Query::Item(1), 10).unwrap();
        assert_eq!(found.iter().map(|n| n.item).collect::<Vec<_>>(), vec![3]);
    }
}
