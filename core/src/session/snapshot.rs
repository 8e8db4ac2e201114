//! A session as plain serialisable data, and back with every invariant checked.

use super::{check_class_name, Action, Answer, Session};
use crate::audit::AuditRecord;
use crate::{Error, Result};

/// One class: its stable id and its name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClassEntry {
    pub id: u32,
    pub name: String,
}

/// One step of the undo history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Labeled(usize),
    Skipped(usize),
    Rejected(usize),
}

/// One undone step that redo gives back, with the classes a label had.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RedoStep {
    pub step: Step,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<usize>,
}

/// Everything a session is, as plain data (see [`Session::snapshot`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SessionSnapshot {
    pub items: Vec<String>,
    pub classes: Vec<ClassEntry>,
    pub next_class_id: u32,
    pub multi_label: bool,
    /// (item, class) pairs in the order given.
    pub answers: Vec<Answer>,
    /// Labeled items in the order labeled.
    pub labeled: Vec<usize>,
    pub skipped: Vec<usize>,
    pub rejected: Vec<usize>,
    pub history: Vec<Step>,
    pub queue: Vec<usize>,
    /// Audit questions drawn, in order (absent in files written before audits existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audits: Vec<AuditRecord>,
    /// Undone steps, newest last: what redo gives back (absent in files written before redo
    /// steps were kept, and when there is nothing to redo).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redo: Vec<RedoStep>,
}

fn invalid(reason: String) -> Error {
    Error::Format {
        what: "project",
        reason,
    }
}

impl Session {
    /// The session as plain data; [`Session::from_snapshot`] gives it back unchanged.
    pub fn snapshot(&self) -> SessionSnapshot {
        SessionSnapshot {
            items: self.items.to_vec(),
            ..self.snapshot_without_items()
        }
    }

    /// [`Session::snapshot`] with no item names (they do not change; storage written after
    /// every answer keeps them apart). Its size grows with the answers, not the pool.
    pub fn snapshot_without_items(&self) -> SessionSnapshot {
        let flagged = |v: &[bool]| (0..v.len()).filter(|&i| v[i]).collect();
        SessionSnapshot {
            items: Vec::new(),
            classes: self
                .class_ids
                .iter()
                .zip(&self.classes)
                .map(|(&id, name)| ClassEntry {
                    id,
                    name: name.clone(),
                })
                .collect(),
            next_class_id: self.next_class_id,
            multi_label: self.multi_label,
            answers: self.answers.clone(),
            labeled: self.order.clone(),
            skipped: flagged(&self.skipped),
            rejected: flagged(&self.rejected),
            history: self.history().collect(),
            queue: self.queue.clone(),
            audits: self.audits.clone(),
            redo: self
                .redo
                .iter()
                .map(|(action, classes)| RedoStep {
                    step: step_of(*action),
                    classes: classes.clone(),
                })
                .collect(),
        }
    }

