//! Property test of the session: thousands of seeded random sequences of every operation a person
//! can do (answer, answer a set, skip, none of these, undo, redo, relabel, remove, ask now, class
//! add/rename/merge/delete, new queues). After every step the session must still be one a project
//! file accepts (every invariant re-checked by `Session::from_snapshot`) and read back unchanged
//! through the stored form; undoing everything and redoing it gives the same answers back.

use quarry_core::project::{read_stored, write_progress, Settings};
use quarry_core::rng::Rng;
use quarry_core::{DeletedItems, Session};

/// One random operation; errors are allowed (refused operations change nothing).
fn step(s: &mut Session, rng: &mut Rng) {
    let n = s.len();
    let k = s.classes().len();
    let set =
        |rng: &mut Rng, k: usize| -> Vec<usize> { (0..k).filter(|_| rng.below(3) == 0).collect() };
    match rng.below(14) {
        0..=3 => {
            let classes = if s.is_multi_label() {
                set(rng, k)
            } else {
                vec![rng.below(k)]
            };
            let _ = s.answer_set(&classes);
        }
        4 => {
            s.skip();
        }
        5 => {
            s.reject();
        }
        6 => {
            s.undo();
        }
        7 => {
            s.redo();
        }
        8 => {
            let classes = if s.is_multi_label() {
                set(rng, k)
            } else {
                vec![rng.below(k)]
            };
            let _ = s.relabel(rng.below(n), &classes);
        }
        9 => {
            let _ = s.remove_answer(rng.below(n));
        }
        10 => {
            let _ = s.ask_now(rng.below(n));
        }
        11 => {
            let mut q: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut q);
            q.truncate(rng.below(n + 1));
            s.set_queue(q);
        }
        12 => match rng.below(4) {
            0 => {
                let _ = s.add_class(&format!("c{}", rng.below(1000)));
            }
            1 => {
                let _ = s.rename_class(rng.below(k), &format!("r{}", rng.below(1000)));
            }
            2 => {
                let _ = s.merge_classes(rng.below(k), rng.below(k));
            }
            _ => {
                let how = if rng.below(2) == 0 {
                    DeletedItems::Unlabel
                } else {
                    DeletedItems::NoneOfThese
                };
                let _ = s.delete_class(rng.below(k), how);
            }
        },
        _ => {
            let _ = s.import_label(rng.below(n), rng.below(k));
        }
    }
}

fn check(s: &Session, context: &str) {
    let back = Session::from_snapshot(s.snapshot())
        .unwrap_or_else(|e| panic!("{context}: the session broke an invariant: {e}"));
    assert_eq!(back.snapshot(), s.snapshot(), "{context}");
    let progress = write_progress(s, &Settings::default());
    let stored = read_stored(&progress, s.snapshot().items).unwrap();
    assert_eq!(stored.session.snapshot(), s.snapshot(), "{context}");
    // What the queue and history say agrees with the answers.
    for i in s.queue() {
        assert!(!s.is_labeled(*i), "{context}: labeled item {i} is queued");
    }
    assert!(
        s.history().len() >= s.labeled_items().len() - imported(s),
        "{context}"
    );
}

/// Labeled items that came with the data (not in the history).
fn imported(s: &Session) -> usize {
    let in_history: std::collections::BTreeSet<usize> = s
        .history()
        .filter_map(|h| match h {
            quarry_core::Step::Labeled(i) => Some(i),
            _ => None,
        })
        .collect();
    s.labeled_items()
        .iter()
        .filter(|i| !in_history.contains(i))
        .count()
}

#[test]
fn random_operations_keep_every_invariant() {
    let runs: u64 = std::env::var("QUARRY_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(600, |n| (n / 300).max(1));
    for seed in 0..runs {
        let mut rng = Rng::new(seed);
        let n = 2 + rng.below(12);
        let items: Vec<String> = (0..n).map(|i| format!("{i}.png")).collect();
        let mut s = Session::new(items, vec!["a".into(), "b".into(), "c".into()])
            .unwrap()
            .with_multi_label(seed % 3 == 0)
            .unwrap();
        s.set_queue((0..n).collect());
        for t in 0..80 {
            step(&mut s, &mut rng);
            check(&s, &format!("seed {seed}, step {t}"));
        }
        // Redo what is pending, undo everything, then redo it all: the same answers.
        while s.redo().is_some() {}
        check(&s, &format!("seed {seed}, redone"));
        let answers = s.answers().to_vec();
        let mut undone = 0;
        while s.undo().is_some() {
            undone += 1;
            check(&s, &format!("seed {seed}, undo {undone}"));
        }
        for _ in 0..undone {
            assert!(s.redo().is_some(), "seed {seed}: redo stopped early");
        }
        assert!(!s.can_redo());
        let mut again = s.answers().to_vec();
        let mut before = answers.clone();
        // Imported labels are not undone; the rest come back (a set's classes in class order).
        again.sort_by_key(|a| (a.item, a.class));
        before.sort_by_key(|a| (a.item, a.class));
        assert_eq!(again, before, "seed {seed}");
        check(&s, &format!("seed {seed}, after redo"));
    }
}
