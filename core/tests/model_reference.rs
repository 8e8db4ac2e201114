//! The shipped image models, run through tract with quarry-core's preprocessing, must compute the
//! embeddings PyTorch computes (assets/models/efficientnet_lite0_reference.json, written by
//! assets/models/export_efficientnet_lite0.py).

use quarry_core::embed::{ImageEmbedder, ImageSpec};
use quarry_core::matrix::cosine;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn check(model: &str, min_cosine: f32) {
    let bytes = std::fs::read(root().join("assets/models").join(model)).unwrap();
    let embedder = ImageEmbedder::from_onnx_bytes(&bytes, ImageSpec::efficientnet_lite()).unwrap();
    assert_eq!(embedder.dim(), 1280);
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("assets/models/efficientnet_lite0_reference.json"))
            .unwrap(),
    )
    .unwrap();
    let images = reference["images"].as_array().unwrap();
    assert!(images.len() >= 4);
    for r in images {
        let path = r["image"].as_str().unwrap();
        let want: Vec<f32> = r["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let got = embedder
            .embed_image(path, &std::fs::read(root().join(path)).unwrap())
            .unwrap();
        let cos = cosine(&got, &want);
        println!("{model} {path}: cosine {cos:.6}");
        assert!(
            cos >= min_cosine,
            "{model} on {path}: cosine {cos} < {min_cosine}"
        );
    }
}

/// The f32 graph is exact; what remains is resampling: PIL rounds its intermediate pass to 8 bits,
/// the `image` crate keeps f32, which moves an 8× upscaled 28-px image by up to a grey level.
#[test]
fn f32_model_matches_pytorch() {
    check("efficientnet_lite0_f32.onnx", 0.998);
}

#[test]
fn int8_model_matches_pytorch() {
    check("efficientnet_lite0_int8.onnx", 0.99);
}

#[test]
fn a_file_that_is_not_a_model_is_a_clear_error() {
    let err =
        ImageEmbedder::from_onnx_bytes(b"\x89PNG not a model", ImageSpec::efficientnet_lite())
            .unwrap_err()
            .to_string();
    assert!(err.contains("model could not be loaded"), "{err}");
}
