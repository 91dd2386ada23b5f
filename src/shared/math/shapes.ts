// Pasupathy & Connor shape stimuli (METHODS §9): the standard-set selection, polygon geometry and
// a scanline rasterizer. Pure TypeScript; the caller reads the resource file and passes the JSON.
//
// Image coordinates are pixel-index coordinates: the centre of pixel (row i, column j) is at
// (x = j, y = i), y grows downwards, the same convention as a layer's RF offset. Shape
// coordinates are the data's own units with y up.

/** One closed boundary polygon: flat [x0, y0, x1, y1, ...] without a repeated closing vertex. */
export type Polygon = Float64Array;

export const SHAPE_COUNT = 370;

/**
 * The 362-stimulus standard set: all 370 entries but the "repeats" 14–17 and 318–321 that the
 * Pospisil et al. (2018) code removes (METHODS §9).
 */
export const STANDARD_SET_INDICES: readonly number[] = Array.from({ length: SHAPE_COUNT }, (_, i) => i).filter(
  (i) => !(i >= 14 && i <= 17) && !(i >= 318 && i <= 321),
);

/** Indices of the small and the large circle (radius 0.361 and 1.444 shape units). */
export const SMALL_CIRCLE = 0;
export const LARGE_CIRCLE = 1;

/**
 * Decodes the shape resource (`resources/shapes/pc370-shape-verts.json`, format
 * `artiphys-shape-verts/1`: integer vertices in `quantum` units, delta-encoded) or the original
 * JSON (`{ shapes: [[[x, y], ...], ...] }`, closing vertex repeated).
 */
export function loadShapeSet(json: unknown): Polygon[] {
  const doc = json as { format?: unknown; quantum?: unknown; shapes?: unknown };
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.shapes)) {
    throw new Error('shape data: expected an object with a "shapes" array');
  }
  if (doc.shapes.length !== SHAPE_COUNT) throw new Error(`shape data: expected ${SHAPE_COUNT} shapes, got ${doc.shapes.length}`);
  if (doc.format === 'artiphys-shape-verts/1') {
    if (typeof doc.quantum !== 'number' || !(doc.quantum > 0)) throw new Error('shape data: "quantum" must be a positive number');
    // Dividing by the integer 1/quantum (not multiplying by quantum) gives exactly the double of
    // the decimal the vertex was written as.
    const perUnit = Math.round(1 / doc.quantum);
    return doc.shapes.map((s, i) => decodeDeltas(s, perUnit, i));
  }
  if (doc.format !== undefined) throw new Error(`shape data: unknown format "${String(doc.format)}"`);
  return doc.shapes.map((s, i) => fromPairs(s, i));
}

function decodeDeltas(s: unknown, perUnit: number, i: number): Polygon {
  if (!Array.isArray(s) || s.length < 6 || s.length % 2 !== 0) throw new Error(`shape data: shape ${i} is not a flat list of at least 3 vertices`);
  const out = new Float64Array(s.length);
  let x = 0;
  let y = 0;
  for (let k = 0; k < s.length; k += 2) {
    const dx = s[k];
    const dy = s[k + 1];
    if (!Number.isInteger(dx) || !Number.isInteger(dy)) throw new Error(`shape data: shape ${i} has a non-integer entry at ${k}`);
    x += dx;
    y += dy;
    out[k] = x / perUnit;
    out[k + 1] = y / perUnit;
  }
  return out;
}

function fromPairs(s: unknown, i: number): Polygon {
  if (!Array.isArray(s) || s.length < 4) throw new Error(`shape data: shape ${i} is not a list of at least 3 [x, y] vertices`);
  const pairs = s as unknown[];
  const first = pairs[0] as number[];
  const last = pairs[pairs.length - 1] as number[];
  const n = first[0] === last[0] && first[1] === last[1] ? pairs.length - 1 : pairs.length;
  const out = new Float64Array(2 * n);
  for (let k = 0; k < n; k++) {
    const p = pairs[k] as unknown[];
    if (!Array.isArray(p) || typeof p[0] !== 'number' || typeof p[1] !== 'number') {
      throw new Error(`shape data: shape ${i} vertex ${k} is not [x, y]`);
    }
    out[2 * k] = p[0];
    out[2 * k + 1] = p[1];
  }
  return out;
}

