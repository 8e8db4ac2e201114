//! A labeling session: items, classes, the answers in order, skips, undo, and the query queue.

mod snapshot;

pub use snapshot::{ClassEntry, RedoStep, SessionSnapshot, Step};

use crate::audit::AuditRecord;
pub use crate::labels::Answer;
use crate::labels::LearnerInput;
use crate::{Error, Result};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Labeled(usize),
    Skipped(usize),
    Rejected(usize),
}

impl Action {
    fn item(self) -> usize {
        match self {
            Action::Labeled(i) | Action::Skipped(i) | Action::Rejected(i) => i,
        }
    }
}

impl From<Action> for Step {
    fn from(a: Action) -> Step {
        match a {
            Action::Labeled(i) => Step::Labeled(i),
            Action::Skipped(i) => Step::Skipped(i),
            Action::Rejected(i) => Step::Rejected(i),
        }
    }
}

/// What happens to the labeled items of a class that is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DeletedItems {
    /// They go back to the pool, unlabeled, and may be asked again.
    Unlabel,
    /// They become "none of these" answers: out of the queue, in no class.
    NoneOfThese,
}

/// The state of one labeling session. Plain data: the app owns it and renders from it; the
/// learner gets [`Session::learner_input`] and answers with a new queue for [`Session::set_queue`].
///
/// Invariants: an item is at most one of labeled, skipped, rejected ("none of these"), queued;
/// the queue never holds an answered, skipped or rejected item; `answers` is in the order the
/// labels were given; every class has a stable id that survives renames and other classes'
/// removal (the learner matches its head to classes by id).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Shared, never changed: cloning a session (the app does before each change, to save the
    /// changed one before showing it) does not copy a million names.
    items: Arc<[String]>,
    classes: Vec<String>,
    class_ids: Vec<u32>,
    next_class_id: u32,
    answers: Vec<Answer>,
    /// Labeled items in the order they were labeled (in multi-label projects an item may be
    /// labeled with an empty set: none of the classes applies).
    order: Vec<usize>,
    labeled: Vec<bool>,
    multi_label: bool,
    skipped: Vec<bool>,
    rejected: Vec<bool>,
    history: Vec<Action>,
    /// Undone steps, newest last, with the classes a label had; any new answer clears it.
    redo: Vec<(Action, Vec<usize>)>,
    queue: Vec<usize>,
    /// Audit questions drawn by the learner, in the order drawn (see [`crate::audit`]). One
    /// serves as an audit while its item is labeled or queued.
    audits: Vec<AuditRecord>,
}

/// Checks a class name against the existing ones (all but `except`).
fn check_class_name(classes: &[String], name: &str, except: Option<usize>) -> Result<()> {
    if name.trim().is_empty() {
        return Err(Error::Invalid("a class name cannot be empty".into()));
    }
    if name.trim() != name {
        return Err(Error::Invalid(format!(
            "class name '{name}' starts or ends with a space"
        )));
    }
    let taken = classes
        .iter()
        .enumerate()
        .any(|(k, c)| Some(k) != except && c == name);
    if taken {
        return Err(Error::Invalid(format!("there is already a class '{name}'")));
    }
    Ok(())
}

impl Session {
    /// A session over `items` (display names) with `classes`.
    ///
    /// # Errors
    /// [`Error::Invalid`] with fewer than two classes, a repeated or empty class name, or no items.
    pub fn new(items: impl Into<Arc<[String]>>, classes: Vec<String>) -> Result<Session> {
        let items: Arc<[String]> = items.into();
        if items.is_empty() {
            return Err(Error::Invalid("there are no items to label".into()));
        }
        if classes.len() < 2 {
            return Err(Error::Invalid(
                "a project needs at least two classes".into(),
            ));
        }
        for (i, c) in classes.iter().enumerate() {
            check_class_name(&classes[..i], c, None)?;
        }
        let n = items.len();
        let k = classes.len() as u32;
        Ok(Session {
            items,
            classes,
            class_ids: (0..k).collect(),
            next_class_id: k,
            answers: Vec::new(),
            order: Vec::new(),
            labeled: vec![false; n],
            multi_label: false,
            skipped: vec![false; n],
            rejected: vec![false; n],
            history: Vec::new(),
            redo: Vec::new(),
            queue: Vec::new(),
            audits: Vec::new(),
        })
    }

