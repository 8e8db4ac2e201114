//! A labeling session: items, classes, the answers in order, skips, undo, and the query queue.

use crate::learner::LearnerInput;
use crate::{Error, Result};

/// One label the user gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    /// Index of the item in the session's item list.
    pub item: usize,
    /// Index of the class in the session's class list.
    pub class: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Labeled(usize),
    Skipped(usize),
}

/// The state of one labeling session. Plain data: the app owns it and renders from it; the
/// learner gets [`Session::learner_input`] and answers with a new queue for [`Session::set_queue`].
///
/// Invariants: an item is at most one of labeled, skipped, queued; the queue never holds an
/// answered or skipped item; `answers` is in the order the labels were given.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    items: Vec<String>,
    classes: Vec<String>,
    answers: Vec<Answer>,
    label_of: Vec<Option<usize>>,
    skipped: Vec<bool>,
    history: Vec<Action>,
    queue: Vec<usize>,
}

impl Session {
    /// A session over `items` (display names) with `classes`.
    ///
    /// # Errors
    /// [`Error::Invalid`] with fewer than two classes, a repeated or empty class name, or no items.
    pub fn new(items: Vec<String>, classes: Vec<String>) -> Result<Session> {
        if items.is_empty() {
            return Err(Error::Invalid("there are no items to label".into()));
        }
        if classes.len() < 2 {
            return Err(Error::Invalid(
                "a project needs at least two classes".into(),
            ));
        }
        for (i, c) in classes.iter().enumerate() {
            if c.trim().is_empty() || classes[..i].contains(c) {
                return Err(Error::Invalid(format!(
                    "class name '{c}' is empty or repeated"
                )));
            }
        }
        let n = items.len();
        Ok(Session {
            items,
            classes,
            answers: Vec::new(),
            label_of: vec![None; n],
            skipped: vec![false; n],
            history: Vec::new(),
            queue: Vec::new(),
        })
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

    /// The class of item `i`, if labeled.
    pub fn label_of(&self, i: usize) -> Option<usize> {
        self.label_of[i]
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
                    && self.label_of[i].is_none()
                    && !self.skipped[i];
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
        if class >= self.classes.len() {
            return Err(Error::Invalid(format!("no class number {}", class + 1)));
        }
        let item = self
            .current()
            .ok_or_else(|| Error::Invalid("nothing to label".into()))?;
        self.queue.remove(0);
        self.answers.push(Answer { item, class });
        self.label_of[item] = Some(class);
        self.history.push(Action::Labeled(item));
        Ok(item)
    }

    /// Skips the current item: it leaves the queue and is not asked again. Returns it.
    pub fn skip(&mut self) -> Option<usize> {
        let item = self.current()?;
        self.queue.remove(0);
        self.skipped[item] = true;
        self.history.push(Action::Skipped(item));
        Some(item)
    }

    /// Reverts the last label or skip; that item becomes the current one again. Returns it.
    pub fn undo(&mut self) -> Option<usize> {
        let item = match self.history.pop()? {
            Action::Labeled(item) => {
                let pos = self
                    .answers
                    .iter()
                    .rposition(|a| a.item == item)
                    .expect("labeled item");
                self.answers.remove(pos);
                self.label_of[item] = None;
                item
            }
            Action::Skipped(item) => {
                self.skipped[item] = false;
                item
            }
        };
        self.queue.retain(|&i| i != item);
        self.queue.insert(0, item);
        Some(item)
    }

    /// What the learner needs to retrain and pick the next `batch` items.
    pub fn learner_input(&self, batch: usize) -> LearnerInput {
        LearnerInput {
            labels: self.answers.clone(),
            skipped: (0..self.items.len()).filter(|&i| self.skipped[i]).collect(),
            batch,
            strategy: crate::acquire::StrategyKind::Auto,
            subpool: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        let items = (0..5).map(|i| format!("{i}.png")).collect();
        Session::new(items, vec!["a".into(), "b".into()]).unwrap()
    }

    #[test]
    fn answer_skip_undo_roundtrip() {
        let mut s = session();
        s.set_queue(vec![3, 1, 4]);
        assert_eq!(s.answer(1).unwrap(), 3);
        assert_eq!(s.skip(), Some(1));
        assert_eq!(s.current(), Some(4));
        assert_eq!(s.undo(), Some(1));
        assert_eq!(s.current(), Some(1));
        assert_eq!(s.undo(), Some(3));
        assert_eq!(s.queue(), &[3, 1, 4]);
        assert!(s.answers().is_empty());
        assert_eq!(s.undo(), None);
    }

    #[test]
    fn a_new_queue_keeps_the_current_item() {
        let mut s = session();
        s.set_queue(vec![3, 1]);
        s.set_queue(vec![2, 3, 4]);
        assert_eq!(s.queue(), &[3, 2, 4]);
    }

    #[test]
    fn stale_queues_are_filtered() {
        let mut s = session();
        s.set_queue(vec![0, 1]);
        s.answer(0).unwrap();
        s.skip();
        s.set_queue(vec![0, 1, 2, 2, 9]);
        assert_eq!(s.queue(), &[2]);
        let input = s.learner_input(4);
        assert_eq!(input.labels, vec![Answer { item: 0, class: 0 }]);
        assert_eq!(input.skipped, vec![1]);
    }

    #[test]
    fn bad_construction_and_answers_are_errors() {
        assert!(Session::new(vec![], vec!["a".into(), "b".into()]).is_err());
        assert!(Session::new(vec!["x".into()], vec!["a".into()]).is_err());
        assert!(Session::new(vec!["x".into()], vec!["a".into(), "a".into()]).is_err());
        let mut s = session();
        assert!(s.answer(0).is_err());
        s.set_queue(vec![0]);
        assert!(s.answer(2).is_err());
        assert_eq!(s.label_counts(), vec![0, 0]);
    }
}
