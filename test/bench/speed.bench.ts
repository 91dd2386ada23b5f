// Engine speed at the papers' scale (issue: engine speed), on the backend in use:
// - one full diverse step (METHODS §2: n = 6 RF-sized images per unit, activation, Gaussian prior,
//   min distance in relu2_2, tangent projection, preconditioning, Adam, renormalization) on
//   VGG-19 relu3_1, for 1 unit alone and per unit in a batch of 16;
// - gradient-free forward passes at batch 16 (224 px) of VGG-19 to pool3 and ResNet-50 against
//   onnxruntime-node on the same file and input, interleaved, median of 5;
// - the same diverse step written in PyTorch (test/bench/diverse_step.py), where a PyTorch wheel
//   is on the machine: one run after each of the app's timed repeats, so the two alternate; the
//   one-unit and the batched repeats alternate too, and each ratio is the median of its rounds'.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { diverseObjective } from '../../src/main/engine/analyses/diverse';
import { applyInputConvention, findLayer, meanPixel, rfSizedInput, type NetworkModel } from '../../src/main/engine/model';
import { loadModelFile } from '../../src/main/engine/models/load';
import { precedingConvLayer } from '../../src/main/engine/fv/layers';
import { optimize } from '../../src/main/engine/fv/optimize';
import { PixelImages } from '../../src/main/engine/fv/parameterization';
import { GaussianSpectrumPrior } from '../../src/main/engine/fv/prior';
import { diverseSettings } from '../../src/shared/analyses/diverse';
import { withoutEngineSettings } from '../../src/main/services/engine-process';
import { defaultTemplateNorm, NATURAL_SPECTRUM } from '../../src/shared/math/natural-images';
import type { BenchModule } from './run';
import { median } from '../../src/shared/math/stats';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODELS = path.resolve(HERE, '../../../shared/models');
const VGG = path.join(MODELS, 'vgg19_features_to_pool3_caffe_rgb.onnx');
const VGG_WEIGHTS = path.join(MODELS, 'vgg19_features_to_pool3_caffe_rgb.safetensors');
const RESNET = path.join(MODELS, 'resnet50_keras_imagenet.onnx');
const LAYER = 'relu3_1';
const IMAGES = 6;
const BATCH_UNITS = 16;
const REPEATS = 5;

/**
 * Untimed steps before each timed repeat, on both sides (diverse_step.py takes as many): here the
 * first ten steps after the other process ran take about a quarter longer than the rest.
 */
const WARM_UP_STEPS = 10;

/**
 * Times diverse steps of `units` units, one repeat at a time. Each repeat is one optimization
 * whose first WARM_UP_STEPS steps are not timed, as in each PyTorch run: its setup (Adam's state,
 * the preconditioner) and the steps that warm up again after the other process ran are per-run
 * costs, not per-step ones.
 */
function diverseStepTimer(model: NetworkModel, units: number) {
  const s = diverseSettings.parse({});
  const layer = findLayer(model, LAYER);
  const side = rfSizedInput(layer);
  const channels = Array.from({ length: units }, (_, i) => i);
  const spec = { layer: LAYER, channels, imagesPerGroup: IMAGES, position: null, rf: layer.rf, inputSide: side };
  const prior = new GaussianSpectrumPrior(NATURAL_SPECTRUM, side, side);
  const objective = diverseObjective(spec, prior, s.priorAlpha, precedingConvLayer(model, LAYER), 0.02);
  const images = new PixelImages({
    seeds: Array.from({ length: units * IMAGES }, (_, i) => i + 1),
    height: side,
    width: side,
    norm: defaultTemplateNorm(side),
    meanPixel: meanPixel(model.inputConvention),
    tangentGradient: s.tangentGradient,
  });
  // Early stopping off: every step is a full step.
  const opts = { ...s, groups: units, patience: Infinity };
  return {
    /** Mean milliseconds per step over `steps` timed steps. */
    async repeat(steps: number): Promise<number> {
      let start = 0;
      let end = 0;
      const onStep = (step: number) => {
        if (step === WARM_UP_STEPS) start = performance.now();
        end = performance.now();
      };
      await optimize(model, images, objective, { ...opts, maxSteps: WARM_UP_STEPS + steps, onStep });
      return (end - start) / steps;
    },
    dispose(): void {
      images.dispose();
      prior.dispose();
    },
  };
}

