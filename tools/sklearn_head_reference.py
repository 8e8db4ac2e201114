"""Reference for Quarry's linear head: scikit-learn's LogisticRegression on the demo embeddings.

Embeds the emoji demo with the shipped f32 ONNX model (onnxruntime, the export script's
preprocessing), writes the embeddings to assets/demo/emoji/embeddings.npy (float32 [n, 1280], rows in
demo.json order; also the bundled demo embeddings for simulation), then fits
LogisticRegression(C=1.0, lbfgs, multinomial) on a fixed half of the items and records its held-out
accuracy in core/tests/fixtures/sklearn_head.json. The native test `head_matches_sklearn` trains
quarry-core's SoftmaxHead on the same split and must land within 2 accuracy points.

Usage (the export environment, see assets/models/requirements-export.txt):
    /tmp/qexport/bin/python tools/sklearn_head_reference.py
"""
import csv
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "assets/models"))
from export_efficientnet_lite0 import preprocess  # noqa: E402


def main():
    demo = ROOT / "assets/demo/emoji"
    manifest = json.loads((demo / "demo.json").read_text())
    truth = {r["item"]: r["label"] for r in csv.DictReader(open(demo / "truth.csv"))}
    sess = ort.InferenceSession(str(ROOT / "assets/models/efficientnet_lite0_f32.onnx"))
    emb = np.concatenate([
        sess.run(None, {"image": preprocess(demo / "images" / name)})[0] for name in manifest["items"]
    ]).astype(np.float32)
    np.save(demo / "embeddings.npy", emb)
    y = np.array([manifest["classes"].index(truth[name]) for name in manifest["items"]])
    # Fixed split: within each class, every second item (in demo.json order) is for training.
    train = np.zeros(len(y), bool)
    for c in range(len(manifest["classes"])):
        idx = np.flatnonzero(y == c)
        train[idx[::2]] = True
    clf = LogisticRegression(C=1.0, max_iter=5000, tol=1e-6).fit(emb[train], y[train])
    acc = float((clf.predict(emb[~train]) == y[~train]).mean())
    out = ROOT / "core/tests/fixtures/sklearn_head.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "embeddings": "assets/demo/emoji/embeddings.npy",
        "split": "per class, every second item in demo.json order trains",
        "C": 1.0,
        "labels": y.tolist(),
        "train": train.astype(int).tolist(),
        "sklearn_test_accuracy": acc,
    }) + "\n")
    print(f"{len(y)} items, sklearn held-out accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
