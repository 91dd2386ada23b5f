// Tiny graph models with a known answer for the residual tests, and a RunContext that keeps what
// a run emits in memory (the service's database side is tested elsewhere).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import type { InputConvention } from '../../../src/shared/domain';
import { IMAGENET_WNIDS } from '../../../src/shared/imagenet-classes';
import { gabor } from '../../../src/shared/math/gabor';
import type { ImageOut, RunContext } from '../../../src/main/engine/analysis';
import { GraphModel } from '../../../src/main/engine/graph/executor';
import type { AttrValue, ConstTensor, GraphDescription, GraphNode } from '../../../src/main/engine/graph/ir';
import { planGraph } from '../../../src/main/engine/graph/plan';
import type { NetworkModel } from '../../../src/main/engine/model';

/** Pixels 0..255 → -1..1. */
export const SIGNED: InputConvention = { channelOrder: 'RGB', scale: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], inputSize: 40 };

const ints = (value: number[]): AttrValue => ({ kind: 'ints', value });

export class GraphBuilder {
  nodes: GraphNode[] = [];
  inits = new Map<string, ConstTensor>();
  const(name: string, shape: number[], data: Float32Array): string {
    this.inits.set(name, { name, shape, dtype: 'float32', data });
    return name;
  }
  node(output: string, op: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    this.nodes.push({ name: output.replace(/_output_0$/, ''), op, inputs, outputs: [output], attrs });
    return output;
  }
  conv(output: string, x: string, w: Float32Array, shape: number[]): string {
    const p = Math.floor(shape[2] / 2);
    return this.node(output, 'Conv', [x, this.const(`${output}.w`, shape, w)], { kernel_shape: ints(shape.slice(2)), pads: ints([p, p, p, p]) });
  }
  identityBn(output: string, x: string, c: number): string {
    const f = (v: number) => new Float32Array(c).fill(v);
    const ps = [f(1), f(0), f(0), f(1 - 1e-5)].map((d, i) => this.const(`${output}.p${i}`, [c], d));
    return this.node(output, 'BatchNormalization', [x, ...ps], { epsilon: { kind: 'float', value: 1e-5 } });
  }
  model(name: string, outputs: string[], convention: InputConvention = SIGNED): NetworkModel {
    const desc: GraphDescription = {
      source: name,
      opset: 17,
      inputs: [{ name: 'input', shape: [null, 3, null, null] }],
      outputs,
      nodes: this.nodes,
      initializers: this.inits,
      metadata: {},
    };
    return new GraphModel(planGraph(desc), { name, format: 'onnx', inputConvention: convention });
  }
}

/** A grey Gabor detector of unit L1 norm over [size, size] (max response 1 for pixels in -1..1), spread over RGB. */
export function greyGabor(size: number, period: number, thetaDeg = 0): Float32Array {
  const g = gabor({ size, thetaDeg, cyclesPerPixel: 1 / period, sigma: size / 4, phase: 0 });
  const l1 = g.reduce((a, b) => a + Math.abs(b), 0);
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) out.set(g.map((v) => v / l1 / 3), c * size * size);
  return out;
}

/** Conv weights [channels, 3, size, size] from one RGB filter per channel (smaller ones centred). */
export function stackFilters(size: number, filters: { data: Float32Array; size: number }[]): Float32Array {
  const out = new Float32Array(filters.length * 3 * size * size);
  filters.forEach((f, o) => {
    const off = (size - f.size) / 2;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < f.size; y++)
        for (let x = 0; x < f.size; x++) out[((o * 3 + c) * size + y + off) * size + x + off] = f.data[(c * f.size + y) * f.size + x];
  });
  return out;
}

export const SMALL = 15;
export const LARGE = 29;
/** Carrier periods, px: narrow-band enough (sigma / period = 0.79) that one detector barely sees the other's grating. */
const PERIOD = 5;

/**
 * A residual block whose skip path (Conv → BN, like a projection shortcut) carries a small Gabor
 * detector in both channels, and whose branch (Conv → ReLU → 1x1 Conv → BN) carries, in channel 0,
 * the same detector at twice the size (scale invariant) and in channel 1 the small one again
 * (the control).
 */