/** Repeats of `steps` timed steps of a diverse step of `units` units. */
interface Repeats {
  units: number;
  steps: number;
}

/**
 * REPEATS rounds of one repeat of each entry of `plan` in turn; the milliseconds per step of each
 * round, by unit count. `after` runs untimed after each repeat (the PyTorch step), so that the app
 * and PyTorch alternate, and so do the unit counts: a drift of this machine's speed over minutes
 * falls on every figure of a round, and a ratio can be taken within each round.
 */
async function alternatingRepeats(model: NetworkModel, plan: readonly Repeats[], after?: (repeats: Repeats) => void): Promise<Map<number, number[]>> {
  const timers = plan.map(({ units }) => diverseStepTimer(model, units));
  const times = new Map(plan.map(({ units }) => [units, [] as number[]]));
  try {
    for (let r = 0; r < REPEATS; r++) {
      for (const [k, repeats] of plan.entries()) {
        times.get(repeats.units)!.push(await timers[k].repeat(repeats.steps));
        after?.(repeats);
      }
    }
    return times;
  } finally {
    timers.forEach((t) => t.dispose());
  }
}

/** Median of the round-by-round ratios a[r] / b[r]. */
function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((v, r) => v / b[r]))!;
}

/** App forward (last layer, values read) against onnxruntime-node on the same NCHW input; interleaved. */
async function forwardRatio(file: string, batch: number): Promise<{ appMs: number; ortMs: number }> {
  const model = await loadModelFile(file);
  const session = await ort.InferenceSession.create(file);
  const last = model.layers[model.layers.length - 1].name;
  const pixels = tf.randomUniform([batch, 224, 224, 3], 0, 255, 'float32', 3) as tf.Tensor4D;
  // onnxruntime gets the same input after the model's convention, in its NCHW layout.
  const nchw = tf.tidy(() => tf.transpose(applyInputConvention(pixels, model.inputConvention), [0, 3, 1, 2]));
  const feed = { [session.inputNames[0]]: new ort.Tensor('float32', (await nchw.data()) as Float32Array, [batch, 3, 224, 224]) };
  nchw.dispose();
  const app = async () => {
    const out = model.forward(pixels, [last]);
    await out[last].data();
    out[last].dispose();
  };
  const reference = async () => void (await session.run(feed));
  const appMs: number[] = [];
  const ortMs: number[] = [];
  try {
    await app();
    await reference();
    for (let r = 0; r < REPEATS; r++) {
      for (const [f, times] of [[app, appMs], [reference, ortMs]] as const) {
        const t = performance.now();
        await f();
        times.push(performance.now() - t);
      }
    }
    return { appMs: median(appMs)!, ortMs: median(ortMs)! };
  } finally {
    pixels.dispose();
    model.dispose();
    await session.release();
  }
}

/**
 * A Python with PyTorch: ARTIPHYS_TORCH_PYTHON, or a scratch venv made once from the wheel on this
 * machine (`find / -maxdepth 3 -name 'torch-*.whl'`), installed offline; null where there is none.
 */
