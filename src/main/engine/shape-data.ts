// Reads the shape-analysis data the app ships under `resources/` (never ../shared): the
// Pasupathy & Connor polygons, their APC boundary points and the V4 APC fits.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadApcPoints, parseV4Fits, type ApcPoints, type V4Fit } from '../../shared/math/apc';
import { loadShapeSet, type Polygon } from '../../shared/math/shapes';

const SHAPES_FILE = 'shapes/pc370-shape-verts.json';
const APC_POINTS_FILE = 'shapes/pc370-apc-points.json';
const V4_FITS_FILE = 'v4/v4-109-apc-fits.csv';

/**
 * The `resources` folder: ARTIPHYS_RESOURCES if set, else the nearest one above this module
 * (src/main/engine in development and tests, out/main in a build).
 */
export function resourcesDir(): string {
  const override = process.env.ARTIPHYS_RESOURCES;
  if (override) return override;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'resources');
    if (existsSync(path.join(candidate, SHAPES_FILE))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no resources folder with ${SHAPES_FILE} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function read(file: string): string {
  const full = path.join(resourcesDir(), file);
  try {
    return readFileSync(full, 'utf8');
  } catch (err) {
    throw new Error(`cannot read shape data ${full}: ${(err as Error).message}`, { cause: err });
  }
}

let shapes: Polygon[] | null = null;
let points: ApcPoints | null = null;

/** The 370 boundary polygons (parsed once per process). */
export function shippedShapes(): Polygon[] {
  shapes ??= loadShapeSet(JSON.parse(read(SHAPES_FILE)));
  return shapes;
}

/** The APC boundary points of all 370 stimuli (parsed once per process). */
export function shippedApcPoints(): ApcPoints {
  points ??= loadApcPoints(JSON.parse(read(APC_POINTS_FILE)));
  return points;
}

/** The APC fits of 109 V4 neurons (METHODS §10 reference data). */
export function shippedV4Fits(): V4Fit[] {
  return parseV4Fits(read(V4_FITS_FILE));
}
