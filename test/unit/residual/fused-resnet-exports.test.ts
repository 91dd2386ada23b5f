// Residual blocks of standard ResNet-18 and ResNet-50 exports from PyTorch's classic exporter
// (batch norms folded into the convs), made by test/fixtures/make-resnet-exports.py with the
// scratch venv. Without PyTorch the files are absent and these tests are skipped with the reason.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { scaleInvarianceSettings } from '../../../src/shared/analyses/scale-invariance';
import { scaleInvariance } from '../../../src/main/engine/analyses/scale-invariance';
import { initBackend } from '../../../src/main/engine/backend';
import { inspectModelFile, loadModelFile } from '../../../src/main/engine/models/load';
import type { ResidualBlock } from '../../../src/main/engine/residual/blocks';
import { tempDir } from '../../helpers/temp';
import { layerErrorsAgainstOrt } from './against-ort';
import { memoryContext } from './tiny-models';

const FIXTURES = path.join(os.homedir(), '.cache/artiphys-fixtures');
const RESNET18 = path.join(FIXTURES, 'resnet18-bnfused.onnx');
const RESNET50 = path.join(FIXTURES, 'resnet50-bnfused.onnx');

const ROOT = path.resolve(__dirname, '../../..');
const home = tempDir('artiphys-fused-resnet-');

/** The built command line (`npx artiphys`), in a home of its own. */
function artiphys(args: string[]): string {
  const env = { ...process.env, ARTIPHYS_HOME: home, ARTIPHYS_BACKEND: 'cpu' };
  return execFileSync(process.execPath, [path.join(ROOT, 'bin/artiphys.js'), ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 });
}

function needs(ctx: TestContext, file: string): void {
  if (!existsSync(file)) ctx.skip(`${file} is absent: make it with PyTorch, /work/venv/bin/python test/fixtures/make-resnet-exports.py`);
}

/**
 * The blocks torchvision's module names give, with METHODS §7's roles: Pre is the branch's last
 * conv (its batch norm folded in), In the downsample conv in a stage's first block where the
 * channels or the stride change, else the previous block's output (or the max pool).
 */
function expectTorchvisionBlocks(blocks: ResidualBlock[], stages: number[], last: { conv: string; relu: string; width: number }): void {
  expect(blocks.map((b) => b.name)).toEqual(stages.flatMap((n, s) => Array.from({ length: n }, (_, i) => `layer${s + 1}.${i}`)));
  let previous: { scope: string } | null = null;
  for (const b of blocks) {
    const [stage, index] = b.name.replace('layer', '').split('.').map(Number);
    const scope = `/layer${stage}/layer${stage}.${index}`;
    expect(b.pre).toBe(`${scope}/${last.conv}/Conv_output_0`);
    expect(b.postBeforeRelu).toBe(`${scope}/Add_output_0`);
    expect(b.postAfterRelu).toBe(`${scope}/${last.relu}/Relu_output_0`);
    expect(b.channels).toBe(last.width * 2 ** (stage - 1));
    const projection = index === 0 && (stage > 1 || last.width !== 64);
    if (projection) {
      expect([b.inAfterRelu, b.inBeforeRelu]).toEqual([`${scope}/downsample/downsample.0/Conv_output_0`, null]);
    } else if (!previous) {
      expect([b.inAfterRelu, b.inBeforeRelu]).toEqual(['/maxpool/MaxPool_output_0', null]);
    } else {
      expect([b.inAfterRelu, b.inBeforeRelu]).toEqual([`${previous.scope}/${last.relu}/Relu_output_0`, `${previous.scope}/Add_output_0`]);
    }
    previous = { scope };
  }
}

describe('standard BN-fused ResNet exports', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('ResNet-18: 8 basic blocks, as models inspect lists them', async (ctx) => {
    needs(ctx, RESNET18);
    const m = await inspectModelFile(RESNET18);
    expect(m.layers.some((l) => l.op === 'BatchNormalization')).toBe(false);
    expectTorchvisionBlocks(m.blocks, [2, 2, 2, 2], { conv: 'conv2', relu: 'relu_1', width: 64 });
  });

  it('ResNet-50: 16 bottlenecks', async (ctx) => {
    needs(ctx, RESNET50);
    const m = await inspectModelFile(RESNET50);
    expect(m.layers.some((l) => l.op === 'BatchNormalization')).toBe(false);
    expectTorchvisionBlocks(m.blocks, [3, 4, 6, 3], { conv: 'conv3', relu: 'relu_2', width: 256 });
  });

  it('ResNet-18: a projection block\'s In, Pre and Post as onnxruntime computes them, and a scale-invariance run on it', { timeout: 300_000 }, async (ctx) => {
    needs(ctx, RESNET18);
    const model = await loadModelFile(RESNET18);
    const roles = ['/layer2/layer2.0/downsample/downsample.0/Conv_output_0', '/layer2/layer2.0/conv2/Conv_output_0', '/layer2/layer2.0/Add_output_0'];
    // The export's input is static, 224 px.
    const pixels = tf.randomUniform([1, 224, 224, 3], 0, 255, 'float32', 5) as tf.Tensor4D;
    const errors = await layerErrorsAgainstOrt(model, new Uint8Array(readFileSync(RESNET18)), roles, pixels);
    pixels.dispose();
    model.dispose();
    for (const n of roles) expect(errors[n], n).toBeLessThan(1e-4);

    const run = memoryContext(() => loadModelFile(RESNET18));
    const before = tf.memory().numTensors;
    await scaleInvariance.run(scaleInvarianceSettings.parse({ modelId: 'resnet18', blocks: 'layer2.0', channels: [0, 1], size: 32, steps: 4, galleryVisualizations: false }), run);
    expect(tf.memory().numTensors).toBe(before);
    expect(run.emitted.map((e) => e.key)).toEqual(['channel/layer2.0/0', 'channel/layer2.0/1', 'block/layer2.0']);
    expect(run.emitted[0].data.layers).toEqual({ in: roles[0], pre: roles[1], post: roles[2] });
    expect(run.emitted[2].data).toMatchObject({ block: 'layer2.0', tested: 2, channels: 128 });
  });

  it('ResNet-18 on the command line: models inspect lists 8 blocks, and scale invariance runs on the file', { timeout: 600_000 }, (ctx) => {
    needs(ctx, RESNET18);
    const text = artiphys(['models', 'inspect', RESNET18]);
    expect(text).toContain('residual blocks (8)');
    expect(text).toMatch(/^ {2}layer2\.0 +128 ch {2}in \/layer2\/layer2\.0\/downsample\/downsample\.0\/Conv_output_0 {2}pre \/layer2\/layer2\.0\/conv2\/Conv_output_0 {2}post \/layer2\/layer2\.0\/Add_output_0$/m);
    const doc = JSON.parse(artiphys(['run', 'scale-invariance', '--model', RESNET18, '--blocks', 'layer1.0', '--channels', '0', '--size', '32', '--steps', '4', '--gallery-visualizations', 'false', '--json'])) as {
      run: { status: string };
      results: { key: string }[];
    };
    expect(doc.run.status).toBe('done');
    expect(doc.results.map((r) => r.key)).toEqual(['channel/layer1.0/0', 'block/layer1.0']);
  });
});
