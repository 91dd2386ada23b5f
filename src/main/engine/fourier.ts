// 2-D real Fourier transforms of NHWC image batches, written as products with cos/sin DFT bases.
// tfjs has no rfft2d gradient and the wasm backend has no complex kernels; matrix products run
// and differentiate on every backend, and at feature-visualization sizes (tens to a few hundred
// pixels) they are as fast as an FFT would be.
import * as tf from '@tensorflow/tfjs';

/** Half spectrum of real images: [N, H, floor(W/2)+1, C], real and imaginary parts. */
export interface Spectrum {
  re: tf.Tensor4D;
  im: tf.Tensor4D;
}

/**
 * Scaling of the transform pair, as in numpy: `backward` leaves the forward transform unscaled
 * and divides the inverse by H*W; `ortho` divides both by sqrt(H*W).
 */
export type FourierNorm = 'backward' | 'ortho';

/** The DFT bases for one image size. Owned by the cache below; get one with `acquireDftBasis`. */
export interface DftBasis {
  readonly height: number;
  readonly width: number;
  /** floor(W/2) + 1: the columns of the half spectrum. */
  readonly halfWidth: number;
  /** [H, H]: cos and sin of 2 pi k y / H (symmetric). */
  readonly cosH: tf.Tensor2D;
  readonly sinH: tf.Tensor2D;
  /** [W, halfWidth]: cos and sin of 2 pi l x / W. */
  readonly cosW: tf.Tensor2D;
  readonly sinW: tf.Tensor2D;
  /** [halfWidth, W]: the same, times the weight of column l in the inverse (1 or 2, see below). */
  readonly cosWInv: tf.Tensor2D;
  readonly sinWInv: tf.Tensor2D;
}

interface CacheEntry {
  basis: DftBasis;
  users: number;
}

const cache = new Map<string, CacheEntry>();

/**
 * Weight of each half-spectrum column in sums over the full spectrum: column l stands for
 * itself and its mirror W - l, except l = 0 and (for even W) l = W/2, which have no mirror.
 */
export function halfSpectrumWeights(width: number): Float32Array {
  const half = Math.floor(width / 2) + 1;
  const w = new Float32Array(half).fill(2);
  w[0] = 1;
  if (width % 2 === 0) w[half - 1] = 1;
  return w;
}

function trigMatrix(rows: number, cols: number, f: (r: number, c: number) => number): tf.Tensor2D {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = f(r, c);
  return tf.keep(tf.tensor2d(data, [rows, cols]));
}

function buildBasis(h: number, w: number): DftBasis {
  const half = Math.floor(w / 2) + 1;
  const weights = halfSpectrumWeights(w);
  // Angles reduced modulo the period before cos/sin keep float32 bases exact to ~1e-7.
  const angH = (k: number, y: number) => (2 * Math.PI * ((k * y) % h)) / h;
  const angW = (l: number, x: number) => (2 * Math.PI * ((l * x) % w)) / w;
  return {
    height: h,
    width: w,
    halfWidth: half,
    cosH: trigMatrix(h, h, (k, y) => Math.cos(angH(k, y))),
    sinH: trigMatrix(h, h, (k, y) => Math.sin(angH(k, y))),
    cosW: trigMatrix(w, half, (x, l) => Math.cos(angW(l, x))),
    sinW: trigMatrix(w, half, (x, l) => Math.sin(angW(l, x))),
    cosWInv: trigMatrix(half, w, (l, x) => weights[l] * Math.cos(angW(l, x))),
    sinWInv: trigMatrix(half, w, (l, x) => weights[l] * Math.sin(angW(l, x))),
  };
}

/**
 * The bases for an H x W image, shared by everyone who uses that size. Each acquire must be
 * paired with one `releaseDftBasis`; the last release frees the tensors.
 */
export function acquireDftBasis(height: number, width: number): DftBasis {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new Error(`DFT basis: image size must be positive integers, got ${height} x ${width}`);
  }
  const key = `${height}x${width}`;
  let entry = cache.get(key);
  if (!entry) {
    entry = { basis: buildBasis(height, width), users: 0 };
    cache.set(key, entry);
  }
  entry.users++;
  return entry.basis;
}

export function releaseDftBasis(basis: DftBasis): void {
  const key = `${basis.height}x${basis.width}`;
  const entry = cache.get(key);
  if (!entry || entry.basis !== basis) throw new Error(`DFT basis ${key} released but not held`);
  if (--entry.users > 0) return;
  cache.delete(key);
  const b = entry.basis;
  tf.dispose([b.cosH, b.sinH, b.cosW, b.sinW, b.cosWInv, b.sinWInv]);
}

