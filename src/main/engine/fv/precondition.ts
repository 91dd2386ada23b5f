// Gradient preconditioning of METHODS §2: the gradient of each image is taken to the 2-D Fourier
// domain, each frequency divided by sqrt(|f|) (cycles per image; the DC term kept), the gains
// normalized to mean 1 over the full spectrum, and taken back. This favours the low frequencies
// that plain pixel gradients starve, without changing the overall step size.
import type * as tf from '@tensorflow/tfjs';
import { frequencyMagnitudes, halfSpectrumWeights, planeFilter, type PlaneFilter } from '../fourier';

/** Gain of every half-spectrum entry [H, floor(W/2)+1], row-major, with mean 1 over the full spectrum. */
export function preconditionGains(height: number, width: number): Float32Array {
  const f = frequencyMagnitudes(height, width, 'cycles-per-image');
  const gains = f.map((v) => (v === 0 ? 1 : 1 / Math.sqrt(v)));
  const colWeights = halfSpectrumWeights(width);
  const half = colWeights.length;
  let sum = 0;
  gains.forEach((g, i) => (sum += g * colWeights[i % half]));
  const mean = sum / (height * width);
  return gains.map((g) => g / mean);
}

export class FourierPreconditioner {
  private readonly filter: PlaneFilter;

  constructor(
    readonly height: number,
    readonly width: number,
  ) {
    this.filter = planeFilter(height, width, preconditionGains(height, width));
  }

  /** The preconditioned gradient, same shape as `grad` ([N, H, W, C]). */
  apply(grad: tf.Tensor4D): tf.Tensor4D {
    return this.filter.apply(grad);
  }

  dispose(): void {
    this.filter.dispose();
  }
}
