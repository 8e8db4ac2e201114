# A synthetic embeddings file for N short texts, as `quarry embed` would write it for the bundled
# text model (its model key, the app's item names #1…#N and content hashes), with random unit
# rows; and the texts, one per line. For measuring what a tab holds at scale
# (e2e/bench-scale.mjs) without embedding a million texts first:
#   python3 tools/synthetic_text_embeddings.py 1000000   # writes texts-1000000.{safetensors,txt}
# The model key is the bundled all-MiniLM-L6-v2's (`quarry embed --model minilm` prints it into
# its file): if that model changes, so must this.
import hashlib, json, struct, sys
import numpy as np
from safetensors.numpy import save_file
n = int(sys.argv[1]); dim = 384
texts = [f"synthetic text number {i} about topic {i % 7}" for i in range(n)]
def digest(b):
    h = hashlib.sha256(); h.update(struct.pack('<Q', len(b))); h.update(b); return h.hexdigest()
rng = np.random.default_rng(7)
x = rng.standard_normal((n, dim), dtype=np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
meta = {"items": json.dumps([f"#{i+1}" for i in range(n)], separators=(',', ':')),
        "hashes": json.dumps([digest(t.encode()) for t in texts], separators=(',', ':')),
        "model_key": "9d8555163a9d05ce55191d20a906d0ef93c38e28e986971a6609ec6482ca59a1",
        "format_version": "1", "left_out": "[]"}
save_file({"embeddings": x.astype(np.float16)}, f"texts-{n}.safetensors", metadata=meta)
open(f"texts-{n}.txt", "w").write("\n".join(texts) + "\n")