    /// The same session as a multi-label project (an item can have several classes, or none),
    /// or back. Only before anything is labeled.
    ///
    /// # Errors
    /// [`Error::Invalid`] once labels exist.
    pub fn with_multi_label(mut self, on: bool) -> Result<Session> {
        if !self.order.is_empty() {
            return Err(Error::Invalid(
                "single- or multi-label is chosen before labeling".into(),
            ));
        }
        self.multi_label = on;
        Ok(self)
    }

    /// Whether an item can have several classes.
    pub fn is_multi_label(&self) -> bool {
        self.multi_label
    }

    /// Labeled items, in the order they were labeled.
    pub fn labeled_items(&self) -> &[usize] {
        &self.order
    }

    /// Whether item `i` is labeled (in a multi-label project, possibly with no class).
    pub fn is_labeled(&self, i: usize) -> bool {
        self.labeled[i]
    }

    /// The classes of item `i`, ascending (at most one in a single-label project).
    pub fn labels_of(&self, i: usize) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .answers
            .iter()
            .filter(|a| a.item == i)
            .map(|a| a.class)
            .collect();
        v.sort_unstable();
        v
    }

    /// Item names, in item order.
    pub fn items(&self) -> &[String] {
        &self.items
    }

    /// [`Session::items`], shared (a million names are not copied).
    pub fn shared_items(&self) -> Arc<[String]> {
        Arc::clone(&self.items)
    }

    /// Class names, in button order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Number of items in the pool.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the pool is empty (never true for a constructed session).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Display name of item `i`. Panics when out of range.
    pub fn item_name(&self, i: usize) -> &str {
        &self.items[i]
    }

    /// Labels given, in order.
    pub fn answers(&self) -> &[Answer] {
        &self.answers
    }

    /// The (first) class of item `i`, if it has one.
    pub fn label_of(&self, i: usize) -> Option<usize> {
        self.labels_of(i).first().copied()
    }

    /// Labels per class, indexed like [`Session::classes`].
    pub fn label_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        self.answers.iter().for_each(|a| counts[a.class] += 1);
        counts
    }

    /// Number of skipped items.
    pub fn skipped_count(&self) -> usize {
        self.skipped.iter().filter(|&&s| s).count()
    }

    /// Items answered "none of these", ascending.
    pub fn rejected(&self) -> Vec<usize> {
        (0..self.items.len())
            .filter(|&i| self.rejected[i])
            .collect()
    }

    /// Stable id of each class, in class order.
    pub fn class_ids(&self) -> &[u32] {
        &self.class_ids
    }

    /// The queue of items to ask about, the current one first.
    pub fn queue(&self) -> &[usize] {
        &self.queue
    }

    /// The item being asked about now.
    pub fn current(&self) -> Option<usize> {
        self.queue.first().copied()
    }

    /// Whether anything can be undone.
    pub fn can_undo(&self) -> bool {
        !self.history.is_empty()
    }

    /// Whether an undone step can be given again.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    /// Every answer (label, skip, "none of these") in the order given, oldest first; labels that
    /// came with the data are not steps.
    pub fn history(&self) -> impl ExactSizeIterator<Item = Step> + '_ {
        self.history.iter().map(|&a| Step::from(a))
    }

    /// Replaces the upcoming items with `items`, dropping answered, skipped, repeated and
    /// out-of-range ones, so a queue computed before the latest answers stays valid. The current
    /// item stays current: what a person is looking at never changes under them.
    pub fn set_queue(&mut self, items: Vec<usize>) {
        let mut seen = vec![false; self.items.len()];
        let current = self.current();
        self.queue = current
            .into_iter()
            .chain(items.into_iter().filter(|&i| Some(i) != current))
            .filter(|&i| {
                let ok = i < self.items.len()
                    && !seen[i]
                    && !self.labeled[i]
                    && !self.skipped[i]
                    && !self.rejected[i];
                if ok {
                    seen[i] = true;
                }
                ok
            })
            .collect();
    }

    /// Labels the current item with `class` and moves to the next. Returns the labeled item.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the queue is empty or `class` is out of range.
    pub fn answer(&mut self, class: usize) -> Result<usize> {
        self.answer_set(&[class])
    }

    /// Labels the current item with the classes `classes` and moves to the next. A single-label
    /// project takes exactly one class; a multi-label project any number, none meaning "none of
    /// the classes applies" (a negative for every class). Returns the labeled item.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the queue is empty, a class is out of range, or a single-label
    /// project is given other than one class.
    pub fn answer_set(&mut self, classes: &[usize]) -> Result<usize> {
        if let Some(&bad) = classes.iter().find(|&&c| c >= self.classes.len()) {
            return Err(Error::Invalid(format!("no class number {}", bad + 1)));
        }
        if !self.multi_label && classes.len() != 1 {
            return Err(Error::Invalid("choose exactly one class".into()));
        }
        let item = self
            .current()
            .ok_or_else(|| Error::Invalid("nothing to label".into()))?;
        self.queue.remove(0);
        self.record(item, classes);
        self.history.push(Action::Labeled(item));
        self.redo.clear();
        Ok(item)
    }

    /// Marks `item` labeled with `classes` (sorted, without repeats).
    fn record(&mut self, item: usize, classes: &[usize]) {
        let mut set = classes.to_vec();
        set.sort_unstable();
        set.dedup();
        self.answers
            .extend(set.into_iter().map(|class| Answer { item, class }));
        self.labeled[item] = true;
        self.order.push(item);
    }

    /// Forgets every label of `item`.
    fn forget(&mut self, item: usize) {
        self.answers.retain(|a| a.item != item);
        self.order.retain(|&i| i != item);
        self.labeled[item] = false;
    }

    /// Skips the current item: it leaves the queue and is not asked again. Returns it.
    pub fn skip(&mut self) -> Option<usize> {
        let item = self.current()?;
        self.queue.remove(0);
        self.skipped[item] = true;
        self.history.push(Action::Skipped(item));
        self.redo.clear();
        Some(item)
    }

    /// Makes `item` the current item (a person found it by search and wants to label it now).
    /// A skipped item is no longer skipped; the previous current item stays next in the queue.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `item` is out of range, labeled, or answered "none of these".
    pub fn ask_now(&mut self, item: usize) -> Result<()> {
        if item >= self.items.len() {
            return Err(Error::Invalid(format!("no item number {item}")));
        }
        if self.labeled[item] {
            let names: Vec<&str> = self
                .labels_of(item)
                .into_iter()
                .map(|c| self.classes[c].as_str())
                .collect();
            return Err(Error::Invalid(format!(
                "'{}' is already labeled '{}'",
                self.items[item],
                names.join(", ")
            )));
        }
        if self.rejected[item] {
            return Err(Error::Invalid(format!(
                "'{}' was answered 'none of these'; undo that first",
                self.items[item]
            )));
        }
        self.unskip(item);
        // An item the person chose is no random audit.
        self.audits.retain(|r| r.item != item);
        self.queue.retain(|&i| i != item);
        self.queue.insert(0, item);
        Ok(())
    }

    /// Labels each of `items` with `classes` (from the predictions view: several items, one
    /// class key), each its own answer in the history: an unlabeled item is asked now and
    /// answered, a labeled one relabeled in place. The current item stays current after.
    /// Returns how many items changed.
    ///
    /// # Errors
    /// As [`Session::ask_now`] and [`Session::answer_set`] for the first item that fails; the
    /// items before it keep their answers.
    pub fn label_items(&mut self, items: &[usize], classes: &[usize]) -> Result<usize> {
        let mut changed = 0;
        for &item in items {
            if item < self.items.len() && self.labeled[item] {
                if self.labels_of(item) != classes {
                    self.relabel(item, classes)?;
                    changed += 1;
                }
                continue;
            }
            self.ask_now(item)?;
            self.answer_set(classes)?;
            changed += 1;
        }
        Ok(changed)
    }

    /// Records an audit question the learner drew (it is first in the queue the learner sent).
    /// An item already answered, already an audit, or out of range is ignored.
    pub fn add_audit(&mut self, record: AuditRecord) {
        let i = record.item;
        let fresh = i < self.items.len()
            && !self.labeled[i]
            && !self.skipped[i]
            && !self.rejected[i]
            && self.audits.iter().all(|r| r.item != i);
        if fresh {
            self.audits.push(record);
        }
    }

    /// The audit questions serving as audits now (their item labeled or queued), in the order
    /// drawn.
    pub fn audits(&self) -> Vec<AuditRecord> {
        self.audits
            .iter()
            .filter(|r| self.labeled[r.item] || self.queue.contains(&r.item))
            .copied()
            .collect()
    }

    /// Whether item `i` is an audit question (labeled or queued).
    pub fn is_audit(&self, i: usize) -> bool {
        self.audits
            .iter()
            .any(|r| r.item == i && (self.labeled[i] || self.queue.contains(&i)))
    }

    /// Answered audit questions.
    pub fn answered_audits(&self) -> usize {
        self.audits.iter().filter(|r| self.labeled[r.item]).count()
    }

    /// Answers "none of these" for the current item: it leaves the queue, is never asked again
    /// and belongs to no class. Returns it.
    pub fn reject(&mut self) -> Option<usize> {
        let item = self.current()?;
        self.queue.remove(0);
        self.rejected[item] = true;
        self.history.push(Action::Rejected(item));
        self.redo.clear();
        Some(item)
    }

    /// Reverts the last label, skip or "none of these"; that item becomes the current one again
    /// and [`Session::redo`] can give the step back. Returns it.
    pub fn undo(&mut self) -> Option<usize> {
        let action = self.history.pop()?;
        let item = action.item();
        let classes = self.labels_of(item);
        self.unanswer(action);
        self.redo.push((action, classes));
        self.queue.retain(|&i| i != item);
        self.queue.insert(0, item);
        Some(item)
    }

    /// Gives back the last undone step (the same classes, skip or "none of these"), wherever the
    /// item is in the queue. Returns the item; `None` when there is nothing to redo.
    pub fn redo(&mut self) -> Option<usize> {
        let (action, classes) = self.redo.pop()?;
        let item = action.item();
        self.queue.retain(|&i| i != item);
        match action {
            Action::Labeled(_) => self.record(item, &classes),
            Action::Skipped(_) => self.skipped[item] = true,
            Action::Rejected(_) => self.rejected[item] = true,
        }
        self.history.push(action);
        Some(item)
    }

    /// Makes a skipped item askable again; its skip leaves the history (there is nothing left
    /// to undo).
    fn unskip(&mut self, item: usize) {
        if std::mem::replace(&mut self.skipped[item], false) {
            self.history.retain(|&a| a != Action::Skipped(item));
            self.redo.clear();
        }
    }

    /// Undoes whatever `action` recorded for its item.
    fn unanswer(&mut self, action: Action) {
        match action {
            Action::Labeled(item) => self.forget(item),
            Action::Skipped(item) => self.skipped[item] = false,
            Action::Rejected(item) => self.rejected[item] = false,
        }
    }

    /// Gives answered item `item` (labeled, skipped or "none of these") the classes `classes`
    /// instead, in place in the history; the learner retrains on the next refresh.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `item` has no answer in the history, a class is out of range, or a
    /// single-label project is given other than one class.
    pub fn relabel(&mut self, item: usize, classes: &[usize]) -> Result<()> {
        if let Some(&bad) = classes.iter().find(|&&c| c >= self.classes.len()) {
            return Err(Error::Invalid(format!("no class number {}", bad + 1)));
        }
        if !self.multi_label && classes.len() != 1 {
            return Err(Error::Invalid("choose exactly one class".into()));
        }
        let step = self.step_of(item)?;
        let action = self.history[step];
        if let Action::Labeled(_) = action {
            // The item keeps its place among the answers and in the labeling order.
            let at = self
                .answers
                .iter()
                .position(|a| a.item == item)
                .unwrap_or(self.answers.len());
            self.answers.retain(|a| a.item != item);
            let mut set = classes.to_vec();
            set.sort_unstable();
            set.dedup();
            self.answers
                .splice(at..at, set.into_iter().map(|class| Answer { item, class }));
        } else {
            self.unanswer(action);
            self.record(item, classes);
        }
        self.history[step] = Action::Labeled(item);
        self.redo.clear();
        Ok(())
    }

    /// Takes back the answer of item `item` wherever it is in the history: the item returns to
    /// the pool and may be asked again.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `item` has no answer in the history.
    pub fn remove_answer(&mut self, item: usize) -> Result<()> {
        let step = self.step_of(item)?;
        let action = self.history.remove(step);
        self.unanswer(action);
        self.redo.clear();
        Ok(())
    }

    /// Where `item` is in the history.
    fn step_of(&self, item: usize) -> Result<usize> {
        self.history
            .iter()
            .rposition(|a| a.item() == item)
            .ok_or_else(|| Error::Invalid(format!("item number {item} has no answer to change")))
    }

    /// Records a label that came with the data (a class folder, a label column): it counts like
    /// an answer but is not part of the undo history. Returns whether it was taken: in a
    /// single-label project an item that already has a label keeps it; in a multi-label one the
    /// class is added to the item's set.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `item` or `class` is out of range.
    pub fn import_label(&mut self, item: usize, class: usize) -> Result<bool> {
        if item >= self.items.len() || class >= self.classes.len() {
            return Err(Error::Invalid(format!(
                "imported label ({item}, {class}) is out of range"
            )));
        }
        // Only an item labeled already needs its answers searched (imports run once per item).
        let taken = self.rejected[item]
            || (self.labeled[item]
                && (!self.multi_label || self.answers.contains(&Answer { item, class })));
        if taken {
            return Ok(false);
        }
        self.unskip(item);
        self.redo.clear();
        self.queue.retain(|&i| i != item);
        if self.labeled[item] {
            let pos = self
                .answers
                .iter()
                .rposition(|a| a.item == item)
                .map_or(self.answers.len(), |p| p + 1);
            self.answers.insert(pos, Answer { item, class });
        } else {
            self.record(item, &[class]);
        }
        Ok(true)
    }

    /// Adds a class at the end of the list. Returns its index.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the name is empty, padded with spaces or taken.
    pub fn add_class(&mut self, name: &str) -> Result<usize> {
        check_class_name(&self.classes, name, None)?;
        self.classes.push(name.to_string());
        self.class_ids.push(self.next_class_id);
        self.next_class_id += 1;
        Ok(self.classes.len() - 1)
    }

    /// Renames class `class`; its labels and id stay.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `class` is out of range or the name is not allowed.
    pub fn rename_class(&mut self, class: usize, name: &str) -> Result<()> {
        self.check_class(class)?;
        check_class_name(&self.classes, name, Some(class))?;
        self.classes[class] = name.to_string();
        Ok(())
    }

    /// Moves every label of class `from` to class `into` and removes `from`. Labels keep their
    /// order and undo history; class indices after `from` shift down by one.
    ///
    /// # Errors
    /// [`Error::Invalid`] when a class is out of range, they are the same, or only two classes
    /// are left.
    pub fn merge_classes(&mut self, from: usize, into: usize) -> Result<()> {
        self.check_class(from)?;
        self.check_class(into)?;
        if from == into {
            return Err(Error::Invalid(
                "a class cannot be merged into itself".into(),
            ));
        }
        self.check_removable()?;
        for a in &mut self.answers {
            if a.class == from {
                a.class = into;
            }
        }
        // A multi-label item that had both keeps one.
        let mut seen = std::collections::BTreeSet::new();
        self.answers.retain(|a| seen.insert((a.item, a.class)));
        self.remove_class(from);
        Ok(())
    }

    /// Removes class `class`; its labeled items go back to the pool or become "none of these"
    /// answers, as `items` says (in a multi-label project, only those left with no class).
    /// Returns the items that had it.
    ///
    /// # Errors
    /// [`Error::Invalid`] when `class` is out of range or only two classes are left.
    pub fn delete_class(&mut self, class: usize, items: DeletedItems) -> Result<Vec<usize>> {
        self.check_class(class)?;
        self.check_removable()?;
        let affected: Vec<usize> = self
            .answers
            .iter()
            .filter(|a| a.class == class)
            .map(|a| a.item)
            .collect();
        self.answers.retain(|a| a.class != class);
        // Items left with no class (all of them in a single-label project), in one pass each
        // over answers, order and history: a large class is deleted in linear time.
        let mut emptied = vec![false; self.items.len()];
        affected.iter().for_each(|&i| emptied[i] = true);
        self.answers.iter().for_each(|a| emptied[a.item] = false);
        self.order.retain(|&i| !emptied[i]);
        for (i, _) in emptied.iter().enumerate().filter(|(_, &e)| e) {
            self.labeled[i] = false;
            if items == DeletedItems::NoneOfThese {
                self.rejected[i] = true;
            }
        }
        match items {
            DeletedItems::Unlabel => self
                .history
                .retain(|h| !matches!(*h, Action::Labeled(i) if emptied[i])),
            DeletedItems::NoneOfThese => self.history.iter_mut().for_each(|h| {
                if let Action::Labeled(i) = *h {
                    if emptied[i] {
                        *h = Action::Rejected(i);
                    }
                }
            }),
        }
        self.remove_class(class);
        Ok(affected)
    }

    fn check_class(&self, class: usize) -> Result<()> {
        if class >= self.classes.len() {
            return Err(Error::Invalid(format!("no class number {}", class + 1)));
        }
        Ok(())
    }

    fn check_removable(&self) -> Result<()> {
        if self.classes.len() <= 2 {
            return Err(Error::Invalid(
                "a project needs at least two classes; add one first".into(),
            ));
        }
        Ok(())
    }

    /// Drops class `class` (which no answer uses any more) and shifts the later indices down.
    fn remove_class(&mut self, class: usize) {
        // Undone labels name classes by index, which shift now.
        self.redo.clear();
        self.classes.remove(class);
        self.class_ids.remove(class);
        for a in &mut self.answers {
            debug_assert_ne!(a.class, class);
            if a.class > class {
                a.class -= 1;
            }
        }
    }

    /// What the learner needs to retrain and pick the next `batch` items.
    pub fn learner_input(&self, batch: usize) -> LearnerInput {
        LearnerInput {
            labels: self.answers.clone(),
            skipped: (0..self.items.len()).filter(|&i| self.skipped[i]).collect(),
            batch,
            strategy: crate::acquire::StrategyKind::Auto,
            subpool: Default::default(),
            rejected: self.rejected(),
            class_ids: self.class_ids.clone(),
            multi_label: self.multi_label,
            labeled: self.order.clone(),
            audit: Default::default(),
            audits: self.audits(),
            current: self.current(),
            full_list: false,
        }
    }
}

#[cfg(test)]
mod tests;
