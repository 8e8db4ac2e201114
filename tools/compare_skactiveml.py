#!/usr/bin/env python3
"""Runs Quarry's simulation protocol with scikit-activeml's strategies and compares the curves.

Same protocol as `quarry simulate` (see docs/simulate.md): per seed, shuffle, hold out
`--test-fraction`, label `--init` random training items, then for `--rounds` rounds fit
LogisticRegression(C=1) on the labels, record held-out accuracy, and query `--batch` more.
AULC = mean accuracy over all recorded rounds. Splits come from NumPy's RNG, not Quarry's, so
the two runs agree in distribution, not item by item: the check is whether the mean AULCs differ by
less than two standard errors of their difference.

    pip install -r tools/requirements-compare.txt
    cargo build --release -p quarry-cli
    python tools/compare_skactiveml.py --quarry target/release/quarry --markdown docs/compare.md

Not part of CI (it needs Python and scikit-activeml); docs/evidence.md records its output.
"""
import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from skactiveml.classifier import SklearnClassifier
from skactiveml.pool import (Badge, CoreSet, RandomSampling, TypiClust, UncertaintySampling)

ROOT = Path(__file__).resolve().parent.parent
STRATEGIES = {
    "random": lambda s: RandomSampling(random_state=s),
    "margin": lambda s: UncertaintySampling(method="margin_sampling", random_state=s),
    "entropy": lambda s: UncertaintySampling(method="entropy", random_state=s),
    "coreset": lambda s: CoreSet(random_state=s),
    "badge": lambda s: Badge(random_state=s),
    "typiclust": lambda s: TypiClust(random_state=s),
}


def demo():
    d = ROOT / "assets/demo/emoji"
    x = np.load(d / "embeddings.npy").astype(np.float64)
    manifest = json.loads((d / "demo.json").read_text())
    truth = dict(l.split(",", 1) for l in (d / "truth.csv").read_text().splitlines()[1:])
    y = np.array([manifest["classes"].index(truth[i]) for i in manifest["items"]])
    return x, y


def run_one(x, y, name, seed, a):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    n_test = min(max(round(len(y) * a.test_fraction), 1), len(y) - 1)
    test, train = order[:n_test], order[n_test:]
    xt, yt = x[train], y[train]
    y_known = np.full(len(train), np.nan)
    y_known[: a.init] = yt[: a.init]
    classes = np.arange(y.max() + 1)
    qs = STRATEGIES[name](seed)
    accs = []
    for rnd in range(a.rounds + 1):
        mask = ~np.isnan(y_known)
        labels = y_known[mask].astype(int)
        if len(np.unique(labels)) >= 2:
            lr = LogisticRegression(C=1.0, max_iter=1000).fit(xt[mask], labels)
            pred = lr.predict(x[test])
        else:
            pred = np.full(len(test), labels[0] if len(labels) else 0)
        accs.append(float((pred == y[test]).mean()))
        if rnd == a.rounds:
            break
        clf = SklearnClassifier(LogisticRegression(C=1.0, max_iter=1000), classes=classes,
                                missing_label=np.nan, random_state=seed)
        kwargs = {"batch_size": a.batch}
        if name in ("margin", "entropy", "badge"):
            kwargs["clf"] = clf
        picked = qs.query(xt, y_known, **kwargs)
        y_known[picked] = yt[picked]
    return accs


def summarise(runs):
    aulcs = [sum(r) / len(r) for r in runs]
    return float(np.mean(aulcs)), float(np.std(aulcs, ddof=1) if len(aulcs) > 1 else 0.0)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quarry", default=str(ROOT / "target/release/quarry"))
    p.add_argument("--strategy", default=",".join(STRATEGIES))
    p.add_argument("--init", type=int, default=10)
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--test-fraction", type=float, default=0.3)
    p.add_argument("--markdown", help="write the comparison table here too")
    a = p.parse_args()
    names = a.strategy.split(",")
    x, y = demo()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "quarry.json"
        cmd = [a.quarry, "simulate", "--demo", "emoji", "--strategy", a.strategy,
               "--init", str(a.init), "--batch", str(a.batch), "--rounds", str(a.rounds),
               "--seeds", str(a.seeds), "--test-fraction", str(a.test_fraction),
               "--json", str(out)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        quarry = {s["strategy"]: s for s in json.loads(out.read_text())["strategies"]}
    lines = [
        f"Protocol: emoji demo ({len(y)} items), init {a.init}, batch {a.batch}, "
        f"{a.rounds} rounds, {a.seeds} seeds, test fraction {a.test_fraction}.",
        "",
        "| strategy | Quarry AULC | scikit-activeml AULC | difference | 2 SE | within noise |",
        "|---|---|---|---|---|---|",
    ]
    all_ok = True
    for name in names:
        runs = [run_one(x, y, name, s, a) for s in range(a.seeds)]
        m, s = summarise(runs)
        q = quarry[name]
        diff = q["aulc_mean"] - m
        se2 = 2 * math.sqrt((q["aulc_std"] ** 2 + s ** 2) / a.seeds)
        ok = abs(diff) <= se2
        all_ok &= ok
        lines.append(f"| {name} | {q['aulc_mean']:.4f} ± {q['aulc_std']:.4f} | {m:.4f} ± {s:.4f} "
                     f"| {diff:+.4f} | {se2:.4f} | {'yes' if ok else 'no'} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    if a.markdown:
        Path(a.markdown).write_text(text)
    print(text)
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
