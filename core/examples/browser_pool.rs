//! A large pool for the browser benchmark (`e2e/bench-predictions.mjs`): `cargo run -p
//! quarry-core --example browser_pool -- OUT.zip [ITEMS [LABELS]]` (defaults 50,000 items,
//! 200 labels) writes a self-contained project zip as *Save project with its files* would:
//! ITEMS tiny distinct PNGs, the project (10 classes, the first LABELS items labeled by their
//! synthetic class), and for every item a cached embedding under the bundled image model's key
//! (1280-d, 10 clustered classes, as `pool_memory` makes them). Opening it in the app fills the
//! browser's embedding cache, so the pool is "embedded" by cache look-ups and the benchmark
//! measures the labeling screen, the learner and the Predictions view at full size. With
//! `--fresh` (anywhere after OUT.zip) no embeddings go along: the browser embeds every item
//! (`e2e/bench-embed.mjs --pool OUT.zip` times that).

use std::io::Cursor;

use quarry_core::archive::{write_project_zip, ProjectZip};
use quarry_core::cache::{embedding_key, encode_entries, model_key};
use quarry_core::model::{ImageSpec, ModelChoice};
use quarry_core::project::{write_project, ItemSource, Settings};
use quarry_core::rng::Rng;
use quarry_core::Session;

const CLASSES: usize = 10;
const DIM: usize = 1280;

/// An 8 × 8 PNG whose pixels spell `i`, so every item's file (and cache key) differs.
fn png(i: usize, class: usize) -> Vec<u8> {
    let mut img = image::RgbImage::new(8, 8);
    for (k, px) in img.pixels_mut().enumerate() {
        let b = ((i >> (k % 24)) & 1) as u8;
        *px = image::Rgb([(class * 25) as u8, 255 * b, (k * 4) as u8]);
    }
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encoding to memory cannot fail");
    out.into_inner()
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let fresh = args.iter().any(|a| a == "--fresh");
    args.retain(|a| a != "--fresh");
    let out = args
        .first()
        .expect("usage: browser_pool OUT.zip [ITEMS [LABELS]] [--fresh]");
    let items: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let labels: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(200);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model_bytes = std::fs::read(root.join("assets/models/efficientnet_lite0_int8.onnx"))
        .expect("the bundled image model");
    let model = ModelChoice::Image {
        url: "models/efficientnet_lite0_int8.onnx".into(),
        spec: ImageSpec::efficientnet_lite(),
    };
    let key = model_key(&model, &model_bytes, None);

    let mut rng = Rng::new(7);
    let centres: Vec<Vec<f32>> = (0..CLASSES)
        .map(|_| (0..DIM).map(|_| rng.normal().max(0.0) as f32).collect())
        .collect();
    let names: Vec<String> = (0..items).map(|i| format!("item{i:06}.png")).collect();
    let class_of = |i: usize| (i * 7 + i / 13) % CLASSES;
    let mut files = Vec::with_capacity(items);
    let mut entries = Vec::with_capacity(items);
    for (i, name) in names.iter().enumerate() {
        let c = class_of(i);
        let bytes = png(i, c);
        let row: Vec<f32> = centres[c]
            .iter()
            .map(|m| (m + 0.6 * rng.normal() as f32).max(0.0))
            .collect();
        entries.push((embedding_key(&key, &bytes), row));
        files.push((name.clone(), bytes));
    }
    let class_names: Vec<String> = (0..CLASSES).map(|c| format!("class {c}")).collect();
    let mut session = Session::new(names, class_names).expect("a valid session");
    for i in 0..labels.min(items) {
        session.import_label(i, class_of(i)).expect("a valid label");
    }
    let settings = Settings {
        title: format!("Benchmark pool of {items}"),
        strategy: Default::default(),
        subpool: Default::default(),
        model: Some(model),
        source: Some(ItemSource::Files),
        audit: quarry_core::audit::AuditSettings::RECOMMENDED,
        full_list: false,
        keys: Default::default(),
    };
    let contents = ProjectZip {
        project: write_project(&session, &settings, None),
        texts: None,
        embeddings: (!fresh).then(|| encode_entries(&entries)),
    };
    let zip = write_project_zip(&contents, files);
    std::fs::write(out, &zip).expect("writing the zip");
    println!(
        "{out}: {items} items, {labels} labeled, {} MB",
        zip.len() / 1_000_000
    );
}
