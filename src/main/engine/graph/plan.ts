// Turns a GraphDescription into an execution plan: the image input found, Constant nodes and
// shape subgraphs folded (fold.ts), every operator checked as supported, nodes sorted so each
// runs after its inputs, and output shapes inferred for a given input size (which validates
// every node before any tensor exists).
import { ModelFormatError } from '../errors';
import { nodeError } from './attrs';
import { FOLDABLE_OPS, evaluateNode, foldedValue, shapeSources, type ShapeFolding } from './fold';
import { MAX_TENSOR_ELEMENTS, elementCount, type ConstTensor, type GraphDescription, type GraphNode } from './ir';
import { OPS, SUPPORTED_OPS } from './ops';
import type { NodeCtx } from './ops/types';

export interface Plan {
  readonly source: string;
  readonly opset: number;
  /** Name of the image input tensor (logical NCHW, 3 channels). */
  readonly input: string;
  readonly constants: ReadonlyMap<string, ConstTensor>;
  /**
   * Nodes to run, in an order where every node comes after its inputs' producers and after the
   * producers of the tensors whose shapes its folded inputs read.
   */
  readonly nodes: readonly GraphNode[];
  /** Values computed from tensors' shapes, evaluated per input geometry (see fold.ts). */
  readonly folding: ShapeFolding;
  readonly outputs: readonly string[];
}

