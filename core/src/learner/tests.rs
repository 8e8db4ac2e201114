//! The learner's unit tests.

use super::*;
use crate::acquire::Subpool;
use crate::Answer;

fn blobs() -> (Matrix, Vec<usize>) {
    let mut rng = Rng::new(4);
    let mut rows = Vec::new();
    let mut truth = Vec::new();
    for i in 0..90 {
        let c = i % 3;
        rows.push(vec![
            c as f32 * 4.0 + rng.normal() as f32,
            (c == 1) as u8 as f32 * 4.0 + rng.normal() as f32,
        ]);
        truth.push(c);
    }
    (Matrix::from_rows(&rows).unwrap(), truth)
}

#[test]
fn the_loop_learns_and_the_policy_switches() {
    let (x, truth) = blobs();
    let mut learner = Learner::from_matrix(&x, 3, 1).unwrap();
    let mut input = LearnerInput {
        labels: vec![],
        skipped: vec![],
        batch: 3,
        strategy: StrategyKind::Auto,
        subpool: Subpool::Auto,
        ..LearnerInput::default()
    };
    let first = learner.refresh(&input).unwrap();
    assert_eq!(first.strategy, StrategyKind::TypiClust);
    assert_eq!(first.accuracy, None);
    let mut update = first;
    for _ in 0..8 {
        for &item in &update.queue {
            input.labels.push(Answer {
                item,
                class: truth[item],
            });
        }
        update = learner.refresh(&input).unwrap();
        assert!(update
            .queue
            .iter()
            .all(|i| input.labels.iter().all(|a| a.item != *i)));
    }
    assert_eq!(update.strategy, StrategyKind::PowerMargin);
    assert!(
        update.accuracy.unwrap().value > 0.6,
        "{:?}",
        update.accuracy
    );
    assert_eq!(update.curve.last().unwrap().labels, input.labels.len());
    // The item on screen gets its guess even when the new queue left it out.
    let unqueued = (0..x.rows())
        .find(|i| !update.queue.contains(i) && input.labels.iter().all(|a| a.item != *i))
        .unwrap();
    input.current = Some(unqueued);
    let with_current = learner.refresh(&input).unwrap();
    assert!(with_current.guesses.of(unqueued).is_some());
    input.current = None;
    // Undo: fewer labels truncate the curve.
    input.labels.truncate(10);
    let after = learner.refresh(&input).unwrap();
    assert!(after.curve.iter().all(|p| p.labels <= 10));
}

#[test]
fn out_of_range_labels_are_errors() {
    let (x, _) = blobs();
    let mut learner = Learner::from_matrix(&x, 3, 1).unwrap();
    let bad = LearnerInput {
        labels: vec![Answer {
            item: 999,
            class: 0,
        }],
        skipped: vec![],
        batch: 1,
        strategy: StrategyKind::Auto,
        subpool: Subpool::Auto,
        ..LearnerInput::default()
    };
    assert!(learner.refresh(&bad).is_err());
}

#[test]
fn only_embedded_items_are_queued_and_trained_on() {
    let (x, truth) = blobs();
    let mut learner = Learner::new(90, 3, 1).unwrap();
    for i in (0..90).step_by(3) {
        learner.add_embedding(i, x.row(i)).unwrap();
    }
    assert_eq!(learner.embedded(), 30);
    assert!(learner.add_embedding(1, &[1.0]).is_err());
    let mut input = LearnerInput {
        batch: 50,
        // Item 1 is labeled but not embedded yet: it waits.
        labels: vec![Answer {
            item: 1,
            class: truth[1],
        }],
        rejected: vec![3],
        ..LearnerInput::default()
    };
    let update = learner.refresh(&input).unwrap();
    assert_eq!(update.labels, 0);
    assert_eq!(update.queue.len(), 29);
    assert!(update.queue.iter().all(|i| i % 3 == 0 && *i != 3));
    learner.add_embedding(1, x.row(1)).unwrap();
    input.batch = 3;
    assert_eq!(learner.refresh(&input).unwrap().labels, 1);
}

