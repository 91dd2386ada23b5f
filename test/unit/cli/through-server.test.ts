// The CLI's read commands on a project that `artiphys serve` holds for writing: the server
// announces itself beside the project (owner-only file with its loopback URL and token), the read
// commands go through it, and a file left by a server that is gone falls back to a read-only open.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openForReading } from '../../../src/main/cli/common';
import { readServerFile, serverFilePath, writeServerFile } from '../../../src/main/server/server-file';
import { serve, type RunningServer } from '../../../src/main/server/http-server';
import { forkEngine } from '../../../src/main/services/engine-process';
import { Workbench } from '../../../src/main/services/workbench';
import type { GalleryPage } from '../../../src/shared/curation';
import { galleryTable } from '../../../src/shared/tables';
import { createGalleryProject, GALLERY_MODEL_ID } from '../../fixtures/gallery-project';
import { tempDir } from '../../helpers/temp';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/artiphys.js');
const dir = tempDir('artiphys-cli-server-');
const file = path.join(dir, 'held.artiphys');
let wb: Workbench;
let server: RunningServer;

const argsFor = (project: string) => ({ positional: [], flags: { project, json: true } as Record<string, string | boolean> });

beforeAll(async () => {
  createGalleryProject(file, { units: 6, layer: 'conv2' });
  const renderer = path.join(dir, 'renderer');
  fs.mkdirSync(renderer);
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>Artiphys</title>');
  wb = Workbench.open({ launcher: forkEngine, projectPath: file, startEngine: false });
  server = await serve(wb, { rendererDir: renderer, port: 0 });
});

afterAll(async () => {
  await server.close();
  wb.close();
});

describe('a project held by artiphys serve', () => {
  it('is announced beside the project, readable by its owner only, with the loopback URL and token', () => {
    const stat = fs.statSync(serverFilePath(file));
    expect(stat.mode & 0o077).toBe(0);
    expect(readServerFile(file)).toEqual({ pid: process.pid, url: `http://127.0.0.1:${server.port}`, token: server.token, project: file });
  });

  it('is read through the server, with the answers the server gives its own clients', async () => {
    const reader = await openForReading(argsFor(file));
    expect(reader.via).toBe('server');
    const query = { method: 'gallery.query', params: { modelId: GALLERY_MODEL_ID, layer: 'conv2', filters: [] } };
    expect(await reader.call(query)).toEqual(await wb.call(query));
    await expect(reader.call({ method: 'runs.get', params: { runId: 99 } })).rejects.toMatchObject({ code: 'not_found' });
    reader.close();
  });

  it('export table from the CLI writes the units x metrics through the server instead of failing', async () => {
    const out = path.join(dir, 'units.csv');
    // Asynchronously: the server answers from this process while the CLI waits on it.
    const r = await promisify(execFile)(process.execPath, [BIN, 'export', 'table', '--layer', 'conv2', '--model', GALLERY_MODEL_ID, '--out', out, '--project', file], {
      cwd: ROOT,
      env: { ...process.env, ARTIPHYS_HOME: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toContain(`held by the server at http://127.0.0.1:${server.port}`);
    const page = (await wb.call({ method: 'gallery.query', params: { modelId: GALLERY_MODEL_ID, layer: 'conv2', filters: [] } })) as GalleryPage;
    const table = galleryTable(page);
    const lines = fs.readFileSync(out, 'utf8').split('\r\n').filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe(table.columns.join(','));
    expect(lines.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(page.cards.map((c) => c.unitId));
    expect(lines).toHaveLength(1 + 6);
  });

  it('falls back to a read-only open when the announced server is gone', async () => {
    const other = path.join(dir, 'other.artiphys');
    createGalleryProject(other, { units: 2, layer: 'conv1' });
    const holder = Workbench.open({ launcher: forkEngine, projectPath: other, startEngine: false });
    try {
      // A file left by a server that died: nothing listens on its port any more.
      writeServerFile({ pid: 999_999, url: 'http://127.0.0.1:9', token: 'stale', project: other });
      const reader = await openForReading(argsFor(other));
      expect(reader.via).toBe('read-only');
      expect(((await reader.call({ method: 'runs.list', params: {} })) as unknown[]).length).toBe(2);
      reader.close();
    } finally {
      holder.close();
    }
  });

  it('takes the announcement away when the server closes', async () => {
    const second = await serve(wb, { rendererDir: path.join(dir, 'renderer'), port: 0 });
    expect(readServerFile(file)?.url).toBe(`http://127.0.0.1:${second.port}`);
    await second.close();
    expect(fs.existsSync(serverFilePath(file))).toBe(false);
  });
});
