//! The session's unit tests.

use super::*;

fn session() -> Session {
    let items: Vec<String> = (0..5).map(|i| format!("{i}.png")).collect();
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
fn redo_gives_back_every_undone_step_until_a_new_answer() {
    let mut s = session();
    s.set_queue(vec![3, 1, 4, 0]);
    s.answer(1).unwrap();
    s.skip();
    s.reject();
    let done = s.snapshot();
    assert_eq!(s.undo(), Some(4));
    assert_eq!(s.undo(), Some(1));
    assert_eq!(s.undo(), Some(3));
    assert!(!s.can_undo() && s.can_redo());
    assert_eq!(s.queue(), &[3, 1, 4, 0]);
    assert_eq!(
        (s.redo(), s.redo(), s.redo(), s.redo()),
        (Some(3), Some(1), Some(4), None)
    );
    let mut again = s.snapshot();
    again.queue = done.queue.clone();
    assert_eq!(again, done);
    assert_eq!(s.label_of(3), Some(1));
    // A new answer after an undo drops what could be redone.
    s.undo();
    s.answer(0).unwrap();
    assert!(!s.can_redo());
    assert_eq!(s.redo(), None);
}

#[test]
fn redo_steps_survive_a_snapshot_and_bad_ones_are_refused() {
    let mut s = session();
    s.set_queue(vec![3, 1, 4, 0]);
    s.answer(1).unwrap();
    s.skip();
    s.reject();
    s.undo();
    s.undo();
    let saved = s.snapshot();
    assert_eq!(saved.redo.len(), 2);
    let json = serde_json::to_string(&saved).unwrap();
    let mut back = Session::from_snapshot(serde_json::from_str(&json).unwrap()).unwrap();
    assert_eq!(back.snapshot(), saved);
    assert_eq!(
        (back.redo(), back.redo(), back.redo()),
        (Some(1), Some(4), None)
    );
    assert_eq!(
        back.snapshot().history,
        vec![Step::Labeled(3), Step::Skipped(1), Step::Rejected(4)]
    );
    // A redo step whose item is answered now, or a label without its class, is refused.
    let mut bad = saved.clone();
    bad.redo[0].step = Step::Labeled(3);
    assert!(Session::from_snapshot(bad).is_err());
    s.undo();
    let mut bad = s.snapshot();
    assert_eq!(bad.redo.last().unwrap().step, Step::Labeled(3));
    bad.redo.last_mut().unwrap().classes.clear();
    let err = Session::from_snapshot(bad).unwrap_err().to_string();
    assert!(err.contains("redo step"), "{err}");
    // Files without redo steps read as before.
    let old = json.replace(
        &format!(",\"redo\":{}", serde_json::to_string(&saved.redo).unwrap()),
        "",
    );
    assert!(!old.contains("redo"));
    assert!(!Session::from_snapshot(serde_json::from_str(&old).unwrap())
        .unwrap()
        .can_redo());
}

#[test]
fn asking_a_skipped_item_now_takes_its_skip_out_of_the_history() {
    let mut s = session();
    s.set_queue(vec![1, 2]);
    s.skip();
    s.ask_now(1).unwrap();
    assert_eq!(s.history().count(), 0);
    Session::from_snapshot(s.snapshot()).unwrap();
    s.answer(0).unwrap();
    assert_eq!(s.undo(), Some(1));
    assert_eq!(s.undo(), None, "the skip was already taken back");
}

#[test]
fn relabel_and_remove_change_any_answer_in_the_history() {
    let mut s = session();
    s.set_queue(vec![3, 1, 4, 0]);
    s.answer(1).unwrap();
    s.skip();
    s.answer(0).unwrap();
    s.relabel(3, &[0]).unwrap();
    assert_eq!(s.label_of(3), Some(0));
    assert_eq!(
        s.labeled_items(),
        &[3, 4],
        "a relabeled item keeps its place"
    );
    s.relabel(1, &[1]).unwrap();
    assert_eq!(s.skipped_count(), 0);
    assert_eq!(s.labeled_items(), &[3, 4, 1]);
    assert_eq!(
        s.history().collect::<Vec<_>>(),
        vec![Step::Labeled(3), Step::Labeled(1), Step::Labeled(4)]
    );
    s.remove_answer(4).unwrap();
    assert!(!s.is_labeled(4));
    assert_eq!(s.history().count(), 2);
    assert!(s.remove_answer(4).is_err(), "nothing left to remove");
    assert!(s.relabel(2, &[0]).is_err(), "never answered");
    assert!(s.relabel(3, &[5]).is_err());
    assert!(s.relabel(3, &[0, 1]).is_err(), "single-label");
    // The result is a session a project file accepts.
    Session::from_snapshot(s.snapshot()).unwrap();
    // Undo after a relabel takes back the relabeled step, as it stands now.
    assert_eq!(s.undo(), Some(1));
    assert!(!s.is_labeled(1));
}

#[test]
fn none_of_these_leaves_the_queue_and_undoes() {
    let mut s = session();
    s.set_queue(vec![2, 3]);
    assert_eq!(s.reject(), Some(2));
    s.set_queue(vec![2, 3, 4]);
    assert_eq!(s.queue(), &[3, 4]);
    assert_eq!(s.learner_input(3).rejected, vec![2]);
    assert_eq!(s.undo(), Some(2));
    assert!(s.rejected().is_empty());
    assert_eq!(s.current(), Some(2));
}

#[test]
fn classes_are_added_renamed_merged_and_deleted_with_stable_ids() {
    let mut s = session();
    s.set_queue(vec![0, 1, 2, 3, 4]);
    s.answer(0).unwrap(); // 0 → a
    s.answer(1).unwrap(); // 1 → b
    assert_eq!(s.add_class("c").unwrap(), 2);
    assert!(s.add_class("c").is_err());
    assert!(s.add_class(" ").is_err());
    s.answer(2).unwrap(); // 2 → c
    s.answer(1).unwrap(); // 3 → b
    s.rename_class(2, "cats").unwrap();
    assert!(s.rename_class(2, "a").is_err());
    assert_eq!(s.class_ids(), &[0, 1, 2]);
    // Merge b into cats: b's labels move, b goes, ids of the others stay.
    s.merge_classes(1, 2).unwrap();
    assert_eq!(s.classes(), &["a".to_string(), "cats".to_string()]);
    assert_eq!(s.class_ids(), &[0, 2]);
    let labels: Vec<(usize, usize)> = s.answers().iter().map(|a| (a.item, a.class)).collect();
    assert_eq!(labels, vec![(0, 0), (1, 1), (2, 1), (3, 1)]);
    assert_eq!(s.label_of(1), Some(1));
    assert!(s.merge_classes(0, 1).is_err(), "two classes must stay");
    // Delete needs a third class; its items become "none of these" and undo still works.
    s.add_class("dogs").unwrap();
    assert_eq!(s.class_ids(), &[0, 2, 3]);
    assert_eq!(
        s.delete_class(1, DeletedItems::NoneOfThese).unwrap(),
        vec![1, 2, 3]
    );
    assert_eq!(s.rejected(), vec![1, 2, 3]);
    assert_eq!(s.label_counts(), vec![1, 0]);
    assert_eq!(s.undo(), Some(3));
    assert!(!s.rejected().contains(&3));
    s.add_class("birds").unwrap();
    assert_eq!(s.delete_class(0, DeletedItems::Unlabel).unwrap(), vec![0]);
    assert!(s.answers().is_empty());
    assert_eq!(s.class_ids(), &[3, 4]);
    // Undo skips nothing that no longer exists.
    assert_eq!(s.undo(), Some(2));
    assert_eq!(s.undo(), Some(1));
    assert_eq!(s.undo(), None);
}

#[test]
fn an_item_found_by_search_is_asked_now() {
    let mut s = session();
    s.set_queue(vec![1, 2]);
    s.skip();
    s.ask_now(1).unwrap();
    assert_eq!(s.queue(), &[1, 2]);
    assert_eq!(s.skipped_count(), 0);
    s.answer(0).unwrap();
    assert!(s.ask_now(1).is_err());
    assert!(s.ask_now(7).is_err());
    s.ask_now(4).unwrap();
    assert_eq!(s.queue(), &[4, 2]);
}

#[test]
fn multi_label_sets_undo_merge_and_delete() {
    let mut s = session().with_multi_label(true).unwrap();
    s.add_class("c").unwrap();
    s.set_queue(vec![0, 1, 2, 3]);
    assert!(s.answer_set(&[5]).is_err());
    assert_eq!(s.answer_set(&[2, 0, 2]).unwrap(), 0);
    assert_eq!(s.answer_set(&[]).unwrap(), 1);
    assert_eq!(s.labels_of(0), vec![0, 2]);
    assert!(s.is_labeled(1) && s.labels_of(1).is_empty());
    assert_eq!(s.labeled_items(), &[0, 1]);
    let input = s.learner_input(3);
    assert!(input.multi_label);
    assert_eq!(input.labeled, vec![0, 1]);
    assert_eq!(input.labels.len(), 2);
    assert!(s.import_label(0, 1).unwrap(), "a class joins the set");
    assert_eq!(s.labels_of(0), vec![0, 1, 2]);
    // Merge c into a: item 0 keeps one a.
    s.merge_classes(2, 0).unwrap();
    assert_eq!(s.labels_of(0), vec![0, 1]);
    assert_eq!(s.label_counts(), vec![1, 1]);
    s.add_class("d").unwrap();
    s.answer_set(&[1]).unwrap(); // item 2 → b only
                                 // Deleting b: item 0 keeps a, item 2 (left with nothing) goes back to the pool.
    assert_eq!(
        s.delete_class(1, DeletedItems::Unlabel).unwrap(),
        vec![0, 2]
    );
    assert_eq!(s.labels_of(0), vec![0]);
    assert!(!s.is_labeled(2));
    assert_eq!(s.undo(), Some(1));
    assert_eq!(s.undo(), Some(0));
    assert!(s.answers().is_empty());
    let mut single = session();
    single.set_queue(vec![0]);
    assert!(single.answer_set(&[0, 1]).is_err());
    assert!(single.clone().with_multi_label(true).is_ok());
    single.answer(0).unwrap();
    assert!(single.with_multi_label(true).is_err());
}

#[test]
fn imported_labels_count_but_are_not_undone() {
    let mut s = session();
    assert!(s.import_label(4, 1).unwrap());
    assert!(!s.import_label(4, 0).unwrap());
    assert!(s.import_label(9, 0).is_err());
    s.set_queue(vec![4, 0]);
    assert_eq!(s.queue(), &[0]);
    assert_eq!(s.label_counts(), vec![0, 1]);
    assert!(!s.can_undo());
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

#[test]
fn several_items_labeled_at_once_are_separate_answers_and_the_current_item_stays() {
    let items: Vec<String> = (0..6).map(|i| format!("{i}.png")).collect();
    let mut s = Session::new(items, vec!["cat".into(), "dog".into()]).unwrap();
    s.set_queue(vec![0, 1, 2]);
    s.answer(0).unwrap();
    assert_eq!(s.current(), Some(1));
    assert_eq!(s.label_items(&[4, 5, 0], &[1]).unwrap(), 3);
    assert_eq!(s.current(), Some(1));
    assert_eq!(s.labels_of(0), vec![1]);
    assert_eq!(s.labeled_items(), &[0, 4, 5]);
    assert_eq!(s.history().len(), 3);
    s.undo();
    assert!(!s.is_labeled(5));
    assert!(s.label_items(&[99], &[0]).is_err());
}
