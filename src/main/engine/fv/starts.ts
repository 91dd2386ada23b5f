// Silent starts: a unit behind a rectifier that is off for a starting noise image has zero
// gradient there, so that image would never move. Such images are redrawn from fresh noise
// (derived seeds, so runs stay repeatable) before the optimization begins, and those still
// silent are walked up the unit's pre-activation where the model lists it.
import * as tf from '@tensorflow/tfjs';
import type { NetworkModel } from '../model';
import { unitActivations, type UnitSpec } from './objectives';
import type { ImageParameterization, PixelImages } from './parameterization';
import { take } from '../read';

/** A seed from a base seed and labels (FNV-1a over their decimal forms). */
export function deriveSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('/')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Redraws images whose own unit has activation <= 0, up to `maxRedraws` times each; returns
 * the rows still silent afterwards.
 */
export async function redrawSilentStarts(
  model: NetworkModel,
  images: PixelImages,
  spec: UnitSpec,
  seeds: readonly number[],
  maxRedraws: number,
): Promise<number[]> {
  let silent = await silentRows(model, images, spec);
  for (let attempt = 1; attempt <= maxRedraws && silent.length > 0; attempt++) {
    await images.redraw(
      silent,
      silent.map((r) => deriveSeed(seeds[r], 'redraw', attempt)),
    );
    silent = await silentRows(model, images, spec);
  }
  return silent;
}

/**
 * The layer just before a rectifier, when the model lists it (e.g. a conv output before its
 * ReLU): its value is the unit's pre-activation, whose gradient does not vanish where the unit
 * is off. Null for other layers.
 */
export function preActivationLayer(model: NetworkModel, layerName: string): string | null {
  const i = model.layers.findIndex((l) => l.name === layerName);
  if (i <= 0 || model.layers[i].op !== 'Relu') return null;
  const prev = model.layers[i - 1];
  return prev.shape.join() === model.layers[i].shape.join() ? prev.name : null;
}

/** Each variable row's mean activation of its unit over the images the row renders to: [rows]. */
function rowActivations(model: NetworkModel, param: ImageParameterization, spec: UnitSpec): tf.Tensor1D {
  return tf.tidy(() => {
    const acts = unitActivations(model.forward(param.render(), [spec.layer])[spec.layer], spec);
    return tf.mean(tf.reshape(acts, [param.variable.shape[0], -1]), 1) as tf.Tensor1D;
  });
}

/** The rows (images, textures) whose unit does not respond: mean activation <= 0. */
export async function silentRows(model: NetworkModel, param: ImageParameterization, spec: UnitSpec): Promise<number[]> {
  const acts = await take(rowActivations(model, param, spec));
  return Array.from(acts.keys()).filter((r) => !(acts[r] > 0));
}

/**
 * One step up `values` (one per row) for the given rows of `variable` only: each row moves along
 * its gradient normalized to RMS 1, times `stepSize`; the other rows do not move.
 */
export function ascendRows(variable: tf.Variable, rows: readonly number[], values: () => tf.Tensor1D, stepSize: number): void {
  const mask = new Float32Array(variable.shape[0]);
  for (const r of rows) mask[r] = 1;
  const axes = variable.shape.slice(1).map((_, i) => i + 1);
  tf.tidy(() => {
    const m = tf.tensor1d(mask);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(values(), m)) as tf.Scalar, [variable]);
    const g = grads[variable.name];
    const rms = tf.sqrt(tf.mean(tf.square(g), axes, true));
    variable.assign(tf.add(variable, tf.mul(tf.div(g, tf.maximum(rms, 1e-12)), stepSize)));
  });
}

/**
 * Rows still silent after the redraws are walked up their unit's pre-activation (normalized
 * gradient steps of `stepSize` times the RMS of the variable, constraint kept) until the unit
 * responds, at most `maxSteps` steps; the other rows do not move. Returns the rows still silent.
 */
export async function wakeSilentRows(
  model: NetworkModel,
  param: ImageParameterization,
  spec: UnitSpec,
  preLayer: string,
  silent: readonly number[],
  maxSteps = 200,
  stepSize = 0.1,
): Promise<number[]> {
  let rows = [...silent];
  const preSpec: UnitSpec = { ...spec, layer: preLayer };
  for (let step = 0; step < maxSteps && rows.length > 0; step++) {
    ascendRows(param.variable, rows, () => rowActivations(model, param, preSpec), stepSize);
    param.constrain();
    const stillSilent = new Set(await silentRows(model, param, spec));
    rows = rows.filter((r) => stillSilent.has(r));
  }
  return rows;
}
