// Shape subgraphs evaluated in plain JS instead of run as tensors: Shape, Gather, Slice,
// Squeeze/Unsqueeze, Concat, Cast, Expand, ConstantOfShape, Range, Reshape, and integer or
// float arithmetic on constants, as exporters write them for `x.view(x.size(0), -1)`, a dynamic
// batch, or a class token expanded to the batch.
//
// Why per input geometry: a value computed from Shape(x) depends on the batch and on the image
// size (the app runs one plan at several sizes and batches), so it cannot become one constant.
// The planner folds what depends on constants only, once; what reads a shape stays a small
// program over the shapes of the tensors it reads (its "sources"), evaluated again for every
// geometry: at shape inference from the inferred shapes, at run time from the real tensors'
// shapes (the executor makes the sources reads of the consuming node and compiles it per
// geometry). So a folded value is exact at any batch and any image size, with no symbolic algebra.
import { intAttr, intsAttr, nodeError } from './attrs';
import { elementCount, type ConstTensor, type GraphNode } from './ir';
import { broadcastShapes } from './ops/common';

/** Operators folded when every input is a constant or a folded value (Shape: any input). */
export const FOLDABLE_OPS = new Set([
  'Shape', 'Size', 'Gather', 'Slice', 'Squeeze', 'Unsqueeze', 'Concat', 'Cast', 'Expand', 'ConstantOfShape', 'Range',
  'Reshape', 'Identity', 'Add', 'Sub', 'Mul', 'Div', 'Mod', 'Neg', 'Sqrt', 'Equal', 'Less', 'Greater', 'Where', 'Max', 'Min',
]);

/** Largest folded tensor; beyond this a "shape" value is data the executor should compute. */
const MAX_FOLD_ELEMENTS = 2 ** 22;

/** The shape-dependent part of a plan. */
export interface ShapeFolding {
  /** Nodes whose values depend on some tensor's shape, in file (topological) order. */
  readonly nodes: readonly GraphNode[];
  /** For each value they compute, the computed tensors (or image input) whose shapes it reads. */
  readonly sources: ReadonlyMap<string, readonly string[]>;
}

/** What the evaluation of one node may read. */
interface Inputs {
  value(i: number): ConstTensor | undefined;
  /** Logical shape of input i, computed tensor or constant. */
  shape(i: number): readonly number[];
}

const isFloat = (c: ConstTensor) => c.dtype === 'float32';

function tensor(name: string, shape: number[], dtype: ConstTensor['dtype'], values: ArrayLike<number>): ConstTensor {
  return dtype === 'float32' ? { name, shape, dtype, data: Float32Array.from(values) } : { name, shape, dtype, data: Float64Array.from(values) };
}

function checkedShape(node: GraphNode, shape: number[]): number[] {
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0) || elementCount(shape) > MAX_FOLD_ELEMENTS) {
    throw nodeError(node, `folded result shape [${shape.join(', ')}] is invalid or too large to compute at load time`);
  }
  return shape;
}

function ints(node: GraphNode, c: ConstTensor | undefined, what: string): number[] {
  if (!c) throw nodeError(node, `${what} is missing`);
  if (c.dtype !== 'int64') throw nodeError(node, `${what} must hold integers`);
  return Array.from(c.data);
}

function normAxis(node: GraphNode, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a < rank)) throw nodeError(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let a = shape.length - 2; a >= 0; a--) s[a] = s[a + 1] * shape[a + 1];
  return s;
}

/** For each element of `out`, the flat index of the element of `shape` it reads under numpy broadcasting. */
function broadcastIndex(out: readonly number[], shape: readonly number[]): Int32Array {
  const rank = out.length;
  const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const inStrides = strides(padded).map((s, a) => (padded[a] === 1 ? 0 : s));
  const outStrides = strides(out);
  const idx = new Int32Array(elementCount(out));
  for (let i = 0; i < idx.length; i++) {
    let rest = i;
    let src = 0;
    for (let a = 0; a < rank; a++) {
      const coord = Math.floor(rest / outStrides[a]);
      rest -= coord * outStrides[a];
      src += coord * inStrides[a];
    }
    idx[i] = src;
  }
  return idx;
}

