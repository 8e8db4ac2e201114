//! The learner: embeddings of the pool, the head trained on the labels, and the next queue.

use std::collections::BTreeMap;

mod explore;
mod select;
mod sets;

pub use explore::Similar;

use crate::acquire::{default_strategy, StrategyKind, LOW_BUDGET_PER_CLASS};
use crate::audit::AuditRecord;
use crate::candidates::CandidateRule;
use crate::compute::{self, Backend, Cpu};
use crate::evaluate::{cross_validate, out_of_fold_warm, Accuracy, OutOfFold, WarmFolds};
use crate::head::{HeadOptions, LinearHead, SoftmaxHead};
use crate::labels::LearnerInput;
use crate::matrix::Matrix;
use crate::predict::Predictions;
use crate::quality::{Quality, StabilityTracker};
use crate::rng::Rng;
use crate::store::{CompactRows, Rows};
use crate::{Error, Result};

mod trust;

/// One point of the learning curve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CurvePoint {
    /// Number of labels.
    pub labels: usize,
    /// Cross-validated accuracy at that many labels.
    pub accuracy: f64,
}

/// Where a refresh's time went (from [`Learner::refresh_timed`]'s clock).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct RefreshTimes {
    /// Fitting the head (and its cross-validated estimate).
    pub fit_ms: f64,
    /// Scoring the candidates and picking the batch (the strategy, AnchorAL included).
    pub select_ms: f64,
    /// The whole refresh.
    pub total_ms: f64,
}

/// What the learner answers after a refresh.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LearnerUpdate {
    /// Items to ask about next, most valuable first.
    pub queue: Vec<usize>,
    /// The strategy that picked them.
    pub strategy: StrategyKind,
    /// Cross-validated accuracy on the labels, when there are enough.
    pub accuracy: Option<Accuracy>,
    /// Accuracy against number of labels, ascending in labels.
    pub curve: Vec<CurvePoint>,
    /// Number of labels this update was computed from.
    pub labels: usize,
    /// The head's probabilities of the queued items (none before a head exists).
    #[serde(default)]
    pub guesses: Predictions,
    /// The audit question drawn for this queue (first in it), when one is due.
    #[serde(default)]
    pub audit: Option<AuditRecord>,
    /// How far to trust the head: audits, confusion, stopping, suspicious labels.
    #[serde(default)]
    pub quality: Quality,
    /// The candidate-set rule for this queue (single-label projects of at least four classes
    /// with candidate sets on, once enough answers calibrate it): the classes to show first for
    /// an item are [`CandidateRule::set`] of its guess.
    #[serde(default)]
    pub candidate_sets: Option<CandidateRule>,
}

/// Labels between two snapshots of the stopping check (at least; a larger batch widens it).
pub const STABILITY_WINDOW: usize = 10;
/// Items of the stopping check's fixed stop set (a seeded sample of the pool).
pub const STOP_SET: usize = 5000;

/// What a refit produced: the labeled items trained on (embedded ones, in order), their
/// single-label classes (empty in multi-label projects), labels per class, the estimate.
struct Fitted {
    items: Vec<usize>,
    y: Vec<usize>,
    counts: Vec<usize>,
    accuracy: Option<Accuracy>,
    /// Out-of-fold probabilities of `items` (single-label projects).
    oof: Option<OutOfFold>,
}

/// Holds the pool's embeddings (compactly, filled as items are embedded) and the current head.
/// Deterministic: the same sequence of inputs gives the same updates.
///
/// Only items whose embedding has arrived take part: they are trained on when labeled and
/// queued when not, so labeling can start while the rest of the pool is still embedding.
#[derive(Debug, Clone)]
pub struct Learner {
    store: CompactRows,
    class_ids: Vec<u32>,
    head: Option<SoftmaxHead>,
    /// Multi-label projects: one binary head per class id ("has this class").
    label_heads: BTreeMap<u32, SoftmaxHead>,
    /// Multi-label projects: `P(class)` of classes without a head yet (prior from the counts).
    label_priors: Vec<f32>,
    options: HeadOptions,
    curve: Vec<CurvePoint>,
    seed: u64,
    stability: StabilityTracker,
    /// The cross-validation's fold heads, warm starts for the next refresh.
    folds: WarmFolds,
}

