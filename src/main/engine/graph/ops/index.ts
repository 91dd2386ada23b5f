// The operators the executor runs, by ONNX op type. Constant is not here: the planner folds it.
import { gather, slice, split, squeeze, transpose, unsqueeze } from './axes';
import { conv, convTranspose } from './conv';
import { gemm, matMul } from './dense';
import { batchNormalization, layerNormalization, lrn } from './norm';
import {
  add, clip, div, erf, exp, gelu, hardSigmoid, hardSwish, identity, leakyRelu, mul, neg, pow, reciprocal, relu, sigmoid, sqrt, sub, tanh,
} from './pointwise';
import { averagePool, globalAveragePool, maxPool } from './pool';
import { reduceMax, reduceMean, reduceSum } from './reduce';
import { resize } from './resize';
import { concat, flatten, pad, reshape, softmax } from './structure';
import type { OpDef } from './types';

export const OPS: Readonly<Record<string, OpDef>> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  Relu: relu,
  LeakyRelu: leakyRelu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Clip: clip,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  BatchNormalization: batchNormalization,
  LRN: lrn,
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Concat: concat,
  Flatten: flatten,
  Reshape: reshape,
  Gemm: gemm,
  MatMul: matMul,
  Dropout: identity,
  Identity: identity,
  Softmax: softmax,
  Pad: pad,
  ReduceMean: reduceMean,
  ReduceSum: reduceSum,
  ReduceMax: reduceMax,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Gather: gather,
  Slice: slice,
  Split: split,
  LayerNormalization: layerNormalization,
  Erf: erf,
  Gelu: gelu,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Sqrt: sqrt,
  Exp: exp,
  Neg: neg,
  Reciprocal: reciprocal,
  Pow: pow,
  Resize: resize,
};

export const SUPPORTED_OPS = [...Object.keys(OPS), 'Constant'].sort();
