//! The simulator's unit tests.

use super::*;

fn blobs(n: usize) -> (Matrix, Vec<usize>) {
    let mut rng = Rng::new(11);
    let mut rows = Vec::new();
    let mut y = Vec::new();
    for i in 0..n {
        let c = i % 3;
        rows.push(vec![
            c as f32 * 3.0 + rng.normal() as f32,
            (c == 2) as u8 as f32 * 3.0 + rng.normal() as f32,
        ]);
        y.push(c);
    }
    (Matrix::from_rows(&rows).unwrap(), y)
}

fn cfg(strategies: Vec<StrategyKind>) -> SimConfig {
    SimConfig {
        strategies,
        init: 4,
        batch: 3,
        rounds: 5,
        seeds: 3,
        test_fraction: 0.3,
        base_seed: 0,
        subpool: Subpool::Auto,
        audit: None,
        candidate_sets: false,
    }
}

#[test]
fn deterministic_and_shaped_as_documented() {
    let (x, y) = blobs(120);
    let c = cfg(vec![StrategyKind::Margin, StrategyKind::Random]);
    let a = simulate(&x, &y, &c, &mut || 0.0).unwrap();
    let b = simulate(&x, &y, &c, &mut || 0.0).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.strategies.len(), 2);
    let labels: Vec<usize> = a.strategies[0].rounds.iter().map(|r| r.labels).collect();
    assert_eq!(labels, vec![4, 7, 10, 13, 16, 19]);
    assert!(a.strategies[0].aulc_mean > 0.5);
}

#[test]
fn candidate_sets_are_counted_in_bits() {
    // Four well-separated classes: a head soon puts most items' class alone in its set.
    let mut rng = Rng::new(5);
    let (mut rows, mut y) = (Vec::new(), Vec::new());
    for i in 0..200 {
        let c = i % 4;
        let mut row = vec![0.0f32; 4];
        row[c] = 4.0;
        row.iter_mut().for_each(|v| *v += rng.normal() as f32);
        rows.push(row);
        y.push(c);
    }
    let x = Matrix::from_rows(&rows).unwrap();
    let mut c = cfg(vec![StrategyKind::Margin, StrategyKind::CostMargin]);
    c.init = 12;
    c.rounds = 8;
    c.candidate_sets = true;
    let r = simulate(&x, &y, &c, &mut || 0.0).unwrap();
    for s in &r.strategies {
        let sets = s.candidate_sets.as_ref().expect("summary");
        assert!(sets.hit_rate > 0.5 && sets.hit_rate <= 1.0, "{sets:?}");
        assert!(sets.bits_candidate_sets < sets.bits_full_list, "{sets:?}");
        assert!((sets.bits_full_list - sets.labels as f64 * 2.0).abs() < 1e-9);
        let saving = 1.0 - sets.bits_candidate_sets / sets.bits_full_list;
        assert!((sets.saving - saving).abs() < 1e-12);
    }
    // Off: no summary; fewer than four classes: refused.
    assert!(
        simulate(&x, &y, &cfg(vec![StrategyKind::Margin]), &mut || 0.0)
            .unwrap()
            .strategies[0]
            .candidate_sets
            .is_none()
    );
    let (x3, y3) = blobs(60);
    let mut c3 = cfg(vec![StrategyKind::Margin]);
    c3.candidate_sets = true;
    assert!(simulate(&x3, &y3, &c3, &mut || 0.0).is_err());
}

#[test]
fn bad_input_is_rejected() {
    let (x, y) = blobs(20);
    assert!(simulate(&x, &y[..10], &cfg(vec![StrategyKind::Random]), &mut || 0.0).is_err());
    assert!(simulate(&x, &[0; 20], &cfg(vec![StrategyKind::Random]), &mut || 0.0).is_err());
    let mut bad = cfg(vec![StrategyKind::Random]);
    bad.test_fraction = 1.5;
    assert!(simulate(&x, &y, &bad, &mut || 0.0).is_err());
}
