// Typed, validated access to node attributes, and the 2-D window geometry (kernel, strides,
// dilations, pads) that convolutions and pools share, resolved for a given input size.
import { ModelFormatError } from '../errors';
import type { AttrValue, GraphNode } from './ir';

/** Largest kernel, stride, dilation or pad accepted; beyond this a file is broken, not a CNN. */
const MAX_WINDOW = 4096;

export function nodeError(node: GraphNode, msg: string): ModelFormatError {
  return new ModelFormatError(`node ${node.name} (${node.op}): ${msg}`);
}

function attr<K extends AttrValue['kind']>(node: GraphNode, name: string, kinds: K[]): Extract<AttrValue, { kind: K }> | undefined {
  const a = node.attrs[name];
  if (a && !(kinds as string[]).includes(a.kind)) throw nodeError(node, `attribute ${name} has type ${a.kind}, expected ${kinds.join(' or ')}`);
  return a as Extract<AttrValue, { kind: K }> | undefined;
}

export function intAttr(node: GraphNode, name: string, dflt?: number): number {
  const a = attr(node, name, ['int']);
  if (a) return a.value;
  if (dflt === undefined) throw nodeError(node, `attribute ${name} is missing`);
  return dflt;
}

export function intsAttr(node: GraphNode, name: string, dflt?: number[]): number[] {
  const a = attr(node, name, ['ints']);
  if (a) return a.value;
  if (dflt === undefined) throw nodeError(node, `attribute ${name} is missing`);
  return dflt;
}

export function floatAttr(node: GraphNode, name: string, dflt: number): number {
  const a = attr(node, name, ['float', 'int']);
  const v = a ? a.value : dflt;
  if (Number.isNaN(v)) throw nodeError(node, `attribute ${name} is NaN`);
  return v;
}

export function stringAttr(node: GraphNode, name: string, dflt: string): string {
  const a = attr(node, name, ['string']);
  return a ? a.value : dflt;
}

/** Window geometry along H and W, with the padding resolved for one input size. */
export interface Window2D {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  padsBegin: [number, number];
  padsEnd: [number, number];
}

function pair(node: GraphNode, name: string, v: number[], min: number): [number, number] {
  if (v.length !== 2) throw nodeError(node, `${name} has ${v.length} values; only 2-D windows are supported`);
  for (const x of v) {
    if (!(x >= min && x <= MAX_WINDOW)) throw nodeError(node, `${name} value ${x} is out of range ${min}..${MAX_WINDOW}`);
  }
  return [v[0], v[1]];
}

/**
 * Reads kernel_shape (or takes `kernel` from the weights), strides, dilations and pads/auto_pad,
 * and resolves SAME padding for the input size `inHW` as ONNX defines it.
 */
export function window2D(node: GraphNode, inHW: readonly [number, number], kernel?: [number, number]): Window2D {
  const k = node.attrs.kernel_shape ? pair(node, 'kernel_shape', intsAttr(node, 'kernel_shape'), 1) : kernel;
  if (!k) throw nodeError(node, 'attribute kernel_shape is missing');
  if (kernel && (k[0] !== kernel[0] || k[1] !== kernel[1])) {
    throw nodeError(node, `kernel_shape [${k.join(', ')}] does not match the weights' [${kernel.join(', ')}]`);
  }
  const strides = pair(node, 'strides', intsAttr(node, 'strides', [1, 1]), 1);
  const dilations = pair(node, 'dilations', intsAttr(node, 'dilations', [1, 1]), 1);
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  let padsBegin: [number, number] = [0, 0];
  let padsEnd: [number, number] = [0, 0];
  if (autoPad === 'NOTSET') {
    const pads = intsAttr(node, 'pads', [0, 0, 0, 0]);
    if (pads.length !== 4) throw nodeError(node, `pads has ${pads.length} values; 2-D windows need 4`);
    for (const p of pads) if (!(p >= 0 && p <= MAX_WINDOW)) throw nodeError(node, `pad ${p} is out of range 0..${MAX_WINDOW}`);
    padsBegin = [pads[0], pads[1]];
    padsEnd = [pads[2], pads[3]];
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    for (const a of [0, 1]) {
      const span = (k[a] - 1) * dilations[a] + 1;
      const total = Math.max(0, (Math.ceil(inHW[a] / strides[a]) - 1) * strides[a] + span - inHW[a]);
      const small = Math.floor(total / 2);
      padsBegin[a] = autoPad === 'SAME_UPPER' ? small : total - small;
      padsEnd[a] = total - padsBegin[a];
    }
  } else if (autoPad !== 'VALID') {
    throw nodeError(node, `auto_pad "${autoPad}" is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  return { kernel: k, strides, dilations, padsBegin, padsEnd };
}

/** Output size along one axis; pools may round up (ceil_mode), as ONNX and PyTorch do. */
export function windowOutputSize(w: Window2D, axis: 0 | 1, inSize: number, ceilMode = false): number {
  const span = (w.kernel[axis] - 1) * w.dilations[axis] + 1;
  const room = inSize + w.padsBegin[axis] + w.padsEnd[axis] - span;
  if (room < 0) return 0;
  const s = w.strides[axis];
  let out = (ceilMode ? Math.ceil(room / s) : Math.floor(room / s)) + 1;
  // A window that would start entirely in the end padding is dropped.
  if (ceilMode && (out - 1) * s >= inSize + w.padsBegin[axis]) out -= 1;
  return out;
}
