"""Build Quarry's bundled demo image sets from registry packages.

Inputs (both from package registries, nothing from the web):
  * npm  `emoji-datasource-google@16.0.0` (package MIT; Noto Emoji images Apache-2.0):
      `npm install emoji-datasource-google@16.0.0` then pass its folder as --emoji.
  * Debian `dataset-fashion-mnist` (MIT, Zalando): /usr/share/datasets/fashion-mnist.

Outputs, per set, under assets/demo/<set>/:
  * images/<name>.png   what the app shows and embeds
  * images.zip          the same images in one file, as the app loads them (tools/pack_demo.py)
  * demo.json           {"title", "classes", "items"}: what the labeling UI may see (no labels)
  * truth.csv           item,label ground truth; used only by tests and simulation, never copied
                        into the served app.

Deterministic: the same packages give byte-identical outputs.
Usage: python3 tools/build_demo.py --emoji node_modules/emoji-datasource-google --out assets/demo
"""
import argparse
import csv
import gzip
import json
import random
import shutil
import struct
from pathlib import Path

from pack_demo import pack

EMOJI_CLASSES = {
    "Animals & Nature": "animals & nature",
    "Food & Drink": "food & drink",
    "Travel & Places": "travel & places",
}
FASHION_CLASSES = ["t-shirt/top", "trouser", "pullover", "dress", "coat",
                   "sandal", "shirt", "sneaker", "bag", "ankle boot"]
FASHION_PER_CLASS = 200


def write_set(out: Path, title: str, classes, rows):
    """rows: list of (file name, class name), sorted by file name."""
    rows = sorted(rows)
    (out).mkdir(parents=True, exist_ok=True)
    manifest = {"title": title, "classes": list(classes), "items": [r[0] for r in rows]}
    (out / "demo.json").write_text(json.dumps(manifest, indent=1) + "\n")
    with open(out / "truth.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["item", "label"])
        w.writerows(rows)


def build_emoji(pkg: Path, out: Path):
    meta = json.loads((pkg / "emoji.json").read_text())
    images = out / "images"
    if images.exists():
        shutil.rmtree(images)
    images.mkdir(parents=True)
    rows = []
    for e in meta:
        cls = EMOJI_CLASSES.get(e["category"])
        if cls is None or not e.get("has_img_google"):
            continue
        name = e["short_name"].replace("/", "_") + ".png"
        shutil.copyfile(pkg / "img/google/64" / e["image"], images / name)
        rows.append((name, cls))
    assert len({r[0] for r in rows}) == len(rows), "duplicate emoji short names"
    write_set(out, "Noto emoji: animals, food, travel", EMOJI_CLASSES.values(), rows)
    return len(rows)


def read_idx(path: Path):
    data = gzip.open(path).read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return [data[16 + i * rows * cols:16 + (i + 1) * rows * cols] for i in range(n)], (cols, rows)
    return list(data[8:8 + n]), None


def build_fashion(src: Path, out: Path):
    from PIL import Image

    images, size = read_idx(src / "t10k-images-idx3-ubyte.gz")
    labels, _ = read_idx(src / "t10k-labels-idx1-ubyte.gz")
    rng = random.Random(20261126)
    picked = []
    for c in range(10):
        idx = [i for i, y in enumerate(labels) if y == c]
        picked += rng.sample(idx, FASHION_PER_CLASS)
    rng.shuffle(picked)
    folder = out / "images"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rows = []
    for k, i in enumerate(picked):
        name = f"fashion_{k:04d}.png"
        Image.frombytes("L", size, images[i]).save(folder / name, optimize=True)
        rows.append((name, FASHION_CLASSES[labels[i]]))
    write_set(out, "Fashion-MNIST (2,000 of the test set)", FASHION_CLASSES, rows)
    return len(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emoji", type=Path, required=True)
    ap.add_argument("--fashion", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--out", type=Path, default=Path("assets/demo"))
    a = ap.parse_args()
    print("emoji:", build_emoji(a.emoji, a.out / "emoji"))
    print("fashion:", build_fashion(a.fashion, a.out / "fashion"))
    for name in ("emoji", "fashion"):
        print("packed:", pack(a.out / name))


if __name__ == "__main__":
    main()
