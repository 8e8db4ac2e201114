//! Evidence for candidate set queries (issue 13) on the Fashion-MNIST demo embeddings (2,000
//! items, 10 classes): asking margin's picks with conformal candidate sets reaches the
//! full-list run's final accuracy for at least 25% fewer bits. Same protocol as `quarry
//! simulate --candidate-sets`; the five-seed numbers are in `docs/evidence.md`.

use quarry_core::acquire::{StrategyKind, Subpool};
use quarry_core::simulate::{simulate, SimConfig};

#[path = "support/demo.rs"]
mod support;

#[test]
fn candidate_sets_save_a_quarter_of_the_bits_on_fashion_mnist() {
    let (x, y, _) = support::demo("fashion");
    let cfg = SimConfig {
        strategies: vec![StrategyKind::Margin],
        init: 10,
        batch: 10,
        rounds: 20,
        seeds: 2,
        test_fraction: 0.3,
        base_seed: 0,
        subpool: Subpool::Off,
        audit: None,
        candidate_sets: true,
    };
    let report = simulate(&x, &y, &cfg, &mut || 0.0).unwrap();
    let sets = report.strategies[0].candidate_sets.as_ref().unwrap();
    println!("{sets:?}");
    assert!(sets.reached, "{sets:?}");
    assert!(sets.saving >= 0.25, "saving {:.3}", sets.saving);
    assert!(sets.hit_rate >= 0.75, "hit rate {:.3}", sets.hit_rate);
    // Margin asks the same items either way: equal accuracy at equal label counts.
    assert_eq!(sets.labels, sets.labels_full_list);
}