/** Signed area (positive counter-clockwise with y up) and area centroid (shoelace formulas). */
export function polygonCentroid(p: Polygon): { x: number; y: number; area: number } {
  const n = p.length / 2;
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let k = 0; k < n; k++) {
    const j = (k + 1) % n;
    const x0 = p[2 * k];
    const y0 = p[2 * k + 1];
    const x1 = p[2 * j];
    const y1 = p[2 * j + 1];
    const cross = x0 * y1 - x1 * y0;
    a += cross;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  }
  if (a === 0) throw new Error('polygon has zero area');
  return { x: cx / (3 * a), y: cy / (3 * a), area: a / 2 };
}

export interface Extent {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  /** The larger side of the bounding box: the "extent" the stimulus size refers to. */
  extent: number;
}

export function polygonExtent(p: Polygon): Extent {
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let k = 0; k < p.length; k += 2) {
    minX = Math.min(minX, p[k]);
    maxX = Math.max(maxX, p[k]);
    minY = Math.min(minY, p[k + 1]);
    maxY = Math.max(maxY, p[k + 1]);
  }
  return { minX, maxX, minY, maxY, extent: Math.max(maxX - minX, maxY - minY) };
}

/** Pixels per shape unit such that the largest extent over the whole set is `sizePx`. */
export function setScale(shapes: readonly Polygon[], sizePx: number): number {
  if (!(sizePx > 0)) throw new Error(`stimulus size must be positive, got ${sizePx}`);
  let largest = 0;
  for (const s of shapes) largest = Math.max(largest, polygonExtent(s).extent);
  return sizePx / largest;
}

/**
 * How far (pixels) any shape of the set reaches from its centroid to the left, right, top and
 * bottom when rendered at `scale`: the margin a position must keep for every stimulus to lie
 * wholly inside a region.
 */
export function setReach(shapes: readonly Polygon[], scale: number): { left: number; right: number; up: number; down: number } {
  const reach = { left: 0, right: 0, up: 0, down: 0 };
  for (const s of shapes) {
    const c = polygonCentroid(s);
    const e = polygonExtent(s);
    reach.left = Math.max(reach.left, (c.x - e.minX) * scale);
    reach.right = Math.max(reach.right, (e.maxX - c.x) * scale);
    reach.up = Math.max(reach.up, (e.maxY - c.y) * scale);
    reach.down = Math.max(reach.down, (c.y - e.minY) * scale);
  }
  return reach;
}

export interface RenderOptions {
  width: number;
  height: number;
  /** Pixels per shape unit (one value for the whole set: see setScale). */
  scale: number;
  /** Where the polygon centroid goes, pixel-index coordinates; default the image centre. */
  x?: number;
  y?: number;
  /** Fill value (METHODS: 255 standard, 100 dim) and background value (0). */
  intensity: number;
  background: number;
  /**
   * Off: a pixel takes the fill value when its centre lies inside the polygon, so the stimulus
   * is binary like the original ones (the Pospisil code filled the polygon after rounding its
   * boundary to whole pixels, which can differ from centre sampling by a pixel along the edge).
   * On: the fill is weighted by the fraction of supersample x supersample sample points inside
   * (area coverage).
   */
  antialias: boolean;
  supersample?: number;
}

export const DEFAULT_SUPERSAMPLE = 8;

/** Renders one polygon into a new greyscale image (row-major, height x width). */
export function renderShape(p: Polygon, o: RenderOptions): Float32Array {
  const out = new Float32Array(o.width * o.height);
  renderShapeInto(out, p, o);
  return out;
}

