// The headless server: loopback only, token on every route, origin-checked WebSocket.
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkEngine } from '../../../src/main/services/engine-process';
import { SCHEMA_VERSION } from '../../../src/main/services/migrations';
import { Workbench } from '../../../src/main/services/workbench';
import { serve, type RunningServer } from '../../../src/main/server/http-server';
import { tempDir } from '../../helpers/temp';

const dir = tempDir();
let wb: Workbench;
let server: RunningServer;
let base: string;

beforeAll(async () => {
  const renderer = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(renderer, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>Artiphys</title>');
  fs.writeFileSync(path.join(renderer, 'assets', 'app.js'), 'console.log(1)');
  wb = Workbench.open({ launcher: forkEngine, projectPath: path.join(dir, 'p.artiphys'), create: true, backend: 'cpu' });
  server = await serve(wb, { rendererDir: renderer, port: 0 });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.close();
  wb.close();
});

const call = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/api/call`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const auth = () => ({ authorization: `Bearer ${server.token}` });

describe('artiphys serve', () => {
  it('binds to loopback and prints a URL with a long random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
  });

  it('answers 401 on every route without the token, or with a wrong one', async () => {
    for (const route of ['/', '/index.html', '/assets/app.js', '/api/call', '/api/events', '/nothing']) {
      expect((await fetch(base + route)).status, route).toBe(401);
      expect((await fetch(`${base}${route}?token=wrong`)).status, route).toBe(401);
    }
    expect((await call({ method: 'app.info' })).status).toBe(401);
    expect((await call({ method: 'app.info' }, { authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('answers a browser without the token with a page that says how to get it, and API clients with JSON', async () => {
    const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const page = await fetch(`${base}/`, { headers: html });
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const text = await page.text();
    expect(text).toContain('artiphys serve');
    expect(text).toContain('?token=');
    expect(text).not.toContain(server.token);
    expect(await (await fetch(`${base}/?token=wrong`, { headers: html })).text()).toContain('not the one this server expects');
    const api = await fetch(`${base}/`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });

  it('serves the workbench with the token and sets a same-site cookie for its assets', async () => {
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Artiphys');
    const cookie = page.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const asset = await fetch(`${base}/assets/app.js`, { headers: { cookie: cookie.split(';')[0] } });
    expect(asset.status).toBe(200);
    expect((await fetch(`${base}/../../etc/passwd`, { headers: auth() })).status).toBe(404);
  });

  it('runs API calls and reports malformed ones clearly', async () => {
    const ok = await (await call({ method: 'project.info' }, auth())).json();
    expect(ok).toMatchObject({ ok: true, result: { schemaVersion: SCHEMA_VERSION } });
    const bad = await (await call('{not json', auth())).json();
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    const unknown = await (await call({ method: 'drop.tables' }, auth())).json();
    expect(unknown).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
    const badParams = (await (await call({ method: 'runs.get', params: { runId: 'x' } }, auth())).json()) as { error: { message: string } };
    expect(badParams.error.message).toMatch(/runId/);
    const cross = await call({ method: 'project.info' }, { ...auth(), origin: 'http://evil.example' });
    expect(cross.status).toBe(403);
  });

  it('pushes events over a WebSocket only to the right origin with the token', async () => {
    const refused = await new Promise<number | string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`, { origin: 'http://evil.example' });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve('opened'));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(401);

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/events?token=${server.token}`, { origin: base });
    await new Promise((r) => ws.on('open', r));
    const got = new Promise<unknown>((resolve) => ws.on('message', (m) => resolve(JSON.parse(String(m)))));
    await call({ method: 'runs.start', params: { kind: 'max-image', settings: { modelId: 'builtin:energy', steps: 3 } } }, auth());
    expect(await got).toMatchObject({ type: 'run.status', status: 'queued' });
    ws.close();
  });

  it('answers 400 to a path that is not valid percent-encoding, and stays up', async () => {
    for (const route of ['/%', '/%E0%A4%A', '/assets/%zz.js']) {
      const res = await fetch(base + route, { headers: auth() });
      expect(res.status, route).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_request');
    }
    expect((await fetch(server.url)).status).toBe(200);
  });

  it('answers 413 to a body over 1 MiB, whether its length is declared or streamed', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const declared = await call(big, auth());
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { message: string } }).error.message).toMatch(/over 1 MiB/);
    // Without a content-length (chunked), the limit is met while reading.
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode('y'.repeat(512 * 1024)));
        c.close();
      },
    });
    const streamed = await fetch(`${base}/api/call`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: chunks, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    const ok = await (await call({ method: 'project.info' }, auth())).json();
    expect(ok).toMatchObject({ ok: true });
  });
});
