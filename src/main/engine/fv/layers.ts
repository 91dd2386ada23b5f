// Which layer the diversity term measures distances in (METHODS §2): by default the
// convolutional layer preceding the unit's own, after its nonlinearity where the model lists one.
import type { NetworkModel } from '../model';
import { findLayer } from '../model';
import { PIXELS } from './objectives';

/** Ops that transform a conv output point by point: they belong to that conv's layer. */
const POINTWISE = new Set(['Relu', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Clip', 'BatchNormalization', 'Softplus', 'Gelu']);
const ACTIVATIONS = new Set(['Relu', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Clip', 'Softplus', 'Gelu']);

/**
 * The layer whose features the diversity term compares for a unit of `layerName`: the nearest
 * convolution before the one that produces the layer (a layer made of pointwise ops on a conv
 * belongs to that conv), taken after its activation function if the next listed layer is one.
 * Pixels when there is no earlier convolution. Layers are assumed listed in execution order;
 * a model that lists no Conv layers at all gets the layer listed just before.
 */
export function precedingConvLayer(model: NetworkModel, layerName: string): string {
  findLayer(model, layerName);
  const layers = model.layers;
  const target = layers.findIndex((l) => l.name === layerName);
  // A model that lists no convolutions (only their outputs under other ops): the layer before.
  if (!layers.some((l) => l.op === 'Conv')) return target > 0 ? layers[target - 1].name : PIXELS;
  let own = target;
  while (own > 0 && POINTWISE.has(layers[own].op)) own--;
  if (layers[own].op !== 'Conv') own = target;
  for (let i = own - 1; i >= 0; i--) {
    if (layers[i].op !== 'Conv') continue;
    const next = layers[i + 1];
    return next && ACTIVATIONS.has(next.op) ? next.name : layers[i].name;
  }
  return PIXELS;
}
