//! The learner's selection step: the batch picked from the compact rows, offered to a
//! [`Backend`] where it can take the pass.

use super::Learner;
use crate::acquire::{anchoral, coreset, select, Pool, StrategyKind, Subpool};
use crate::candidates::CandidateRule;
use crate::compute::Backend;
use crate::labels::LearnerInput;
use crate::matrix::Matrix;
use crate::rng::Rng;
use crate::store::Rows;

impl Learner {
    /// Picks the batch: narrows to an AnchorAL subpool on the compact rows when the mode says
    /// so, then decodes only the rows the strategy can look at (the labeled items and the
    /// candidates left) and runs it there.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn select<B: Backend>(
        &self,
        strategy: StrategyKind,
        candidates: &[usize],
        items: &[usize],
        y: &[usize],
        input: &LearnerInput,
        candidate_sets: Option<CandidateRule>,
        rng: &mut Rng,
        backend: &mut B,
    ) -> Vec<usize> {
        let classes = self.class_ids.len();
        let narrowed = input
            .subpool
            .applies_to(candidates.len(), !y.is_empty())
            .then(|| anchoral::compact_subpool(&self.store, candidates, items, y, classes, rng))
            .filter(|sub| sub.len() >= input.batch.min(candidates.len()));
        let candidates = narrowed.as_deref().unwrap_or(candidates);
        let rows: Vec<usize> = items.iter().chain(candidates).copied().collect();
        // Strategies that never read embeddings, or read them through the compute layer, get
        // an empty matrix; their probabilities come from the compact store too, so the pool is
        // never decoded whole for them.
        let decoded = strategy.reads_embeddings() && !strategy.runs_on_compact_rows();
        if strategy == StrategyKind::CoreSet {
            let mut trial = rng.clone();
            let picked = coreset::k_center_on(
                backend,
                &self.store,
                candidates,
                items,
                input.batch,
                &mut trial,
            )
            .await;
            if let Some(picked) = picked {
                *rng = trial;
                return picked.into_iter().map(|j| candidates[j]).collect();
            }
        }
        let work = if decoded {
            self.store.decode(&rows)
        } else {
            Matrix::zeros(rows.len(), 0)
        };
        let local_labeled: Vec<usize> = (0..items.len()).collect();
        let local_candidates: Vec<usize> = (items.len()..rows.len()).collect();
        let probabilities = if !strategy.reads_probabilities() {
            None
        } else if input.multi_label {
            (!self.label_heads.is_empty()).then(|| self.label_probabilities_of(&rows))
        } else {
            match self.head.as_ref() {
                Some(h) if decoded => Some(h.predict_proba_rows(&work)),
                Some(h) => Some(self.probabilities_on(h, &rows, backend).await),
                None => None,
            }
        };
        let mut pool = Pool::unlabeled(&work, &local_candidates, classes)
            .with_labels(&local_labeled, y)
            .with_stored(&self.store, &rows);
        if let Some(p) = probabilities.as_ref() {
            pool = pool.with_probabilities(p, self.head.as_ref());
        }
        if let Some(rule) = candidate_sets {
            pool = pool.with_candidate_sets(rule);
        }
        select(strategy, &pool, input.batch, Subpool::Off, rng)
            .into_iter()
            .map(|local| rows[local])
            .collect()
    }
}
