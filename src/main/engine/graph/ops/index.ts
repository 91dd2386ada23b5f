// The operators the executor runs, by ONNX op type. Constant is not here: the planner folds it.
import { conv, convTranspose } from './conv';
import { gemm, matMul } from './dense';
import { batchNormalization, lrn } from './norm';
import { add, clip, div, identity, leakyRelu, mul, relu, sigmoid, sub, tanh } from './pointwise';
import { averagePool, globalAveragePool, maxPool } from './pool';
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
};

export const SUPPORTED_OPS = [...Object.keys(OPS), 'Constant'].sort();