impl Learner {
    /// A learner for a pool of `items` items (none embedded yet) and `classes` classes, whose
    /// ids are `0..classes` until an input says otherwise.
    ///
    /// # Errors
    /// [`Error::Invalid`] when there are no items or fewer than two classes.
    pub fn new(items: usize, classes: usize, seed: u64) -> Result<Learner> {
        if items == 0 || classes < 2 {
            return Err(Error::Invalid(
                "a learner needs items and at least two classes".into(),
            ));
        }
        Ok(Learner {
            store: CompactRows::new(items),
            class_ids: (0..classes as u32).collect(),
            head: None,
            label_heads: BTreeMap::new(),
            label_priors: Vec::new(),
            options: HeadOptions::default(),
            curve: Vec::new(),
            seed,
            stability: StabilityTracker::default(),
            folds: WarmFolds::default(),
        })
    }

    /// A learner over every row of `embeddings` (row `i` = item `i`).
    ///
    /// # Errors
    /// As [`Learner::new`].
    pub fn from_matrix(embeddings: &Matrix, classes: usize, seed: u64) -> Result<Learner> {
        let mut learner = Learner::new(embeddings.rows(), classes, seed)?;
        learner.store = CompactRows::from_matrix(embeddings);
        Ok(learner)
    }

    /// Stores the embedding of item `item`; from now on it can be trained on and queued.
    ///
    /// # Errors
    /// As [`CompactRows::set`]: out of range, a dimension unlike the others, a non-finite value.
    pub fn add_embedding(&mut self, item: usize, embedding: &[f32]) -> Result<()> {
        self.store.set(item, embedding)
    }

    /// Adds `item`'s embedding as the embedding cache keeps it ([`crate::cache::compact`]'s
    /// bytes): the same row as [`Learner::add_embedding`] of the values it was made from.
    ///
    /// # Errors
    /// As [`CompactRows::set_compact`].
    pub fn add_compact(&mut self, item: usize, bytes: &[u8]) -> Result<()> {
        self.store.set_compact(item, bytes)
    }

    /// How many items have an embedding.
    pub fn embedded(&self) -> usize {
        self.store.filled()
    }

    /// The embeddings held.
    pub fn store(&self) -> &CompactRows {
        &self.store
    }

    /// The current head, once two classes have labels.
    pub fn head(&self) -> Option<&SoftmaxHead> {
        self.head.as_ref()
    }

    /// The current head as a linear layer, as the exported classifier writes it: the softmax
    /// head, or in multi-label projects one sigmoid per class (`None` before any head).
    pub fn linear_head(&self) -> Option<LinearHead> {
        if let Some(head) = self.head.as_ref() {
            return Some(LinearHead::softmax(head));
        }
        let heads: Vec<Option<&SoftmaxHead>> = self
            .class_ids
            .iter()
            .map(|id| self.label_heads.get(id))
            .collect();
        LinearHead::one_vs_rest(&heads, &self.label_priors).ok()
    }

    /// Follows a change of the class list: classes are matched by id, so a kept class keeps its
    /// weights, a new one starts from zero, and a removed one's weights go.
    fn follow_classes(&mut self, ids: &[u32]) {
        if ids.is_empty() || ids == self.class_ids {
            return;
        }
        let sources: Vec<Option<usize>> = ids
            .iter()
            .map(|id| self.class_ids.iter().position(|o| o == id))
            .collect();
        self.head = self.head.take().map(|h| h.remap(&sources));
        self.folds.remap(&sources);
        self.class_ids = ids.to_vec();
    }

    /// Retrains the head on `input.labels` (warm-started from the previous head), estimates
    /// accuracy by cross-validation, extends the learning curve, and picks the next queue.
    /// Labels of items not embedded yet wait until their embedding arrives.
    ///
    /// # Errors
    /// [`Error::Invalid`] when a label names an item or class out of range, or the input has
    /// fewer than two classes.
    pub fn refresh(&mut self, input: &LearnerInput) -> Result<LearnerUpdate> {
        self.refresh_timed(input, &mut || 0.0)
            .map(|(update, _)| update)
    }

