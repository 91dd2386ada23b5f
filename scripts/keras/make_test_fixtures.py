"""Writes the small Keras fixtures of test/unit/models/keras.test.ts into test/fixtures/keras/,
with the outputs Keras itself computes for a fixed input (reference.json), so the tests compare
the Artiphys readers with Keras without needing Python:

- tiny.h5: a Functional model saved in the Keras 2 H5 layout (model_config + model_weights, weight
  names such as conv_s2/kernel:0), touching every supported layer: 'same' convolution and pooling
  with stride 2 on even sizes (TensorFlow's asymmetric padding), depthwise convolution, ReLU6,
  batch norm, asymmetric zero padding, concatenation, addition, a MobileNet-style head
  (GlobalAveragePooling2D keepdims, 1x1 conv, Reshape, softmax);
- tiny-keras3.h5: the same model as Keras 3 writes an .h5 (`model.save`, Keras 3 config format);
- tiny-tfjs/: the same model as a TensorFlow.js layers model (model.json + one shard);
- sequential.h5: a Sequential model whose Flatten feeds a Dense (channels-last flattening order);
- weights-only.h5 (tiny's weights without an architecture), keras3.weights.h5 (Keras 3's own
  weights format) and not-keras.h5, for the error tests.

    KERAS_BACKEND=jax /work/venv/bin/python scripts/keras/make_test_fixtures.py
"""

import json
import os

import h5py
import keras
import numpy as np
from keras import layers

from make_zoo_configs import as_keras2

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "keras")
rng = np.random.default_rng(13)


def functional():
    inp = keras.Input((18, 18, 3), name="image")
    x = layers.Conv2D(6, 3, strides=2, padding="same", activation="relu", name="conv_s2")(inp)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(max_value=6.0, name="relu6")(x)
    x = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(x)
    x = layers.ZeroPadding2D(((1, 0), (0, 1)), name="zpad")(x)
    a = layers.Conv2D(4, 1, strides=2, name="pw_a")(x)
    a = layers.Activation("tanh", name="tanh_a")(a)
    b = layers.MaxPooling2D(3, strides=2, padding="same", name="pool_b")(x)
    cat = layers.Concatenate(name="cat")([a, b])
    avg = layers.AveragePooling2D(2, strides=2, padding="same", name="avg")(cat)
    proj = layers.Conv2D(16, 1, strides=2, use_bias=False, name="proj")(cat)
    s = layers.Add(name="sum")([avg, proj])
    s = layers.BatchNormalization(center=False, scale=False, name="bn_plain")(s)
    g = layers.GlobalAveragePooling2D(keepdims=True, name="gap")(s)
    g = layers.Dropout(0.5, name="drop")(g)
    g = layers.Conv2D(5, 1, padding="same", name="logits_conv")(g)
    g = layers.Reshape((5,), name="flat")(g)
    out = layers.Activation("softmax", name="probs")(g)
    return keras.Model(inp, out, name="tiny")


def sequential():
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            layers.Conv2D(4, 3, activation="relu", name="conv"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Flatten(name="flatten"),
            layers.Dense(6, activation="sigmoid", name="fc1"),
            layers.Dense(3, name="fc2"),
        ],
        name="seq",
    )


def randomize(model):
    """Weights far from the initializers, batch norm statistics included."""
    for w in model.weights:
        v = rng.normal(0, 0.5, w.shape)
        if "variance" in w.path:
            v = rng.uniform(0.5, 2.0, w.shape)
        w.assign(v.astype("float32"))


def keras2_weight_names(layer):
    short = {"DepthwiseConv2D": {"kernel": "depthwise_kernel"}}.get(type(layer).__name__, {})
    return [f"{layer.name}/{short.get(w.name, w.name)}:0" for w in layer.weights]


def write_keras2_weights(group, model):
    """The model's weights in Keras 2's layout: one group per layer, in `layer_names` order."""
    group.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
    for layer in model.layers:
        lg = group.create_group(layer.name)
        names = keras2_weight_names(layer)
        lg.attrs["weight_names"] = [n.encode() for n in names]
        for name, w in zip(names, layer.weights):
            lg.create_dataset(name, data=np.asarray(w.numpy(), dtype="<f4"))


def save_keras2_h5(model, file):
    with h5py.File(file, "w") as f:
        f.attrs["model_config"] = json.dumps(as_keras2(model)).encode()
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        write_keras2_weights(f.create_group("model_weights"), model)


def save_tfjs(model, folder):
    os.makedirs(folder, exist_ok=True)
    entries, data = [], []
    for layer in model.layers:
        for name, w in zip(keras2_weight_names(layer), layer.weights):
            array = np.asarray(w.numpy(), dtype="<f4")
            entries.append({"name": name[: -len(":0")], "shape": list(array.shape), "dtype": "float32"})
            data.append(array.tobytes())
    with open(os.path.join(folder, "group1-shard1of1.bin"), "wb") as f:
        f.write(b"".join(data))
    doc = {
        "format": "layers-model",
        "generatedBy": f"keras v{keras.__version__}",
        "convertedBy": "scripts/keras/make_test_fixtures.py",
        "modelTopology": {"keras_version": "2.2.4", "backend": "tensorflow", "model_config": as_keras2(model)},
        "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": entries}],
    }
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(doc, f)


def outputs(model, names, x):
    probe = keras.Model(model.inputs, [model.get_layer(n).output for n in names])
    return {n: {"shape": list(v.shape), "data": rounded(v)} for n, v in zip(names, probe.predict(x, verbose=0))}


def rounded(values):
    """float32 precision is all there is; the shorter text keeps the fixture small."""
    return [float(f"{v:.7g}") for v in np.asarray(values).ravel()]


def main():
    os.makedirs(OUT, exist_ok=True)
    reference = {}
    tiny = functional()
    randomize(tiny)
    x = rng.uniform(0, 255, (2, 18, 18, 3)).astype("float32")
    save_keras2_h5(tiny, os.path.join(OUT, "tiny.h5"))
    tiny.save(os.path.join(OUT, "tiny-keras3.h5"))
    save_tfjs(tiny, os.path.join(OUT, "tiny-tfjs"))
    names = ["conv_s2", "relu6", "dw", "zpad", "tanh_a", "pool_b", "cat", "avg", "sum", "bn_plain", "gap", "logits_conv", "probs"]
    reference["tiny"] = {"input": {"shape": list(x.shape), "data": rounded(x)}, "outputs": outputs(tiny, names, x)}

    seq = sequential()
    randomize(seq)
    xs = rng.uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    save_keras2_h5(seq, os.path.join(OUT, "sequential.h5"))
    reference["sequential"] = {"input": {"shape": list(xs.shape), "data": rounded(xs)}, "outputs": outputs(seq, ["fc1", "fc2"], xs)}
    # For the error tests: the weights alone (no model_config, an architecture Artiphys does not
    # ship), and an HDF5 file that is no Keras file at all.
    with h5py.File(os.path.join(OUT, "tiny.h5")) as full, h5py.File(os.path.join(OUT, "weights-only.h5"), "w") as f:
        for key, value in full["model_weights"].attrs.items():
            f.attrs[key] = value
        for name in full["model_weights"]:
            full.copy(full["model_weights"][name], f, name)
    seq.save_weights(os.path.join(OUT, "keras3.weights.h5"))
    with h5py.File(os.path.join(OUT, "not-keras.h5"), "w") as f:
        f.create_dataset("temperature", data=np.arange(12, dtype="float32").reshape(3, 4))
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(reference, f)


if __name__ == "__main__":
    main()