function broadcast(node: GraphNode, a: readonly number[], b: readonly number[]): number[] {
  const out = broadcastShapes(a, b);
  if (!out) throw nodeError(node, `shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
  return checkedShape(node, out);
}

const ARITHMETIC: Record<string, (a: number, b: number, int: boolean, node: GraphNode) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  // ONNX integer division truncates, as C does.
  Div: (a, b, int) => (int ? Math.trunc(a / b) : a / b),
  // Integer Mod takes the divisor's sign (as Python's %) unless fmod = 1 asks for C's fmod.
  Mod: (a, b, int, node) => (int && intAttr(node, 'fmod', 0) === 0 ? (((a % b) + b) % b) : a % b),
  Max: (a, b) => Math.max(a, b),
  Min: (a, b) => Math.min(a, b),
};
const COMPARISON: Record<string, (a: number, b: number) => boolean> = {
  Equal: (a, b) => a === b,
  Less: (a, b) => a < b,
  Greater: (a, b) => a > b,
};

function binary(node: GraphNode, a: ConstTensor, b: ConstTensor): ConstTensor {
  const name = node.outputs[0];
  const out = broadcast(node, a.shape, b.shape);
  const ia = broadcastIndex(out, a.shape);
  const ib = broadcastIndex(out, b.shape);
  const compare = COMPARISON[node.op];
  // Booleans are kept as 0/1 integers: only Where reads them.
  if (compare) return tensor(name, out, 'int64', Array.from(ia, (j, i) => (compare(a.data[j], b.data[ib[i]]) ? 1 : 0)));
  if (a.dtype !== b.dtype) throw nodeError(node, `operands of types ${a.dtype} and ${b.dtype}`);
  const int = !isFloat(a);
  const f = ARITHMETIC[node.op];
  const values = Array.from(ia, (j, i) => f(a.data[j], b.data[ib[i]], int, node));
  if (int && values.some((v) => !Number.isSafeInteger(v))) throw nodeError(node, 'integer result out of range (or division by zero)');
  return tensor(name, out, a.dtype, values);
}

/** Elements of `c` along `axis` at the positions `picks` (other axes whole). */
function take(node: GraphNode, c: ConstTensor, axis: number, picks: readonly number[]): { shape: number[]; values: number[] } {
  const outer = elementCount(c.shape.slice(0, axis));
  const inner = elementCount(c.shape.slice(axis + 1));
  const size = c.shape[axis];
  const values: number[] = [];
  for (let o = 0; o < outer; o++) for (const p of picks) for (let k = 0; k < inner; k++) values.push(c.data[(o * size + p) * inner + k]);
  const shape = [...c.shape];
  shape[axis] = picks.length;
  checkedShape(node, shape);
  return { shape, values };
}

function gather(node: GraphNode, data: ConstTensor, indices: ConstTensor): ConstTensor {
  if (data.shape.length === 0) throw nodeError(node, 'cannot gather from a scalar');
  const axis = normAxis(node, intAttr(node, 'axis', 0), data.shape.length);
  const size = data.shape[axis];
  const picks = ints(node, indices, 'the indices').map((i) => {
    if (!(i >= -size && i < size)) throw nodeError(node, `index ${i} is out of range for axis ${axis} of size ${size}`);
    return i < 0 ? i + size : i;
  });
  const { values } = take(node, data, axis, picks);
  return tensor(node.outputs[0], [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)], data.dtype, values);
}

function slice(node: GraphNode, x: Inputs, opset: number): ConstTensor {
  const data = x.value(0)!;
  const rank = data.shape.length;
  const fromAttrs = opset < 10;
  const starts = fromAttrs ? intsAttr(node, 'starts') : ints(node, x.value(1), 'the starts');
  const ends = fromAttrs ? intsAttr(node, 'ends') : ints(node, x.value(2), 'the ends');
  const axes = fromAttrs ? intsAttr(node, 'axes', [...starts.keys()]) : x.value(3) ? ints(node, x.value(3), 'the axes') : [...starts.keys()];
  const steps = !fromAttrs && x.value(4) ? ints(node, x.value(4), 'the steps') : starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw nodeError(node, 'starts, ends, axes and steps differ in length');
  }
  let cur: ConstTensor = data;
  axes.forEach((ax, k) => {
    const axis = normAxis(node, ax, rank);
    const size = cur.shape[axis];
    const step = steps[k];
    if (step === 0) throw nodeError(node, 'a step of 0');
    // ONNX clamps starts and ends into the axis (to -1..size-1 when stepping backwards).
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + size : v, lo), hi);
    const start = step > 0 ? clamp(starts[k], 0, size) : clamp(starts[k], -1, size - 1);
    const end = step > 0 ? clamp(ends[k], 0, size) : clamp(ends[k], -1, size - 1);
    const picks: number[] = [];
    for (let i = start; step > 0 ? i < end : i > end; i += step) picks.push(i);
    const { shape, values } = take(node, cur, axis, picks);
    cur = tensor(node.outputs[0], shape, cur.dtype, values);
  });
  return { ...cur, name: node.outputs[0] };
}

/** Axes from the attribute (before opset 13) or the optional second input. */
function axesOf(node: GraphNode, x: Inputs, opset: number): number[] | undefined {
  if (opset < 13) return node.attrs.axes ? intsAttr(node, 'axes') : undefined;
  return x.value(1) ? ints(node, x.value(1), 'the axes') : undefined;
}

function reshapeTo(node: GraphNode, data: ConstTensor, spec: number[]): number[] {
  const allowZero = intAttr(node, 'allowzero', 0) !== 0;
  const out = spec.map((d, i) => (d === 0 && !allowZero ? (data.shape[i] ?? NaN) : d));
  const known = elementCount(out.filter((d) => d !== -1));
  const total = elementCount(data.shape);
  const unknown = out.filter((d) => d === -1).length;
  const resolved = out.map((d) => (d === -1 ? total / known : d));
  if (unknown > 1 || resolved.some((d) => !Number.isSafeInteger(d) || d < 0) || elementCount(resolved) !== total) {
    throw nodeError(node, `cannot reshape [${data.shape.join(', ')}] to [${spec.join(', ')}]`);
  }
  return resolved;
}

/** ONNX TensorProto element types that fold to integers (bool and every int width). */
const INTEGER_TYPES = new Set([2, 3, 4, 5, 6, 7, 9, 12, 13]);
/** Float, float16, double, bfloat16: folded as float32. */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);

function cast(node: GraphNode, c: ConstTensor): ConstTensor {
  const to = intAttr(node, 'to');
  const name = node.outputs[0];
  if (FLOAT_TYPES.has(to)) return tensor(name, [...c.shape], 'float32', c.data);
  if (!INTEGER_TYPES.has(to)) throw nodeError(node, `casting to element type ${to} is not supported`);
  // Bool (9) keeps only "nonzero"; other integer types truncate toward zero.
  return tensor(name, [...c.shape], 'int64', Array.from(c.data, (v) => (to === 9 ? (v !== 0 ? 1 : 0) : Math.trunc(v))));
}

function constantOfShape(node: GraphNode, shapeValue: ConstTensor): ConstTensor {
  const shape = checkedShape(node, ints(node, shapeValue, 'the shape'));
  const a = node.attrs.value;
  const fill: ConstTensor = a?.kind === 'tensor' ? a.value : tensor('', [1], 'float32', [0]);
  if (fill.data.length !== 1) throw nodeError(node, 'the value must hold one element');
  return tensor(node.outputs[0], shape, fill.dtype, new Array<number>(elementCount(shape)).fill(fill.data[0]));
}

function range(node: GraphNode, start: ConstTensor, limit: ConstTensor, delta: ConstTensor): ConstTensor {
  const [s, l, d] = [start, limit, delta].map((c) => {
    if (c.data.length !== 1) throw nodeError(node, 'start, limit and delta must be scalars');
    return c.data[0];
  });
  if (d === 0) throw nodeError(node, 'a delta of 0');
  const n = checkedShape(node, [Math.max(Math.ceil((l - s) / d), 0)])[0];
  return tensor(node.outputs[0], [n], start.dtype, Array.from({ length: n }, (_, i) => s + i * d));
}

/** The value of one foldable node from its inputs' values (and, for Shape, its input's shape). */
export function evaluateNode(node: GraphNode, x: Inputs, opset: number): ConstTensor {
  const name = node.outputs[0];
  const need = (i: number): ConstTensor => {
    const c = x.value(i);
    if (!c) throw nodeError(node, `input ${i} is missing`);
    return c;
  };
  switch (node.op) {
    case 'Shape': {
      const shape = x.shape(0);
      // Opset 15 added start/end, clamped into the rank like Slice's.
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + shape.length : v, 0), shape.length);
      const dims = shape.slice(clamp(intAttr(node, 'start', 0)), clamp(intAttr(node, 'end', shape.length)));
      return tensor(name, [dims.length], 'int64', dims);
    }
    case 'Size':
      return tensor(name, [], 'int64', [elementCount(x.shape(0))]);
    case 'Identity':
      return { ...need(0), name };
    case 'Gather':
      return gather(node, need(0), need(1));
    case 'Slice':
      return slice(node, x, opset);
    case 'Squeeze': {
      const c = need(0);
      const axes = axesOf(node, x, opset)?.map((a) => normAxis(node, a, c.shape.length));
      if (axes?.some((a) => c.shape[a] !== 1)) throw nodeError(node, `cannot squeeze axes [${axes.join(', ')}] of [${c.shape.join(', ')}]`);
      return { ...c, name, shape: c.shape.filter((d, a) => (axes ? !axes.includes(a) : d !== 1)) };
    }
    case 'Unsqueeze': {
      const c = need(0);
      const axes = axesOf(node, x, opset);
      if (!axes) throw nodeError(node, 'the axes are missing');
      const rank = c.shape.length + axes.length;
      const at = new Set(axes.map((a) => normAxis(node, a, rank)));
      if (at.size !== axes.length) throw nodeError(node, `repeated axes [${axes.join(', ')}]`);
      const rest = [...c.shape];
      return { ...c, name, shape: Array.from({ length: rank }, (_, a) => (at.has(a) ? 1 : rest.shift()!)) };
    }
    case 'Concat': {
      const parts = node.inputs.map((_, i) => need(i));
      const rank = parts[0].shape.length;
      const axis = normAxis(node, intAttr(node, 'axis'), rank);
      const outer = elementCount(parts[0].shape.slice(0, axis));
      const shape = [...parts[0].shape];
      shape[axis] = 0;
      for (const p of parts) {
        if (p.dtype !== parts[0].dtype || p.shape.length !== rank || p.shape.some((d, a) => a !== axis && d !== parts[0].shape[a])) {
          throw nodeError(node, `inputs [${parts.map((q) => q.shape.join(', ')).join('] and [')}] do not concatenate on axis ${axis}`);
        }
        shape[axis] += p.shape[axis];
      }
      const values: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const block = p.data.length / outer;
          for (let k = 0; k < block; k++) values.push(p.data[o * block + k]);
        }
      }
      return tensor(name, checkedShape(node, shape), parts[0].dtype, values);
    }
    case 'Cast':
      return cast(node, need(0));
    case 'Reshape': {
      const c = need(0);
      return { ...c, name, shape: reshapeTo(node, c, ints(node, need(1), 'the target shape')) };
    }
    case 'Expand': {
      const c = need(0);
      const out = broadcast(node, c.shape, ints(node, need(1), 'the shape'));
      return tensor(name, out, c.dtype, Array.from(broadcastIndex(out, c.shape), (j) => c.data[j]));
    }
    case 'ConstantOfShape':
      return constantOfShape(node, need(0));
    case 'Range':
      return range(node, need(0), need(1), need(2));
    case 'Neg': {
      const c = need(0);
      return tensor(name, [...c.shape], c.dtype, Array.from(c.data, (v) => -v));
    }
    case 'Sqrt': {
      // Attention scales 1 / sqrt(head size) with the head size measured from a shape.
      const c = need(0);
      if (!isFloat(c)) throw nodeError(node, 'the square root of integers is not defined in ONNX');
      return tensor(name, [...c.shape], c.dtype, Array.from(c.data, Math.sqrt));
    }
    case 'Where': {
      const [cond, a, b] = [need(0), need(1), need(2)];
      const out = broadcast(node, broadcast(node, cond.shape, a.shape), b.shape);
      const [ic, ia, ib] = [cond, a, b].map((t) => broadcastIndex(out, t.shape));
      return tensor(name, out, a.dtype, Array.from(ic, (j, i) => (cond.data[j] !== 0 ? a.data[ia[i]] : b.data[ib[i]])));
    }
    default:
      return binary(node, need(0), need(1));
  }
}

/**
 * The value of `name` (a constant, or a value of `folding`) for the geometry described by
 * `shapes`, the logical shapes of the computed tensors. Memoized per shapes map.
 */
export function foldedValue(
  folding: ShapeFolding,
  constants: ReadonlyMap<string, ConstTensor>,
  opset: number,
  name: string,
  shapes: ReadonlyMap<string, readonly number[]>,
): ConstTensor | undefined {
  const c = constants.get(name);
  if (c || !folding.sources.has(name)) return c;
  let memo = memos.get(shapes);
  if (!memo) memos.set(shapes, (memo = new Map()));
  const known = memo.get(name);
  if (known) return known;
  const node = producers(folding).get(name)!;
  const value = (n: string) => foldedValue(folding, constants, opset, n, shapes);
  const result = evaluateNode(
    node,
    {
      value: (i) => (node.inputs[i] ? value(node.inputs[i]) : undefined),
      shape: (i) => {
        const input = node.inputs[i];
        const s = shapes.get(input) ?? value(input)?.shape;
        if (!s) throw nodeError(node, `the shape of "${input}" is not known here`);
        return s;
      },
    },
    opset,
  );
  memo.set(name, result);
  return result;
}

const memos = new WeakMap<ReadonlyMap<string, readonly number[]>, Map<string, ConstTensor>>();
const producerMaps = new WeakMap<ShapeFolding, Map<string, GraphNode>>();

function producers(folding: ShapeFolding): Map<string, GraphNode> {
  let m = producerMaps.get(folding);
  if (!m) producerMaps.set(folding, (m = new Map(folding.nodes.map((n) => [n.outputs[0], n]))));
  return m;
}

/** The computed tensors whose shapes the node's inputs are folded from (empty when none are). */
export function shapeSources(folding: ShapeFolding, node: GraphNode): string[] {
  return [...new Set(node.inputs.flatMap((i) => folding.sources.get(i) ?? []))];
}
