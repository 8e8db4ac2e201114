//! Loading a model the person brings: inspection, preprocessing choices, output choice and
//! pooling, and a specific message for every kind of wrong file. Fixtures:
//! core/tests/fixtures/make_models.py.

use quarry_core::embed::{inspect, ImageEmbedder};
use quarry_core::model::{ChannelOrder, ImageSpec, Layout, ModelKind, Preset};

fn read(path: &str) -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::read(root.join(path)).unwrap()
}

fn png(side: u32) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        image::Rgb([x as u8 * 7, y as u8 * 5, 90])
    });
    img.write_to(&mut buf, image::ImageFormat::Png).unwrap();
    buf.into_inner()
}

#[test]
fn the_shipped_models_are_recognised() {
    let image = inspect(&read("../assets/models/efficientnet_lite0_f32.onnx")).unwrap();
    assert_eq!(image.kind, ModelKind::Image);
    let spec = image.proposed.clone().unwrap();
    assert_eq!((spec.size, spec.layout), (224, Layout::Nchw));
    assert_eq!(spec.output.as_deref(), Some("embedding"));
    assert_eq!(
        image.inputs[0].shape,
        vec![None, Some(3), Some(224), Some(224)]
    );
    let text = inspect(&read("../assets/models/minilm_l6_int8.onnx")).unwrap();
    assert_eq!(text.kind, ModelKind::Text);
    assert_eq!(text.inputs.len(), 2);
    // The f32 image model loaded as a custom one gives the bundled model's embedding.
    let custom = ImageEmbedder::from_onnx_bytes(
        &read("../assets/models/efficientnet_lite0_f32.onnx"),
        image.proposed.clone().unwrap(),
    )
    .unwrap();
    assert_eq!(custom.dim(), 1280);
}

#[test]
fn nhwc_outputs_are_chosen_by_name_and_pooled() {
    let bytes = read("tests/fixtures/nhwc_features.onnx");
    let info = inspect(&bytes).unwrap();
    let mut spec = info.proposed.unwrap();
    assert_eq!((spec.size, spec.layout), (32, Layout::Nhwc));
    assert_eq!(spec.output.as_deref(), Some("features"));
    spec.channels = ChannelOrder::Bgr;
    let embedder = ImageEmbedder::from_onnx_bytes(&bytes, spec.clone()).unwrap();
    assert_eq!(embedder.dim(), 8);
    let got = embedder.embed_image("x.png", &png(32)).unwrap();
    // By hand: mean over pixels of the preprocessed BGR values, times w (3 × 8).
    let input = quarry_core::embed::preprocess("x.png", &png(32), &spec).unwrap();
    let mut mean = [0f32; 3];
    for px in input.chunks_exact(3) {
        (0..3).for_each(|c| mean[c] += px[c] / 1024.0);
    }
    let w: Vec<f32> = (0..24).map(|i| -1.0 + 2.0 * i as f32 / 23.0).collect();
    for (j, g) in got.iter().enumerate() {
        let want: f32 = (0..3).map(|c| mean[c] * w[c * 8 + j]).sum();
        assert!((g - want).abs() < 1e-4, "{j}: {g} vs {want}");
    }
    // Presets change the scaling.
    let (mean, std) = Preset::ImageNet.mean_std();
    assert!((mean[0] - 123.675).abs() < 1e-3 && (std[2] - 57.375).abs() < 1e-3);
    // An integer output cannot be the embedding; an unknown one is named.
    let mut bad = spec.clone();
    bad.output = Some("label".into());
    let e = ImageEmbedder::from_onnx_bytes(&bytes, bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not f32") || e.contains("shape"), "{e}");
    bad = spec;
    bad.output = Some("nope".into());
    let e = ImageEmbedder::from_onnx_bytes(&bytes, bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no output 'nope'"), "{e}");
}

#[test]
fn wrong_files_get_specific_messages() {
    let e = inspect(b"GIF89a not a model at all")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not an ONNX file"), "{e}");
    let e = inspect(&read("tests/fixtures/unknown_op.onnx"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'FancyPooling'") && e.contains("cannot run"),
        "{e}"
    );
    let e = inspect(&read("tests/fixtures/argmax_only.onnx"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no output is a float tensor"), "{e}");
    let text = read("../assets/models/minilm_l6_int8.onnx");
    let e = ImageEmbedder::from_onnx_bytes(&text, ImageSpec::efficientnet_lite())
        .unwrap_err()
        .to_string();
    assert!(e.contains("token ids"), "{e}");
    // A truncated copy of a real model.
    let mut cut = read("../assets/models/efficientnet_lite0_int8.onnx");
    cut.truncate(cut.len() / 2);
    assert!(inspect(&cut).is_err());
}