    /// [`Learner::refresh`], reading `clock` (milliseconds; core has no clock of its own)
    /// around its steps: for benchmarks (`quarry bench`).
    ///
    /// # Errors
    /// As [`Learner::refresh`].
    pub fn refresh_timed(
        &mut self,
        input: &LearnerInput,
        clock: &mut dyn FnMut() -> f64,
    ) -> Result<(LearnerUpdate, RefreshTimes)> {
        compute::now(self.refresh_on(input, clock, &mut Cpu))
    }

    /// [`Learner::refresh_timed`] with the pool's heavy passes offered to `backend` first (the
    /// whole-pool class probabilities, Core-Set's k-center greedy); the CPU runs what it
    /// declines. With [`Cpu`] the future completes without waiting ([`compute::now`]).
    ///
    /// # Errors
    /// As [`Learner::refresh`].
    pub async fn refresh_on<B: Backend>(
        &mut self,
        input: &LearnerInput,
        clock: &mut dyn FnMut() -> f64,
        backend: &mut B,
    ) -> Result<(LearnerUpdate, RefreshTimes)> {
        let start = clock();
        if !input.class_ids.is_empty() && input.class_ids.len() < 2 {
            return Err(Error::Invalid(
                "a project needs at least two classes".into(),
            ));
        }
        self.follow_classes(&input.class_ids);
        let classes = self.class_ids.len();
        let n = self.store.rows();
        let mut out = vec![false; n];
        for a in &input.labels {
            if a.item >= n || a.class >= classes {
                return Err(Error::Invalid(format!("label {a:?} is out of range")));
            }
            out[a.item] = true;
        }
        if let Some(&bad) = input.labeled.iter().find(|&&i| i >= n) {
            return Err(Error::Invalid(format!(
                "labeled item {bad} is out of range"
            )));
        }
        // Audits answer for the pool only while no head has learned from them.
        let auditing = input.audit.is_on() && !input.multi_label;
        let mut held_out = vec![false; n];
        if auditing {
            for r in &input.audits {
                if r.item >= n {
                    return Err(Error::Invalid(format!(
                        "audit item {} is out of range",
                        r.item
                    )));
                }
                held_out[r.item] = true;
            }
        }
        let fitted = if input.multi_label {
            input.labeled.iter().for_each(|&i| out[i] = true);
            self.fit_multi_label(input)?
        } else {
            self.fit_single_label(input, &held_out)?
        };
        let fitted_at = clock();
        let Fitted {
            items,
            y,
            counts,
            accuracy,
            oof,
        } = fitted;
        self.curve.retain(|p| p.labels < items.len());
        if let Some(a) = accuracy {
            self.curve.push(CurvePoint {
                labels: items.len(),
                accuracy: a.value,
            });
        }

        let strategy = match (input.strategy, input.multi_label) {
            (StrategyKind::Auto, false) => default_strategy(&counts),
            (StrategyKind::Auto, true) if counts.iter().any(|&c| c < LOW_BUDGET_PER_CLASS) => {
                StrategyKind::TypiClust
            }
            // Softmax-specific strategies become the multi-label uncertainty measure.
            (kind, true)
                if kind == StrategyKind::Auto
                    || kind.reads_probabilities()
                    || matches!(kind, StrategyKind::Bald | StrategyKind::DropQuery) =>
            {
                StrategyKind::MeanMargin
            }
            (kind, _) => kind,
        };
        input
            .rejected
            .iter()
            .filter(|&&i| i < n)
            .for_each(|&i| out[i] = true);
        let mut skipped = vec![false; n];
        input
            .skipped
            .iter()
            .filter(|&&i| i < n)
            .for_each(|&i| skipped[i] = true);
        let offered = |i: &usize| self.store.is_present(*i) && !out[*i];
        let mut candidates: Vec<usize> = (0..n).filter(|i| offered(i) && !skipped[*i]).collect();
        if candidates.is_empty() {
            // Everything was labeled or skipped: offer the skipped items again.
            candidates = (0..n).filter(offered).collect();
        }
        let candidate_sets = self.candidate_rule(input, &held_out, &y, oof.as_ref());
        let mut rng = Rng::new(self.seed ^ (items.len() as u64).wrapping_mul(0x9e37_79b9));
        let select_start = clock();
        let mut queue = self
            .select(
                strategy,
                &candidates,
                &items,
                &y,
                input,
                candidate_sets,
                &mut rng,
                backend,
            )
            .await;
        let selected_at = clock();
        let audit = if auditing && input.audit.due(input.labels.len(), input.audits.len()) {
            let fresh: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| !held_out[i])
                .collect();
            self.draw_audit(&fresh, input)
        } else {
            None
        };
        if let Some(r) = audit {
            queue.retain(|&i| i != r.item);
            queue.insert(0, r.item);
        }
        let quality = if input.multi_label {
            Quality::default()
        } else {
            self.quality(input, &held_out, &items, &y, oof.as_ref())
        };
        let mut guessed = queue.clone();
        if let Some(c) = input.current.filter(|c| !queue.contains(c) && *c < n) {
            guessed.push(c);
        }
        let guesses = self.predictions_of(&guessed).unwrap_or_default();
        let update = LearnerUpdate {
            queue,
            strategy,
            accuracy,
            curve: self.curve.clone(),
            labels: items.len(),
            guesses,
            audit,
            quality,
            candidate_sets,
        };
        let end = clock();
        Ok((
            update,
            RefreshTimes {
                fit_ms: fitted_at - start,
                select_ms: selected_at - select_start,
                total_ms: end - start,
            },
        ))
    }

    /// The current head's probabilities of every embedded item (`None` before a head exists).
    pub fn predictions(&self) -> Option<Predictions> {
        compute::now(self.predictions_on(&mut Cpu))
    }

    /// [`Learner::predictions`], the single-label head's scores offered to `backend` first.
    pub async fn predictions_on<B: Backend>(&self, backend: &mut B) -> Option<Predictions> {
        let items: Vec<usize> = (0..self.store.rows())
            .filter(|&i| self.store.is_present(i))
            .collect();
        match self.head.as_ref() {
            Some(head) => Some(Predictions {
                classes: head.classes(),
                multi_label: false,
                probabilities: self
                    .probabilities_on(head, &items, backend)
                    .await
                    .as_slice()
                    .to_vec(),
                items,
            }),
            None => self.predictions_of(&items),
        }
    }

    /// The current head's probabilities of `items` (each must be embedded), in multi-label
    /// projects one independent probability per class.
    fn predictions_of(&self, items: &[usize]) -> Option<Predictions> {
        let items: Vec<usize> = items
            .iter()
            .copied()
            .filter(|&i| self.store.is_present(i))
            .collect();
        let (multi_label, matrix) = if let Some(head) = self.head.as_ref() {
            (false, self.probabilities_of(head, &items))
        } else if !self.label_heads.is_empty() {
            (true, self.label_probabilities_of(&items))
        } else {
            return None;
        };
        Some(Predictions {
            classes: matrix.cols(),
            multi_label,
            items,
            probabilities: matrix.as_slice().to_vec(),
        })
    }

    /// Class probabilities of store rows `rows`, straight from the 8-bit rows
    /// ([`compute::probabilities`]).
    fn probabilities_of(&self, head: &SoftmaxHead, rows: &[usize]) -> Matrix {
        compute::probabilities(&self.store, rows, &LinearHead::softmax(head))
    }

    /// [`Learner::probabilities_of`] with the dot products offered to `backend` first: the
    /// same numbers either way.
    async fn probabilities_on<B: Backend>(
        &self,
        head: &SoftmaxHead,
        rows: &[usize],
        backend: &mut B,
    ) -> Matrix {
        let head = LinearHead::softmax(head);
        let vectors = compute::head_vectors(&head);
        match backend.dots(&self.store, rows, &vectors).await {
            Some(dots) if dots.len() == rows.len() * head.classes => {
                compute::probabilities_from_dots(&self.store, rows, &head, &vectors, &dots)
            }
            _ => compute::probabilities(&self.store, rows, &head),
        }
    }

    /// Single-label: refits the softmax head on the labels of embedded items (but the audits
    /// in `held_out`), cross-validates.
    fn fit_single_label(&mut self, input: &LearnerInput, held_out: &[bool]) -> Result<Fitted> {
        let classes = self.class_ids.len();
        let (items, y): (Vec<usize>, Vec<usize>) = input
            .labels
            .iter()
            .filter(|a| self.store.is_present(a.item) && !held_out[a.item])
            .map(|a| (a.item, a.class))
            .unzip();
        let mut counts = vec![0; classes];
        y.iter().for_each(|&c| counts[c] += 1);
        let x = self.store.decode(&items);
        self.head = if counts.iter().filter(|&&c| c > 0).count() >= 2 {
            Some(SoftmaxHead::fit(
                &x,
                &y,
                classes,
                &self.options,
                self.head.as_ref(),
            )?)
        } else {
            None
        };
        let oof = out_of_fold_warm(
            &x,
            &y,
            &items,
            classes,
            &self.options.quick(),
            self.seed,
            &mut self.folds,
        )?;
        Ok(Fitted {
            accuracy: oof.as_ref().map(|o| o.accuracy(&y)),
            items,
            y,
            counts,
            oof,
        })
    }

    /// Multi-label: one binary head per class (warm-started, kept by class id) where the class
    /// has positives and negatives, a prior elsewhere; accuracy is the mean over those classes
    /// of the cross-validated "has this class" accuracy.
    fn fit_multi_label(&mut self, input: &LearnerInput) -> Result<Fitted> {
        let classes = self.class_ids.len();
        let items: Vec<usize> = input
            .labeled
            .iter()
            .copied()
            .filter(|&i| self.store.is_present(i))
            .collect();
        let position: BTreeMap<usize, usize> =
            items.iter().enumerate().map(|(k, &i)| (i, k)).collect();
        let mut has = vec![vec![0usize; items.len()]; classes];
        for a in &input.labels {
            if let Some(&k) = position.get(&a.item) {
                has[a.class][k] = 1;
            }
        }
        let counts: Vec<usize> = has.iter().map(|h| h.iter().sum()).collect();
        let x = self.store.decode(&items);
        let quick = self.options.quick();
        let mut heads = BTreeMap::new();
        let mut accuracies = Vec::new();
        self.label_priors = counts
            .iter()
            .map(|&c| (c as f32 + 1.0) / (items.len() as f32 + 2.0))
            .collect();
        for (k, y) in has.iter().enumerate() {
            let id = self.class_ids[k];
            if counts[k] == 0 || counts[k] == items.len() {
                continue;
            }
            let warm = self.label_heads.get(&id);
            heads.insert(id, SoftmaxHead::fit(&x, y, 2, &self.options, warm)?);
            if let Some(a) = cross_validate(&x, y, 2, &quick, self.seed ^ u64::from(id))? {
                accuracies.push(a);
            }
        }
        self.label_heads = heads;
        self.head = None;
        let accuracy = (!accuracies.is_empty()).then(|| Accuracy {
            value: accuracies.iter().map(|a| a.value).sum::<f64>() / accuracies.len() as f64,
            folds: accuracies[0].folds,
            labels: items.len(),
        });
        Ok(Fitted {
            items,
            y: Vec::new(),
            counts,
            accuracy,
            oof: None,
        })
    }

    /// Multi-label `P(class)` of store rows `rows` (one column per class; a class without a
    /// head at its prior), straight from the 8-bit rows.
    fn label_probabilities_of(&self, rows: &[usize]) -> Matrix {
        match self.linear_head() {
            Some(head) => compute::probabilities(&self.store, rows, &head),
            None => {
                let mut out = Matrix::zeros(rows.len(), self.class_ids.len());
                for r in 0..rows.len() {
                    for (k, v) in out.row_mut(r).iter_mut().enumerate() {
                        *v = self.label_priors.get(k).copied().unwrap_or(0.5);
                    }
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests;
