//! The learner's answers about trust: the audit question to ask next, and per refresh the audit
//! estimate, confusion matrix, stopping check and suspicious labels of the current head.

use std::collections::BTreeMap;

use super::{Learner, STABILITY_WINDOW, STOP_SET};
use crate::audit::{self, AuditRecord};
use crate::compute;
use crate::evaluate::OutOfFold;
use crate::head::LinearHead;
use crate::labels::LearnerInput;
use crate::predict::top;
use crate::quality::{
    suspicious_labels, Confusion, ConfusionSource, Quality, ABSENT, AUDITS_FOR_CONFUSION,
};
use crate::rng::Rng;
use crate::store::Rows;

impl Learner {
    /// Draws the next audit among `candidates` (unlabeled, embedded, not audits already),
    /// with a seed of its own so the strategy's choices do not depend on audits.
    pub(super) fn draw_audit(
        &self,
        candidates: &[usize],
        input: &LearnerInput,
    ) -> Option<AuditRecord> {
        let mut rng = Rng::new(
            self.seed ^ 0xa0d1_7a11 ^ (input.audits.len() as u64).wrapping_mul(0x2545_f491),
        );
        let loss = match (input.audit.method, self.head.as_ref()) {
            (audit::AuditMethod::Active, Some(head)) => {
                let p = self.probabilities_of(head, candidates);
                Some(
                    (0..candidates.len())
                        .map(|r| 1.0 - f64::from(top(p.row(r)).1))
                        .collect::<Vec<f64>>(),
                )
            }
            _ => None,
        };
        audit::draw(candidates, input.audit.method, loss.as_deref(), &mut rng)
    }

    /// The audit estimate, confusion matrix, stopping check and suspicious labels for the
    /// current head (single-label projects).
    pub(super) fn quality(
        &mut self,
        input: &LearnerInput,
        held_out: &[bool],
        items: &[usize],
        y: &[usize],
        oof: Option<&OutOfFold>,
    ) -> Quality {
        let Some(head) = self.head.as_ref() else {
            self.stability.truncate(items.len());
            return Quality::default();
        };
        let mut class_of = vec![None; self.store.rows()];
        input
            .labels
            .iter()
            .for_each(|a| class_of[a.item] = Some(a.class));
        // The head's guesses on the audits and the stop set, in one pass over their rows.
        let stop_set = self.stop_set();
        let rows: Vec<usize> = input
            .audits
            .iter()
            .map(|r| r.item)
            .chain(stop_set.iter().copied())
            .filter(|&i| self.store.is_present(i))
            .collect();
        let p = compute::probabilities(&self.store, &rows, &LinearHead::softmax(head));
        let at: BTreeMap<usize, usize> = rows.iter().enumerate().map(|(r, &i)| (i, r)).collect();
        let guess = |item: usize| top(p.row(at[&item]));
        // Answered audits, in the order drawn, whose embedding has arrived.
        let (mut audit_confidence, mut pool_confidence) = (Vec::new(), Vec::new());
        let audited: Vec<(AuditRecord, usize, usize)> = input
            .audits
            .iter()
            .filter(|r| held_out[r.item] && self.store.is_present(r.item))
            .filter_map(|r| {
                let given = class_of[r.item]?;
                let (predicted, confidence) = guess(r.item);
                audit_confidence.push(confidence);
                Some((*r, given, predicted))
            })
            .collect();
        // The stop set's predictions: the pool's confidence strata now, and the stopping
        // check's snapshot when one is due.
        let stop_guess: Vec<Option<usize>> = stop_set
            .iter()
            .map(|&i| {
                self.store.is_present(i).then(|| {
                    let (predicted, confidence) = guess(i);
                    if class_of[i].is_none() {
                        pool_confidence.push(confidence);
                    }
                    predicted
                })
            })
            .collect();
        let records: Vec<AuditRecord> = audited.iter().map(|a| a.0).collect();
        let correct: Vec<bool> = audited.iter().map(|a| a.1 == a.2).collect();
        let unlabeled = (0..self.store.rows())
            .filter(|&i| self.store.is_present(i) && class_of[i].is_none())
            .count();
        let estimate = audit::estimate(
            &records,
            &correct,
            input.audit.method,
            input.audit.finite_population.then_some(unlabeled),
            Some(&audit::Strata::new(&audit_confidence, &pool_confidence)),
            self.seed,
        );
        let classes = self.class_ids.len();
        let confusion = if audited.len() >= AUDITS_FOR_CONFUSION {
            Some(Confusion::new(
                ConfusionSource::Audits,
                classes,
                audited.iter().map(|(r, g, p)| (r.item, *g, *p)),
            ))
        } else {
            oof.map(|o| {
                Confusion::new(
                    ConfusionSource::CrossValidation,
                    classes,
                    (0..items.len()).map(|r| (items[r], y[r], top(o.probabilities.row(r)).0)),
                )
            })
        };
        let suspects = oof
            .map(|o| suspicious_labels(&o.probabilities, items, y))
            .unwrap_or_default();
        let window = STABILITY_WINDOW.max(input.batch);
        self.stability.truncate(items.len());
        if self.stability.due(items.len(), window) {
            let snapshot = stop_guess
                .iter()
                .map(|g| g.map_or(ABSENT, |c| c as u16))
                .collect();
            self.stability.record(items.len(), snapshot);
        }
        Quality {
            audit: estimate,
            confusion,
            stability: Some(self.stability.status(classes, window)),
            suspects,
        }
    }

    /// The stopping check's fixed stop set: every item of a small pool, else a seeded sample
    /// of [`STOP_SET`] items (the same at every snapshot).
    fn stop_set(&self) -> Vec<usize> {
        let n = self.store.rows();
        let mut all: Vec<usize> = (0..n).collect();
        if n > STOP_SET {
            Rng::new(self.seed ^ 0x5707).shuffle(&mut all);
            all.truncate(STOP_SET);
            all.sort_unstable();
        }
        all
    }
}
