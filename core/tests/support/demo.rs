//! The bundled demos' embeddings, manifest and ground truth, for the tests that replay them.

use quarry_core::dataset::DemoManifest;
use quarry_core::matrix::Matrix;

/// `assets/demo/<name>`: its `embeddings.npy`, its manifest and its `truth.csv` as class ids.
pub fn demo(name: &str) -> (Matrix, Vec<usize>, DemoManifest) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/demo")
        .join(name);
    let x =
        quarry_core::npy::read_matrix(&std::fs::read(dir.join("embeddings.npy")).unwrap()).unwrap();
    let m =
        DemoManifest::from_json(&std::fs::read_to_string(dir.join("demo.json")).unwrap()).unwrap();
    let y = m
        .truth_ids(&std::fs::read_to_string(dir.join("truth.csv")).unwrap())
        .unwrap();
    (x, y, m)
}