    /// The session `s` describes.
    ///
    /// # Errors
    /// [`Error::Format`] naming the first broken rule: no items, fewer than two classes, a bad or
    /// repeated class name or id, an item or class number out of range, an item labeled twice,
    /// answers of an unlabeled item, several classes for one item in a single-label project, an
    /// item both labeled and skipped or rejected, a queue or history entry that contradicts them.
    pub fn from_snapshot(s: SessionSnapshot) -> Result<Session> {
        let n = s.items.len();
        if n == 0 {
            return Err(invalid("it has no items".into()));
        }
        if s.classes.len() < 2 {
            return Err(invalid("it has fewer than two classes".into()));
        }
        let names: Vec<String> = s.classes.iter().map(|c| c.name.clone()).collect();
        for (k, c) in s.classes.iter().enumerate() {
            check_class_name(&names[..k], &c.name, None).map_err(|e| invalid(e.to_string()))?;
            if c.id >= s.next_class_id || s.classes[..k].iter().any(|o| o.id == c.id) {
                return Err(invalid(format!(
                    "class '{}' has a bad or repeated id {}",
                    c.name, c.id
                )));
            }
        }
        let item = |i: usize, what: &str| {
            if i < n {
                Ok(i)
            } else {
                Err(invalid(format!(
                    "{what} names item {i}, but there are {n} items"
                )))
            }
        };
        let mut labeled = vec![false; n];
        for &i in &s.labeled {
            if std::mem::replace(&mut labeled[item(i, "the labeled list")?], true) {
                return Err(invalid(format!("item {i} is labeled twice")));
            }
        }
        let mut per_item = vec![0usize; n];
        for a in &s.answers {
            item(a.item, "an answer")?;
            if a.class >= s.classes.len() {
                return Err(invalid(format!(
                    "an answer names class {}, but there are {} classes",
                    a.class,
                    s.classes.len()
                )));
            }
            if !labeled[a.item] {
                return Err(invalid(format!(
                    "item {} has an answer but is not labeled",
                    a.item
                )));
            }
            per_item[a.item] += 1;
        }
        for i in 0..n {
            let bad = if s.multi_label {
                false
            } else {
                labeled[i] && per_item[i] != 1
            };
            if bad {
                return Err(invalid(format!("item {i} does not have exactly one class")));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(a) = s.answers.iter().find(|a| !seen.insert((a.item, a.class))) {
            return Err(invalid(format!(
                "item {} has class {} twice",
                a.item, a.class
            )));
        }
        let mut skipped = vec![false; n];
        let mut rejected = vec![false; n];
        for (list, flags, what) in [
            (&s.skipped, &mut skipped, "skipped"),
            (&s.rejected, &mut rejected, "rejected"),
        ] {
            for &i in list {
                item(i, what)?;
                if labeled[i] || flags[i] {
                    return Err(invalid(format!("item {i} is {what} twice or also labeled")));
                }
                flags[i] = true;
            }
        }
        if let Some(i) = (0..n).find(|&i| skipped[i] && rejected[i]) {
            return Err(invalid(format!("item {i} is both skipped and rejected")));
        }
        let history = s
            .history
            .iter()
            .map(|step| {
                let (action, ok) = match *step {
                    Step::Labeled(i) => (Action::Labeled(i), i < n && labeled[i]),
                    Step::Skipped(i) => (Action::Skipped(i), i < n && skipped[i]),
                    Step::Rejected(i) => (Action::Rejected(i), i < n && rejected[i]),
                };
                ok.then_some(action).ok_or_else(|| {
                    invalid(format!("the history step {step:?} contradicts the answers"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut queued = vec![false; n];
        for &i in &s.queue {
            item(i, "the queue")?;
            if labeled[i] || skipped[i] || rejected[i] || std::mem::replace(&mut queued[i], true) {
                return Err(invalid(format!(
                    "the queue holds item {i}, which is answered or repeated"
                )));
            }
        }
        let mut audited = vec![false; n];
        for r in &s.audits {
            item(r.item, "an audit")?;
            if std::mem::replace(&mut audited[r.item], true) {
                return Err(invalid(format!("item {} is an audit twice", r.item)));
            }
            if !(r.q > 0.0 && r.q <= 1.0) || r.pool == 0 {
                return Err(invalid(format!(
                    "the audit of item {} has a bad draw probability",
                    r.item
                )));
            }
        }
        let redo = redo_steps(&s, &labeled, &skipped, &rejected)?;
        Ok(Session {
            audits: s.audits,
            items: s.items.into(),
            classes: names,
            class_ids: s.classes.iter().map(|c| c.id).collect(),
            next_class_id: s.next_class_id,
            answers: s.answers,
            order: s.labeled,
            labeled,
            multi_label: s.multi_label,
            skipped,
            rejected,
            history,
            redo,
            queue: s.queue,
        })
    }
}

fn step_of(action: Action) -> Step {
    match action {
        Action::Labeled(i) => Step::Labeled(i),
        Action::Skipped(i) => Step::Skipped(i),
        Action::Rejected(i) => Step::Rejected(i),
    }
}

/// The redo steps of `s`, each checked: its item in range, not answered now and not in
/// another step; a label's classes in range (exactly one in a single-label project); a skip or
/// "none of these" without classes.
fn redo_steps(
    s: &SessionSnapshot,
    labeled: &[bool],
    skipped: &[bool],
    rejected: &[bool],
) -> Result<Vec<(Action, Vec<usize>)>> {
    let n = s.items.len();
    let mut seen = vec![false; n];
    s.redo
        .iter()
        .map(|r| {
            let (action, item) = match r.step {
                Step::Labeled(i) => (Action::Labeled(i), i),
                Step::Skipped(i) => (Action::Skipped(i), i),
                Step::Rejected(i) => (Action::Rejected(i), i),
            };
            let free = item < n
                && !labeled[item]
                && !skipped[item]
                && !rejected[item]
                && !std::mem::replace(&mut seen[item], true);
            let classes_ok = match action {
                Action::Labeled(_) => {
                    r.classes.iter().all(|&c| c < s.classes.len())
                        && (s.multi_label || r.classes.len() == 1)
                }
                _ => r.classes.is_empty(),
            };
            (free && classes_ok)
                .then(|| (action, r.classes.clone()))
                .ok_or_else(|| {
                    invalid(format!(
                        "the redo step {:?} contradicts the answers",
                        r.step
                    ))
                })
        })
        .collect()
}
