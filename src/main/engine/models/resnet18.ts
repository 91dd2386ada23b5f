// ResNet-18 (torchvision layout: BasicBlocks [2, 2, 2, 2], stride on the 3x3 conv, 1x1 projection
// shortcuts) as a graph the ONNX executor runs. Tensor names follow the torch ONNX exporter
// (`/layer2/layer2.0/bn2/BatchNormalization_output_0`) and weight names the torchvision state-dict
// keys (`layer2.0.conv1.weight`), so residual blocks are found as in exported models and a
// user's torchvision weights (a state dict as safetensors) load key by key.
import type { InputConvention } from '../../../shared/domain';
import { ModelFormatError } from '../errors';
import type { NamedTensor } from '../formats/safetensors';
import { GraphModel } from '../graph/executor';
import type { AttrValue, ConstTensor, GraphDescription, GraphNode } from '../graph/ir';
import { planGraph } from '../graph/plan';
import { randomizedPlan } from '../graph/random-weights';
import type { NetworkModel } from '../model';

/** torchvision's ImageNet normalization. */
export const TORCHVISION_CONVENTION: InputConvention = {
  channelOrder: 'RGB',
  scale: 1,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  inputSize: 224,
};

const ints = (value: number[]): AttrValue => ({ kind: 'ints', value });

class Builder {
  readonly nodes: GraphNode[] = [];
  readonly initializers = new Map<string, ConstTensor>();

