//! `quarry embed` and `quarry merge` end to end on the demo images: the rows are the app's (the
//! demo embeddings were made with the app's preprocessing and model; cosine ≥ 0.999), the model
//! key and hashes are the app's cache keys, damaged files are left out by name, shards merge
//! into the whole run, a missing shard is named, and an interrupted run resumes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use quarry_core::cache;
use quarry_core::cache_blocks;
use quarry_core::dataset::DemoManifest;
use quarry_core::model::{ImageSpec, ModelChoice};
use quarry_core::vectors_file::VectorsFile;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn quarry(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .output()
        .expect("quarry runs")
}

fn read(path: &Path) -> VectorsFile {
    VectorsFile::from_bytes(&std::fs::read(path).unwrap()).unwrap()
}

/// A folder with the first `n` fashion demo images (in a class folder and at the top), a
/// damaged image and a file that is not an image; and the demo's rows by name.
fn folder(dir: &Path, n: usize) -> std::collections::HashMap<String, Vec<f32>> {
    let demo = root().join("assets/demo/fashion");
    let m =
        DemoManifest::from_json(&std::fs::read_to_string(demo.join("demo.json")).unwrap()).unwrap();
    let x = quarry_core::npy::read_matrix(&std::fs::read(demo.join("embeddings.npy")).unwrap())
        .unwrap();
    std::fs::create_dir_all(dir.join("shirts")).unwrap();
    let mut rows = std::collections::HashMap::new();
    for (i, item) in m.items.iter().take(n).enumerate() {
        let name = if i % 2 == 0 {
            format!("shirts/{item}")
        } else {
            item.clone()
        };
        std::fs::copy(demo.join("images").join(item), dir.join(&name)).unwrap();
        rows.insert(name, x.row(i).to_vec());
    }
    std::fs::write(dir.join("broken.png"), b"this is not a PNG").unwrap();
    std::fs::write(dir.join("notes.txt"), b"not an image").unwrap();
    rows
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let na: f64 = a.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn embed_matches_the_app_and_shards_merge_into_the_whole_run() {
    let tmp = std::env::temp_dir().join(format!("quarry-embed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let images = tmp.join("images");
    let expected = folder(&images, 24);
    let whole = tmp.join("whole.safetensors");
    let out = quarry(&[
        "embed",
        images.to_str().unwrap(),
        "--out",
        whole.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.png was left out"), "{stderr}");
    let file = read(&whole);
    assert_eq!(file.items.len(), 24);
    assert!(file.items.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(file.left_out.len(), 1);
    assert_eq!(file.left_out[0].item, "broken.png");
    assert!(file.left_out[0].reason.contains("not a readable image"));
    // The app's model key for the bundled model, and its content hashes.
    let bytes = std::fs::read(root().join("assets/models/efficientnet_lite0_int8.onnx")).unwrap();
    let choice = ModelChoice::Image {
        url: "models/efficientnet_lite0_int8.onnx".into(),
        spec: ImageSpec::efficientnet_lite(),
    };
    assert_eq!(file.model_key, cache::model_key(&choice, &bytes, None));
    let mut worst = 1f64;
    for (r, item) in file.items.iter().enumerate() {
        let content = std::fs::read(images.join(item)).unwrap();
        assert_eq!(
            cache_blocks::hash_hex(&file.hashes[r]),
            cache::digest(&[&content]),
            "{item}"
        );
        worst = worst.min(cosine(file.row(r), &expected[item]));
    }
    println!("lowest cosine to the app's rows: {worst:.6}");
    assert!(worst >= 0.999, "{worst}");

    // Three shards, merged, are the whole run.
    let mut parts = Vec::new();
    for i in 1..=3 {
        let part = tmp.join(format!("part-{i}.safetensors"));
        let shard = format!("{i}/3");
        let out = quarry(&[
            "embed",
            images.to_str().unwrap(),
            "--out",
            part.to_str().unwrap(),
            "--shard",
            &shard,
            "--threads",
            "1",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        parts.push(part.to_str().unwrap().to_string());
    }
    let sizes: Vec<usize> = parts
        .iter()
        .map(|p| read(Path::new(p)).items.len())
        .collect();
    assert!(sizes.iter().all(|&s| s > 0 && s < 24), "{sizes:?}");
    let merged = tmp.join("merged.safetensors");
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    args.extend(["--out", merged.to_str().unwrap()]);
    let out = quarry(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&merged), file);
    // A missing shard is named.
    let out = quarry(&[
        "merge",
        &parts[0],
        &parts[2],
        "--out",
        tmp.join("x.safetensors").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("shard 2/3 is missing"));
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn an_interrupted_run_resumes_where_it_stopped() {
    let tmp = std::env::temp_dir().join(format!("quarry-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let images = tmp.join("images");
    folder(&images, 300);
    let out = tmp.join("pool.safetensors");
    let partial = tmp.join("pool.safetensors.partial");
    let args = [
        "embed",
        images.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "1",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Stopped once some rows are on disk (records reach the file as the writer's buffer fills,
    // and at least at every block of 16 inputs).
    loop {
        let len = std::fs::metadata(&partial).map_or(0, |m| m.len());
        if len > 20_000 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be stopped"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists());
    // A record cut short by the interruption.
    let mut bytes = std::fs::read(&partial).unwrap();
    bytes.extend([7, 0, 0, 0, 1, b'a', b'b']);
    std::fs::write(&partial, bytes).unwrap();
    let second = quarry(&args);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    let before: usize = stderr
        .split(" done before")
        .next()
        .and_then(|s| s.rsplit(", ").next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!((3..300).contains(&before), "{stderr}");
    assert!(!partial.exists());
    let resumed = read(&out);
    assert_eq!(resumed.items.len(), 300);
    // The same as a run that was never stopped.
    let again = tmp.join("again.safetensors");
    let out2 = quarry(&[
        "embed",
        images.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(out2.status.success());
    assert_eq!(read(&again), resumed);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn too_many_inputs_for_one_file_are_refused_before_any_is_embedded() {
    // 1.3 million texts named #1…#1300000: about 107 MB of names and hashes in one header.
    let dir = std::env::temp_dir().join(format!("quarry-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let table = dir.join("many.txt");
    let lines: String = (0..1_300_000).map(|i| format!("text {i}\n")).collect();
    std::fs::write(&table, lines).unwrap();
    let out = dir.join("many.safetensors");
    let t = table.to_str().unwrap();
    let o = out.to_str().unwrap();
    let run = quarry(&["embed", t, "--model", "minilm", "--out", o]);
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        said.contains("split the run into 2 shards or more (--shard i/2)"),
        "{said}"
    );
    assert!(!out.exists() && !dir.join("many.safetensors.partial").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
