"""Runs Quarry's exported classifier in onnxruntime and compares it with the app's numbers.

`cargo test -p quarry-core --test classifier_export` writes target/onnx-classifier/:
classifier.onnx (EfficientNet-Lite0 int8 + a head trained on emoji), pixels.u8 (the demo items,
resized, 0-255 RGB, N x 3 x H x W) and expected.json (the probabilities Quarry's head gives on
Quarry's own embeddings of them). This check loads the file the way a user would, as documented
in the README, and requires the same top class for every item and probabilities within 1e-4.
Prints one `N passed, M failed` line; exits non-zero on a failure.
"""

import json
import pathlib
import sys

import numpy as np
import onnxruntime as ort

here = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/onnx-classifier")
expected = json.loads((here / "expected.json").read_text())
shape = expected["shape"]
pixels = np.fromfile(here / "pixels.u8", dtype=np.uint8).reshape(shape).astype(np.float32)
want = np.array(expected["probabilities"], dtype=np.float64)

session = ort.InferenceSession(str(here / "classifier.onnx"), providers=["CPUExecutionProvider"])
meta = session.get_modelmeta().custom_metadata_map
classes = json.loads(meta["classes"])
(inp,) = session.get_inputs()
(out,) = session.get_outputs()
got = session.run([out.name], {inp.name: pixels})[0].astype(np.float64)

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


check("class names in metadata", classes == expected["classes"], f"{classes}")
check("input is N x 3 x H x W float", inp.name == "pixels" and inp.shape[1:] == shape[1:], f"{inp}")
check("output is N x C probabilities", got.shape == want.shape, f"{got.shape} vs {want.shape}")
if got.shape == want.shape:
    for k, item in enumerate(expected["items"]):
        diff = float(np.abs(got[k] - want[k]).max())
        same_top = int(got[k].argmax()) == int(want[k].argmax())
        check(f"{item}: top class {classes[int(got[k].argmax())]}, max diff {diff:.1e}",
              same_top and diff < 1e-4, f"top {got[k].argmax()} vs {want[k].argmax()}")
    check("rows sum to 1", bool(np.allclose(got.sum(axis=1), 1.0, atol=1e-5)))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
