// Image decoding and the evaluation view (short side resized, centre crop), against closed forms.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { centreCrop, decodeImage, evaluationView, loadImageBatch, resizeBilinear, type RgbImage } from '../../../src/main/engine/images';
import { SAMPLES } from './reference';

function image(width: number, height: number, f: (x: number, y: number, c: number) => number): RgbImage {
  const data = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = f(x, y, c);
  return { width, height, data };
}

const at = (img: RgbImage, x: number, y: number, c = 0) => img.data[(y * img.width + x) * 3 + c];

describe('image decoding', () => {
  it('PNG: RGB exactly, greyscale and alpha expanded to RGB', () => {
    const png = new PNG({ width: 3, height: 2 });
    for (let i = 0; i < 6; i++) png.data.set([i * 10, i * 20, i * 30, 128], i * 4);
    const rgb = decodeImage(PNG.sync.write(png));
    expect(Array.from(rgb.data)).toEqual([0, 1, 2, 3, 4, 5].flatMap((i) => [i * 10, i * 20, i * 30]));
    const grey = decodeImage(PNG.sync.write(png, { colorType: 0 }));
    expect(at(grey, 1, 0, 0)).toBe(at(grey, 1, 0, 1));
    expect(at(grey, 1, 0, 1)).toBe(at(grey, 1, 0, 2));
  });

  it('JPEG: colour and greyscale sample images come out as RGB', () => {
    const colour = decodeImage(readFileSync(path.join(SAMPLES, 'n01440764_tench.JPEG')));
    const ref = jpeg.decode(readFileSync(path.join(SAMPLES, 'n01440764_tench.JPEG')), { useTArray: true });
    expect([colour.width, colour.height]).toEqual([ref.width, ref.height]);
    expect(at(colour, 10, 20, 1)).toBe(ref.data[(20 * ref.width + 10) * 4 + 1]);
    const grey = decodeImage(readFileSync(path.join(SAMPLES, 'n04090263_rifle.JPEG')));
    expect(grey.data.length).toBe(grey.width * grey.height * 3);
    for (let i = 0; i < grey.data.length; i += 3 * 97) expect([grey.data[i + 1], grey.data[i + 2]]).toEqual([grey.data[i], grey.data[i]]);
  });

  it('refuses what is not JPEG or PNG', () => {
    expect(() => decodeImage(new TextEncoder().encode('GIF89a....'), 'x.gif')).toThrow(/x.gif: not a JPEG or PNG/);
  });
});

describe('resizing and cropping', () => {
  it('halving averages with the antialiasing triangle [1, 3, 3, 1] / 8', () => {
    const stripes = image(8, 4, (x) => (x % 2 ? 255 : 0));
    const half = resizeBilinear(stripes, 4, 2);
    // Interior outputs mix columns 2i-1..2i+2: (255 + 0 * 3 + 255 * 3 + 0) / 8 or its mirror.
    expect(at(half, 1, 0)).toBeCloseTo(127.5, 4);
    expect(at(half, 2, 1)).toBeCloseTo(127.5, 4);
    const ramp = image(8, 1, (x) => x * 10);
    expect(at(resizeBilinear(ramp, 4, 1), 1, 0)).toBeCloseTo(25, 4); // centre of columns 2 and 3
  });

  it('enlarging interpolates linearly between pixel centres, and keeps flat images flat', () => {
    const ramp = image(4, 1, (x) => x * 8);
    const big = resizeBilinear(ramp, 8, 1);
    // Output column 3 has its centre at input coordinate 1.25: 8 + 0.25 * 8.
    expect(at(big, 3, 0)).toBeCloseTo(10, 4);
    const flat = resizeBilinear(image(5, 7, () => 42), 13, 3);
    expect(Array.from(flat.data).every((v) => Math.abs(v - 42) < 1e-4)).toBe(true);
  });

  it('without antialiasing matches tf.image.resizeBilinear with half-pixel centres', () => {
    const img = image(13, 9, (x, y, c) => ((x * 37 + y * 11 + c * 5) % 23) * 10);
    for (const [w, h] of [
      [5, 4],
      [20, 7],
    ]) {
      const ours = resizeBilinear(img, w, h, { antialias: false });
      const ref = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(img.data, [9, 13, 3]), [h, w], false, true).dataSync());
      for (let i = 0; i < ref.length; i++) expect(ours.data[i]).toBeCloseTo(ref[i], 3);
    }
    // Antialiasing is what tells the two apart when shrinking.
    expect(Array.from(resizeBilinear(img, 5, 4).data)).not.toEqual(Array.from(resizeBilinear(img, 5, 4, { antialias: false }).data));
  });

  it('the evaluation view resizes the short side and takes the central square', () => {
    const img = image(500, 375, (x, y, c) => (c === 0 ? x : c === 1 ? y : 0));
    const view = evaluationView(img, 256, 224);
    expect([view.width, view.height]).toEqual([224, 224]);
    // Short side 375 -> 256 (scale 0.6827), long side 500 -> 341; the crop starts at (58, 16).
    const scale = 375 / 256;
    expect(at(view, 0, 0, 0)).toBeCloseTo((58 + 0.5) * scale - 0.5, 0);
    expect(at(view, 0, 0, 1)).toBeCloseTo((16 + 0.5) * scale - 0.5, 0);
    expect(() => centreCrop(image(10, 10, () => 0), 11)).toThrow(/cannot crop/);
  });

  it('loads a batch of sample images as [N, 224, 224, 3] pixels in 0..255', async () => {
    const batch = await loadImageBatch(['n01440764_tench.JPEG', 'n04090263_rifle.JPEG'].map((f) => path.join(SAMPLES, f)));
    expect(batch.shape).toEqual([2, 224, 224, 3]);
    expect(batch.data.length).toBe(2 * 224 * 224 * 3);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of batch.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(255);
    expect(hi - lo).toBeGreaterThan(100);
  });
});
