// Keras applications frozen and optimized by TensorFlow itself (grappler), written as TF.js graph
// models by test/fixtures/make-tfjs-graph-models.py (random weights, perturbed BN statistics;
// also uint8- and float16-quantized copies): each must match TensorFlow's own output, and every
// layer must match tfjs-converter running the same model.json. Skipped when the fixtures (which
// need tensorflow-cpu to make) are absent.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/main/engine/backend';
import { loadModelFile } from '../../../src/main/engine/models/load';
import { relativeError } from './tfjs-graph-builder';

const DIR = process.env.ARTIPHYS_TFJS_GRAPH_FIXTURES ?? path.join(os.homedir(), '.cache/artiphys-fixtures/tfjs-graph');
const INDEX = path.join(DIR, 'index.json');
/** The key of the output's error against TensorFlow's own result. */
const TENSORFLOW = '(TensorFlow output)';

interface FixtureIndex {
  input: { file: string; shape: number[] };
  models: Record<string, { output: string; shape: number[]; ops: string[] }>;
}

const index: FixtureIndex | null = existsSync(INDEX) ? JSON.parse(readFileSync(INDEX, 'utf8')) : null;

function floatFile(file: string): Float32Array {
  const bytes = readFileSync(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The same model.json run by tfjs-converter, its shards concatenated in memory. */
async function referenceModel(folder: string): Promise<{ model: tf.GraphModel; nodeNames: Set<string> }> {
  const json = JSON.parse(readFileSync(path.join(folder, 'model.json'), 'utf8'));
  const group = json.weightsManifest[0];
  const shards = group.paths.map((p: string) => readFileSync(path.join(folder, p)));
  const data = Buffer.concat(shards);
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), format: 'graph-model' }),
  );
  return { model, nodeNames: new Set(json.modelTopology.node.map((n: { name: string }) => n.name)) };
}

describe.skipIf(!index)(`Keras applications as TF.js graph models (fixtures: ${DIR}; make them with test/fixtures/make-tfjs-graph-models.py)`, () => {
  beforeAll(async () => {
    await initBackend();
  });

  for (const [name, entry] of Object.entries(index?.models ?? {})) {
    it(`${name} (${entry.ops.filter((o) => !['Const', 'Identity', 'Placeholder'].includes(o)).join(', ')}) matches tfjs-converter on every layer and TensorFlow's output`, async () => {
      const folder = path.join(DIR, name);
      const [n, h, w, c] = index!.input.shape;
      const model = await loadModelFile(path.join(folder, 'model.json'), {
        inputConvention: { channelOrder: 'RGB', scale: 255, mean: [0, 0, 0], std: [1, 1, 1], inputSize: h },
      });
      const reference = await referenceModel(folder);
      try {
        const compared = model.layers.map((l) => l.name).filter((l) => reference.nodeNames.has(l));
        const output = model.layers[model.layers.length - 1].name;
        const expected = path.join(folder, 'expected.bin');
        // Per layer against tfjs-converter, and the output against TensorFlow where it was saved.
        const errors: Record<string, number> = tf.tidy(() => {
          const pixels = tf.tensor4d(floatFile(path.join(DIR, index!.input.file)), [n, h, w, c]);
          const ours = model.forward(pixels, compared);
          const theirs = reference.model.execute(pixels, compared) as tf.Tensor[];
          // A flattened feature map holds TF's values in NCHW order (the next MatMul's weights are
          // reordered to match): the same values, compared sorted.
          const flattened = (l: string) => model.layers.find((x) => x.name === l)?.op === 'Reshape' && ours[l].rank === 2;
          const sorted = (t: tf.Tensor) => tf.topk(t.reshape([-1]), t.size).values;
          const byLayer = Object.fromEntries(
            compared.map((l, i) => [l, flattened(l) ? relativeError(sorted(ours[l]), sorted(theirs[i])) : relativeError(ours[l], theirs[i])]),
          );
          return existsSync(expected) ? { ...byLayer, [TENSORFLOW]: relativeError(ours[output], floatFile(expected)) } : byLayer;
        });
        expect(compared.length).toBeGreaterThan(10);
        expect(existsSync(expected) === TENSORFLOW in errors).toBe(true);
        for (const [layer, err] of Object.entries(errors)) expect(err, layer).toBeLessThan(1e-4);
        const worst = Math.max(...compared.map((l) => errors[l]));
        console.log(`${name}: ${compared.length} layers, worst vs tfjs-converter ${worst.toExponential(1)}, output vs TensorFlow ${errors[TENSORFLOW]?.toExponential(1) ?? '-'}`);
      } finally {
        model.dispose();
        reference.model.dispose();
      }
    }, 120_000);
  }
});
