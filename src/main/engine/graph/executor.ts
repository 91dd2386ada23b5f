// Runs a planned graph with tfjs ops as a NetworkModel. Every computed tensor is a layer named by
// its tensor name; a forward pass runs only the nodes the requested layers depend on, and frees
// each intermediate as soon as its last consumer has run.
import * as tf from '@tensorflow/tfjs';
import type { InputConvention, LayerInfo, ModelFormat, ReceptiveField } from '../../../shared/domain';
import { ModelFormatError } from '../errors';
import { KEPT_BLOCK_BYTES } from '../kept-memory';
import { applyInputConvention, findLayer, type GraphNodeInfo, type LayerChannels, type LayerPositions, type NetworkModel } from '../model';
import { OPS } from './ops';
import { storedConstant } from './ops/common';
import { compileConv } from './ops/conv';
import { tilingKernel } from './ops/pool';
import { recordingGradients } from './ops/pointwise';
import { batchNormAffine } from './ops/norm';
import { shapeSources } from './fold';
import { convChains } from './fusion';
import { logicalShape } from './layout';
import type { CompiledOp } from './ops/types';
import { dataOutputs, inferShapes, nodeContext, type Plan } from './plan';
import { randomizedPlan } from './random-weights';
import { receptiveFields, type PlanarRF } from './receptive-fields';
import { tokenLayers } from './tokens';
import type { GraphNode } from './ir';

/**
 * Images per forward chunk outside a gradient tape, for images of `pixels` pixels whose largest
 * layer holds `largestLayerElements` values per image. The chunk keeps that layer under
 * KEPT_BLOCK_BYTES: beyond it the page faults cost more per image than a larger batch saves
 * (ms per 224 px image on a 2-core Zen 3: ResNet-50 120-170 at 2, 130 at 4, 95-115 at 8, 125-155
 * at 16 images; VGG-19 to pool3, whose first maps hold 12.8 MB an image, about 250 at 2 and 350 at
 * 16). Where the engine turns oneDNN off (backend.ts: a VM that reports no cache sizes),
 * TensorFlow's convolutions cost more per image as the batch grows (VGG-19 at 224 px: 0.3 s per
 * image at batch 2, 1.2 s at 16), so there a chunk holds at most two 224 px images.
 */
export function forwardChunkImages(pixels: number, largestLayerElements: number): number {
  const eigen = tf.getBackend() === 'tensorflow' && (process.env.TF_ENABLE_ONEDNN_OPTS === '0' || !['linux', 'win32'].includes(process.platform));
  const byMemory = Math.floor(KEPT_BLOCK_BYTES / (4 * largestLayerElements));
  const byPixels = eigen ? Math.floor((2 * 224 * 224) / pixels) : Infinity;
  return Math.max(1, Math.min(byMemory, byPixels));
}

export interface GraphModelOptions {
  name: string;
  format: ModelFormat;
  inputConvention: InputConvention;
}

/** A layer computed at one position by `op.at`, from `input` (through the parts of `through`, if given). */
interface PositionStep {
  op: CompiledOp;
  input: string;
  through?: CompiledOp;
}

interface Step {
  node: GraphNode;
  op: CompiledOp;
  /** Names of the tensors the compiled op reads, in the order it takes them. */
  reads: string[];
}

/** Logical (NCHW) shape → layer shape as LayerInfo gives it: stored layout without the batch. */
function layerShape(logical: readonly number[]): number[] {
  if (logical.length === 4) return [logical[2], logical[3], logical[1]];
  return logical.length > 1 ? logical.slice(1) : [...logical];
}

/** LayerInfo has one square RF; for unequal axes it reports the larger one. */
function squareRF(rf: PlanarRF): ReceptiveField {
  const a = rf.x.size > rf.y.size ? rf.x : rf.y;
  return { size: a.size, jump: a.jump, offset: a.offset };
}

/**
 * The layers of a plan (every computed tensor that depends on the image, in execution order) with
 * shapes, receptive fields and token layouts for a square input of `inputSize`; pure, no tensors.
 */
