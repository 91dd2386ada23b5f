// Silent starts: a unit behind a rectifier that is off for a starting noise image has zero
// gradient there, so that image would never move. Such images are redrawn from fresh noise
// (derived seeds, so runs stay repeatable) before the optimization begins.
import * as tf from '@tensorflow/tfjs';
import type { NetworkModel } from '../model';
import { unitActivations, type UnitSpec } from './objectives';
import type { PixelImages } from './parameterization';

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
export function redrawSilentStarts(
  model: NetworkModel,
  images: PixelImages,
  spec: UnitSpec,
  seeds: readonly number[],
  maxRedraws: number,
): number[] {
  let silent: number[] = [];
  for (let attempt = 0; attempt <= maxRedraws; attempt++) {
    const acts = tf.tidy(() => {
      const pixels = images.render();
      return unitActivations(model.forward(pixels, [spec.layer])[spec.layer], spec).dataSync();
    });
    silent = [];
    acts.forEach((a, r) => {
      if (!(a > 0)) silent.push(r);
    });
    if (silent.length === 0 || attempt === maxRedraws) break;
    images.redraw(
      silent,
      silent.map((r) => deriveSeed(seeds[r], 'redraw', attempt + 1)),
    );
  }
  return silent;
}
