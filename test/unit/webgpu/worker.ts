// One side of the webgpu comparison, run in a child process of its own (a tfjs process has one
// backend): `node --import tsx worker.ts <backend> <out.json> [part...]`. It initializes the named
// backend, runs the executor on the shared VGG-19 (forward and input gradients on a cropped
// input) and one short run of each analysis on small built-in models, and writes what came out.
// Float arrays travel as base64 float32; errors are recorded, not thrown, so the test can say
// which part failed and why.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend, requestedBackend } from '../../../src/main/engine/backend';
import { engineAnalysis } from '../../../src/main/engine/analyses';
import { createCellModel } from '../../../src/main/engine/models/ground-truth';
import { loadModelFile } from '../../../src/main/engine/models/load';
import type { NetworkModel } from '../../../src/main/engine/model';
import { ablationSettings } from '../../../src/shared/analyses/ablation';
import { datasetScanSettings } from '../../../src/shared/analyses/dataset-scan';
import { diverseSettings } from '../../../src/shared/analyses/diverse';
import { featureVisSettings } from '../../../src/shared/analyses/feature-vis';
import { maxImageSettings } from '../../../src/shared/analyses/max-image';
import { scaleInvarianceSettings } from '../../../src/shared/analyses/scale-invariance';
import { shapesSettings } from '../../../src/shared/analyses/shapes';
import type { CellKind } from '../../../src/shared/builtin-models';
import { mulberry32 } from '../../../src/shared/math/random';
import { colourClassifier, gaborResidualBlock, memoryContext, writeColourImages } from '../residual/tiny-models';

export const VGG_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
/** Layers of the executor check: every op kind VGG-19 has (conv, ReLU, max pool) up to relu3_1. */
export const VGG_LAYERS = ['relu1_1', 'relu1_2', 'relu2_1', 'relu2_2', 'relu3_1'];
const SIDE = 48;

export interface PartResult {
  ok: boolean;
  error?: string;
  seconds: number;
  /** Live tensors after the part minus before: 0 when everything was freed. */
  leaked: number;
  /** Named float arrays (base64 float32). */
  arrays: Record<string, string>;
  /** Emitted results of an analysis: key, data and images (base64 RGB). */
  emitted: { key: string; data: unknown; images: string[] }[];
}

export interface WorkerOutput {
  backend: string;
  adapter: string | null;
  parts: Record<string, PartResult>;
}

