//! Looking around the pool: "More like this" / search by example, and the Map.

use super::Learner;
use crate::map::{self, Layout};
use crate::neighbours::{self, Neighbour, Query};
use crate::predict::Predictions;
use crate::Result;

/// The answer to a neighbour search: the items, and the current head's guesses on them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Similar {
    /// Most similar first ([`neighbours::nearest`]).
    pub neighbours: Vec<Neighbour>,
    /// The head's probabilities of those items (`None` before a head exists).
    pub predictions: Option<Predictions>,
}

impl Learner {
    /// The `k` embedded items nearest to `query`, exact ([`neighbours::nearest`]), with the
    /// current head's guesses on them.
    ///
    /// # Errors
    /// As [`neighbours::nearest`]: the query item is not embedded, or the example's embedding
    /// does not fit the pool's.
    pub fn similar(&self, query: &Query, k: usize) -> Result<Similar> {
        let neighbours = neighbours::nearest(&self.store, query, k)?;
        let items: Vec<usize> = neighbours.iter().map(|n| n.item).collect();
        let predictions = self.predictions_of(&items);
        Ok(Similar {
            neighbours,
            predictions,
        })
    }

    /// The Map of every embedded item ([`map::pca`], seeded with the learner's seed).
    pub fn map(&self) -> Layout {
        map::pca(&self.store, self.seed)
    }

    /// A t-SNE layout of the embedded items to run step by step ([`map::tsne::Tsne`], seeded
    /// with the learner's seed); `keep` (labeled, queued items) are in it when the pool is
    /// sampled.
    pub fn map_tsne(&self, keep: &[usize]) -> map::tsne::Tsne {
        map::tsne::Tsne::new(&self.store, keep, self.seed)
    }
}
