//! Prints timings of the loop's steps on the bundled demo (native, one thread):
//! model load, embedding per image, head fit, and a full learner refresh.
//!
//! `cargo run --release -p quarry-core --example bench`

// A native benchmark measures wall time; core itself never reads a clock.
#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use quarry_core::dataset::DemoManifest;
use quarry_core::embed::{ImageEmbedder, ImageSpec};
use quarry_core::{Answer, Learner, LearnerInput};

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bytes = std::fs::read(root.join("assets/models/efficientnet_lite0_int8.onnx")).unwrap();
    let t = Instant::now();
    let embedder = ImageEmbedder::from_onnx_bytes(&bytes, ImageSpec::efficientnet_lite()).unwrap();
    println!(
        "model load + optimise: {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );

    let demo = root.join("assets/demo/emoji");
    let manifest =
        DemoManifest::from_json(&std::fs::read_to_string(demo.join("demo.json")).unwrap()).unwrap();
    let n = 40;
    let t = Instant::now();
    for name in &manifest.items[..n] {
        embedder
            .embed_image(
                name,
                &std::fs::read(demo.join("images").join(name)).unwrap(),
            )
            .unwrap();
    }
    println!(
        "embed (decode + preprocess + model): {:.1} ms/image over {n}",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );

    let x = quarry_core::npy::read_matrix(&std::fs::read(demo.join("embeddings.npy")).unwrap())
        .unwrap();
    let truth: std::collections::BTreeMap<String, String> =
        std::fs::read_to_string(demo.join("truth.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| {
                l.split_once(',')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            })
            .collect();
    let class_of = |i: usize| {
        manifest
            .classes
            .iter()
            .position(|c| *c == truth[&manifest.items[i]])
            .unwrap()
    };
    let mut learner = Learner::from_matrix(&x, manifest.classes.len(), 1).unwrap();
    let mut input = LearnerInput {
        labels: vec![],
        skipped: vec![],
        batch: 10,
        ..LearnerInput::default()
    };
    for labels in [10, 50, 100, 200] {
        while input.labels.len() < labels {
            let update = learner.refresh(&input).unwrap();
            for item in update.queue.into_iter().take(labels - input.labels.len()) {
                input.labels.push(Answer {
                    item,
                    class: class_of(item),
                });
            }
        }
        let t = Instant::now();
        let update = learner.refresh(&input).unwrap();
        println!(
            "refresh at {labels:>3} labels (fit + 5-fold CV + select over {} items): {:.0} ms, estimate {:.0}%",
            manifest.items.len(),
            t.elapsed().as_secs_f64() * 1e3,
            update.accuracy.map_or(0.0, |a| a.value * 100.0)
        );
    }
}
