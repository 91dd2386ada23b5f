// Natural-image statistics for the norm constraint and the Gaussian prior (METHODS §2): patches
// of the user's images, taken at the scale a network sees them (short side resized to 256 px, as
// in the usual ImageNet preprocessing), their mean norm after subtracting each patch's own mean
// per channel, and the power-law fit of their power spectrum.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeImage, resizeBilinear, type RgbImage } from '../images';
import { take } from '../read';
import { mulberry32 } from '../../../shared/math/random';
import { acquireDftBasis, frequencyMagnitudes, releaseDftBasis, rfft2d } from '../fourier';
import type { PowerLawSpectrum } from './prior';

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'];
/** Short side the images are resized to before patches are cut. */
export const NATURAL_SHORT_SIDE = 256;

/** The images of a folder (JPEG, PNG), sorted by name, at most `limit`. */
export function loadImageFolder(dir: string, limit = Infinity): RgbImage[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`image folder ${dir} does not exist`);
  const files = fs
    .readdirSync(dir)
    .filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase()))
    .sort()
    .slice(0, limit);
  if (files.length === 0) throw new Error(`image folder ${dir} has no JPEG or PNG images`);
  return files.map((f) => {
    const file = path.join(dir, f);
    return decodeImage(fs.readFileSync(file), file);
  });
}

/**
 * Bilinear resize so the short side is `shortSide`, as float RGB 0..255 [H, W, 3]. Not
 * antialiased: the stored statistics (shared/math/natural-images.ts) were measured this way, and
 * antialiasing would steepen the fitted spectrum (exponent about 3.3 instead of 2.6).
 */
function resizeShortSide(img: RgbImage, shortSide: number): tf.Tensor3D {
  const s = shortSide / Math.min(img.width, img.height);
  const [w, h] = [Math.round(img.width * s), Math.round(img.height * s)];
  return tf.tensor3d(resizeBilinear(img, w, h, { antialias: false }).data, [h, w, 3]);
}

/**
 * `count` random side x side patches (RGB 0..255, NHWC), spread evenly over the images, from a
 * seeded generator so the statistics are repeatable.
 */
export function samplePatches(images: readonly RgbImage[], side: number, count: number, seed: number): tf.Tensor4D {
  if (images.length === 0) throw new Error('no images to cut patches from');
  const rand = mulberry32(seed);
  const perImage = Math.ceil(count / images.length);
  const crops: tf.Tensor3D[] = [];
  for (const img of images) {
    const big = resizeShortSide(img, Math.max(NATURAL_SHORT_SIDE, side));
    const [h, w] = big.shape;
    for (let k = 0; k < perImage && crops.length < count; k++) {
      const y = Math.floor(rand() * (h - side + 1));
      const x = Math.floor(rand() * (w - side + 1));
      crops.push(tf.slice(big, [y, x, 0], [side, side, 3]));
    }
    big.dispose();
  }
  const out = tf.stack(crops) as tf.Tensor4D;
  tf.dispose(crops);
  return out;
}

/** Mean over patches of the L2 norm after subtracting each patch's own mean per channel. */
export async function meanPatchNorm(patches: tf.Tensor4D): Promise<number> {
  const norm = tf.tidy(() => {
    const centred = tf.sub(patches, tf.mean(patches, [1, 2], true));
    return tf.mean(tf.sqrt(tf.sum(tf.square(centred), [1, 2, 3])));
  });
  return (await take(norm))[0];
}

/**
 * Least-squares fit of log PSD = log amplitude - exponent log |f| over the non-zero frequencies
 * of the patches' mean power spectrum (each patch's mean removed per channel).
 */
export async function fitPowerSpectrum(patches: tf.Tensor4D): Promise<PowerLawSpectrum> {
  const [, h, w] = patches.shape;
  const basis = acquireDftBasis(h, w);
  try {
    const [power, channelMean] = tf.tidy(() => {
      const s = rfft2d(tf.sub(patches, tf.mean(patches, [1, 2], true)) as tf.Tensor4D, basis);
      return [tf.div(tf.mean(tf.add(tf.square(s.re), tf.square(s.im)), [0, 3]), h * w), tf.mean(patches, [0, 1, 2])];
    });
    const psd = await take(power);
    const mean = Array.from(await take(channelMean));
    const f = frequencyMagnitudes(h, w, 'cycles-per-pixel');
    const xs: number[] = [];
    const ys: number[] = [];
    f.forEach((v, i) => {
      if (v > 0 && psd[i] > 0) {
        xs.push(Math.log(v));
        ys.push(Math.log(psd[i]));
      }
    });
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let sxy = 0;
    let sxx = 0;
    xs.forEach((x, i) => {
      sxy += (x - mx) * (ys[i] - my);
      sxx += (x - mx) ** 2;
    });
    const slope = sxy / sxx;
    return { amplitude: Math.exp(my - slope * mx), exponent: -slope, mean: mean as [number, number, number] };
  } finally {
    releaseDftBasis(basis);
  }
}
