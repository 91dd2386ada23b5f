// Image priors log P(x) for feature visualization (METHODS §2). The interface takes pixel images
// so a learned prior (for example a PixelCNN++ exported to ONNX) plugs in the same way as the
// built-in stationary Gaussian prior, which is evaluated in closed form in the Fourier domain.
import * as tf from '@tensorflow/tfjs';
import { acquireDftBasis, frequencyMagnitudes, halfSpectrumWeights, releaseDftBasis, rfft2d, type DftBasis } from '../fourier';

export interface ImagePrior {
  readonly name: string;
  /** log P of each image of `pixels` (RGB 0..255, NHWC), in nats: a tensor [N], differentiable. */
  logDensity(pixels: tf.Tensor4D): tf.Tensor1D;
  dispose(): void;
}

/**
 * A stationary power spectrum falling as a power of frequency:
 * PSD(f) = amplitude * max(|f|, fMin)^-exponent, |f| in cycles per pixel and fMin one cycle per
 * image (1 / max(H, W)), so the DC term gets the variance of the lowest frequency.
 */
export interface PowerLawSpectrum {
  amplitude: number;
  exponent: number;
  /** Mean pixel of the images the spectrum was fitted to, RGB 0..255. */
  mean: [number, number, number];
}

/**
 * Power spectral density of every half-spectrum entry for an H x W image, [H, floor(W/2)+1]
 * row-major: the expected |X(f)|^2 / (H W) of an unnormalized DFT.
 */
export function spectrumGrid(s: PowerLawSpectrum, height: number, width: number): Float32Array {
  const fMin = 1 / Math.max(height, width);
  return frequencyMagnitudes(height, width, 'cycles-per-pixel').map((f) => s.amplitude * Math.max(f, fMin) ** -s.exponent);
}

/**
 * Gaussian prior with the covariance of a stationary process of the given spectrum, the three
 * colour channels independent. For an H x W channel with DFT X and N = H W,
 *   log P = -1/2 [ (1/N) sum_f |X(f)|^2 / PSD(f) + sum_f log PSD(f) + N log(2 pi) ].
 */
export class GaussianSpectrumPrior implements ImagePrior {
  readonly name = 'gaussian-1/f';
  private readonly basis: DftBasis;
  /** 1 / (N PSD(f)) times the column weight of the half spectrum: [1, H, half, 1]. */
  private readonly precision: tf.Tensor4D;
  private readonly mean: tf.Tensor1D;
  /** The normalizing constant per channel: -1/2 (sum_f log PSD + N log 2 pi). */
  private readonly logNormalizer: number;

  constructor(
    readonly spectrum: PowerLawSpectrum,
    readonly height: number,
    readonly width: number,
  ) {
    if (!(spectrum.amplitude > 0) || !Number.isFinite(spectrum.exponent)) {
      throw new Error(`Gaussian prior: amplitude must be positive and exponent finite, got ${spectrum.amplitude}, ${spectrum.exponent}`);
    }
    const n = height * width;
    const psd = spectrumGrid(spectrum, height, width);
    const colWeights = halfSpectrumWeights(width);
    const half = colWeights.length;
    let sumLog = 0;
    psd.forEach((p, i) => (sumLog += colWeights[i % half] * Math.log(p)));
    this.logNormalizer = -0.5 * (sumLog + n * Math.log(2 * Math.PI));
    this.basis = acquireDftBasis(height, width);
    const prec = psd.map((p, i) => colWeights[i % half] / (n * p));
    this.precision = tf.keep(tf.tensor4d(prec, [1, height, half, 1]));
    this.mean = tf.keep(tf.tensor1d(spectrum.mean));
  }

  logDensity(pixels: tf.Tensor4D): tf.Tensor1D {
    return tf.tidy(() => {
      const s = rfft2d(tf.sub(pixels, this.mean) as tf.Tensor4D, this.basis);
      const power = tf.add(tf.square(s.re), tf.square(s.im));
      const quad = tf.sum(tf.mul(power, this.precision), [1, 2, 3]);
      return tf.add(tf.mul(quad, -0.5), 3 * this.logNormalizer) as tf.Tensor1D;
    });
  }

  dispose(): void {
    tf.dispose([this.precision, this.mean]);
    releaseDftBasis(this.basis);
  }
}
