//! `quarry simulate` and `quarry bench` as scripts use them: the documented JSON, and exit code
//! 2 with a one-line message on bad input.

use std::path::PathBuf;
use std::process::Command;

fn quarry(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn demo_run_writes_the_documented_json() {
    let json = temp("out.json", b"");
    let (code, stdout, stderr) = quarry(&[
        "simulate",
        "--demo",
        "emoji",
        "--strategy",
        "margin,random",
        "--init",
        "6",
        "--batch",
        "6",
        "--rounds",
        "3",
        "--seeds",
        "2",
        "--test-fraction",
        "0.3",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("margin"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let strategies = v["strategies"].as_array().unwrap();
    assert_eq!(strategies.len(), 2);
    for s in strategies {
        assert!(s["aulc_mean"].as_f64().unwrap() > 0.4);
        assert!(s["aulc_std"].as_f64().is_some());
        let rounds = s["rounds"].as_array().unwrap();
        assert_eq!(rounds.len(), 4);
        assert_eq!(rounds[3]["labels"].as_u64(), Some(24));
        assert!(
            rounds[0]["accuracy_mean"].as_f64().is_some()
                && rounds[0]["accuracy_std"].as_f64().is_some()
        );
    }
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let emb = temp("e.csv", b"1,2\n3,4\n5,6\n7,8\n9,10\n");
    let nan = temp("nan.csv", b"1,2\nNaN,4\n");
    let labels = temp("l.csv", b"0\n1\n0\n");
    let empty = temp("empty.npy", b"");
    let cases: [&[&str]; 9] = [
        &[
            "simulate",
            "--embeddings",
            emb.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
        ],
        &[
            "simulate",
            "--embeddings",
            nan.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
        ],
        &[
            "simulate",
            "--embeddings",
            empty.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
        ],
        &["simulate", "--demo", "emoji", "--strategy", "nonsense"],
        &["frobnicate"],
        &["bench", "--pool", "0"],
        &["bench", "--backend", "tpu"],
        &["bench", "--pool", "10", "--labels", "10"],
        &["bench", "--embeddings", "x.npy"],
    ];
    for args in cases {
        let (code, _, stderr) = quarry(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
}

/// `quarry bench` writes the JSON other scripts read: the backend, and per strategy the
/// refresh time, the selection time within it and the peak extra memory.
#[test]
fn bench_writes_the_documented_json() {
    let json = temp("bench.json", b"");
    let (code, stdout, stderr) = quarry(&[
        "bench",
        "--pool",
        "400",
        "--dim",
        "16",
        "--classes",
        "3",
        "--labels",
        "30",
        "--batch",
        "5",
        "--strategy",
        "auto,margin,badge",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("| badge |"), "{stdout}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["backend"], "cpu");
    for name in ["auto", "margin", "badge"] {
        let s = &v["strategies"][name];
        for key in ["refresh_ms", "select_ms", "peak_extra_mib"] {
            assert!(
                s[key].as_f64().is_some_and(|t| t >= 0.0),
                "{name}.{key}: {v}"
            );
        }
        assert!(s["select_ms"].as_f64() <= s["refresh_ms"].as_f64(), "{v}");
    }
}

/// `quarry bench --backend gpu` names the backend and the adapter (where the machine has one:
/// in CI lavapipe, required by `QUARRY_REQUIRE_GPU`).
#[test]
fn bench_on_the_gpu_names_the_adapter() {
    let json = temp("bench-gpu.json", b"");
    let (code, stdout, stderr) = quarry(&[
        "bench",
        "--pool",
        "600",
        "--dim",
        "24",
        "--classes",
        "3",
        "--labels",
        "30",
        "--batch",
        "5",
        "--strategy",
        "margin,coreset",
        "--backend",
        "gpu",
        "--json",
        json.to_str().unwrap(),
    ]);
    if code != 0 && std::env::var_os("QUARRY_REQUIRE_GPU").is_none() {
        eprintln!("no GPU here: {stderr}");
        return;
    }
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("| coreset |"), "{stdout}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["backend"], "gpu");
    assert!(v["adapter"].as_str().is_some_and(|a| !a.is_empty()), "{v}");
    assert!(
        v["strategies"]["coreset"]["refresh_ms"].as_f64().is_some(),
        "{v}"
    );
}
