//! What a session hands the learner: the answers and the settings of the next refresh. Both
//! [`crate::Session`] (which produces it) and [`crate::Learner`] (which reads it) depend on this
//! module; neither depends on the other.

use crate::acquire::{StrategyKind, Subpool};
use crate::audit::{AuditRecord, AuditSettings};

/// One label the user gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    /// Index of the item in the session's item list.
    pub item: usize,
    /// Index of the class in the session's class list.
    pub class: usize,
}

/// What the learner needs from a session to retrain and pick the next batch.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LearnerInput {
    /// Every label so far, in the order given.
    pub labels: Vec<Answer>,
    /// Items the user skipped; never queued again.
    pub skipped: Vec<usize>,
    /// How many items to queue.
    pub batch: usize,
    /// The strategy the user chose; [`StrategyKind::Auto`] follows [`default_strategy`].
    #[serde(default)]
    pub strategy: StrategyKind,
    /// Whether large pools are narrowed to an AnchorAL subpool first.
    #[serde(default)]
    pub subpool: Subpool,
    /// Items answered "none of these": never queued, never trained on.
    #[serde(default)]
    pub rejected: Vec<usize>,
    /// A stable id per class, in class order (labels' `class` indexes it). Empty: the classes
    /// the learner already has. When ids change the head follows them, keeping the weights of
    /// every class that is still there.
    #[serde(default)]
    pub class_ids: Vec<u32>,
    /// A multi-label project: `labels` holds every (item, class) pair, `labeled` every labeled
    /// item (an item labeled with no class is a negative for every class).
    #[serde(default)]
    pub multi_label: bool,
    /// Labeled items in order; read in multi-label projects only.
    #[serde(default)]
    pub labeled: Vec<usize>,
    /// Audit questions: how often and how drawn (off unless set; single-label projects only).
    #[serde(default)]
    pub audit: AuditSettings,
    /// Audit questions asked so far, answered or waiting in the queue, in the order drawn. While
    /// audits are on, their labels are kept out of training.
    #[serde(default)]
    pub audits: Vec<AuditRecord>,
    /// The item on screen when the refresh was asked: the update's guesses include it, so its
    /// guess does not vanish when the new queue was chosen without it.
    #[serde(default)]
    pub current: Option<usize>,
    /// The person asked for the full class list always: no candidate set queries (else the
    /// update carries the candidate-set rule, and [`crate::acquire::StrategyKind::CostMargin`]
    /// weighs by its cost).
    #[serde(default)]
    pub full_list: bool,
}
