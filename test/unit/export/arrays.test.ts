// Run arrays export: every result of a real shapes run with its encoded float arrays written out
// as numbers that read back as exactly the stored float32 values, everything else unchanged; and a
// large run (4,096 channels × 362 stimuli) streamed to a file.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { float32Text } from '../../../src/main/data-export/run-arrays';
import { dataExportHandlers } from '../../../src/main/services/handlers/data-export';
import { ProjectDb } from '../../../src/main/services/project-db';
import type { RunSummary } from '../../../src/shared/domain';
import { decodeFloat32, encodeFloat32 } from '../../../src/shared/float-codec';
import type { Provenance } from '../../../src/shared/figures';
import { tempDir } from '../../helpers/temp';
import { projectContext } from './context';
import { storeShapesRun } from './fixture';

interface ArraysDoc {
  provenance: Provenance;
  run: RunSummary;
  results: { id: number; key: string; imageIds: number[]; data: Record<string, unknown> }[];
}

/** Fields the shapes engine stores as encoded float32 arrays (engine/analyses/shapes.ts). */
const ENCODED = new Set(['responses', 'r', 'muA', 'sigmaA', 'muC', 'sigmaC', 'large', 'dim', 'ratio', 'ti', 'rfProfile', 'positionCorrelation']);

/**
 * Walks the stored data and the exported data together: each encoded string must come out as the
 * numbers it decodes to (NaN as null), everything else as it was. Returns how many arrays it compared.
 */
function compare(stored: unknown, exported: unknown, where: string, key = ''): number {
  if (typeof stored === 'string' && ENCODED.has(key) && /^[A-Za-z0-9+/]+=*$/.test(stored)) {
    const want = decodeFloat32(stored);
    expect(Array.isArray(exported), `${where} is an array`).toBe(true);
    const got = exported as (number | null)[];
    expect(got.length, where).toBe(want.length);
    for (let i = 0; i < want.length; i++) {
      if (Number.isNaN(want[i])) expect(got[i], `${where}[${i}]`).toBeNull();
      else if (Math.fround(got[i] as number) !== want[i]) expect(got[i], `${where}[${i}]`).toBe(want[i]);
    }
    return 1;
  }
  if (stored !== null && typeof stored === 'object') {
    expect(typeof exported, where).toBe('object');
    const entries = Object.entries(stored as Record<string, unknown>);
    expect(Object.keys(exported as object), where).toEqual(entries.map(([k]) => k));
    return entries.reduce((n, [k, v]) => n + compare(v, (exported as Record<string, unknown>)[k], `${where}.${k}`, Array.isArray(stored) ? '' : k), 0);
  }
  if (typeof stored === 'number' && !Number.isFinite(stored)) expect(exported, where).toBeNull();
  else expect(exported, where).toEqual(stored);
  return 0;
}

const dir = tempDir('artiphys-export-arrays-');
let ctx: ReturnType<typeof projectContext>;
let handlers: ReturnType<typeof dataExportHandlers>;
let run: RunSummary;

beforeAll(async () => {
  const db = ProjectDb.open(path.join(dir, 'arrays.artiphys'), { create: true });
  ctx = projectContext(db);
  handlers = dataExportHandlers(ctx);
  run = await storeShapesRun(db, { distributions: true });
});
afterAll(() => ctx.close());

describe('export.runArrays', () => {
  it('decodes every encoded array of a shapes run to the stored float32 values and keeps the rest', async () => {
    const out = path.join(dir, 'run-arrays.json');
    const file = await handlers['export.runArrays']({ runId: run.id, path: out });
    expect(file).toMatchObject({ path: out, mime: 'application/json', base64: '', bytes: fs.statSync(out).size });
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as ArraysDoc;
    expect(doc.provenance).toEqual(file.provenance);
    expect(doc.provenance).toMatchObject({ runIds: [run.id], project: ctx.project.path });
    expect(doc.run).toMatchObject({ id: run.id, kind: 'shapes', seed: 3, settings: run.settings, status: 'done' });

    const stored = ctx.project.listResults(run.id);
    expect(doc.results.map((r) => r.key)).toEqual(stored.map((r) => r.key));
    let arrays = 0;
    for (const [k, r] of stored.entries()) {
      expect(doc.results[k].imageIds).toEqual(r.imageIds);
      arrays += compare(r.data, doc.results[k].data, r.key);
    }
    // Per layer: responses, APC r and 4 parameters, large and dim, translation ti, rfProfile, positionCorrelation.
    expect(arrays).toBeGreaterThanOrEqual(2 * 11);
    expect(doc.results.find((r) => r.key === 'stimuli')!.imageIds).toHaveLength(362);
    // Text under an array field's name (the summary's label of its `ti` column) stays text.
    expect((doc.results.find((r) => r.key === 'summary')!.data.labels as Record<string, unknown>).ti).toBe('median TI');
  });

  it('returns the same document in memory when no path is given', async () => {
    const inMemory = await handlers['export.runArrays']({ runId: run.id });
    const doc = JSON.parse(Buffer.from(inMemory.base64, 'base64').toString('utf8')) as ArraysDoc;
    const fromFile = JSON.parse(fs.readFileSync(path.join(dir, 'run-arrays.json'), 'utf8')) as ArraysDoc;
    expect({ ...doc, provenance: null }).toEqual({ ...fromFile, provenance: null });
    expect(inMemory.path).toBeNull();
  });

  it('writes each float32 as the shortest decimal that reads back as it', () => {
    const values = Float32Array.from([0.1, 1 / 3, -2.5e-38, 3.4028234663852886e38, 1e-45, 16_777_217, Math.PI, 0]);
    for (const v of values) {
      const text = float32Text(v);
      expect(Math.fround(Number(text))).toBe(v);
      expect(text.replace(/^-|e.*$|\./g, '').replace(/^0+/, '').length).toBeLessThanOrEqual(9);
    }
    expect(float32Text(Math.fround(0.1))).toBe('0.1');
    expect([NaN, Infinity, -Infinity].map(float32Text)).toEqual(['null', 'null', 'null']);
  });

  it('streams a large layer (4,096 channels × 362 stimuli) to a file', async () => {
    const channels = 4096;
    const stimuli = 362;
    const responses = new Float32Array(channels * stimuli);
    for (let i = 0; i < responses.length; i++) responses[i] = Math.sin(i) * 10 ** ((i % 7) - 3);
    const big = ctx.project.createRun({ kind: 'shapes', title: 'large', modelId: 'm', settings: { layers: ['big'] }, seed: 1, appVersion: 't' });
    ctx.project.addResult(big.id, 'layer/big', { layer: 'big', channels, stimuli, responses: encodeFloat32(responses) }, []);
    const out = path.join(dir, 'large.json');
    const started = performance.now();
    const file = await handlers['export.runArrays']({ runId: big.id, path: out });
    const seconds = (performance.now() - started) / 1000;
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as ArraysDoc;
    const got = doc.results[0].data.responses as number[];
    expect(got).toHaveLength(channels * stimuli);
    for (let i = 0; i < got.length; i += 997) expect(Math.fround(got[i])).toBe(responses[i]);
    console.log(`large arrays export: ${(file.bytes / 2 ** 20).toFixed(1)} MiB in ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(30);
  });
});
