//! Replaying a labeled dataset to compare strategies: the simulator behind `quarry simulate`.
//!
//! Protocol, per seed: shuffle the items with the seed; the first `test_fraction` are held out;
//! `init` random training items are labeled; then for `rounds` rounds the head is trained on the
//! labels, its accuracy on the held-out items recorded, and the strategy picks `batch` more.
//! AULC is the mean accuracy over all recorded rounds (the initial one included).

use crate::acquire::{select, Pool, StrategyKind, Subpool};
use crate::audit::{self, AuditRecord, AuditSettings};
use crate::candidates::{self, CandidateRule};
use crate::evaluate::{out_of_fold, out_of_fold_warm, WarmFolds};
use crate::head::{HeadOptions, SoftmaxHead};
use crate::matrix::Matrix;
use crate::quality::StabilityTracker;
use crate::rng::Rng;
use crate::{Error, Result};

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub strategies: Vec<StrategyKind>,
    pub init: usize,
    pub batch: usize,
    pub rounds: usize,
    pub seeds: usize,
    pub test_fraction: f64,
    /// Seed of the first run; run `s` uses `base_seed + s`.
    pub base_seed: u64,
    /// Whether large pools are narrowed to an AnchorAL subpool first.
    pub subpool: Subpool,
    /// Audit questions as in the app (drawn from the unlabeled training items, never trained
    /// on), and per round the CV estimate, the audit estimate and the stopping check.
    pub audit: Option<AuditSettings>,
    /// Answers as candidate set queries (single-label, at least
    /// [`candidates::MIN_CLASSES`] classes): each pick is asked with its conformal set, its
    /// cost counted in bits, and the total compared with full-list queries.
    pub candidate_sets: bool,
}

/// One round averaged over seeds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RoundSummary {
    pub labels: usize,
    pub accuracy_mean: f64,
    pub accuracy_std: f64,
    /// Mean time the strategy took to pick this round's batch, in ms (0 for the last round).
    pub select_ms_mean: f64,
    /// With audits: the mean cross-validated estimate (over seeds that have one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cv_mean: Option<f64>,
    /// With audits: the mean audit estimate and interval (over seeds that have one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_mean: Option<[f64; 3]>,
    /// With audits: the mean number of audits answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audits_mean: Option<f64>,
    /// With audits: the share of seeds whose predictions had stabilized (κ ≥ 0.99 over three
    /// windows) by this round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stable_share: Option<f64>,
}

/// How honest the estimates were, over every (seed, round) pair with an audit estimate.
///
/// "True accuracy" is the head's accuracy on the items it would label: the unlabeled,
/// unaudited training items — the pool whose predictions an export hands out. (Active learning
/// takes the hard items out of that pool, so it is easier than the held-out split; the error
/// against the held-out split is reported too.)
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditSummary {
    /// Mean of (audit estimate − true accuracy on the unlabeled pool).
    pub estimate_error_mean: f64,
    /// Share of pairs whose 95% interval holds the true accuracy.
    pub coverage: f64,
    /// Mean of (cross-validated estimate − true accuracy), over the same pairs.
    pub cv_error_mean: f64,
    /// Number of (seed, round) pairs.
    pub pairs: usize,
    /// Standard error of `estimate_error_mean`, from the spread of the seeds' mean errors
    /// (rounds of one seed share their audits, so they are not independent).
    pub estimate_error_se: f64,
    /// The same for `cv_error_mean`.
    pub cv_error_se: f64,
    /// Mean of (audit estimate − accuracy on the held-out split).
    pub holdout_error_mean: f64,
    /// Mean number of labels at which the stopping check first said "stable" (seeds that
    /// reached it), and how many seeds did.
    pub stop_labels_mean: Option<f64>,
    pub stopped_seeds: usize,
}