export function planGraph(desc: GraphDescription): Plan {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${desc.source}: ${msg}`);
  };
  const images = desc.inputs;
  if (images.length !== 1) {
    fail(`the graph has ${images.length} inputs (${images.map((i) => i.name).join(', ')}); exactly one image input is supported`);
  }
  const image = images[0];
  if (image.shape.length !== 4 || (image.shape[1] !== null && image.shape[1] !== 3)) {
    fail(`the input "${image.name}" has shape [${image.shape.map((d) => d ?? '?').join(', ')}]; expected an RGB image batch [N, 3, H, W]`);
  }

  const constants = new Map(desc.initializers);
  const defined = new Set<string>([image.name, ...constants.keys()]);
  const define = (name: string, node: GraphNode) => {
    if (defined.has(name)) throw nodeError(node, `tensor "${name}" is defined more than once`);
    defined.add(name);
  };
  const runtime: GraphNode[] = [];
  const secondary = new Map<string, GraphNode>();
  const shapeNodes: GraphNode[] = [];
  const folding = { nodes: shapeNodes, sources: new Map<string, string[]>() };
  // Folded: a shape-family node on constants and folded values only (Shape: of any defined tensor).
  const foldable = (node: GraphNode) =>
    FOLDABLE_OPS.has(node.op) &&
    node.inputs.length > 0 &&
    (node.op === 'Shape' ? defined.has(node.inputs[0]) : node.inputs.every((i) => !i || constants.has(i) || folding.sources.has(i)));
  try {
    for (const node of desc.nodes) {
      if (node.op === 'Constant') {
        define(node.outputs[0], node);
        constants.set(node.outputs[0], constantValue(node));
        continue;
      }
      // Shape-family nodes on constants fold now (Identity over a shared initializer included);
      // those measuring a computed tensor, directly or through another, fold per input geometry.
      if (foldable(node)) {
        define(node.outputs[0], node);
        const sources = shapeSources(folding, node);
        const [measured] = node.inputs;
        if (node.op === 'Shape' && !constants.has(measured) && !folding.sources.has(measured)) sources.push(measured);
        if (sources.length > 0) {
          shapeNodes.push(node);
          folding.sources.set(node.outputs[0], [...new Set(sources)]);
        } else {
          constants.set(node.outputs[0], evaluateNode(node, { value: (i) => constants.get(node.inputs[i]), shape: (i) => constants.get(node.inputs[i])!.shape }, desc.opset));
        }
        continue;
      }
      if (!OPS[node.op]) {
        const computed = node.inputs.find((i) => i && !constants.has(i) && !folding.sources.has(i));
        if (FOLDABLE_OPS.has(node.op) && computed) {
          throw nodeError(node, `operator "${node.op}" is supported only on constants and shapes (folded at load time); here it reads the computed tensor "${computed}"`);
        }
        throw nodeError(node, `operator "${node.op}" is not supported (supported: ${SUPPORTED_OPS.join(', ')})`);
      }
      define(node.outputs[0], node);
      // Extra outputs (BN statistics, MaxPool indices, Dropout mask) are fine while unused;
      // ops with several data outputs (Split) define them all.
      const multiple = OPS[node.op].inferOutputs !== undefined;
      for (const o of node.outputs.slice(1)) {
        if (o && multiple) define(o, node);
        else if (o) secondary.set(o, node);
      }
      runtime.push(node);
    }
  } catch (err) {
    if (err instanceof ModelFormatError) fail(err.message);
    throw err;
  }
  const check = (name: string, reader: string) => {
    const from = secondary.get(name);
    if (from) fail(`${reader} reads "${name}", an extra output of node ${from.name} (${from.op}), which is not supported`);
    if (!defined.has(name)) fail(`${reader} reads "${name}", which nothing defines`);
  };
  for (const node of runtime) for (const i of node.inputs) if (i) check(i, `node ${node.name} (${node.op})`);
  for (const o of desc.outputs) check(o, 'the graph output list');
  // A node runs after the producers of its inputs and of the tensors its folded inputs measure.
  const reads = (n: GraphNode) => [...n.inputs, ...shapeSources(folding, n)];
  return { source: desc.source, opset: desc.opset, input: image.name, constants, nodes: topoSort(runtime, reads, fail), folding, outputs: desc.outputs };
}

/** Kahn's algorithm, stable in file order; a cycle is a broken file. */
function topoSort(nodes: GraphNode[], reads: (n: GraphNode) => string[], fail: (m: string) => never): GraphNode[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const deps = nodes.map((n) => new Set(reads(n).filter((i) => producer.has(i)).map((i) => producer.get(i)!)));
  const waiting = deps.map((d) => d.size);
  const consumers = nodes.map(() => [] as number[]);
  deps.forEach((d, i) => d.forEach((p) => consumers[p].push(i)));
  const ready = nodes.map((_, i) => i).filter((i) => waiting[i] === 0);
  const order: GraphNode[] = [];
  while (ready.length > 0) {
    const i = ready.shift()!;
    order.push(nodes[i]);
    for (const c of consumers[i]) if (--waiting[c] === 0) ready.push(c);
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((_, i) => waiting[i] > 0)!;
    fail(`the graph has a cycle through node ${stuck.name} (${stuck.op})`);
  }
  return order;
}

function constantValue(node: GraphNode): ConstTensor {
  const name = node.outputs[0];
  const entries = Object.entries(node.attrs);
  if (entries.length !== 1) throw nodeError(node, 'a Constant needs exactly one value attribute');
  const [key, a] = entries[0];
  if (key === 'value' && a.kind === 'tensor') return { ...a.value, name };
  if (key === 'value_float' && a.kind === 'float') return { name, shape: [], dtype: 'float32', data: Float32Array.of(a.value) };
  if (key === 'value_floats' && a.kind === 'floats') return { name, shape: [a.value.length], dtype: 'float32', data: Float32Array.from(a.value) };
  if (key === 'value_int' && a.kind === 'int') return { name, shape: [], dtype: 'int64', data: Float64Array.of(a.value) };
  if (key === 'value_ints' && a.kind === 'ints') return { name, shape: [a.value.length], dtype: 'int64', data: Float64Array.from(a.value) };
  throw nodeError(node, `constant attribute ${key} (${a.kind}) is not supported`);
}

/** The outputs of a node that carry data: all of a multi-output op's (Split), else the first. */
export function dataOutputs(node: GraphNode): string[] {
  return OPS[node.op].inferOutputs ? node.outputs.filter((o) => o) : [node.outputs[0]];
}

/** Node context for the geometry of `shapes`: folded inputs are evaluated for those shapes. */
export function nodeContext(plan: Plan, node: GraphNode, shapes: ReadonlyMap<string, readonly number[]>): NodeCtx {
  const constant = (name: string) => (name ? foldedValue(plan.folding, plan.constants, plan.opset, name, shapes) : undefined);
  return {
    node,
    opset: plan.opset,
    shapes: node.inputs.map((i) => (i ? (shapes.get(i) ?? constant(i)?.shape ?? []) : [])),
    constant: (i) => constant(node.inputs[i]),
    has: (i) => !!node.inputs[i],
  };
}

/**
 * Logical (NCHW) shape of every computed tensor for one image (or `batch` images) of `height` x
 * `width` (of `nodes`, a subset of the plan closed under inputs, in plan order, when given). Throws
 * a ModelFormatError naming the file and node when a node is invalid or the input does not fit.
 */
export function inferShapes(plan: Plan, height: number, width: number, nodes: readonly GraphNode[] = plan.nodes, batch = 1): Map<string, number[]> {
  const shapes = new Map<string, number[]>([[plan.input, [batch, 3, height, width]]]);
  for (const node of nodes) {
    let outs: number[][];
    try {
      const op = OPS[node.op];
      const ctx = nodeContext(plan, node, shapes);
      outs = op.inferOutputs ? op.inferOutputs(ctx) : [op.infer(ctx)];
      for (const out of outs) {
        if (out.some((d) => !Number.isSafeInteger(d) || d <= 0) || elementCount(out) > MAX_TENSOR_ELEMENTS) {
          throw nodeError(node, `output shape [${out.join(', ')}] is invalid or huge`);
        }
      }
    } catch (err) {
      if (err instanceof ModelFormatError) throw new ModelFormatError(`${plan.source} (input ${height}x${width}): ${err.message}`);
      throw err;
    }
    outs.forEach((out, k) => node.outputs[k] && shapes.set(node.outputs[k], out));
  }
  return shapes;
}