  private weight(name: string, shape: number[]): string {
    // Zeros here; the seeded He initialization of the random-weights control fills them.
    this.initializers.set(name, { name, shape, dtype: 'float32', data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    return name;
  }

  private node(scope: string, op: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    const output = `${scope}/${op}_output_0`;
    this.nodes.push({ name: `${scope}/${op}`, op, inputs, outputs: [output], attrs });
    return output;
  }

  conv(x: string, key: string, scope: string, cin: number, cout: number, k: number, stride: number): string {
    const w = this.weight(`${key}.weight`, [cout, cin, k, k]);
    const p = Math.floor(k / 2);
    return this.node(scope, 'Conv', [x, w], { kernel_shape: ints([k, k]), strides: ints([stride, stride]), pads: ints([p, p, p, p]) });
  }

  bn(x: string, key: string, scope: string, c: number): string {
    const ps = ['weight', 'bias', 'running_mean', 'running_var'].map((n) => this.weight(`${key}.${n}`, [c]));
    return this.node(scope, 'BatchNormalization', [x, ...ps], { epsilon: { kind: 'float', value: 1e-5 } });
  }

  relu(x: string, scope: string): string {
    return this.node(scope, 'Relu', [x]);
  }

  add(a: string, b: string, scope: string): string {
    return this.node(scope, 'Add', [a, b]);
  }

  maxPool(x: string, scope: string): string {
    return this.node(scope, 'MaxPool', [x], { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) });
  }

  head(x: string, classes: number, width: number): string {
    const pooled = this.node('/avgpool', 'GlobalAveragePool', [x]);
    const flat = this.node('', 'Flatten', [pooled], { axis: { kind: 'int', value: 1 } });
    const w = this.weight('fc.weight', [classes, width]);
    const b = this.weight('fc.bias', [classes]);
    this.nodes.push({ name: '/fc/Gemm', op: 'Gemm', inputs: [flat, w, b], outputs: ['logits'], attrs: { transB: { kind: 'int', value: 1 } } });
    return 'logits';
  }
}

/** One BasicBlock: conv3x3-bn-relu-conv3x3-bn, plus the shortcut, summed, then ReLU. */
function basicBlock(g: Builder, x: string, stage: number, index: number, cin: number, cout: number, stride: number): string {
  const key = `layer${stage}.${index}`;
  const scope = `/layer${stage}/${key}`;
  let y = g.relu(g.bn(g.conv(x, `${key}.conv1`, `${scope}/conv1`, cin, cout, 3, stride), `${key}.bn1`, `${scope}/bn1`, cout), `${scope}/relu`);
  y = g.bn(g.conv(y, `${key}.conv2`, `${scope}/conv2`, cout, cout, 3, 1), `${key}.bn2`, `${scope}/bn2`, cout);
  let skip = x;
  if (stride !== 1 || cin !== cout) {
    const ds = `${scope}/downsample`;
    skip = g.bn(g.conv(x, `${key}.downsample.0`, `${ds}/downsample.0`, cin, cout, 1, stride), `${key}.downsample.1`, `${ds}/downsample.1`, cout);
  }
  return g.relu(g.add(skip, y, scope), `${scope}/relu_1`);
}

export function resnet18Graph(classes = 1000): GraphDescription {
  const g = new Builder();
  let x = g.maxPool(g.relu(g.bn(g.conv('input', 'conv1', '/conv1', 3, 64, 7, 2), 'bn1', '/bn1', 64), '/relu'), '/maxpool');
  const widths = [64, 128, 256, 512];
  let cin = 64;
  widths.forEach((w, s) => {
    for (let b = 0; b < 2; b++) {
      x = basicBlock(g, x, s + 1, b, cin, w, b === 0 && s > 0 ? 2 : 1);
      cin = w;
    }
  });
  g.head(x, classes, cin);
  return {
    source: 'ResNet-18 (built in)',
    opset: 17,
    inputs: [{ name: 'input', shape: [null, 3, null, null] }],
    outputs: ['logits'],
    nodes: g.nodes,
    initializers: g.initializers,
    metadata: {},
  };
}

export interface ResNet18Options {
  /** Seed of the He-normal weights (batch norms at the identity) when no weights are given. */
  seed?: number;
  /** A torchvision state dict (`conv1.weight`, `layer1.0.bn1.running_mean`, ..., `fc.bias`). */
  weights?: ReadonlyMap<string, NamedTensor>;
}

export function createResNet18(opts: ResNet18Options = {}): NetworkModel {
  const { seed = 1, weights } = opts;
  if (!weights) {
    return new GraphModel(randomizedPlan(planGraph(resnet18Graph()), seed), { name: `ResNet-18 (random weights, seed ${seed})`, format: 'onnx', inputConvention: TORCHVISION_CONVENTION });
  }
  return new GraphModel(planGraph(resnet18FromStateDict(weights, 'the state dict')), { name: 'ResNet-18', format: 'safetensors', inputConvention: TORCHVISION_CONVENTION });
}

/**
 * The ResNet-18 graph with the weights of a torchvision state dict (any number of classes; keys
 * may carry DataParallel's "module." prefix). Anything else is refused with what does not fit:
 * keys of another network, missing or extra keys, a weight of the wrong shape. `skipped`: tensors
 * of the file that were not read (not floating point), named when a missing key is one of them.
 */
export function resnet18FromStateDict(weights: ReadonlyMap<string, NamedTensor>, source: string, skipped: ReadonlyMap<string, string> = new Map()): GraphDescription {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${source}: ${msg}`);
  };
  const keys = [...weights.keys()];
  const prefix = keys.length > 0 && keys.every((k) => k.startsWith('module.')) ? 'module.' : '';
  const byKey = new Map(keys.map((k) => [k.slice(prefix.length), weights.get(k)!]));
  if (!byKey.has('conv1.weight') || !byKey.has('layer1.0.conv1.weight') || !byKey.has('fc.weight')) {
    const some = keys.slice(0, 4).join(', ') || 'no floating-point tensors';
    fail(
      `not a torchvision ResNet-18 state dict (it has no conv1.weight, layer1.0.conv1.weight and fc.weight; its keys begin ${some}). ` +
        'A .safetensors file is read as the weights of the built-in ResNet-18; other networks import as ONNX',
    );
  }
  if (byKey.has('layer1.0.conv3.weight')) fail('a ResNet with bottleneck blocks (ResNet-50 or deeper), not ResNet-18; export it to ONNX instead');
  const classes = byKey.get('fc.weight')!.shape[0];
  if (!(classes >= 1)) fail(`fc.weight has shape [${byKey.get('fc.weight')!.shape.join(', ')}]; a classifier of at least one class was expected`);
  const desc = resnet18Graph(classes);
  const expected = desc.initializers;
  const missing = [...expected.keys()].filter((k) => !byKey.has(k));
  const unknown = [...byKey.keys()].filter((k) => !expected.has(k));
  if (missing.length || unknown.length) {
    const list = (xs: string[]) => xs.slice(0, 6).join(', ') + (xs.length > 6 ? `, ... (${xs.length})` : '');
    const notRead = missing.filter((k) => skipped.has(prefix + k)).map((k) => `${k} is ${skipped.get(prefix + k)}`);
    fail(
      `not a ResNet-18 state dict:${missing.length ? ` missing ${list(missing)};` : ''}${unknown.length ? ` unexpected ${list(unknown)}` : ''}` +
        (notRead.length ? ` (not floating point: ${list(notRead)})` : ''),
    );
  }
  for (const [key, c] of expected) {
    const w = byKey.get(key)!;
    if (w.shape.join() !== c.shape.join()) fail(`ResNet-18 weight ${key} has shape [${w.shape.join(', ')}], expected [${c.shape.join(', ')}]`);
    expected.set(key, { name: key, shape: c.shape, dtype: 'float32', data: w.data });
  }
  return { ...desc, source };
}