/** As renderShape, into `out` (length width*height), which it overwrites. */
export function renderShapeInto(out: Float32Array, p: Polygon, o: RenderOptions): void {
  const { width: w, height: h } = o;
  if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0)) throw new Error(`image size must be positive integers, got ${w} x ${h}`);
  if (out.length !== w * h) throw new Error(`output has ${out.length} pixels, the image ${w * h}`);
  if (!(o.scale > 0)) throw new Error(`scale must be positive, got ${o.scale}`);
  const ss = o.antialias ? (o.supersample ?? DEFAULT_SUPERSAMPLE) : 1;
  if (!(Number.isInteger(ss) && ss >= 1)) throw new Error(`supersample must be a positive integer, got ${ss}`);
  const coverage = coverageMap(p, o, ss);
  const weight = (o.intensity - o.background) / (ss * ss);
  for (let i = 0; i < out.length; i++) out[i] = o.background + coverage[i] * weight;
}

/**
 * Number of sample points inside the polygon per pixel. Sample (row r, column q) of the
 * supersampled grid sits at ((q + 0.5) / ss - 0.5, (r + 0.5) / ss - 0.5) in pixel-index
 * coordinates. For each sample row the crossings of all polygon edges are collected (edges are
 * half-open in y so a vertex on a sample row counts once) and the samples between pairs of
 * crossings (even-odd rule) are counted.
 */
function coverageMap(p: Polygon, o: RenderOptions, ss: number): Uint32Array {
  const { width: w, height: h, scale } = o;
  const c = polygonCentroid(p);
  const ox = (o.x ?? (w - 1) / 2) - c.x * scale;
  const oy = (o.y ?? (h - 1) / 2) + c.y * scale; // y flips: shape y up, image y down
  const rows = h * ss;
  const cols = w * ss;
  const crossings: number[][] = Array.from({ length: rows }, () => []);
  const n = p.length / 2;
  // Index of the first sample (row or column) whose coordinate is >= v.
  const firstAtOrAfter = (v: number) => Math.ceil((v + 0.5) * ss - 0.5);
  for (let k = 0; k < n; k++) {
    const j = (k + 1) % n;
    const x0 = ox + p[2 * k] * scale;
    const y0 = oy - p[2 * k + 1] * scale;
    const x1 = ox + p[2 * j] * scale;
    const y1 = oy - p[2 * j + 1] * scale;
    if (y0 === y1) continue;
    const rStart = Math.max(0, firstAtOrAfter(Math.min(y0, y1)));
    const rEnd = Math.min(rows, firstAtOrAfter(Math.max(y0, y1)));
    const slope = (x1 - x0) / (y1 - y0);
    for (let r = rStart; r < rEnd; r++) {
      const ys = (r + 0.5) / ss - 0.5;
      crossings[r].push(x0 + (ys - y0) * slope);
    }
  }
  const count = new Uint32Array(w * h);
  for (let r = 0; r < rows; r++) {
    const xs = crossings[r];
    if (xs.length === 0) continue;
    xs.sort((a, b) => a - b);
    const rowBase = Math.floor(r / ss) * w;
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const qStart = Math.max(0, firstAtOrAfter(xs[k]));
      const qEnd = Math.min(cols, firstAtOrAfter(xs[k + 1]));
      for (let q = qStart; q < qEnd; q++) count[rowBase + Math.floor(q / ss)]++;
    }
  }
  return count;
}

export interface StimulusOptions extends Omit<RenderOptions, 'scale'> {
  /** Largest extent over the whole set, in pixels (METHODS: 32 standard, 64 large). */
  sizePx: number;
}

/**
 * Renders the shapes at `indices` (default the 362-stimulus standard set) with one scale for
 * the whole set `shapes`, stacked as [stimulus, row, column].
 */
export function renderStimuli(shapes: readonly Polygon[], o: StimulusOptions, indices: readonly number[] = STANDARD_SET_INDICES): Float32Array {
  const scale = setScale(shapes, o.sizePx);
  const plane = o.width * o.height;
  const out = new Float32Array(indices.length * plane);
  indices.forEach((idx, k) => {
    const s = shapes[idx];
    if (!s) throw new Error(`no shape ${idx} (the set has ${shapes.length})`);
    renderShapeInto(out.subarray(k * plane, (k + 1) * plane), s, { ...o, scale });
  });
  return out;
}
