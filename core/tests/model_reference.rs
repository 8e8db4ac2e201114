//! The shipped image models, run through tract with quarry-core's preprocessing, must compute the
//! embeddings PyTorch computes (assets/models/efficientnet_lite0_reference.json, written by
//! assets/models/export_efficientnet_lite0.py).

use quarry_core::embed::{ImageEmbedder, ImageSpec};
use quarry_core::matrix::cosine;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The numbers of a JSON array, converted by `f`.
fn numbers<T>(v: &serde_json::Value, f: impl Fn(&serde_json::Value) -> T) -> Vec<T> {
    v.as_array().unwrap().iter().map(f).collect()
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
        let want: Vec<f32> = numbers(&r["embedding"], |v| v.as_f64().unwrap() as f32);
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

/// The shipped text model (int8) and tokenizer, through tract, must give the embeddings
/// sentence-transformers gives (assets/models/minilm_reference.json, written by
/// assets/models/export_minilm.py): the same token ids, cosine ≥ 0.99.
#[test]
fn text_model_matches_sentence_transformers() {
    use quarry_core::embed::TextEmbedder;
    let models = root().join("assets/models");
    let embedder = TextEmbedder::from_bytes(
        &std::fs::read(models.join("minilm_l6_int8.onnx")).unwrap(),
        &std::fs::read(models.join("minilm_tokenizer.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(embedder.dim(), 384);
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(models.join("minilm_reference.json")).unwrap(),
    )
    .unwrap();
    let texts = reference["texts"].as_array().unwrap();
    assert!(texts.len() >= 4);
    for r in texts {
        let text = r["text"].as_str().unwrap();
        let ids: Vec<u32> = numbers(&r["ids"], |v| v.as_u64().unwrap() as u32);
        assert_eq!(
            embedder.tokenize(text).unwrap(),
            ids,
            "token ids of {text:?}"
        );
        let want: Vec<f32> = numbers(&r["embedding"], |v| v.as_f64().unwrap() as f32);
        let got = embedder.embed_text(text).unwrap();
        let cos = cosine(&got, &want);
        println!("{text:?}: cosine {cos:.6}");
        assert!(cos >= 0.99, "{text:?}: cosine {cos}");
    }
}

#[test]
fn a_broken_text_model_or_tokenizer_is_a_clear_error() {
    use quarry_core::embed::TextEmbedder;
    let models = root().join("assets/models");
    let tokenizer = std::fs::read(models.join("minilm_tokenizer.json")).unwrap();
    let err = TextEmbedder::from_bytes(b"nope", &tokenizer)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not an ONNX file"), "{err}");
    let image_model = std::fs::read(models.join("efficientnet_lite0_int8.onnx")).unwrap();
    let err = TextEmbedder::from_bytes(&image_model, &tokenizer)
        .unwrap_err()
        .to_string();
    assert!(err.contains("two inputs"), "{err}");
    let err = TextEmbedder::from_bytes(&image_model, b"{}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("tokenizer"), "{err}");
}
