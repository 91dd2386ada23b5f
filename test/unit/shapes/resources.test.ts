// The data the app ships under resources/ are the shared originals: the compact vertex file
// decodes to exactly the shared vertices, the other files are byte copies.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resourcesDir, shippedApcPoints, shippedShapes, shippedV4Fits } from '../../../src/main/engine/shape-data';
import { loadShapeSet } from '../../../src/shared/math/shapes';
import { stimulusCount } from '../../../src/shared/math/apc';

const shared = path.resolve(import.meta.dirname, '../../../../shared/data');

describe('shipped shape and V4 data', () => {
  it('the compact polygons decode to exactly the shared vertices', () => {
    const original = loadShapeSet(JSON.parse(readFileSync(path.join(shared, 'shapes/PC370_shape_verts.json'), 'utf8')));
    const compact = shippedShapes();
    expect(compact).toHaveLength(370);
    let vertices = 0;
    compact.forEach((poly, i) => {
      expect(poly.length, `shape ${i}`).toBe(original[i].length);
      for (let k = 0; k < poly.length; k++) if (poly[k] !== original[i][k]) throw new Error(`shape ${i} coordinate ${k}: ${poly[k]} != ${original[i][k]}`);
      vertices += poly.length / 2;
    });
    expect(vertices).toBe(299_200); // 299,570 in the original minus the 370 repeated closing vertices
  });

  it('APC points and V4 fits are byte copies of the shared files', () => {
    const same = (ours: string, theirs: string) =>
      expect(readFileSync(path.join(resourcesDir(), ours)).equals(readFileSync(path.join(shared, theirs)))).toBe(true);
    same('shapes/pc370-apc-points.json', 'shapes/PC370_apc_points.json');
    same('v4/v4-109-apc-fits.csv', 'v4/V4_109_apc_lsqnonlin_fits.csv');
    const pts = shippedApcPoints();
    expect(stimulusCount(pts)).toBe(370);
    expect(pts.angle.length).toBe(2298);
    const v4 = shippedV4Fits();
    expect(v4).toHaveLength(109);
    const r = v4.map((f) => f.r).sort((a, b) => a - b);
    expect(r[0]).toBeCloseTo(0.171, 3);
    expect(r[108]).toBeCloseTo(0.813, 3);
    expect(r[54]).toBeCloseTo(0.463, 3); // the median the README states
  });

  it('malformed data is refused with a message naming the problem', () => {
    expect(() => loadShapeSet({ shapes: [] })).toThrow(/expected 370 shapes/);
    expect(() => loadShapeSet({ format: 'v9', shapes: new Array(370).fill([]) })).toThrow(/unknown format/);
    expect(() => loadShapeSet({ format: 'artiphys-shape-verts/1', quantum: 1e-5, shapes: new Array(370).fill([1, 2, 3]) })).toThrow(/shape 0/);
  });
});
