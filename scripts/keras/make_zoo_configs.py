"""Writes the Keras 2-style architectures (model_config JSON) of the Keras applications whose
official ImageNet weights are weights-only H5 files (`model.save_weights`, no `model_config`):
resources/zoo/keras/<name>.json. Artiphys reads such a file by matching its weighted layers, in
order and shape, to one of these architectures.

Made with Keras 3 (any backend; `KERAS_BACKEND=jax` is enough), whose configs are rewritten into
the Keras 2 layout that tfjs layers models and legacy H5 files use: `inbound_nodes` as
[[layer, node_index, tensor_index, {}], ...], `batch_input_shape`, and without initializers,
regularizers, constraints and dtype policies, which inference does not need.

    KERAS_BACKEND=jax /work/venv/bin/python scripts/keras/make_zoo_configs.py
"""

import json
import os
import sys

import keras

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "resources", "zoo", "keras")

# keras.applications preprocess_input: "caffe" (BGR, minus the ImageNet mean, 0..255) for VGG and
# ResNet, "tf" (scaled to [-1, 1]) for Inception and MobileNet; as Artiphys InputConvention.
CAFFE = {"channelOrder": "BGR", "scale": 255, "mean": [103.939, 116.779, 123.68], "std": [1, 1, 1], "inputSize": 224}
TF = {"channelOrder": "RGB", "scale": 1, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "inputSize": 224}

MODELS = {
    "vgg16": (lambda top: keras.applications.VGG16(weights=None, include_top=top), CAFFE),
    "vgg19": (lambda top: keras.applications.VGG19(weights=None, include_top=top), CAFFE),
    "resnet50": (lambda top: keras.applications.ResNet50(weights=None, include_top=top), CAFFE),
    "inception_v3": (lambda top: keras.applications.InceptionV3(weights=None, include_top=top), {**TF, "inputSize": 299}),
    "mobilenet": (lambda top: keras.applications.MobileNet(weights=None, include_top=top, input_shape=(224, 224, 3)), TF),
}

DROPPED_KEYS = ("initializer", "regularizer", "constraint")


def history(arg, found):
    """Collects [layer, node, tensor] of every Keras tensor in a Keras 3 call argument."""
    if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
        layer, node, tensor = arg["config"]["keras_history"]
        found.append([layer, node, tensor, {}])
    elif isinstance(arg, (list, tuple)):
        for a in arg:
            history(a, found)
    return found


def layer_config(config):
    out = {}
    for key, value in config.items():
        if any(d in key for d in DROPPED_KEYS) or key in ("dtype", "trainable", "batch_shape"):
            continue
        out[key] = value
    if "batch_shape" in config:
        out["batch_input_shape"] = config["batch_shape"]
    return out


def as_keras2(model):
    cfg = model.get_config()
    if isinstance(model, keras.Sequential):
        layers = [{"class_name": layer["class_name"], "config": layer_config(layer["config"])} for layer in cfg["layers"]]
        return {"class_name": "Sequential", "config": {"name": cfg["name"], "layers": layers}}
    layers = []
    for layer in cfg["layers"]:
        nodes = [history(node["args"], []) for node in layer["inbound_nodes"]]
        layers.append({"name": layer["name"], "class_name": layer["class_name"], "config": layer_config(layer["config"]), "inbound_nodes": nodes})

    def endpoints(spec):
        return [spec] if isinstance(spec[0], str) else spec

    return {
        "class_name": "Model",
        "config": {
            "name": cfg["name"],
            "layers": layers,
            "input_layers": endpoints(cfg["input_layers"]),
            "output_layers": endpoints(cfg["output_layers"]),
        },
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (build, convention) in MODELS.items():
        for top in (True, False):
            keras.backend.clear_session()  # automatic layer names restart (conv2d, conv2d_1, ...)
            model = build(top)
            weights = [[w.path, list(w.shape)] for w in model.weights]
            doc = {
                "generatedBy": f"scripts/keras/make_zoo_configs.py with keras {keras.__version__}",
                "application": f"keras.applications {name}, include_top={top}",
                "weightCount": len(weights),
                "inputConvention": convention,
                "modelConfig": as_keras2(model),
            }
            file = os.path.join(OUT, f"{name}{'' if top else '_notop'}.json")
            with open(file, "w") as f:
                json.dump(doc, f, separators=(",", ":"))
                f.write("\n")
            print(file, len(doc["modelConfig"]["config"]["layers"]), "layers", len(weights), "weights", file=sys.stderr)


if __name__ == "__main__":
    main()