function checkImages(x: tf.Tensor4D, basis: DftBasis): void {
  const [, h, w] = x.shape;
  if (h !== basis.height || w !== basis.width) {
    throw new Error(`rfft2d: images are ${h} x ${w} but the basis is for ${basis.height} x ${basis.width}`);
  }
}

/**
 * Forward 2-D DFT over H and W of real NHWC images, half spectrum along W:
 * X[k, l] = sum_y sum_x x[y, x] exp(-2 pi i (k y / H + l x / W)).
 */
export function rfft2d(x: tf.Tensor4D, basis: DftBasis, norm: FourierNorm = 'backward'): Spectrum {
  checkImages(x, basis);
  const [n, h, w, c] = x.shape;
  const half = basis.halfWidth;
  return tf.tidy(() => {
    // Along W (real input): Z = x (cos - i sin), one product over all rows [n c h, w].
    const rows = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [n * c * h, w]);
    const zRe = tf.reshape(tf.matMul(rows, basis.cosW), [n * c, h, half]);
    const zIm = tf.reshape(tf.matMul(rows, basis.sinW), [n * c, h, half]); // the negated imaginary part
    // Along H (complex): X = sum_y (cos - i sin)[k, y] Z[y], the basis broadcast over the batch.
    const cos = tf.reshape(basis.cosH, [1, h, h]);
    const sin = tf.reshape(basis.sinH, [1, h, h]);
    let re = tf.sub(tf.matMul(cos, zRe), tf.matMul(sin, zIm));
    let im = tf.neg(tf.add(tf.matMul(cos, zIm), tf.matMul(sin, zRe)));
    if (norm === 'ortho') {
      const s = 1 / Math.sqrt(h * w);
      re = tf.mul(re, s);
      im = tf.mul(im, s);
    }
    const back = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [n, c, h, half]), [0, 2, 3, 1]) as tf.Tensor4D;
    return { re: back(re), im: back(im) };
  });
}

/**
 * Inverse of `rfft2d`: real images from a half spectrum, the missing columns taken as the
 * complex conjugates of their mirrors (so imaginary parts of self-mirrored columns are ignored,
 * as numpy's irfft2 does).
 */
export function irfft2d(s: Spectrum, basis: DftBasis, norm: FourierNorm = 'backward'): tf.Tensor4D {
  const [n, h, half, c] = s.re.shape;
  if (h !== basis.height || half !== basis.halfWidth || s.im.shape.join() !== s.re.shape.join()) {
    throw new Error(
      `irfft2d: spectrum ${s.re.shape.join('x')} / ${s.im.shape.join('x')} does not fit the ${basis.height} x ${basis.width} basis`,
    );
  }
  const w = basis.width;
  return tf.tidy(() => {
    const planes = (t: tf.Tensor4D) => tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [n * c, h, half]);
    const re = planes(s.re);
    const im = planes(s.im);
    // Along H (complex): Z[y] = sum_k (cos + i sin)[y, k] X[k] (the bases are symmetric).
    const cos = tf.reshape(basis.cosH, [1, h, h]);
    const sin = tf.reshape(basis.sinH, [1, h, h]);
    const zRe = tf.reshape(tf.sub(tf.matMul(cos, re), tf.matMul(sin, im)), [n * c * h, half]);
    const zIm = tf.reshape(tf.add(tf.matMul(sin, re), tf.matMul(cos, im)), [n * c * h, half]);
    // Along W (Hermitian): x = sum_l weight_l (zRe cos - zIm sin).
    const rows = tf.sub(tf.matMul(zRe, basis.cosWInv), tf.matMul(zIm, basis.sinWInv));
    const scale = norm === 'ortho' ? 1 / Math.sqrt(h * w) : 1 / (h * w);
    return tf.transpose(tf.reshape(tf.mul(rows, scale), [n, c, h, w]), [0, 2, 3, 1]) as tf.Tensor4D;
  });
}

/** Frequency units: cycles per pixel, or cycles per image (cycles per pixel times max(H, W)). */
export type FrequencyUnit = 'cycles-per-pixel' | 'cycles-per-image';

/**
 * |f| for every entry of the half spectrum, row-major [H, floor(W/2)+1]. Row k stands for the
 * signed frequency k/H (k <= H/2) or (k - H)/H; column l for l/W.
 */
export function frequencyMagnitudes(height: number, width: number, unit: FrequencyUnit): Float32Array {
  const half = Math.floor(width / 2) + 1;
  const scale = unit === 'cycles-per-image' ? Math.max(height, width) : 1;
  const out = new Float32Array(height * half);
  for (let k = 0; k < height; k++) {
    const fy = (k <= height / 2 ? k : k - height) / height;
    for (let l = 0; l < half; l++) out[k * half + l] = Math.hypot(fy, l / width) * scale;
  }
  return out;
}