const b64 = (a: Float32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function pixels(seed: number): tf.Tensor4D {
  const rand = mulberry32(seed);
  return tf.tensor4d(Float32Array.from({ length: SIDE * SIDE * 3 }, () => 255 * rand()), [1, SIDE, SIDE, 3]);
}

async function executorPart(arrays: Record<string, string>): Promise<void> {
  const model = await loadModelFile(VGG_FILE);
  try {
    const x = pixels(11);
    const outs = model.forward(x, VGG_LAYERS);
    for (const l of VGG_LAYERS) arrays[`forward/${l}`] = b64((await outs[l].data()) as Float32Array);
    tf.dispose(Object.values(outs));
    // Input gradients of a central unit of relu3_1 and of the mean of a relu2_1 channel: the
    // backward pass of every op above.
    const objectives: Record<string, (img: tf.Tensor) => tf.Scalar> = {
      'grad/relu3_1-centre': (img) => {
        const a = model.forward(img as tf.Tensor4D, ['relu3_1']).relu3_1;
        const [, h, w] = a.shape;
        return tf.sum(tf.slice(a, [0, Math.floor(h / 2), Math.floor(w / 2), 0], [1, 1, 1, -1]));
      },
      'grad/relu2_1-channel': (img) => tf.mean(tf.slice(model.forward(img as tf.Tensor4D, ['relu2_1']).relu2_1, [0, 0, 0, 3], [-1, -1, -1, 1])),
    };
    for (const [name, f] of Object.entries(objectives)) {
      const g = tf.grad(f)(x);
      arrays[name] = b64((await g.data()) as Float32Array);
      g.dispose();
    }
    // Gradient steps: the live tensor count stays flat.
    const v = tf.variable(x);
    const step = tf.grad(objectives['grad/relu3_1-centre']);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.tidy(() => v.assign(tf.add(v, tf.mul(step(v), 1e-3))));
    arrays['steps/growth'] = b64(Float32Array.of(tf.memory().numTensors - before));
    arrays['steps/result'] = b64((await v.data()) as Float32Array);
    v.dispose();
    x.dispose();
  } finally {
    model.dispose();
  }
}

type Factory = () => NetworkModel | Promise<NetworkModel>;
const cell = (kind: CellKind): Factory => () => createCellModel(kind);

/** One short run of each analysis; settings shortened for a software GPU. */
function analyses(imagesDir: string): Record<string, { kind: string; settings: unknown; model: Factory }> {
  const MILD = { pad: 2, jitter: 2, scales: [0.96, 1, 1.04], rotations: [-2, 0, 0, 2], jitterFine: 1 };
  return {
    'max-image': { kind: 'max-image', model: cell('energy'), settings: maxImageSettings.parse({ modelId: 'builtin:energy', steps: 20, checkpointEvery: 10 }) },
    shapes: {
      kind: 'shapes',
      model: cell('complex-cell'),
      settings: shapesSettings.parse({ modelId: 'builtin:complex-cell', layers: ['response'], size: 12, randomWeightsControl: false, shuffledControl: false, distributions: false, maxPositions: 4 }),
    },
    diverse: {
      kind: 'diverse',
      model: cell('complex-cell'),
      settings: diverseSettings.parse({ modelId: 'builtin:complex-cell', lambdas: [0, 0.5], images: 3, maxSteps: 8, patience: 100, indices: true, silentStartRedraws: 0 }),
    },
    'feature-vis': {
      kind: 'feature-vis',
      model: gaborResidualBlock,
      settings: featureVisSettings.parse({ modelId: 'gabor', layer: '/block/downsample/BatchNormalization_output_0', channels: [0, 1], size: 32, steps: 6, transforms: MILD }),
    },
    'scale-invariance': {
      kind: 'scale-invariance',
      model: gaborResidualBlock,
      settings: scaleInvarianceSettings.parse({ modelId: 'gabor-block', blocks: 'block', size: 32, steps: 4, batchSize: 2, galleryVisualizations: false }),
    },
    'dataset-scan': {
      kind: 'dataset-scan',
      model: colourClassifier,
      settings: datasetScanSettings.parse({ modelId: 'colour', images: imagesDir, blocks: 'block', roles: ['post'], topK: 3, bottomK: 2, batchSize: 4, crop: 24, resize: 24 }),
    },
    ablation: {
      kind: 'ablation',
      model: colourClassifier,
      settings: ablationSettings.parse({ modelId: 'colour', block: 'block', images: imagesDir, channels: [2], scales: [0, 20], trials: 2, batchSize: 4, maxDraws: 5 }),
    },
  };
}

async function part(name: string, f: (r: PartResult) => Promise<void>): Promise<PartResult> {
  const r: PartResult = { ok: false, seconds: 0, leaked: 0, arrays: {}, emitted: [] };
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  try {
    await f(r);
    r.ok = true;
  } catch (err) {
    r.error = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  }
  r.seconds = (performance.now() - t0) / 1000;
  r.leaked = tf.memory().numTensors - before;
  process.stderr.write(`[${name}] ${r.ok ? 'ok' : 'failed'} in ${r.seconds.toFixed(1)} s\n`);
  return r;
}

async function main(): Promise<void> {
  const [backend, outFile, ...only] = process.argv.slice(2);
  const info = await initBackend(requestedBackend(backend));
  const out: WorkerOutput = { backend: info.name, adapter: info.adapter?.description ?? null, parts: {} };
  const want = (n: string) => only.length === 0 || only.includes(n);
  if (want('executor')) out.parts.executor = await part('executor', (r) => executorPart(r.arrays));
  if (want('sync-read')) {
    // A synchronous read of a computed tensor: works on the CPU backends, a clear error on webgpu.
    out.parts['sync-read'] = await part('sync-read', async (r) => {
      const t = tf.tidy(() => tf.matMul(tf.ones([64, 64]), tf.ones([64, 64])));
      try {
        r.arrays.value = b64(Float32Array.of(t.dataSync()[0]));
      } finally {
        tf.dispose(t);
      }
    });
  }
  // The same image files for both backends (the test passes them), so results name the same paths.
  const given = process.env.ARTIPHYS_TEST_IMAGES;
  const dir = given ?? fs.mkdtempSync(path.join(os.tmpdir(), 'artiphys-webgpu-'));
  try {
    if (!given) writeColourImages(dir);
    for (const [name, a] of Object.entries(analyses(dir))) {
      if (!want(name)) continue;
      out.parts[name] = await part(name, async (r) => {
        const ctx = memoryContext(a.model, 5);
        await engineAnalysis(a.kind).run(a.settings as Record<string, unknown>, ctx);
        r.emitted = ctx.emitted.map((e) => ({ key: e.key, data: e.data, images: e.images.map((i) => b64(i.rgb)) }));
      });
    }
  } finally {
    if (!given) fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.writeFileSync(outFile, JSON.stringify(out));
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
