//! The payoff at scale: `cargo run --release -p quarry-core --example payoff_scale [-- ITEMS]`
//! (default 50,000 items, 10 classes). Times what the page does with the pool's predictions —
//! the Predictions view's sort and filter (`predict::browse`), the predictions CSV and JSONL —
//! and streams a class-folder zip of ITEMS synthetic 20 KB images through `StreamingZip`,
//! printing the most bytes it ever held (the page keeps no more than that in wasm memory; the
//! finished pieces go to the browser as Blob parts).

// A benchmark measures wall time; the clock ban is for the library.
#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use quarry_core::archive::folders::{file_name, folder_plan, StreamingZip};
use quarry_core::export::{predictions_csv, predictions_jsonl};
use quarry_core::predict::{browse, BySource, Predictions, SortBy};
use quarry_core::rng::Rng;
use quarry_core::Session;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50_000);
    let classes = 10;
    let items: Vec<String> = (0..n).map(|i| format!("photos/img_{i:06}.jpg")).collect();
    let names: Vec<String> = (0..classes).map(|c| format!("class {c}")).collect();
    let mut session = Session::new(items, names).unwrap();
    let mut rng = Rng::new(7);
    let queue: Vec<usize> = (0..200).map(|k| k * (n / 200)).collect();
    session.set_queue(queue);
    for k in 0..200 {
        session.answer(k % classes).unwrap();
    }
    let mut probabilities = Vec::with_capacity(n * classes);
    for _ in 0..n {
        let raw: Vec<f32> = (0..classes).map(|_| rng.next_f64() as f32 + 0.01).collect();
        let sum: f32 = raw.iter().sum();
        probabilities.extend(raw.iter().map(|v| v / sum));
    }
    let p = Predictions {
        classes,
        multi_label: false,
        items: (0..n).collect(),
        probabilities,
    };
    let answered: Vec<bool> = (0..n).map(|i| session.is_labeled(i)).collect();

    let t = Instant::now();
    let order = browse(Some(&p), &answered, SortBy::LeastSure, None, BySource::All);
    let sort_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let filtered = browse(
        Some(&p),
        &answered,
        SortBy::MostSure,
        Some(3),
        BySource::Model,
    );
    let filter_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "{n} items: browse (sort all) {sort_ms:.1} ms, browse (class 3, model only, most sure) {filter_ms:.1} ms ({} rows of {})",
        filtered.len(),
        order.len()
    );

    let t = Instant::now();
    let csv = predictions_csv(&session, Some(&p), true);
    let csv_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let jsonl = predictions_jsonl(&session, Some(&p), true);
    let jsonl_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "predictions CSV {csv_ms:.0} ms ({:.1} MB), JSONL {jsonl_ms:.0} ms ({:.1} MB)",
        csv.len() as f64 / 1e6,
        jsonl.len() as f64 / 1e6
    );

    let plan = folder_plan(&session, Some(&p), Some(0.2));
    let image = vec![0x5au8; 20_000];
    let t = Instant::now();
    let mut zip = StreamingZip::new();
    let (mut out, mut largest_piece) = (0usize, 0usize);
    for (item, folders) in plan.iter().enumerate() {
        for f in folders {
            let piece = zip
                .add(f, file_name(session.item_name(item)), &image, false)
                .unwrap();
            largest_piece = largest_piece.max(piece.len());
            out += piece.len();
        }
    }
    let last = zip.finish().unwrap();
    out += last.len();
    println!(
        "folder zip of {n} × 20 KB: {:.0} ms, {:.1} MB written; largest piece handed out {:.1} KB, central directory {:.1} MB (the only part held to the end)",
        t.elapsed().as_secs_f64() * 1e3,
        out as f64 / 1e6,
        largest_piece as f64 / 1e3,
        last.len() as f64 / 1e6
    );
}