/// One strategy's curve and AULC over seeds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StrategySummary {
    pub strategy: String,
    pub aulc_mean: f64,
    pub aulc_std: f64,
    pub rounds: Vec<RoundSummary>,
    /// With `--audit` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditSummary>,
    /// With `--candidate-sets` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_sets: Option<CandidateSetSummary>,
}

/// What candidate set queries saved, against full-list queries of the same strategy.
///
/// `A*` is the full-list run's final mean accuracy; `labels` (L*) the first label count at
/// which the candidate-set run's mean accuracy reaches `A*` (its last one when it never does,
/// `reached` then false). Bits are means over seeds, counted over the first L* labels (the
/// initial random labels included, asked with the full list in both runs).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CandidateSetSummary {
    /// `1 − bits_candidate_sets / bits_full_list`.
    pub saving: f64,
    /// Share of candidate set queries whose set held the true class (over all seeds and
    /// rounds; answers asked with the full list, before a rule exists, not counted).
    pub hit_rate: f64,
    /// Full-list queries for the first L* labels: `L* · log2(classes)`.
    pub bits_full_list: f64,
    /// The candidate-set run's bits for its first L* labels.
    pub bits_candidate_sets: f64,
    /// L*.
    pub labels: usize,
    /// Whether the candidate-set run reached `A*`.
    pub reached: bool,
    /// The first label count at which the full-list run's mean accuracy reaches `A*` (with a
    /// cost-weighted strategy the two runs ask different items, so this can differ from L*).
    pub labels_full_list: usize,
    /// `1 − bits_candidate_sets / (labels_full_list · log2(classes))`: the saving in total
    /// bits to reach `A*`, each run counted to its own first reach.
    pub saving_to_reach: f64,
    /// Mean size of the sets asked.
    pub mean_set_size: f64,
}

/// The whole simulation's result (the JSON `quarry simulate` writes).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimReport {
    pub items: usize,
    pub dim: usize,
    pub classes: usize,
    pub seeds: usize,
    pub init: usize,
    pub batch: usize,
    pub test_fraction: f64,
    pub strategies: Vec<StrategySummary>,
}

