# A synthetic embeddings file for N short texts, as `quarry embed` would write it for the bundled
# text model (its model key, the app's item names #1…#N and content hashes), with random unit
# rows; and the texts, one per line. For measuring what a tab holds at scale
# (e2e/bench-scale.mjs) without embedding a million texts first:
#   python3 tools/synthetic_text_embeddings.py 1000000   # writes texts-1000000.{safetensors,txt}
# A second argument sets the rows' length: 1280 gives rows the size of the image model's (under
# the text model's key, which the tab never builds while every row comes from the cache), so the
# tab's memory with a million rows of 1,280 values is measured without a million image files:
#   python3 tools/synthetic_text_embeddings.py 1000000 1280   # texts-1000000-1280.{safetensors,txt}
# The model key is the bundled all-MiniLM-L6-v2's (`quarry embed --model minilm` prints it into
# its file): if that model changes, so must this.
import hashlib, json, struct, sys
import numpy as np
from safetensors.numpy import save_file
n = int(sys.argv[1]); dim = int(sys.argv[2]) if len(sys.argv) > 2 else 384
stem = f"texts-{n}" if dim == 384 else f"texts-{n}-{dim}"
texts = [f"synthetic text number {i} about topic {i % 7}" for i in range(n)]
def digest(b):
    h = hashlib.sha256(); h.update(struct.pack('<Q', len(b))); h.update(b); return h.hexdigest()
rng = np.random.default_rng(7)
x = np.empty((n, dim), dtype=np.float16)
for at in range(0, n, 100_000):  # in parts: a million × 1,280 in f32 would be 5 GB
    part = rng.standard_normal((min(100_000, n - at), dim), dtype=np.float32)
    x[at:at + len(part)] = part / np.linalg.norm(part, axis=1, keepdims=True)
meta = {"items": json.dumps([f"#{i+1}" for i in range(n)], separators=(',', ':')),
        "hashes": json.dumps([digest(t.encode()) for t in texts], separators=(',', ':')),
        "model_key": "9d8555163a9d05ce55191d20a906d0ef93c38e28e986971a6609ec6482ca59a1",
        "format_version": "1", "left_out": "[]"}
save_file({"embeddings": x}, f"{stem}.safetensors", metadata=meta)
open(f"{stem}.txt", "w").write("\n".join(texts) + "\n")
