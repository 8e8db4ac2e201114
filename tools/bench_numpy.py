"""numpy / scikit-learn doing what `quarry bench` times, on the same pool, one BLAS thread.

    python tools/bench_numpy.py --pool 100000 --dim 1280 --classes 10 --labels 200 \
        --batch 100 --out DIR

Writes the pool to DIR/E.npy (float32) and DIR/Y.npy (int64) so `quarry bench --embeddings
DIR/E.npy --labels DIR/Y.npy` runs on the very same rows, then times, on the f32 rows:
the head fit (scikit-learn's LogisticRegression, lbfgs, C = 1, the same penalty as Quarry's),
the class probabilities of the whole pool (one sgemm + softmax), margin top-k, and Core-Set's
k-center greedy twice: the usual implementation (scikit-learn's pairwise_distances to the
labeled rows, then one pairwise_distances pass per pick) and a hand-tuned one (squared norms
once, one matrix-vector product per pick). Prints a Markdown table; docs/evidence.md has the
numbers side by side with Quarry's.
"""

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import pairwise_distances  # noqa: E402


def timed(f):
    t = time.perf_counter()
    out = f()
    return (time.perf_counter() - t) * 1e3, out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pool", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=1280)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--labels", type=int, default=200)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--out", required=True)
    a = p.parse_args()

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(a.classes, a.dim)).astype(np.float32)
    y = rng.integers(a.classes, size=a.pool)
    x = (0.5 * centres[y] + rng.normal(size=(a.pool, a.dim)).astype(np.float32)).astype(
        np.float32
    )
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "E.npy"), x)
    np.save(os.path.join(a.out, "Y.npy"), y.astype(np.int64))
    labeled = rng.permutation(a.pool)[: a.labels]
    rest = np.setdiff1d(np.arange(a.pool), labeled)

    fit_ms, head = timed(
        lambda: LogisticRegression(C=1.0, max_iter=300).fit(x[labeled], y[labeled])
    )
    w = head.coef_.astype(np.float32)
    b = head.intercept_.astype(np.float32)

    def probabilities():
        z = x @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    prob_ms, prob = timed(probabilities)

    def margin():
        part = np.partition(prob[rest], -2, axis=1)
        m = part[:, -1] - part[:, -2]
        return rest[np.argpartition(m, a.batch)[: a.batch]]

    margin_ms, _ = timed(margin)

    def k_center():
        pool = x[rest]
        nearest = pairwise_distances(pool, x[labeled]).min(axis=1)
        picked = []
        for _ in range(a.batch):
            j = int(np.argmax(nearest))
            picked.append(j)
            d = pairwise_distances(pool, pool[j : j + 1]).ravel()
            nearest = np.minimum(nearest, d)
        return picked

    kc_ms, _ = timed(k_center)

    def k_center_gemv():
        # The same picks, hand-tuned: squared norms once, then one matrix-vector product per pick.
        pool = x[rest]
        sq = np.einsum("ij,ij->i", pool, pool)
        lab = x[labeled]
        nearest = (sq[:, None] + np.einsum("ij,ij->i", lab, lab)[None, :] - 2 * pool @ lab.T).min(1)
        picked = []
        for _ in range(a.batch):
            j = int(np.argmax(nearest))
            picked.append(j)
            nearest = np.minimum(nearest, sq + sq[j] - 2 * (pool @ pool[j]))
        return picked

    kc2_ms, _ = timed(k_center_gemv)

    print(
        f"numpy {np.__version__}, one BLAS thread; pool {a.pool} × {a.dim} float32, "
        f"{a.classes} classes, {a.labels} labels, batch {a.batch}"
    )
    print("| step | time |")
    print("|---|---|")
    print(f"| head fit (LogisticRegression, lbfgs) | {fit_ms:.0f} ms |")
    print(f"| class probabilities of the pool | {prob_ms:.0f} ms |")
    print(f"| margin top-{a.batch} | {margin_ms:.0f} ms |")
    print(f"| Core-Set k-center greedy, {a.batch} picks (pairwise_distances) | {kc_ms:.0f} ms |")
    print(f"| Core-Set k-center greedy, {a.batch} picks (norms once, X @ c) | {kc2_ms:.0f} ms |")


if __name__ == "__main__":
    main()
