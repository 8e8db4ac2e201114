//! The learner's candidate-set rule, fitted each refresh on answers no head trained on.

use super::Learner;
use crate::candidates::{self, CandidateRule};
use crate::compute;
use crate::evaluate::OutOfFold;
use crate::head::LinearHead;
use crate::labels::LearnerInput;

impl Learner {
    /// The conformal candidate-set rule for this refresh (single-label projects with at least
    /// [`candidates::MIN_CLASSES`] classes, unless the input asks for the full list): calibrated on the
    /// labeled items' out-of-fold probabilities (`oof`, rows of `items`/`y`) and on the answered
    /// audits (held out of training) under the current head.
    pub(super) fn candidate_rule(
        &self,
        input: &LearnerInput,
        held_out: &[bool],
        y: &[usize],
        oof: Option<&OutOfFold>,
    ) -> Option<CandidateRule> {
        let classes = self.class_ids.len();
        if input.full_list || input.multi_label || classes < candidates::MIN_CLASSES {
            return None;
        }
        let oof = oof?;
        let head = self.head.as_ref()?;
        let audited: Vec<(usize, usize)> = input
            .labels
            .iter()
            .filter(|a| held_out[a.item] && self.store.is_present(a.item))
            .map(|a| (a.item, a.class))
            .collect();
        let rows: Vec<usize> = audited.iter().map(|&(i, _)| i).collect();
        let audit_p = compute::probabilities(&self.store, &rows, &LinearHead::softmax(head));
        let mut probabilities: Vec<&[f32]> =
            (0..y.len()).map(|r| oof.probabilities.row(r)).collect();
        probabilities.extend((0..rows.len()).map(|r| audit_p.row(r)));
        let labels: Vec<usize> = y
            .iter()
            .copied()
            .chain(audited.iter().map(|a| a.1))
            .collect();
        candidates::calibrate(&probabilities, &labels, classes)
    }
}
