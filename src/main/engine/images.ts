// Natural images for the engine: JPEG and PNG files decoded to RGB, resized (short side, bilinear)
// and centre-cropped the way ImageNet models are evaluated, as pixel data for a [N, H, W, 3]
// tensor with values 0..255.
import { readFile } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export interface RgbImage {
  width: number;
  height: number;
  /** Row-major RGB, 0..255: 8-bit as decoded (a quarter of the memory), float once resampled. */
  data: Uint8Array | Float32Array;
}

/** Largest decoded image accepted (pixels), far above any photo the analyses use. */
const MAX_PIXELS = 100e6;

export function decodeImage(bytes: Uint8Array, name = 'image'): RgbImage {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    // jpeg-js always returns RGBA, greyscale included.
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6 });
    return fromRgba(img.data, img.width, img.height);
  }
  if (bytes[0] === 0x89 && bytes[1] === 0x50) {
    // pngjs expands palette and greyscale to RGBA and composites nothing: alpha is dropped.
    const img = PNG.sync.read(Buffer.from(bytes));
    if (img.width * img.height > MAX_PIXELS) throw new Error(`${name}: ${img.width}x${img.height} is too large`);
    return fromRgba(img.data, img.width, img.height);
  }
  throw new Error(`${name}: not a JPEG or PNG image`);
}

function fromRgba(rgba: Uint8Array, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    data[i * 3] = rgba[j];
    data[i * 3 + 1] = rgba[j + 1];
    data[i * 3 + 2] = rgba[j + 2];
  }
  return { width, height, data };
}

/** Per output position: the first input index and the normalized weights of the inputs it mixes. */
function triangleWeights(inSize: number, outSize: number, antialias: boolean): { first: number; weights: number[] }[] {
  const scale = inSize / outSize;
  // Downscaling widens the triangle to the output pixel's footprint (antialiasing, as PIL does);
  // without it the triangle stays one pixel wide: plain bilinear interpolation of the two nearest.
  const width = antialias ? Math.max(scale, 1) : 1;
  return Array.from({ length: outSize }, (_, i) => {
    const centre = (i + 0.5) * scale;
    const first = Math.max(0, Math.floor(centre - width + 0.5));
    const last = Math.min(inSize, Math.floor(centre + width + 0.5));
    const weights: number[] = [];
    for (let j = first; j < last; j++) weights.push(Math.max(0, 1 - Math.abs((j + 0.5 - centre) / width)));
    const sum = weights.reduce((a, b) => a + b, 0);
    return { first, weights: weights.map((w) => w / sum) };
  });
}

/**
 * Bilinear (triangle-filter) resize with pixel centres at +0.5, antialiased when shrinking, as
 * PIL's BILINEAR resampling that torchvision's Resize uses; done in float, without 8-bit rounding.
 * `antialias: false` interpolates the nearest two pixels only, as tf.image.resizeBilinear does
 * with half-pixel centres.
 */
export function resizeBilinear(img: RgbImage, width: number, height: number, { antialias = true } = {}): RgbImage {
  const cols = triangleWeights(img.width, width, antialias);
  const rows = triangleWeights(img.height, height, antialias);
  const mid = new Float32Array(img.height * width * 3);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < width; x++) {
      const { first, weights } = cols[x];
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < weights.length; k++) v += weights[k] * img.data[(y * img.width + first + k) * 3 + c];
        mid[(y * width + x) * 3 + c] = v;
      }
    }
  }
  const out = new Float32Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    const { first, weights } = rows[y];
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < weights.length; k++) v += weights[k] * mid[((first + k) * width + x) * 3 + c];
        out[(y * width + x) * 3 + c] = v;
      }
    }
  }
  return { width, height, data: out };
}

export function centreCrop(img: RgbImage, size: number): RgbImage {
  if (img.width < size || img.height < size) throw new Error(`cannot crop ${size}x${size} from ${img.width}x${img.height}`);
  const left = Math.floor((img.width - size) / 2);
  const top = Math.floor((img.height - size) / 2);
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const from = ((top + y) * img.width + left) * 3;
    out.set(img.data.subarray(from, from + size * 3), y * size * 3);
  }
  return { width: size, height: size, data: out };
}

/** The standard evaluation view: short side to `resize`, then the central `crop` square. */
export function evaluationView(img: RgbImage, resize = 256, crop = 224): RgbImage {
  const scale = resize / Math.min(img.width, img.height);
  const w = Math.max(crop, Math.round(img.width * scale));
  const h = Math.max(crop, Math.round(img.height * scale));
  return centreCrop(resizeBilinear(img, w, h), crop);
}

export interface ImageBatch {
  /** Data of a [N, size, size, 3] tensor, RGB 0..255. */
  data: Float32Array;
  shape: [number, number, number, number];
}

/** Reads image files and returns their evaluation views as one batch. */
export async function loadImageBatch(files: readonly string[], resize = 256, crop = 224): Promise<ImageBatch> {
  const data = new Float32Array(files.length * crop * crop * 3);
  for (const [i, file] of files.entries()) {
    const view = evaluationView(decodeImage(new Uint8Array(await readFile(file)), file), resize, crop);
    data.set(view.data, i * crop * crop * 3);
  }
  return { data, shape: [files.length, crop, crop, 3] };
}
