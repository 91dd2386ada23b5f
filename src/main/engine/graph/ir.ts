// The format-neutral description of a network graph that every format reader produces and the
// executor runs. Tensors are in the ONNX logical layout (NCHW, OIHW); the executor converts.

/** A constant tensor: float data for weights, integers (shapes, pads) as exact doubles. */
export type ConstTensor = { name: string; shape: number[] } & (
  | { dtype: 'float32'; data: Float32Array }
  | { dtype: 'int64'; data: Float64Array }
);

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: ConstTensor }
  /** An attribute type no supported operator uses (graphs, sparse tensors...); kept for messages. */
  | { kind: 'other'; type: string };

export interface GraphNode {
  /** Never empty: readers name unnamed nodes after their op and position. */
  name: string;
  op: string;
  /** Tensor names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface GraphInput {
  name: string;
  /** Logical (NCHW) shape; null for a dynamic dimension. */
  shape: (number | null)[];
}

export interface GraphDescription {
  /** What the messages call the model (usually the file name). */
  source: string;
  /** Operator set version of the default domain; some operators changed meaning across versions. */
  opset: number;
  inputs: GraphInput[];
  outputs: string[];
  /** In file order (ONNX requires a topological order; the executor sorts anyway). */
  nodes: GraphNode[];
  initializers: Map<string, ConstTensor>;
  /** Free-form key/value metadata of the file. */
  metadata: Record<string, string>;
}

/** Metadata key whose value (JSON of an InputConvention) states the model's input convention. */
export const CONVENTION_METADATA_KEY = 'artiphys.input_convention';

/** Largest element count any one tensor may have (1 GiB of float32). */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
