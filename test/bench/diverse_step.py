"""The diverse-visualization step of METHODS §2 written in PyTorch, timed on the CPU.

The speed bench (test/bench/speed.bench.ts) compares the engine's step with this one on the same
machine: VGG-19 to relu3_1 with the shared Caffe weights, n = 6 RF-sized images per unit, the unit's
activation, the Gaussian 1/f prior in the Fourier domain, the min pairwise distance in relu2_2,
the tangent projection, Fourier preconditioning, Adam and the norm rescaling. Bench only: the app
and the tests never need it.

Usage: python diverse_step.py WEIGHTS.safetensors SIDE NORM UNITS[,UNITS...] STEPS REPEATS
Prints one JSON object: {"threads": T, "stepMs": {"1": ms, "16": ms, ...}} (medians over REPEATS).
"""
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

N_IMAGES = 6
LAMBDA = 0.02
ALPHA = 0.0005
LEARNING_RATE = 0.1
# Untimed steps before the timed ones; the app's bench (speed.bench.ts) takes as many.
WARM_UP_STEPS = 10
CAFFE_MEAN = torch.tensor([123.68, 116.779, 103.939]).view(1, 3, 1, 1)
PRIOR = {"amplitude": 15.5, "exponent": 2.6, "mean": [125.5, 120.5, 107.5]}


def read_safetensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[start:end], dtype=np.float32).reshape(meta["shape"]).copy())
    return out


def vgg_to_relu3_1(w, x):
    """torchvision vgg19().features[0:12]; returns (relu3_1, relu2_2)."""
    conv = lambda h, i: F.relu(F.conv2d(h, w[f"features.{i}.weight"], w[f"features.{i}.bias"], padding=1))
    h = conv(conv(x, 0), 2)
    h = F.max_pool2d(h, 2, 2)
    relu2_2 = conv(conv(h, 5), 7)
    return conv(F.max_pool2d(relu2_2, 2, 2), 10), relu2_2


def frequencies(side):
    fy = np.fft.fftfreq(side)[:, None]
    fx = np.fft.rfftfreq(side)[None, :]
    return np.sqrt(fy**2 + fx**2)  # cycles per pixel, [side, side // 2 + 1]


def column_weights(side):
    w = np.full(side // 2 + 1, 2.0)
    w[0] = 1
    if side % 2 == 0:
        w[-1] = 1
    return w


def prior_precision(side):
    f = np.maximum(frequencies(side), 1 / side)
    psd = PRIOR["amplitude"] * f ** -PRIOR["exponent"]
    return torch.tensor(column_weights(side) / (side * side * psd), dtype=torch.float32)


def precondition_gains(side):
    f = frequencies(side) * side  # cycles per image
    gains = np.where(f == 0, 1.0, 1 / np.sqrt(np.maximum(f, 1e-12)))
    mean = (gains * column_weights(side)).sum() / (side * side)
    return torch.tensor(gains / mean, dtype=torch.float32)


class DiverseStep:
    def __init__(self, weights, side, norm, units):
        self.w = weights
        self.side = side
        self.units = units
        rows = units * N_IMAGES
        gen = torch.Generator().manual_seed(1)
        self.v = torch.randn(rows, 3, side, side, generator=gen)
        self.unit_norm = math.sqrt(3 * side * side)
        self.rms = norm / self.unit_norm
        self.renormalize()
        self.m = torch.zeros_like(self.v)
        self.s = torch.zeros_like(self.v)
        self.t = 0
        self.channel = torch.arange(units).repeat_interleave(N_IMAGES)
        self.precision = prior_precision(side)
        self.gains = precondition_gains(side)
        self.prior_mean = torch.tensor(PRIOR["mean"]).view(1, 3, 1, 1)
        self.off_diagonal = ~torch.eye(N_IMAGES, dtype=torch.bool)

    def renormalize(self):
        with torch.no_grad():
            self.v *= self.unit_norm / self.v.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)

    def objective(self, v):
        pixels = v * self.rms + CAFFE_MEAN
        act, feat = vgg_to_relu3_1(self.w, pixels - CAFFE_MEAN)
        centre = act.shape[2] // 2
        unit = act[torch.arange(act.shape[0]), self.channel, centre, centre].view(self.units, N_IMAGES).sum(1)
        spectrum = torch.fft.rfft2(pixels - self.prior_mean)
        log_p = -0.5 * (spectrum.abs() ** 2 * self.precision).sum(dim=(1, 2, 3))
        f = feat.flatten(1).view(self.units, N_IMAGES, -1)
        d = torch.cdist(f, f)
        min_d = d[:, self.off_diagonal].min(dim=1).values
        return unit + ALPHA * log_p.view(self.units, N_IMAGES).sum(1) + LAMBDA * min_d

    def step(self):
        v = self.v.requires_grad_(True)
        values = self.objective(v)
        (g,) = torch.autograd.grad(values.sum(), v)
        v = v.detach()
        with torch.no_grad():
            radial = (g * v).sum(dim=(1, 2, 3), keepdim=True) / (v * v).sum(dim=(1, 2, 3), keepdim=True)
            g = g - radial * v
            g = torch.fft.irfft2(torch.fft.rfft2(g) * self.gains, s=(self.side, self.side))
            self.t += 1
            self.m.mul_(0.9).add_(g, alpha=0.1)
            self.s.mul_(0.999).addcmul_(g, g, value=0.001)
            step = LEARNING_RATE / (1 - 0.9**self.t)
            v += step * self.m / ((self.s / (1 - 0.999**self.t)).sqrt() + 1e-8)
            self.v = v
            self.renormalize()
        return values.detach().tolist()


def main():
    weights_path, side, norm, units_list, steps, repeats = sys.argv[1:7]
    torch.set_num_threads(os.cpu_count() or 1)
    weights = read_safetensors(weights_path)
    out = {}
    for units in (int(u) for u in units_list.split(",")):
        run = DiverseStep(weights, int(side), float(norm), units)
        for _ in range(WARM_UP_STEPS):
            run.step()
        times = []
        for _ in range(int(repeats)):
            start = time.perf_counter()
            for _ in range(int(steps)):
                run.step()
            times.append((time.perf_counter() - start) * 1000 / int(steps))
        out[str(units)] = float(np.median(times))
    print(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__, "stepMs": out}))


if __name__ == "__main__":
    main()