export function describeLayers(plan: Plan, inputSize: number): { shapes: Map<string, number[]>; layers: LayerInfo[] } {
  const shapes = inferShapes(plan, inputSize, inputSize);
  const rfs = receptiveFields(plan, shapes);
  const tokens = tokenLayers(plan, shapes, rfs, inputSize);
  const fromImage = new Set([plan.input]);
  const layers: LayerInfo[] = [];
  for (const node of plan.nodes) {
    if (!node.inputs.some((i) => fromImage.has(i))) continue;
    for (const out of dataOutputs(node)) {
      fromImage.add(out);
      // Units of a layer are channels at positions of a rank-4 tensor, or at patch positions of a
      // token tensor; other ranks report no RF.
      const token = tokens.get(out);
      const rf = token ? token.rf : shapes.get(out)!.length === 4 ? rfs.get(out) : undefined;
      layers.push({ name: out, op: node.op, shape: layerShape(shapes.get(out)!), ...(rf ? { rf: squareRF(rf) } : {}), ...(token ? { tokens: token.tokens } : {}) });
    }
  }
  return { shapes, layers };
}

/** The plan's nodes that compute layers (one entry per data output), with only their image-dependent inputs. */
export function graphNodesOf(plan: Plan, layers: readonly LayerInfo[]): GraphNodeInfo[] {
  const fromImage = new Set(layers.map((l) => l.name).concat(plan.input));
  return plan.nodes.flatMap((n) =>
    dataOutputs(n)
      .filter((o) => fromImage.has(o))
      .map((output) => ({ op: n.op, inputs: n.inputs.filter((i) => fromImage.has(i)), output })),
  );
}

/**
 * Whether the graph takes a batch of images at once: its shapes inferred for two images must be
 * those for one with the first axis doubled. Static exports that fix the batch at 1 (Reshape
 * targets such as [1, 8]) or move it off the first axis (PyTorch's attention) do not.
 */
function takesBatches(plan: Plan, size: number, one: ReadonlyMap<string, readonly number[]>, layers: readonly LayerInfo[]): boolean {
  let two: Map<string, number[]>;
  try {
    two = inferShapes(plan, size, size, plan.nodes, 2);
  } catch (err) {
    if (err instanceof ModelFormatError) return false;
    throw err;
  }
  return layers.every(({ name }) => {
    const [a, b] = [one.get(name)!, two.get(name)!];
    return a.length === b.length && b[0] === 2 * a[0] && b.every((d, k) => k === 0 || d === a[k]);
  });
}

/** Runs `pass` on consecutive parts of a batch of `n` and joins its outputs along the batch. */
function inChunks(n: number, chunk: number, layers: readonly string[], pass: (start: number, size: number) => Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  const parts: Record<string, tf.Tensor>[] = [];
  try {
    for (let start = 0; start < n; start += chunk) parts.push(tf.tidy(() => pass(start, Math.min(chunk, n - start))));
    return Object.fromEntries(layers.map((l) => [l, tf.concat(parts.map((p) => p[l]))]));
  } finally {
    parts.forEach((p) => tf.dispose(Object.values(p)));
  }
}

export class GraphModel implements NetworkModel {
  readonly name: string;
  readonly format: ModelFormat;
  readonly inputConvention: InputConvention;
  readonly layers: LayerInfo[];
  private readonly steps: Step[];
  /** False for a graph made for one image at a time, which then runs image by image. */
  private readonly batched: boolean;
  private readonly stored = new Map<string, tf.Tensor>();
  private readonly owned: tf.Tensor[] = [];
  private readonly fittedSizes = new Set<string>();
  private readonly schedules = new Map<string, Step[]>();
  private readonly positionPlans = new Map<string, Map<string, PositionStep>>();
  /** Logical shapes at the usual input size, for compiling fused steps on first use. */
  private readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** Values per image of the largest layer at the convention's input size. */
  private readonly largestLayerElements: number;
  private readonly chains: Map<GraphNode, GraphNode[]>;
  private readonly fused = new Map<string, CompiledOp>();
  private readonly own = <T extends tf.Tensor>(t: T): T => {
    this.owned.push(tf.keep(t));
    return t;
  };