struct Run {
    accuracy: Vec<f64>,
    labels: Vec<usize>,
    select_ms: Vec<f64>,
    /// Per round, with audits: the CV estimate, the audit estimate (value, low, high), the
    /// audits answered, whether predictions had stabilized.
    checks: Vec<Checks>,
    /// Per round: bits spent on the labels counted in `labels` (full list before a rule).
    bits: Vec<f64>,
    /// Candidate set queries asked, how many held the class, and their sizes summed.
    asked: usize,
    hits: usize,
    set_sizes: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Checks {
    /// The head's true accuracy on the pool it would label: the training items neither
    /// labeled nor audited.
    pool_truth: f64,
    cv: Option<f64>,
    audit: Option<(f64, f64, f64)>,
    audits: usize,
    stable: bool,
}

/// Checks shapes and settings.
fn validate(x: &Matrix, y: &[usize], cfg: &SimConfig) -> Result<usize> {
    if x.rows() != y.len() {
        return Err(Error::Invalid(format!(
            "{} embedding rows but {} labels",
            x.rows(),
            y.len()
        )));
    }
    if x.rows() < 4 {
        return Err(Error::Invalid("at least 4 items are needed".into()));
    }
    if !(0.0..1.0).contains(&cfg.test_fraction) || cfg.test_fraction == 0.0 {
        return Err(Error::Invalid("--test-fraction must be in (0, 1)".into()));
    }
    if cfg.strategies.is_empty() || cfg.seeds == 0 || cfg.batch == 0 {
        return Err(Error::Invalid(
            "need at least one strategy, one seed and a batch of 1".into(),
        ));
    }
    let classes = y.iter().max().map_or(0, |m| m + 1);
    if classes < 2 {
        return Err(Error::Invalid(
            "the labels name fewer than two classes".into(),
        ));
    }
    if cfg.candidate_sets && classes < candidates::MIN_CLASSES {
        return Err(Error::Invalid(format!(
            "candidate sets need at least {} classes; the labels name {classes}",
            candidates::MIN_CLASSES
        )));
    }
    Ok(classes)
}

/// Runs every strategy for every seed. `clock()` returns milliseconds (natively, a monotonic
/// timer; tests may pass a constant): `core` itself never reads a clock.
///
/// # Errors
/// [`Error::Invalid`] when rows and labels differ in number, fewer than two classes exist, or a
/// setting is out of range.
pub fn simulate(
    x: &Matrix,
    y: &[usize],
    cfg: &SimConfig,
    clock: &mut dyn FnMut() -> f64,
) -> Result<SimReport> {
    let classes = validate(x, y, cfg)?;
    let mut strategies = Vec::new();
    for &kind in &cfg.strategies {
        let mut runs_with = |sets: bool| -> Result<Vec<Run>> {
            (0..cfg.seeds)
                .map(|s| {
                    run_one(
                        x,
                        y,
                        classes,
                        kind,
                        cfg,
                        sets,
                        cfg.base_seed + s as u64,
                        clock,
                    )
                })
                .collect()
        };
        let runs = runs_with(cfg.candidate_sets)?;
        let mut summary = summarise(kind, &runs);
        if cfg.candidate_sets {
            // Only a strategy that reads the sets asks other items without them.
            let full = if kind == StrategyKind::CostMargin {
                Some(runs_with(false)?)
            } else {
                None
            };
            summary.candidate_sets = Some(candidate_set_summary(
                &runs,
                full.as_deref().unwrap_or(&runs),
                classes,
            ));
        }
        strategies.push(summary);
    }
    Ok(SimReport {
        items: x.rows(),
        dim: x.cols(),
        classes,
        seeds: cfg.seeds,
        init: cfg.init,
        batch: cfg.batch,
        test_fraction: cfg.test_fraction,
        strategies,
    })
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

fn summarise(kind: StrategyKind, runs: &[Run]) -> StrategySummary {
    let rounds = runs.iter().map(|r| r.accuracy.len()).min().unwrap_or(0);
    let aulcs: Vec<f64> = runs
        .iter()
        .map(|r| r.accuracy[..rounds].iter().sum::<f64>() / rounds.max(1) as f64)
        .collect();
    let (aulc_mean, aulc_std) = mean_std(&aulcs);
    let rounds = (0..rounds)
        .map(|k| {
            let accs: Vec<f64> = runs.iter().map(|r| r.accuracy[k]).collect();
            let (accuracy_mean, accuracy_std) = mean_std(&accs);
            let times: Vec<f64> = runs
                .iter()
                .map(|r| r.select_ms.get(k).copied().unwrap_or(0.0))
                .collect();
            let checks: Vec<Checks> = runs
                .iter()
                .filter_map(|r| r.checks.get(k).copied())
                .collect();
            let audited = !checks.is_empty();
            let cvs: Vec<f64> = checks.iter().filter_map(|c| c.cv).collect();
            let audits: Vec<(f64, f64, f64)> = checks.iter().filter_map(|c| c.audit).collect();
            let mean_of = |f: &dyn Fn(&(f64, f64, f64)) -> f64| {
                audits.iter().map(f).sum::<f64>() / audits.len() as f64
            };
            RoundSummary {
                labels: runs[0].labels[k],
                accuracy_mean,
                accuracy_std,
                select_ms_mean: mean_std(&times).0,
                cv_mean: (!cvs.is_empty()).then(|| mean_std(&cvs).0),
                audit_mean: (!audits.is_empty())
                    .then(|| [mean_of(&|a| a.0), mean_of(&|a| a.1), mean_of(&|a| a.2)]),
                audits_mean: audited.then(|| {
                    checks.iter().map(|c| c.audits as f64).sum::<f64>() / checks.len() as f64
                }),
                stable_share: audited.then(|| {
                    checks.iter().filter(|c| c.stable).count() as f64 / checks.len() as f64
                }),
            }
        })
        .collect();
    StrategySummary {
        strategy: kind.name().to_string(),
        aulc_mean,
        aulc_std,
        rounds,
        audit: runs
            .iter()
            .any(|r| !r.checks.is_empty())
            .then(|| audit_summary(runs)),
        candidate_sets: None,
    }
}

/// Mean accuracy over `runs` at each round they all recorded.
fn mean_curve(runs: &[Run]) -> Vec<f64> {
    let rounds = runs.iter().map(|r| r.accuracy.len()).min().unwrap_or(0);
    (0..rounds)
        .map(|k| runs.iter().map(|r| r.accuracy[k]).sum::<f64>() / runs.len() as f64)
        .collect()
}

/// Candidate-set runs against the full-list runs of the same strategy (the same runs when the
/// strategy picks the same items either way): see [`CandidateSetSummary`].
fn candidate_set_summary(sets: &[Run], full: &[Run], classes: usize) -> CandidateSetSummary {
    let per_label = (classes as f64).log2();
    let full_curve = mean_curve(full);
    let target = full_curve.last().copied().unwrap_or(0.0);
    let reach = |curve: &[f64]| curve.iter().position(|&a| a >= target - 1e-12);
    let curve = mean_curve(sets);
    let reached = reach(&curve);
    let k = reached.unwrap_or(curve.len().saturating_sub(1));
    let labels = sets[0].labels.get(k).copied().unwrap_or(0);
    let bits_candidate_sets = sets
        .iter()
        .map(|r| r.bits.get(k).copied().unwrap_or(0.0))
        .sum::<f64>()
        / sets.len() as f64;
    let bits_full_list = labels as f64 * per_label;
    let k_full = reach(&full_curve).unwrap_or(full_curve.len().saturating_sub(1));
    let labels_full_list = full[0].labels.get(k_full).copied().unwrap_or(0);
    let ratio = |num: f64, den: f64| if den > 0.0 { 1.0 - num / den } else { 0.0 };
    let (asked, hits, sizes) = sets.iter().fold((0, 0, 0), |(a, h, s), r| {
        (a + r.asked, h + r.hits, s + r.set_sizes)
    });
    CandidateSetSummary {
        saving: ratio(bits_candidate_sets, bits_full_list),
        hit_rate: hits as f64 / asked.max(1) as f64,
        bits_full_list,
        bits_candidate_sets,
        labels,
        reached: reached.is_some(),
        labels_full_list,
        saving_to_reach: ratio(bits_candidate_sets, labels_full_list as f64 * per_label),
        mean_set_size: sizes as f64 / asked.max(1) as f64,
    }
}

/// The honesty of the estimates over every (seed, round) pair that has an audit estimate and
/// a CV estimate.
fn audit_summary(runs: &[Run]) -> AuditSummary {
    let (mut audit_errors, mut cv_errors, mut covered) = (Vec::new(), Vec::new(), 0);
    let mut holdout_errors = Vec::new();
    let (mut seed_audit, mut seed_cv) = (Vec::new(), Vec::new());
    let mut stops = Vec::new();
    for r in runs {
        let (mut a, mut c) = (Vec::new(), Vec::new());
        for (k, check) in r.checks.iter().enumerate() {
            let truth = check.pool_truth;
            if let (Some((est, low, high)), Some(cv)) = (check.audit, check.cv) {
                holdout_errors.push(est - r.accuracy[k]);
                a.push(est - truth);
                c.push(cv - truth);
                covered += usize::from(low <= truth && truth <= high);
            }
        }
        if let Some(k) = r.checks.iter().position(|c| c.stable) {
            stops.push(r.labels[k] as f64);
        }
        if !a.is_empty() {
            seed_audit.push(mean_std(&a).0);
            seed_cv.push(mean_std(&c).0);
        }
        audit_errors.extend(a);
        cv_errors.extend(c);
    }
    let pairs = audit_errors.len();
    let se = |v: &[f64]| {
        if v.len() < 2 {
            f64::NAN
        } else {
            mean_std(v).1 / (v.len() as f64).sqrt()
        }
    };
    let mean = |v: &[f64]| {
        if v.is_empty() {
            f64::NAN
        } else {
            mean_std(v).0
        }
    };
    AuditSummary {
        estimate_error_mean: mean(&audit_errors),
        coverage: covered as f64 / pairs.max(1) as f64,
        cv_error_mean: mean(&cv_errors),
        pairs,
        estimate_error_se: se(&seed_audit),
        cv_error_se: se(&seed_cv),
        holdout_error_mean: mean(&holdout_errors),
        stop_labels_mean: (!stops.is_empty()).then(|| mean(&stops)),
        stopped_seeds: stops.len(),
    }
}

pub(crate) fn accuracy(
    head: Option<&SoftmaxHead>,
    fallback: usize,
    x: &Matrix,
    y: &[usize],
    test: &[usize],
) -> f64 {
    let correct = test
        .iter()
        .filter(|&&i| head.map_or(fallback, |h| h.predict(x.row(i))) == y[i])
        .count();
    correct as f64 / test.len() as f64
}

/// One seed's division of the items: held-out test items, the training pool (sorted item
/// indices and their rows) and the first labels (indices into the training pool).
pub(crate) struct Split {
    pub test: Vec<usize>,
    pub train: Vec<usize>,
    pub train_x: Matrix,
    pub init: Vec<usize>,
}

impl Split {
    /// Shuffles the items with `rng`: the first `test_fraction` are held out, the next `init`
    /// of the rest labeled first.
    pub fn new(x: &Matrix, test_fraction: f64, init: usize, rng: &mut Rng) -> Split {
        let mut order: Vec<usize> = (0..x.rows()).collect();
        rng.shuffle(&mut order);
        let n_test = ((x.rows() as f64 * test_fraction).round() as usize).clamp(1, x.rows() - 1);
        let test: Vec<usize> = order[..n_test].to_vec();
        let mut train: Vec<usize> = order[n_test..].to_vec();
        train.sort_unstable();
        let train_x = x.select_rows(&train);
        let init = order[n_test..]
            .iter()
            .take(init)
            .map(|&i| train.binary_search(&i).expect("train"))
            .collect();
        Split {
            test,
            train,
            train_x,
            init,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_one(
    x: &Matrix,
    y: &[usize],
    classes: usize,
    kind: StrategyKind,
    cfg: &SimConfig,
    sets: bool,
    seed: u64,
    clock: &mut dyn FnMut() -> f64,
) -> Result<Run> {
    let mut rng = Rng::new(seed);
    let Split {
        test,
        train,
        train_x,
        init: mut labeled,
    } = Split::new(x, cfg.test_fraction, cfg.init, &mut rng);
    let mut is_labeled = vec![false; train.len()];
    labeled.iter().for_each(|&j| is_labeled[j] = true);
    let options = HeadOptions::default();
    let mut head: Option<SoftmaxHead> = None;
    let mut run = Run {
        accuracy: Vec::new(),
        labels: Vec::new(),
        select_ms: Vec::new(),
        checks: Vec::new(),
        bits: Vec::new(),
        asked: 0,
        hits: 0,
        set_sizes: 0,
    };
    let full_list = (classes as f64).log2();
    let mut bits = labeled.len() as f64 * full_list;
    let mut folds = WarmFolds::default();
    // Audits: training-pool indices with their draw, never trained on.
    let mut audits: Vec<AuditRecord> = Vec::new();
    let mut is_audit = vec![false; train.len()];
    let mut stability = StabilityTracker::default();
    let mut audit_rng = Rng::new(seed ^ 0xa0d1_7a11);
    for round in 0..=cfg.rounds {
        let ly: Vec<usize> = labeled.iter().map(|&j| y[train[j]]).collect();
        let distinct = {
            let mut c = ly.clone();
            c.sort_unstable();
            c.dedup();
            c
        };
        head = if distinct.len() >= 2 {
            Some(SoftmaxHead::fit(
                &train_x.select_rows(&labeled),
                &ly,
                classes,
                &options,
                head.as_ref(),
            )?)
        } else {
            None
        };
        let fallback = distinct.first().copied().unwrap_or(0);
        run.accuracy
            .push(accuracy(head.as_ref(), fallback, x, y, &test));
        run.labels.push(labeled.len());
        run.bits.push(bits);
        if let Some(settings) = cfg.audit {
            let checks = audit_checks(
                &train_x,
                &train,
                y,
                &labeled,
                &ly,
                &audits,
                classes,
                head.as_ref(),
                &settings,
                &mut stability,
                cfg.batch,
                seed,
            )?;
            run.checks.push(checks);
        }
        if round == cfg.rounds {
            break;
        }
        let candidates: Vec<usize> = (0..train.len())
            .filter(|&j| !is_labeled[j] && !is_audit[j])
            .collect();
        if candidates.is_empty() {
            break;
        }
        let probabilities = head
            .as_ref()
            .filter(|_| kind.reads_probabilities())
            .map(|h| h.predict_proba_rows(&train_x));
        let rule = match &head {
            Some(h) if sets => {
                let audited: Vec<(usize, usize)> =
                    audits.iter().map(|r| (r.item, y[train[r.item]])).collect();
                calibrate(
                    &train_x, &labeled, &ly, &audited, h, classes, seed, &mut folds,
                )?
            }
            _ => None,
        };
        let pool = Pool {
            embeddings: &train_x,
            candidates: &candidates,
            labeled: &labeled,
            labels: &ly,
            classes,
            probabilities: probabilities.as_ref(),
            head: head.as_ref(),
            stored: None,
            candidate_sets: rule,
        };
        let t0 = clock();
        let picked = select(kind, &pool, cfg.batch, cfg.subpool, &mut rng);
        run.select_ms.push(clock() - t0);
        for &j in &picked {
            bits += match (&rule, &head) {
                (Some(rule), Some(h)) => {
                    let p: Vec<f32> = h
                        .predict_proba(train_x.row(j))
                        .iter()
                        .map(|&v| v as f32)
                        .collect();
                    let set = rule.set(&p);
                    let hit = set.contains(&y[train[j]]);
                    run.asked += 1;
                    run.hits += usize::from(hit);
                    run.set_sizes += set.len();
                    candidates::bits(set.len(), classes, hit)
                }
                _ => full_list,
            };
        }
        for j in picked {
            is_labeled[j] = true;
            labeled.push(j);
            // As in the app: after each answer, an audit question when one is due.
            if let Some(settings) = cfg.audit {
                if settings.due(labeled.len() + audits.len(), audits.len()) {
                    let left: Vec<usize> = (0..train.len())
                        .filter(|&j| !is_labeled[j] && !is_audit[j])
                        .collect();
                    let active = settings.method == audit::AuditMethod::Active;
                    let loss = head.as_ref().filter(|_| active).map(|h| {
                        left.iter()
                            .map(|&j| {
                                1.0 - h
                                    .predict_proba(train_x.row(j))
                                    .into_iter()
                                    .fold(0.0, f64::max)
                            })
                            .collect::<Vec<f64>>()
                    });
                    if let Some(r) =
                        audit::draw(&left, settings.method, loss.as_deref(), &mut audit_rng)
                    {
                        is_audit[r.item] = true;
                        audits.push(r);
                    }
                }
            }
        }
    }
    Ok(run)
}

/// The round's candidate-set rule: calibrated on the labeled items' out-of-fold probabilities
/// (heads that never trained on them; warm-started folds, as the app's learner) and the audit
/// answers (never trained on) under `head`.
#[allow(clippy::too_many_arguments)]
fn calibrate(
    train_x: &Matrix,
    labeled: &[usize],
    ly: &[usize],
    audited: &[(usize, usize)],
    head: &SoftmaxHead,
    classes: usize,
    seed: u64,
    folds: &mut WarmFolds,
) -> Result<Option<CandidateRule>> {
    let options = HeadOptions::default().quick();
    let x = train_x.select_rows(labeled);
    let Some(oof) = out_of_fold_warm(&x, ly, labeled, classes, &options, seed, folds)? else {
        return Ok(None);
    };
    let audit_rows: Vec<Vec<f32>> = audited
        .iter()
        .map(|&(j, _)| {
            head.predict_proba(train_x.row(j))
                .iter()
                .map(|&v| v as f32)
                .collect()
        })
        .collect();
    let mut rows: Vec<&[f32]> = (0..ly.len()).map(|r| oof.probabilities.row(r)).collect();
    rows.extend(audit_rows.iter().map(Vec::as_slice));
    let mut labels = ly.to_vec();
    labels.extend(audited.iter().map(|&(_, c)| c));
    Ok(candidates::calibrate(&rows, &labels, classes))
}

/// One round's estimates: CV on the training labels, the current head on the audits, and the
/// stopping check on the training pool's predictions.
#[allow(clippy::too_many_arguments)]
fn audit_checks(
    train_x: &Matrix,
    train: &[usize],
    y: &[usize],
    labeled: &[usize],
    ly: &[usize],
    audits: &[AuditRecord],
    classes: usize,
    head: Option<&SoftmaxHead>,
    settings: &AuditSettings,
    stability: &mut StabilityTracker,
    window: usize,
    seed: u64,
) -> Result<Checks> {
    let options = HeadOptions::default().quick();
    let cv = out_of_fold(&train_x.select_rows(labeled), ly, classes, &options, seed)?
        .map(|o| o.accuracy(ly).value);
    let Some(head) = head else {
        return Ok(Checks {
            cv,
            audits: audits.len(),
            ..Checks::default()
        });
    };
    let correct: Vec<bool> = audits
        .iter()
        .map(|r| head.predict(train_x.row(r.item)) == y[train[r.item]])
        .collect();
    let fast = head.to_f32();
    let mut proba = vec![0.0f32; classes];
    let (predicted, confidence): (Vec<usize>, Vec<f32>) = (0..train_x.rows())
        .map(|j| {
            fast.proba_into(train_x.row(j), &mut proba);
            crate::predict::top(&proba)
        })
        .unzip();
    let mut answered = vec![false; train.len()];
    labeled.iter().for_each(|&j| answered[j] = true);
    audits.iter().for_each(|r| answered[r.item] = true);
    let left: Vec<usize> = (0..train.len()).filter(|&j| !answered[j]).collect();
    let pool_truth = left
        .iter()
        .filter(|&&j| predicted[j] == y[train[j]])
        .count() as f64
        / left.len().max(1) as f64;
    let population = settings
        .finite_population
        .then(|| train.len() - labeled.len());
    let strata = audit::Strata::new(
        &audits
            .iter()
            .map(|r| confidence[r.item])
            .collect::<Vec<_>>(),
        &left.iter().map(|&j| confidence[j]).collect::<Vec<_>>(),
    );
    let estimate = audit::estimate(
        audits,
        &correct,
        settings.method,
        population,
        Some(&strata),
        seed,
    )
    .map(|e| (e.accuracy, e.low, e.high));
    let snapshot = predicted.iter().map(|&c| c as u16).collect();
    stability.record(labeled.len(), snapshot);
    Ok(Checks {
        pool_truth,
        cv,
        audit: estimate,
        audits: audits.len(),
        stable: stability.status(classes, window).stable,
    })
}

pub mod race;

#[cfg(test)]
mod tests;