function torchPython(): string | null {
  const canImport = (py: string) => {
    try {
      execFileSync(py, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const given = process.env.ARTIPHYS_TORCH_PYTHON;
  if (given) return canImport(given) ? given : null;
  const venv = path.join(os.homedir(), '.cache', 'artiphys', 'torch-bench-venv');
  const py = path.join(venv, 'bin', 'python');
  if (fs.existsSync(py) && canImport(py)) return py;
  let wheel: string;
  try {
    wheel = execFileSync('find', ['/', '-maxdepth', '3', '-name', 'torch-*.whl'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean)
      .sort()
      .pop() ?? '';
  } catch (err) {
    // find exits non-zero on unreadable folders; what it printed still counts.
    wheel = String((err as { stdout?: string }).stdout ?? '').split('\n').filter(Boolean).sort().pop() ?? '';
  }
  if (!wheel) return null;
  try {
    // numpy and torch's pure-Python dependencies come from the system Python.
    execFileSync('python3', ['-m', 'venv', '--system-site-packages', venv], { stdio: 'ignore' });
    execFileSync(path.join(venv, 'bin', 'pip'), ['install', '--no-index', '--no-deps', '--quiet', wheel], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return canImport(py) ? py : null;
}

interface TorchRun {
  torch: string;
  threads: number;
  /** Mean milliseconds per step, by unit count. */
  stepMs: Record<string, number>;
}

/**
 * One run of test/bench/diverse_step.py for `units` units: `steps` timed steps after its warm-up
 * steps. PyTorch runs as it would for the user, without the allocator settings the engine (and
 * so this bench) starts with.
 */
function torchRun(python: string, side: number, units: number, steps: number): TorchRun {
  const out = execFileSync(python, [path.join(HERE, 'diverse_step.py'), VGG_WEIGHTS, String(side), String(defaultTemplateNorm(side)), String(units), String(steps), '1'], {
    env: withoutEngineSettings(process.env),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!) as TorchRun;
}

const bench: BenchModule = {
  title: `engine speed: diverse step on VGG-19 ${LAYER} (1 and ${BATCH_UNITS} units), forwards at batch 16 against onnxruntime-node, PyTorch`,
  async run(report) {
    const vgg = await loadModelFile(VGG);
    const side = rfSizedInput(findLayer(vgg, LAYER));
    try {
      const python = torchPython();
      const plan = [
        { units: 1, steps: 20 },
        { units: BATCH_UNITS, steps: 5 },
      ];
      const torchRuns = new Map(plan.map(({ units }) => [units, [] as TorchRun[]]));
      const torchMs = (units: number) => torchRuns.get(units)!.map((r) => r.stepMs[String(units)]);
      const after = python ? ({ units, steps }: Repeats) => void torchRuns.get(units)!.push(torchRun(python, side, units, steps)) : undefined;
      const times = await alternatingRepeats(vgg, plan, after);
      const one = times.get(1)!;
      const batched = times.get(BATCH_UNITS)!;
      report('diverse step, 1 unit', median(one)!, 'ms', 'diverseStepMs1');
      report(`diverse step, ${BATCH_UNITS} units: per unit`, median(batched)! / BATCH_UNITS, 'ms', `diverseStepMs${BATCH_UNITS}PerUnit`);
      report(`  per unit in the batch / 1 unit alone`, pairedRatio(batched, one) / BATCH_UNITS, 'x', 'batchedOverSingle');
      // The batch size that is fastest per unit (the default of the diverse run's unitsPerBatch).
      const sizes = await alternatingRepeats(vgg, [4, 8, 32].map((units) => ({ units, steps: 4 })));
      for (const [units, ms] of sizes) report(`diverse step, ${units} units: per unit`, median(ms)! / units, 'ms', `diverseStepMs${units}PerUnit`);

      const torch = torchRuns.get(1)![0];
      if (torch) {
        report(`PyTorch ${torch.torch} (${torch.threads} threads, alternating with the app): diverse step, 1 unit`, median(torchMs(1))!, 'ms', 'pytorchStepMs1');
        report(`PyTorch: diverse step, ${BATCH_UNITS} units: per unit`, median(torchMs(BATCH_UNITS))! / BATCH_UNITS, 'ms', `pytorchStepMs${BATCH_UNITS}PerUnit`);
        // What batching gains on this CPU in PyTorch, next to the app's batchedOverSingle.
        report(`  PyTorch: per unit in the batch / 1 unit alone`, pairedRatio(torchMs(BATCH_UNITS), torchMs(1)) / BATCH_UNITS, 'x', 'pytorchBatchedOverSingle');
        report('  app / PyTorch, 1 unit', pairedRatio(one, torchMs(1)), 'x', 'diverseStepOverPytorch');
        report(`  app / PyTorch, ${BATCH_UNITS} units`, pairedRatio(batched, torchMs(BATCH_UNITS)), 'x', `diverseStep${BATCH_UNITS}OverPytorch`);
      } else {
        report('PyTorch: no wheel on this machine, skipped', NaN, '', 'diverseStepOverPytorch');
      }
    } finally {
      vgg.dispose();
    }

    for (const [name, file, key] of [
      ['VGG-19 to pool3', VGG, 'forwardVggB16OverOnnxruntime'],
      ['ResNet-50', RESNET, 'forwardResnet50B16OverOnnxruntime'],
    ] as const) {
      const { appMs, ortMs } = await forwardRatio(file, 16);
      report(`${name}, batch 16 x 224 px: app forward`, appMs, 'ms');
      report(`${name}, batch 16 x 224 px: onnxruntime-node ${ort.env.versions.common}`, ortMs, 'ms');
      report(`  app / onnxruntime-node`, appMs / ortMs, 'x', key);
    }
  },
};

export default bench;