export function gaborResidualBlock(): NetworkModel {
  const g = new GraphBuilder();
  const small = { data: greyGabor(SMALL, PERIOD), size: SMALL };
  const large = { data: greyGabor(LARGE, 2 * PERIOD), size: LARGE };
  const skip = g.identityBn('/block/downsample/BatchNormalization_output_0', g.conv('/block/downsample/Conv_output_0', 'input', stackFilters(SMALL, [small, small]), [2, 3, SMALL, SMALL]), 2);
  const b1 = g.node('/block/relu/Relu_output_0', 'Relu', [g.conv('/block/conv1/Conv_output_0', 'input', stackFilters(LARGE, [large, small]), [2, 3, LARGE, LARGE])]);
  const b2 = g.conv('/block/conv2/Conv_output_0', b1, Float32Array.from([1, 0, 0, 1]), [2, 2, 1, 1]);
  const pre = g.identityBn('/block/bn2/BatchNormalization_output_0', b2, 2);
  const sum = g.node('/block/Add_output_0', 'Add', [skip, pre]);
  g.node('/block/relu_1/Relu_output_0', 'Relu', [sum]);
  return g.model('gabor-block', ['/block/relu_1/Relu_output_0']);
}

/**
 * Channels 0, 1, 2 of the block are the image's red, green and blue (skip path; the branch adds
 * zero). Logit 0 is the mean red after the ReLU, logit 1 a constant 0.3: reddish images are class
 * 0, the others class 1, and green and blue are ignored.
 */
export function colourClassifier(): NetworkModel {
  const g = new GraphBuilder();
  const pick = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const skip = g.identityBn('/block/downsample/BatchNormalization_output_0', g.conv('/block/downsample/Conv_output_0', 'input', pick, [3, 3, 1, 1]), 3);
  const branch = g.identityBn('/block/bn2/BatchNormalization_output_0', g.node('/block/relu/Relu_output_0', 'Relu', [g.conv('/block/conv1/Conv_output_0', 'input', new Float32Array(9), [3, 3, 1, 1])]), 3);
  const sum = g.node('/block/Add_output_0', 'Add', [skip, branch]);
  const relu = g.node('/block/relu_1/Relu_output_0', 'Relu', [sum]);
  const pooled = g.node('/avgpool/GlobalAveragePool_output_0', 'GlobalAveragePool', [relu]);
  const flat = g.node('/Flatten_output_0', 'Flatten', [pooled], { axis: { kind: 'int', value: 1 } });
  g.nodes.push({
    name: '/fc/Gemm',
    op: 'Gemm',
    inputs: [flat, g.const('fc.w', [2, 3], Float32Array.from([1, 0, 0, 0, 0, 0])), g.const('fc.b', [2], Float32Array.from([0, 0.3]))],
    outputs: ['logits'],
    attrs: { transB: { kind: 'int', value: 1 } },
  });
  return g.model('colour-classifier', ['logits']);
}

function writePng(file: string, w: number, h: number, rgb: (x: number, y: number) => [number, number, number]): void {
  const png = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) png.data.set([...rgb(x, y), 255], (y * w + x) * 4);
  writeFileSync(file, PNG.sync.write(png));
}

/** Six images 40 x 30: even i reddish (class 0, n01440764), odd i greenish (class 1); blue = 40 i + x. */
export function writeColourImages(dir: string): void {
  for (let i = 0; i < 6; i++) {
    const red = i % 2 === 0;
    writePng(path.join(dir, `${IMAGENET_WNIDS[red ? 0 : 1]}_${i}.png`), 40, 30, (x) => [red ? 250 : 120, red ? 120 : 250, 40 * i + x]);
  }
}

export interface Emitted {
  key: string;
  data: Record<string, unknown>;
  images: ImageOut[];
}

export function memoryContext(model: () => NetworkModel | Promise<NetworkModel>, seed = 1): RunContext & { emitted: Emitted[]; checkpoints: unknown[] } {
  const emitted: Emitted[] = [];
  const checkpoints: unknown[] = [];
  return {
    runId: 1,
    seed,
    cancelled: () => false,
    progress: () => {},
    emitResult: (key, data, images = []) => emitted.push({ key, data, images }),
    checkpoint: (s) => checkpoints.push(structuredClone(s)),
    resumeFrom: null,
    loadModel: async () => model(),
    log: () => {},
    emitted,
    checkpoints,
  };
}
