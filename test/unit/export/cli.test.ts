// `artiphys export ...` and `artiphys project export|import` as a user types them, through the
// built CLI (npm test builds first) on a real project file: --json prints one document naming the
// file, its size and provenance; errors come back as {ok: false, error} with exit code 2.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Provenance } from '../../../src/shared/figures';
import { ProjectDb } from '../../../src/main/services/project-db';
import { createGalleryProject, type GalleryProject } from '../../fixtures/gallery-project';
import { tempDir } from '../../helpers/temp';
import { ROOT } from './fixture';

const BIN = path.join(ROOT, 'bin/artiphys.js');
const home = tempDir('artiphys-cli-export-');
let fixture: GalleryProject;

function artiphys(args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ARTIPHYS_HOME: home }, encoding: 'utf8', timeout: 60_000 });
}

function failing(args: string[]): { status: number | null; doc: { ok: boolean; error: { code: string; message: string } } } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--json'], { cwd: ROOT, env: { ...process.env, ARTIPHYS_HOME: home }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, doc: JSON.parse(r.stdout) };
}

interface ExportDoc {
  path: string;
  bytes: number;
  fileName: string;
  provenance: Provenance;
}

beforeAll(() => {
  fixture = createGalleryProject(path.join(home, 'lab.artiphys'), { units: 12, layer: 'conv2' });
  const db = ProjectDb.open(fixture.file);
  db.curation.createCollection('Best units', [6, 2, 4]);
  db.close();
});

describe('artiphys export', () => {
  it('export table --run writes the run\'s table and --json prints its path, size and provenance', () => {
    const out = path.join(home, 'diverse.csv');
    const doc = JSON.parse(artiphys(['export', 'table', '--run', String(fixture.diverseRunId), '--out', out, '--project', fixture.file, '--json'])) as ExportDoc;
    expect(doc).toMatchObject({ path: out, bytes: fs.statSync(out).size, fileName: 'diverse.csv' });
    expect(doc.provenance).toMatchObject({ app: 'Artiphys', project: fixture.file, runIds: [fixture.diverseRunId] });
    const lines = fs.readFileSync(out, 'utf8').split('\r\n');
    expect(lines.slice(0, 5).every((l) => l.startsWith('# '))).toBe(true);
    expect(lines).toContain(`# config-hash: ${doc.provenance.configHash}`);
    expect(lines.filter((l) => l.startsWith('unit/conv2/'))).toHaveLength(12);
  });

  it('export table --layer writes the gallery\'s units x metrics, format from the extension', () => {
    const out = path.join(home, 'units.json');
    const doc = JSON.parse(artiphys(['export', 'table', '--layer', 'conv2', '--model', 'gallery-net', '--out', out, '--project', fixture.file, '--json'])) as ExportDoc;
    const table = JSON.parse(fs.readFileSync(out, 'utf8')) as { provenance: Provenance; rows: { channel: number; diversityRatio: number }[] };
    expect(table.provenance).toEqual(doc.provenance);
    expect(table.rows.map((r) => r.channel).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, c) => c));
    expect(table.rows.every((r) => r.diversityRatio >= 1)).toBe(true);
  });

  it('export table --collection takes the collection by name, in any case', () => {
    const out = path.join(home, 'best.csv');
    artiphys(['export', 'table', '--collection', 'best UNITS', '--out', out, '--project', fixture.file]);
    const records = fs.readFileSync(out, 'utf8').split('\r\n').filter((l) => /^\d+,/.test(l));
    expect(records.map((l) => Number(l.split(',')[0])).sort((a, b) => a - b)).toEqual([2, 4, 6]);
    expect(failing(['export', 'table', '--collection', 'nope', '--out', out, '--project', fixture.file])).toMatchObject({ status: 2, doc: { error: { code: 'not_found', message: expect.stringContaining('Best units') } } });
  });

  it('export figure --collection writes the collection\'s units and SI-LC scatter as a PDF of the preset width', async () => {
    const out = path.join(home, 'best.pdf');
    const doc = JSON.parse(
      artiphys(['export', 'figure', '--collection', 'Best units', '--panels', 'units,si-lc', '--columns', '2', '--preset', 'one-column', '--out', out, '--project', fixture.file, '--json']),
    ) as ExportDoc & { widthPt: number; heightPt: number };
    expect(doc).toMatchObject({ path: out, fileName: 'best.pdf', bytes: fs.statSync(out).size });
    expect(doc.widthPt).toBeCloseTo((85 / 25.4) * 72, 3);
    expect(doc.provenance.runIds).toEqual([fixture.featureVisRunId, fixture.diverseRunId].sort((a, b) => a - b));
    const pdf = await PDFDocument.load(fs.readFileSync(out), { updateMetadata: false });
    expect(pdf.getPageCount()).toBe(1);
    expect(pdf.getPage(0).getSize()).toMatchObject({ width: expect.closeTo(doc.widthPt, 2), height: expect.closeTo(doc.heightPt, 2) });
    expect(failing(['export', 'figure', '--units', '1,2', '--panels', 'histogram', '--out', path.join(home, 'h.svg'), '--project', fixture.file])).toMatchObject({ status: 2, doc: { error: { code: 'bad_request', message: expect.stringContaining('units, si-lc') } } });
  });

  it('export arrays writes the run document; bad requests exit 2 with a JSON error', () => {
    const out = path.join(home, 'arrays.json');
    artiphys(['export', 'arrays', '--run', String(fixture.featureVisRunId), '--out', out, '--project', fixture.file]);
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as { run: { id: number; kind: string }; results: unknown[] };
    expect(doc.run).toMatchObject({ id: fixture.featureVisRunId, kind: 'feature-vis' });
    expect(doc.results).toHaveLength(12);

    expect(failing(['export', 'table', '--run', '999', '--out', path.join(home, 'x.csv'), '--project', fixture.file])).toMatchObject({ status: 2, doc: { ok: false, error: { code: 'not_found' } } });
    expect(failing(['export', 'table', '--run', '1', '--out', path.join(home, 'x.txt'), '--project', fixture.file])).toMatchObject({ status: 2, doc: { error: { code: 'bad_request', message: expect.stringContaining('csv or json') } } });
    expect(failing(['export', 'figure', '--out', path.join(home, 'f.svg'), '--project', fixture.file])).toMatchObject({ status: 2, doc: { error: { code: 'bad_request', message: expect.stringContaining('--collection or --units') } } });
    expect(fs.existsSync(path.join(home, 'x.csv'))).toBe(false);
  });

  it('project export and import: the archive opens as a new project with the same counts', () => {
    const archive = path.join(home, 'lab.artiphys-archive');
    const exported = JSON.parse(artiphys(['project', 'export', '--out', archive, '--project', fixture.file, '--json'])) as { path: string; bytes: number; files: string[] };
    expect(exported).toEqual({ path: archive, bytes: fs.statSync(archive).size, files: ['manifest.json', 'project.sqlite'] });
    const dest = path.join(home, 'copy', 'lab.artiphys');
    const imported = JSON.parse(artiphys(['project', 'import', archive, '--to', dest, '--json'])) as { path: string; counts: Record<string, number> };
    const original = JSON.parse(artiphys(['project', 'info', '--project', fixture.file, '--json'])) as { counts: Record<string, number> };
    expect(imported).toMatchObject({ path: dest, counts: original.counts });
    expect(original.counts.images).toBe(12 * 4);

    expect(failing(['project', 'import', archive, '--to', dest])).toMatchObject({ status: 2, doc: { error: { code: 'bad_request', message: expect.stringContaining('already exists') } } });
  });
});
