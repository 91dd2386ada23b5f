"""Keras applications with random weights, saved as Keras 2 weights-only H5 files (as the zoo's
official ImageNet files are) in ~/.cache/artiphys-fixtures/keras-apps/, with the outputs Keras
computes for one fixed input. test/unit/models/keras-applications.test.ts reads each file (it has
no architecture, so Artiphys matches it to resources/zoo/keras/) and compares.

    KERAS_BACKEND=jax /work/venv/bin/python scripts/keras/make_application_fixtures.py
"""

import json
import os

import h5py
import keras
import numpy as np

from make_test_fixtures import rounded, write_keras2_weights

OUT = os.path.expanduser("~/.cache/artiphys-fixtures/keras-apps")
rng = np.random.default_rng(7)

# name: (model, input size, the layers compared)
APPLICATIONS = {
    "mobilenet": (lambda: keras.applications.MobileNet(weights=None, input_shape=(224, 224, 3)), 224, ["conv_pw_13_relu", "conv_preds"]),
    "inception_v3": (lambda: keras.applications.InceptionV3(weights=None), 299, ["mixed10", "predictions"]),
    "vgg16_notop": (lambda: keras.applications.VGG16(weights=None, include_top=False), 224, ["block5_pool"]),
    "resnet50_notop": (lambda: keras.applications.ResNet50(weights=None, include_top=False), 224, ["conv5_block3_out"]),
}


def save_weights_only(model, file):
    with h5py.File(file, "w") as f:
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        write_keras2_weights(f, model)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (build, size, compared) in APPLICATIONS.items():
        keras.backend.clear_session()
        model = build()
        # Batch norm statistics away from 0 and 1, so that they matter.
        for w in model.weights:
            if "moving_mean" in w.path:
                w.assign(rng.normal(0, 0.1, w.shape).astype("float32"))
            elif "moving_variance" in w.path:
                w.assign(rng.uniform(0.5, 2.0, w.shape).astype("float32"))
        x = rng.uniform(-1, 1, (1, size, size, 3)).astype("float32")
        probe = keras.Model(model.inputs, [model.get_layer(n).output for n in compared])
        outs = probe.predict(x, verbose=0)
        if len(compared) == 1:
            outs = [outs]  # a one-output model answers with the array itself
        save_weights_only(model, os.path.join(OUT, f"{name}.h5"))
        doc = {
            "input": {"shape": list(x.shape), "data": rounded(x)},
            "outputs": {n: {"shape": list(v.shape), "data": rounded(v)} for n, v in zip(compared, outs)},
        }
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump(doc, f)
        print(name)


if __name__ == "__main__":
    main()