  /** Validates the whole plan at the convention's input size before allocating anything. */
  constructor(
    private readonly plan: Plan,
    opts: GraphModelOptions,
  ) {
    this.name = opts.name;
    this.format = opts.format;
    this.inputConvention = opts.inputConvention;
    const size = opts.inputConvention.inputSize;
    const { shapes, layers } = describeLayers(plan, size);
    this.layers = layers;
    this.shapes = shapes;
    this.largestLayerElements = Math.max(1, ...layers.map((l) => l.shape.reduce((a, b) => a * b, 1)));
    this.batched = takesBatches(plan, size, shapes, layers);
    this.chains = convChains(plan);

    const own = this.own;
    try {
      this.steps = plan.nodes.map((node) => {
        const op = OPS[node.op].compile(nodeContext(plan, node, shapes), own);
        // A node with inputs folded from shapes also reads the tensors they measure (fold.ts).
        const measured = shapeSources(plan.folding, node);
        const reads = [...op.inputs.map((i) => node.inputs[i]), ...measured];
        if (measured.length > 0) return { node, op: this.perGeometry(node, reads), reads };
        for (const name of reads) {
          const c = plan.constants.get(name);
          if (c && !this.stored.has(name)) this.stored.set(name, own(storedConstant(c)));
        }
        return { node, op, reads };
      });
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /**
   * A node whose folded inputs depend on the input geometry, compiled anew for each geometry
   * (batch, image size) it meets, from the shapes of the tensors it reads at run time.
   */
  private perGeometry(node: GraphNode, reads: readonly string[]): CompiledOp {
    const compiled = new Map<string, CompiledOp>();
    return {
      inputs: [],
      run: (xs) => {
        const shapes = new Map(reads.map((r, k) => [r, logicalShape(xs[k])]));
        const key = [...shapes.values()].map((s) => s.join('x')).join(',');
        let op = compiled.get(key);
        if (!op) {
          try {
            op = OPS[node.op].compile(nodeContext(this.plan, node, shapes), this.own);
          } catch (err) {
            if (err instanceof ModelFormatError) throw new ModelFormatError(`${this.plan.source}: ${err.message}`);
            throw err;
          }
          compiled.set(key, op);
        }
        return op.run(op.inputs.map((i) => xs[reads.indexOf(node.inputs[i])]));
      },
    };
  }

  /**
   * Images per forward chunk of h x w images outside a gradient tape (forwardChunkImages), the
   * largest layer scaled from its size at the convention's input size by the image's area.
   */
  forwardChunk(h: number, w: number): number {
    const size = this.inputConvention.inputSize;
    return forwardChunkImages(h * w, (this.largestLayerElements * h * w) / (size * size));
  }

  /**
   * Outside a gradient tape a large batch runs in chunks of `forwardChunk` images, so
   * gradient-free work (shape responses, scans, ablations) keeps the per-image cost of the batch
   * size the convolutions run best at. A graph made for one image at a time runs image by image,
   * under a tape too.
   */
  forward(pixels: tf.Tensor4D, layers: readonly string[]): Record<string, tf.Tensor> {
    const [n, h, w] = pixels.shape;
    const most = this.batched ? this.forwardChunk(h, w) : 1;
    if (n <= most || (this.batched && recordingGradients())) return this.run(pixels, layers);
    // Chunks of equal size: 16 images in two of 8 rather than 10 and 6.
    const chunk = Math.ceil(n / Math.ceil(n / most));
    return inChunks(n, chunk, layers, (start, size) => this.run(tf.slice(pixels, [start, 0, 0, 0], [size, h, w, 3]), layers));
  }

  forwardAt(
    pixels: tf.Tensor4D,
    layers: readonly string[],
    at: LayerPositions,
    channels?: LayerChannels,
  ): { acts: Record<string, tf.Tensor>; restricted: ReadonlySet<string> } {
    const [, h, w] = pixels.shape;
    const windows = this.positionSteps(layers, at, h, w);
    if (windows.size === 0) return { acts: this.forward(pixels, layers), restricted: new Set() };
    const inputs = [...windows.values()].map((v) => v.input);
    const full = this.forward(pixels, [...new Set([...layers.filter((l) => !windows.has(l)), ...inputs])]);
    const acts: Record<string, tf.Tensor> = {};
    for (const l of layers) {
      const win = windows.get(l);
      acts[l] = win ? win.op.at!(win.through ? win.through.region!(full[win.input]) : full[win.input], at[l], channels?.[l]) : full[l];
    }
    for (const [name, t] of Object.entries(full)) if (!layers.includes(name)) t.dispose();
    return { acts, restricted: new Set(windows.keys()) };
  }

  /**
   * The layers of `at` that can be computed at their position alone: each the output of a step
   * that computes one position from a window of its one input (a convolution, with its fused
   * batch norm and ReLU), that no other requested layer needs whole, at a position inside it.
   * Where that input is a pooling no other requested layer needs, whose windows tile its own
   * input, only the pooled values under the window are computed (`through`).
   */
  private positionSteps(layers: readonly string[], at: LayerPositions, h: number, w: number): Map<string, PositionStep> {
    const key = `${h}x${w}|${layers.map((l) => `${l}@${at[l]?.join(',') ?? ''}`).join('\n')}`;
    const cached = this.positionPlans.get(key);
    if (cached) return cached;
    const found = new Map<string, PositionStep>();
    const schedule = this.schedule(layers);
    for (const layer of layers) {
      const p = at[layer];
      const step = p && schedule.find((s) => s.node.outputs[0] === layer);
      if (!step?.op.at || step.reads.length !== 1) continue;
      const others = layers.filter((l) => l !== layer);
      const neededByOthers = others.length > 0 ? this.neededNodes(others) : [];
      if (neededByOthers.includes(step.node)) continue;
      const shape = this.layerShapesAt(h, w, [layer]).get(layer)!;
      if (shape.length !== 3 || p[0] < 0 || p[0] >= shape[0] || p[1] < 0 || p[1] >= shape[1]) continue;
      const source = schedule.find((s) => s.node.outputs[0] === step.reads[0]);
      if (source?.op.region && source.reads.length === 1 && !layers.includes(step.reads[0]) && !neededByOthers.includes(source.node)) {
        found.set(layer, { op: step.op, input: source.reads[0], through: source.op });
      } else {
        found.set(layer, { op: step.op, input: step.reads[0] });
      }
    }
    this.positionPlans.set(key, found);
    return found;
  }

  graphNodes(): readonly GraphNodeInfo[] {
    return graphNodesOf(this.plan, this.layers);
  }

  private run(pixels: tf.Tensor4D, layers: readonly string[]): Record<string, tf.Tensor> {
    if (pixels.rank !== 4 || pixels.shape[3] !== 3) {
      throw new Error(`model ${this.name}: pixels must be [N, H, W, 3], got [${pixels.shape.join(', ')}]`);
    }
    for (const l of layers) findLayer(this, l);
    this.checkFits(pixels.shape[1], pixels.shape[2], layers);
    const schedule = this.schedule(layers);
    return tf.tidy(() => this.execute(schedule, new Map([[this.plan.input, applyInputConvention(pixels, this.inputConvention)]]), layers));
  }

  forwardFrom(given: Readonly<Record<string, tf.Tensor>>, layers: readonly string[]): Record<string, tf.Tensor> {
    const starts = Object.keys(given);
    for (const l of [...starts, ...layers]) findLayer(this, l);
    const key = `from:${[...starts].sort().join('\n')}|${[...layers].sort().join('\n')}`;
    let schedule = this.schedules.get(key);
    if (!schedule) {
      const nodes = new Set(this.neededNodes(layers, new Set(starts)));
      if (this.steps.some((s) => nodes.has(s.node) && s.reads.includes(this.plan.input))) {
        throw new Error(`model ${this.name}: ${layers.join(', ')} depend on the image other than through ${starts.join(', ')}`);
      }
      schedule = this.fuse(this.steps.filter((s) => nodes.has(s.node)), new Set(layers));
      this.schedules.set(key, schedule);
    }
    const run = schedule;
    // The given tensors belong to the caller: the pass reads them but never frees them.
    const pass = (from: Readonly<Record<string, tf.Tensor>>) => tf.tidy(() => this.execute(run, new Map(Object.entries(from)), layers, new Set(starts)));
    const n = given[starts[0]]?.shape[0] ?? 1;
    if (this.batched || n <= 1) return pass(given);
    const part = (t: tf.Tensor, start: number) => tf.slice(t, [start, ...t.shape.slice(1).map(() => 0)], [1, ...t.shape.slice(1)]);
    return inChunks(n, 1, layers, (start) => pass(Object.fromEntries(starts.map((l) => [l, part(given[l], start)]))));
  }

  /** Runs `schedule` from the `values` it starts with; frees intermediates as soon as they are used up. */
  private execute(
    schedule: readonly Step[],
    values: Map<string, tf.Tensor>,
    layers: readonly string[],
    keep: ReadonlySet<string> = new Set(),
  ): Record<string, tf.Tensor> {
    const uses = new Map<string, number>();
    for (const s of schedule) for (const r of s.reads) uses.set(r, (uses.get(r) ?? 0) + 1);
    const wanted = new Set(layers);
    for (const s of schedule) {
      const xs = s.reads.map((r) => values.get(r) ?? this.stored.get(r)!);
      const ys = [s.op.run(xs)].flat();
      ys.forEach((out, k) => {
        const y = xs.includes(out) ? tf.clone(out) : out;
        const name = s.node.outputs[k];
        // An output of a multi-output op that nothing here reads is freed at once.
        if (!uses.has(name) && !wanted.has(name)) y.dispose();
        else values.set(name, y);
      });
      for (const r of s.reads) {
        const left = uses.get(r)! - 1;
        uses.set(r, left);
        if (left === 0 && !wanted.has(r) && !keep.has(r)) values.get(r)?.dispose();
      }
    }
    return Object.fromEntries(layers.map((l) => [l, values.get(l)!]));
  }

  /** Shapes of `layers` (stored layout, without the batch) for an input of another size. */
  layerShapesAt(height: number, width: number, layers: readonly string[] = this.layers.map((l) => l.name)): Map<string, number[]> {
    const shapes = inferShapes(this.plan, height, width, this.neededNodes(layers));
    return new Map(layers.map((l) => [l, layerShape(shapes.get(l)!)]));
  }

  withRandomWeights(seed: number): NetworkModel {
    return new GraphModel(randomizedPlan(this.plan, seed), {
      name: `${this.name} (random weights, seed ${seed})`,
      format: this.format,
      inputConvention: this.inputConvention,
    });
  }

  dispose(): void {
    tf.dispose(this.owned);
    this.owned.length = 0;
    this.stored.clear();
    this.fused.clear();
  }

  /** The nodes the requested layers depend on, in plan order. */
  private neededNodes(layers: readonly string[], given: ReadonlySet<string> = new Set()): GraphNode[] {
    const producer = new Map(this.steps.flatMap((s) => dataOutputs(s.node).map((o) => [o, s] as const)));
    const needed = new Set<Step>();
    const visit = (name: string) => {
      if (given.has(name)) return;
      const s = producer.get(name);
      if (!s || needed.has(s)) return;
      needed.add(s);
      s.reads.forEach(visit);
    };
    layers.forEach(visit);
    return this.steps.filter((s) => needed.has(s)).map((s) => s.node);
  }

  /** The steps a forward pass for `layers` runs, fused where possible. */
  private schedule(layers: readonly string[]): Step[] {
    const key = [...layers].sort().join('\n');
    const cached = this.schedules.get(key);
    if (cached) return cached;
    const nodes = new Set(this.neededNodes(layers));
    const schedule = this.fuse(this.steps.filter((s) => nodes.has(s.node)), new Set(layers));
    this.schedules.set(key, schedule);
    return schedule;
  }

  /** Replaces Conv → BN → Relu → MaxPool runs whose inner tensors are not wanted by one fused conv step. */
  private fuse(schedule: Step[], wanted: ReadonlySet<string>): Step[] {
    const stepOf = new Map(schedule.map((s) => [s.node, s]));
    const absorbed = new Set<Step>();
    const out: Step[] = [];
    for (const s of schedule) {
      if (absorbed.has(s)) continue;
      const chain = this.chains.get(s.node) ?? [];
      let k = 1;
      while (k < chain.length && !wanted.has(chain[k - 1].outputs[0]) && stepOf.has(chain[k])) k++;
      if (k === 1) {
        out.push(s);
        continue;
      }
      const parts = chain.slice(0, k);
      parts.slice(1).forEach((n) => absorbed.add(stepOf.get(n)!));
      out.push({ node: parts[k - 1], op: this.fusedConv(parts), reads: s.reads });
    }
    return out;
  }

  private fusedConv(parts: GraphNode[]): CompiledOp {
    const key = parts.map((n) => n.name).join('\n');
    let op = this.fused.get(key);
    if (!op) {
      const ctx = (n: GraphNode) => nodeContext(this.plan, n, this.shapes);
      const bn = parts.find((n) => n.op === 'BatchNormalization');
      const relu = parts.some((n) => n.op === 'Relu');
      const pool = parts.find((n) => n.op === 'MaxPool');
      op = compileConv(ctx(parts[0]), this.own, { ...(bn ? batchNormAffine(ctx(bn)) : {}), relu, ...(pool ? { pool: tilingKernel(pool)! } : {}) });
      this.fused.set(key, op);
    }
    return op;
  }

  /** Clear error, instead of a tfjs one, when the input is too small for the layers asked for. */
  private checkFits(height: number, width: number, layers: readonly string[]): void {
    const key = `${height}x${width}:${[...layers].sort().join('\n')}`;
    if (this.fittedSizes.has(key)) return;
    try {
      inferShapes(this.plan, height, width, this.neededNodes(layers));
    } catch (err) {
      if (err instanceof ModelFormatError) throw new Error(`model ${this.name}: an input of ${height}x${width} is too small: ${err.message}`, { cause: err });
      throw err;
    }
    this.fittedSizes.add(key);
  }
}