/**
 * A stationary linear filter of every image plane, y = irfft2d(gain * rfft2d(x)), for a real gain
 * that is even in frequency (a function of |f|), so the filter is a symmetric circulant matrix.
 */
export interface PlaneFilter {
  /** The filtered images, same shape as `x` ([N, H, W, C], every plane filtered alike). */
  apply(x: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

/**
 * Planes up to this many pixels are filtered with one dense [HW, HW] matrix product instead of
 * the transform pair: the RF-sized images of diverse runs (26 px on VGG-19 relu3_1) then cost
 * one matrix product, where the pair costs about forty small kernels whose launch overhead
 * dominates a one-unit step. Above it the matrix grows as (HW)^2 and the pair is cheaper.
 */
export const DENSE_FILTER_MAX_PIXELS = 1024;

/**
 * The filter with the given gain on the half spectrum ([H, floor(W/2)+1], row-major). `dense`
 * forces one form (both give the same result); by default the size decides.
 */
export function planeFilter(height: number, width: number, halfGain: Float32Array, dense = height * width <= DENSE_FILTER_MAX_PIXELS): PlaneFilter {
  const half = Math.floor(width / 2) + 1;
  if (halfGain.length !== height * half) throw new Error(`plane filter: ${halfGain.length} gains for a ${height} x ${half} half spectrum`);
  return dense ? denseFilter(height, width, halfGain) : spectralFilter(height, width, halfGain);
}

function spectralFilter(height: number, width: number, halfGain: Float32Array): PlaneFilter {
  const basis = acquireDftBasis(height, width);
  const gain = tf.keep(tf.tensor4d(halfGain, [1, height, basis.halfWidth, 1]));
  return {
    apply: (x) =>
      tf.tidy(() => {
        const s = rfft2d(x, basis);
        return irfft2d({ re: tf.mul(s.re, gain), im: tf.mul(s.im, gain) }, basis);
      }),
    dispose: () => {
      gain.dispose();
      releaseDftBasis(basis);
    },
  };
}

/** Circulant matrices already built, by size and gain: optimizations make their filters anew each run. */
const circulants = new Map<string, Float32Array>();
const CIRCULANTS_KEPT = 8;

/**
 * The circulant matrix M[p, q] = k(p - q) with the kernel k = irfft2d(gain), built in float64:
 * k(dy, dx) = 1/(HW) sum over the half spectrum of weight_l gain[j, l] cos(2 pi (j dy / H + l dx / W)).
 * About 10 ms for 26 x 26, so the last few are kept.
 */
function circulant(height: number, width: number, halfGain: Float32Array): Float32Array {
  const key = `${height}x${width}:${halfGain.join(',')}`;
  const kept = circulants.get(key);
  if (kept) return kept;
  const n = height * width;
  const weights = halfSpectrumWeights(width);
  const half = weights.length;
  const kernel = new Float64Array(n);
  for (let dy = 0; dy < height; dy++) {
    for (let dx = 0; dx < width; dx++) {
      let s = 0;
      for (let j = 0; j < height; j++) {
        for (let l = 0; l < half; l++) s += weights[l] * halfGain[j * half + l] * Math.cos((2 * Math.PI * (((j * dy) % height) / height + ((l * dx) % width) / width)));
      }
      kernel[dy * width + dx] = s / n;
    }
  }
  const m = new Float32Array(n * n);
  for (let p = 0; p < n; p++) {
    const [py, px] = [Math.floor(p / width), p % width];
    for (let q = 0; q < n; q++) m[p * n + q] = kernel[((py - Math.floor(q / width) + height) % height) * width + ((px - (q % width) + width) % width)];
  }
  if (circulants.size >= CIRCULANTS_KEPT) circulants.delete(circulants.keys().next().value!);
  circulants.set(key, m);
  return m;
}

function denseFilter(height: number, width: number, halfGain: Float32Array): PlaneFilter {
  const n = height * width;
  const m = circulant(height, width, halfGain);
  const matrix = tf.keep(tf.tensor2d(m, [n, n]));
  return {
    apply: (x) =>
      tf.tidy(() => {
        const [b, h, w, c] = x.shape;
        if (h !== height || w !== width) throw new Error(`plane filter: images are ${h} x ${w} but the filter is for ${height} x ${width}`);
        // Pixels as rows, every (image, channel) plane a column: one product filters them all.
        const planes = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [n, b * c]);
        return tf.transpose(tf.reshape(tf.matMul(matrix, planes), [h, w, b, c]), [2, 0, 1, 3]) as tf.Tensor4D;
      }),
    dispose: () => matrix.dispose(),
  };
}