#[test]
fn a_new_class_keeps_the_weights_of_the_others() {
    let (x, truth) = blobs();
    let mut learner = Learner::from_matrix(&x, 2, 1).unwrap();
    // Two classes first (class 2's items unlabeled), then class 2 is added with id 7.
    let labels: Vec<Answer> = (0..30)
        .filter(|&i| truth[i] < 2)
        .map(|item| Answer {
            item,
            class: truth[item],
        })
        .collect();
    let mut input = LearnerInput {
        labels: labels.clone(),
        batch: 3,
        class_ids: vec![0, 1],
        ..LearnerInput::default()
    };
    learner.refresh(&input).unwrap();
    let before = learner.head().unwrap().clone();
    input.class_ids = vec![0, 1, 7];
    learner.follow_classes(&input.class_ids);
    let grown = learner.head().unwrap();
    assert_eq!(grown.classes(), 3);
    let probe = x.row(0);
    let (p2, p3) = (before.predict_proba(probe), grown.predict_proba(probe));
    // The new class starts from zero logits, the old ones keep their order.
    assert_eq!(p2[0] > p2[1], p3[0] > p3[1]);
    input.labels.extend(
        (30..45)
            .filter(|&i| truth[i] == 2)
            .map(|item| Answer { item, class: 2 }),
    );
    let update = learner.refresh(&input).unwrap();
    assert_eq!(learner.head().unwrap().classes(), 3);
    assert!(update.accuracy.is_some());
    // Dropping class 0 (merge/delete) keeps ids 1 and 7.
    input.class_ids = vec![1, 7];
    input.labels = input
        .labels
        .iter()
        .filter(|a| a.class != 0)
        .map(|a| Answer {
            item: a.item,
            class: a.class - 1,
        })
        .collect();
    learner.refresh(&input).unwrap();
    assert_eq!(learner.head().unwrap().classes(), 2);
    assert!(learner
        .refresh(&LearnerInput {
            class_ids: vec![1],
            ..input
        })
        .is_err());
}

#[test]
fn multi_label_projects_train_one_head_per_class() {
    let (x, truth) = blobs();
    let mut learner = Learner::from_matrix(&x, 3, 1).unwrap();
    // Sets: an item has its blob's class, items of blob 1 also class 2; every tenth item none.
    let set_of = |i: usize| -> Vec<usize> {
        match (i % 10, truth[i]) {
            (9, _) => vec![],
            (_, 1) => vec![1, 2],
            (_, c) => vec![c],
        }
    };
    let mut input = LearnerInput {
        batch: 5,
        multi_label: true,
        ..LearnerInput::default()
    };
    let first = learner.refresh(&input).unwrap();
    assert_eq!(first.strategy, StrategyKind::TypiClust);
    for i in 0..45 {
        input.labeled.push(i);
        input
            .labels
            .extend(set_of(i).into_iter().map(|class| Answer { item: i, class }));
    }
    let update = learner.refresh(&input).unwrap();
    assert_eq!(update.strategy, StrategyKind::MeanMargin);
    assert_eq!(update.labels, 45);
    assert!(update.queue.iter().all(|&i| i >= 45));
    let acc = update.accuracy.unwrap().value;
    assert!(acc > 0.8, "mean per-class accuracy {acc}");
    // Columns are independent probabilities: a blob-1 item is likely both class 1 and 2.
    assert_eq!(truth[46], 1);
    let p = learner.label_probabilities_of(&[46]);
    assert!(p.row(0)[1] > 0.5 && p.row(0)[2] > 0.5, "{:?}", p.row(0));
    // The exported classifier's head gives the same probabilities (the pool's go through
    // 14-bit weights: within 1e-4).
    let linear = learner.linear_head().unwrap();
    assert_eq!(linear.activation, crate::head::Activation::Sigmoid);
    let mut row = vec![0.0; learner.store.cols()];
    learner.store.row_into(46, &mut row);
    let exported = linear.probabilities(&row);
    for (k, &q) in exported.iter().enumerate() {
        assert!(
            (q - f64::from(p.row(0)[k])).abs() < 1e-4,
            "{exported:?} {:?}",
            p.row(0)
        );
    }
    // A softmax-specific choice becomes the multi-label measure.
    input.strategy = StrategyKind::Badge;
    assert_eq!(
        learner.refresh(&input).unwrap().strategy,
        StrategyKind::MeanMargin
    );
}
