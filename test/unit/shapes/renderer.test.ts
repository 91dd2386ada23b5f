// The shape stimuli as METHODS §9 defines them, measured on the rendered pixels.
import { describe, expect, it } from 'vitest';
import { shippedShapes } from '../../../src/main/engine/shape-data';
import {
  LARGE_CIRCLE,
  SMALL_CIRCLE,
  STANDARD_SET_INDICES,
  polygonCentroid,
  renderShape,
  renderStimuli,
  setScale,
  type StimulusOptions,
} from '../../../src/shared/math/shapes';

const shapes = shippedShapes();

interface Measure {
  /** Bounding box side (pixels with any fill) along x and y. */
  width: number;
  height: number;
  /** Fill-weighted centroid, pixel-index coordinates. */
  cx: number;
  cy: number;
  /** Covered area in pixels (sum of fill / intensity). */
  area: number;
  /** Longest row of fill, in pixels (sum of fill / intensity along a row). */
  widestRow: number;
}

function measure(img: Float32Array, w: number, h: number, intensity: number): Measure {
  let minR = Infinity, maxR = -Infinity, minC = Infinity, maxC = -Infinity;
  let s = 0, sx = 0, sy = 0, widestRow = 0;
  for (let r = 0; r < h; r++) {
    let row = 0;
    for (let c = 0; c < w; c++) {
      const v = img[r * w + c];
      if (v <= 0) continue;
      minR = Math.min(minR, r); maxR = Math.max(maxR, r);
      minC = Math.min(minC, c); maxC = Math.max(maxC, c);
      s += v; sx += v * c; sy += v * r; row += v;
    }
    widestRow = Math.max(widestRow, row / intensity);
  }
  return { width: maxC - minC + 1, height: maxR - minR + 1, cx: sx / s, cy: sy / s, area: s / intensity, widestRow };
}

function renderAll(o: StimulusOptions): Measure[] {
  const imgs = renderStimuli(shapes, o);
  const plane = o.width * o.height;
  return STANDARD_SET_INDICES.map((_, k) => measure(imgs.subarray(k * plane, (k + 1) * plane), o.width, o.height, o.intensity));
}

const base = { intensity: 255, background: 0 };

describe('shape stimuli', () => {
  it('the standard set has 362 stimuli: the 370 without the repeats 14-17 and 318-321', () => {
    expect(STANDARD_SET_INDICES).toHaveLength(362);
    const dropped = Array.from({ length: 370 }, (_, i) => i).filter((i) => !STANDARD_SET_INDICES.includes(i));
    expect(dropped).toEqual([14, 15, 16, 17, 318, 319, 320, 321]);
    const o = { ...base, sizePx: 32, width: 40, height: 40, antialias: false };
    const imgs = renderStimuli(shapes, o);
    expect(imgs.length).toBe(362 * 40 * 40);
    // 318-321 are copies of 314-317 (kept): their renderings are identical.
    const plane = 40 * 40;
    const repeats = renderStimuli(shapes, o, [314, 315, 316, 317, 318, 319, 320, 321]);
    for (let k = 0; k < 4; k++) expect(repeats.subarray((k + 4) * plane, (k + 5) * plane)).toEqual(repeats.subarray(k * plane, (k + 1) * plane));
  });

  for (const sizePx of [32, 64]) {
    it(`at ${sizePx} px the largest extent over the set is ${sizePx} px and no stimulus is larger`, () => {
      const side = sizePx + 16;
      for (const antialias of [false, true]) {
        const m = renderAll({ ...base, sizePx, width: side, height: side, antialias });
        const extents = m.map((s) => Math.max(s.width, s.height));
        const largest = Math.max(...extents);
        // Pixel quantization: a span of exactly sizePx covers sizePx centres (binary) and touches
        // up to sizePx + 1 pixels (coverage).
        if (antialias) expect(largest === sizePx || largest === sizePx + 1).toBe(true);
        else expect(Math.abs(largest - sizePx)).toBeLessThanOrEqual(1);
        // The size is the set's largest: most shapes are clearly smaller.
        expect(extents.filter((e) => e < 0.8 * sizePx).length).toBeGreaterThan(100);
      }
    });

    it(`at ${sizePx} px every stimulus is centred on its polygon centroid at the chosen position`, () => {
      const w = 2 * sizePx + 7;
      const h = 2 * sizePx + 2;
      const x = sizePx + 1.3; // off-centre and between pixels
      const y = sizePx - 0.6;
      const aa = renderAll({ ...base, sizePx, width: w, height: h, x, y, antialias: true });
      for (const s of aa) expect(Math.hypot(s.cx - x, s.cy - y)).toBeLessThan(0.03);
      const binary = renderAll({ ...base, sizePx, width: w, height: h, x, y, antialias: false });
      for (const s of binary) expect(Math.hypot(s.cx - x, s.cy - y)).toBeLessThan(0.35);
      // The default position is the image centre.
      const centred = renderAll({ ...base, sizePx, width: w, height: h, antialias: true });
      for (const s of centred) expect(Math.hypot(s.cx - (w - 1) / 2, s.cy - (h - 1) / 2)).toBeLessThan(0.03);
    });

    it(`at ${sizePx} px the two circles' diameters are in the ratio 4:1`, () => {
      const side = sizePx + 8;
      const scale = setScale(shapes, sizePx);
      const circle = (i: number, antialias: boolean) =>
        measure(renderShape(shapes[i], { ...base, width: side, height: side, scale, antialias }), side, side, 255);
      for (const antialias of [true, false]) {
        const small = circle(SMALL_CIRCLE, antialias);
        const large = circle(LARGE_CIRCLE, antialias);
        const byArea = Math.sqrt(large.area / small.area); // diameter of the equal-area disc
        const tol = antialias ? 0.02 : 0.08; // binary discs of ~7 px diameter are coarse
        expect(Math.abs(byArea - 4)).toBeLessThan(4 * tol);
        expect(Math.abs(large.widestRow / small.widestRow - 4)).toBeLessThan(4 * (antialias ? 0.04 : 0.1));
      }
    });
  }

  it('anti-aliasing off gives a binary stimulus; on, the coverage adds up to the polygon area', () => {
    const scale = setScale(shapes, 32);
    const p = shapes[200];
    const off = renderShape(p, { intensity: 100, background: 0, width: 48, height: 48, scale, antialias: false });
    expect(new Set(off)).toEqual(new Set([0, 100]));
    const on = renderShape(p, { intensity: 100, background: 0, width: 48, height: 48, scale, antialias: true });
    const values = new Set(on);
    expect(values.size).toBeGreaterThan(10);
    const area = on.reduce((a, b) => a + b, 0) / 100;
    expect(Math.abs(area / (Math.abs(polygonCentroid(p).area) * scale * scale) - 1)).toBeLessThan(0.005);
  });

  it('a background other than 0, any image size, and shapes cut by the image border', () => {
    const scale = setScale(shapes, 32);
    const img = renderShape(shapes[1], { intensity: 255, background: 50, width: 20, height: 12, x: 0, y: 0, scale, antialias: false });
    expect(img.length).toBe(240);
    expect(img[0]).toBe(255); // the large circle's centre at pixel (0, 0)
    expect(img[239]).toBe(50);
    expect(() => renderShape(shapes[1], { intensity: 255, background: 0, width: 0, height: 12, scale, antialias: false })).toThrow(/image size/);
  });
});
