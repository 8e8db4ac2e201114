//! Embeds a bundled demo's images with the shipped int8 EfficientNet-Lite0 and Quarry's own
//! preprocessing (what the app computes), writing `<demo>/embeddings.npy` (float32, one row per
//! item of demo.json, in its order) for `quarry simulate --demo` and the evidence tests.
//!
//! `cargo run -p quarry-core --example demo_embeddings -- assets/demo/fashion` (dependencies and core build optimised in the dev profile)

use quarry_core::dataset::DemoManifest;
use quarry_core::embed::{ImageEmbedder, ImageSpec};

fn main() {
    let dir =
        std::path::PathBuf::from(std::env::args().nth(1).expect("usage: demo_embeddings DIR"));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model = std::fs::read(root.join("assets/models/efficientnet_lite0_int8.onnx")).unwrap();
    let embedder = ImageEmbedder::from_onnx_bytes(&model, ImageSpec::efficientnet_lite()).unwrap();
    let manifest =
        DemoManifest::from_json(&std::fs::read_to_string(dir.join("demo.json")).unwrap()).unwrap();
    let d = embedder.dim();
    let mut payload = Vec::with_capacity(manifest.items.len() * d * 4);
    for (k, item) in manifest.items.iter().enumerate() {
        let bytes = std::fs::read(dir.join("images").join(item)).unwrap();
        let e = embedder.embed_image(item, &bytes).unwrap();
        payload.extend(e.iter().flat_map(|v| v.to_le_bytes()));
        if k % 200 == 0 {
            eprintln!("{k}/{}", manifest.items.len());
        }
    }
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {d}), }}",
        manifest.items.len()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(payload);
    std::fs::write(dir.join("embeddings.npy"), out).unwrap();
    eprintln!("wrote {}", dir.join("embeddings.npy").display());
}
