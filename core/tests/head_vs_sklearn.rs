//! quarry-core's softmax head against scikit-learn's LogisticRegression on the same embeddings and
//! split (core/tests/fixtures/sklearn_head.json, written by tools/sklearn_head_reference.py).

use quarry_core::head::{HeadOptions, SoftmaxHead};

#[test]
fn head_matches_sklearn() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("core/tests/fixtures/sklearn_head.json")).unwrap(),
    )
    .unwrap();
    let x = quarry_core::npy::read_matrix(
        &std::fs::read(root.join(fixture["embeddings"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    let y: Vec<usize> = fixture["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let train: Vec<bool> = fixture["train"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64() == Some(1))
        .collect();
    let tr: Vec<usize> = (0..y.len()).filter(|&i| train[i]).collect();
    let te: Vec<usize> = (0..y.len()).filter(|&i| !train[i]).collect();
    let ty: Vec<usize> = tr.iter().map(|&i| y[i]).collect();
    let opts = HeadOptions {
        c: fixture["C"].as_f64().unwrap(),
        max_iter: 1000,
        tol: 1e-6,
    };
    let head = SoftmaxHead::fit(&x.select_rows(&tr), &ty, 3, &opts, None).unwrap();
    let ours = te
        .iter()
        .filter(|&&i| head.predict(x.row(i)) == y[i])
        .count() as f64
        / te.len() as f64;
    let theirs = fixture["sklearn_test_accuracy"].as_f64().unwrap();
    println!("quarry {ours:.4} vs scikit-learn {theirs:.4}");
    assert!(
        (ours - theirs).abs() <= 0.02,
        "quarry {ours:.4} vs scikit-learn {theirs:.4}"
    );
}
