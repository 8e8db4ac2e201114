"""Pack a bundled demo's images into one zip, as the app loads them.

The app fetches `demo/<set>/images.zip` (one request, one entry in the offline cache) instead of
one file per image: through the service worker, each image fetched alone cost 2-5 ms of the
browser's CPU, as much as 15% of what embedding it takes. The zip stores (does not deflate) the
PNG files of assets/demo/<set>/images, named as in demo.json's "items" and in that order.

Deterministic: the same images give a byte-identical zip (fixed dates and attributes); the
native test core/tests/demo_packs.rs checks that each pack holds exactly its folder's files.
Usage: python3 tools/pack_demo.py assets/demo/emoji assets/demo/fashion
"""
import json
import sys
import zipfile
from pathlib import Path


def pack(folder: Path) -> Path:
    items = json.loads((folder / "demo.json").read_text())["items"]
    out = folder / "images.zip"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        for name in items:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            z.writestr(info, (folder / "images" / name).read_bytes())
    return out


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(pack(Path(arg)))
