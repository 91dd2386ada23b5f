// The webgpu backend (Dawn's Node bindings + tfjs-backend-webgpu) against the tensorflow one: the
// executor's forward pass and input gradients on the shared VGG-19 (a cropped 48 px input, up to
// relu3_1) and one short run of each analysis on small built-in models must agree within float32
// tolerance, with every tensor freed. A tfjs process has one backend, so each side runs in a
// child process of its own (worker.ts). Where no WebGPU adapter exists (no Vulkan driver, or the
// optional packages missing) every test is reported skipped with the reason. On a CPU with Mesa's
// lavapipe (CI) the webgpu side takes about a minute, most of it compiling shaders.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { writeColourImages } from '../residual/tiny-models';
import type { PartResult, WorkerOutput } from './worker';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../../..');
const ANALYSES = ['max-image', 'shapes', 'diverse', 'feature-vis', 'scale-invariance', 'dataset-scan', 'ablation'];
interface Side {
  out: WorkerOutput | null;
  error: string | null;
  seconds: number;
}

function runWorker(backend: string, env: NodeJS.ProcessEnv): Promise<Side> {
  const file = path.join(HERE, 'worker.ts');
  const outFile = path.join(os.tmpdir(), `artiphys-webgpu-${backend}-${process.pid}.json`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', file, backend, outFile],
      { cwd: REPO, env: { ...process.env, ...env, ARTIPHYS_BACKEND: backend }, timeout: 480_000, maxBuffer: 64 << 20 },
      (err, _stdout, stderr) => {
        const seconds = (performance.now() - t0) / 1000;
        if (err) {
          const lines = stderr.split('\n').filter((l) => l.trim() && !/already registered|artificially reduced/.test(l));
          resolve({ out: null, error: lines.at(-1) ?? err.message, seconds });
          return;
        }
        const out = JSON.parse(fs.readFileSync(outFile, 'utf8')) as WorkerOutput;
        fs.rmSync(outFile, { force: true });
        resolve({ out, error: null, seconds });
      },
    );
  });
}

const f32 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** Largest absolute difference relative to the largest magnitude of the reference. */
function relativeError(ref: Float32Array, got: Float32Array): number {
  expect(got.length).toBe(ref.length);
  let max = 0;
  let diff = 0;
  for (let i = 0; i < ref.length; i++) {
    max = Math.max(max, Math.abs(ref[i]));
    diff = Math.max(diff, Math.abs(ref[i] - got[i]));
  }
  return max === 0 ? diff : diff / max;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const RTOL = 1e-4;
const ATOL = 1e-6;

/**
 * Every number of an emitted result within float32 tolerance (and arrays the float codec stored
 * as base64 float32, element by element); everything else equal. Returns the differences.
 */
function differences(ref: unknown, got: unknown, at: string, out: string[] = []): string[] {
  const close = (a: number, b: number) => Math.abs(a - b) <= ATOL + RTOL * Math.max(Math.abs(a), Math.abs(b));
  if (typeof ref === 'number' && typeof got === 'number') {
    if (!(close(ref, got) || (Number.isNaN(ref) && Number.isNaN(got)))) out.push(`${at}: ${ref} vs ${got}`);
  } else if (typeof ref === 'string' && typeof got === 'string' && ref !== got && ref.length === got.length && ref.length % 4 === 0 && BASE64.test(ref)) {
    const [a, b] = [f32(ref), f32(got)];
    const bad = a.findIndex((v, i) => !close(v, b[i]));
    if (bad >= 0) out.push(`${at}[${bad}]: ${a[bad]} vs ${b[bad]}`);
  } else if (Array.isArray(ref) && Array.isArray(got)) {
    if (ref.length !== got.length) out.push(`${at}: length ${ref.length} vs ${got.length}`);
    else ref.forEach((v, i) => differences(v, got[i], `${at}[${i}]`, out));
  } else if (ref && got && typeof ref === 'object' && typeof got === 'object') {
    const keys = new Set([...Object.keys(ref), ...Object.keys(got)]);
    for (const k of keys) differences((ref as Record<string, unknown>)[k], (got as Record<string, unknown>)[k], `${at}.${k}`, out);
  } else if (ref !== got) {
    out.push(`${at}: ${JSON.stringify(ref)} vs ${JSON.stringify(got)}`);
  }
  return out;
}

describe('webgpu backend against tensorflow', () => {
  let gpu: Side;
  let cpu: Side;
  let skipReason: string | null = null;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artiphys-webgpu-images-'));
    writeColourImages(dir);
    gpu = await runWorker('webgpu', { ARTIPHYS_TEST_IMAGES: dir });
    if (!gpu.out) {
      // The backend could not start: no adapter, no Vulkan, packages missing. Anything else failed.
      if (/backend "webgpu" is not available/.test(gpu.error ?? '')) skipReason = gpu.error!.replace(/^.*?is not available \((.*)\)$/, '$1');
      return;
    }
    cpu = await runWorker('tensorflow', { ARTIPHYS_TEST_IMAGES: dir });
    const times = (s: Side) => Object.entries(s.out?.parts ?? {}).map(([k, p]) => `${k} ${p.seconds.toFixed(1)} s`).join(', ');
    console.log(`webgpu on ${gpu.out.adapter}: ${gpu.seconds.toFixed(0)} s (${times(gpu)}); tensorflow: ${cpu.seconds.toFixed(0)} s (${times(cpu)})`);
  }, 900_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Skips (with the reason) where this machine has no WebGPU adapter; fails where the worker crashed. */
  function sides(ctx: TestContext): { gpu: WorkerOutput; cpu: WorkerOutput } {
    if (skipReason) ctx.skip(`no WebGPU backend here: ${skipReason}`);
    expect(gpu.error, 'webgpu worker').toBeNull();
    expect(cpu.error, 'tensorflow worker').toBeNull();
    return { gpu: gpu.out!, cpu: cpu.out! };
  }

  function partsOf(ctx: TestContext, name: string): { g: PartResult; c: PartResult } {
    const s = sides(ctx);
    const [g, c] = [s.gpu.parts[name], s.cpu.parts[name]];
    expect(c.error ?? null, `tensorflow ${name}`).toBeNull();
    expect(g.error ?? null, `webgpu ${name}`).toBeNull();
    return { g, c };
  }

  it('runs on a WebGPU adapter', (ctx) => {
    const { gpu: g } = sides(ctx);
    expect(g.backend).toBe('webgpu');
    expect(g.adapter).toBeTruthy();
  });

  it('executor forward on VGG-19 (conv, ReLU, max pool to relu3_1) equals tensorflow', (ctx) => {
    const { g, c } = partsOf(ctx, 'executor');
    for (const layer of ['relu1_1', 'relu1_2', 'relu2_1', 'relu2_2', 'relu3_1']) {
      const key = `forward/${layer}`;
      expect(relativeError(f32(c.arrays[key]), f32(g.arrays[key])), key).toBeLessThan(1e-5);
    }
  });

  it('executor input gradients equal tensorflow, and gradient steps free every tensor', (ctx) => {
    const { g, c } = partsOf(ctx, 'executor');
    for (const key of ['grad/relu3_1-centre', 'grad/relu2_1-channel', 'steps/result']) {
      expect(Math.max(...f32(c.arrays[key]).map(Math.abs)), `${key} is not all zero`).toBeGreaterThan(0);
      expect(relativeError(f32(c.arrays[key]), f32(g.arrays[key])), key).toBeLessThan(1e-5);
    }
    expect(f32(g.arrays['steps/growth'])[0]).toBe(0);
    expect(g.leaked).toBe(0);
  });

  it('a synchronous read of a GPU tensor is a clear error that names where it happened', (ctx) => {
    const s = sides(ctx);
    expect(s.cpu.parts['sync-read'].ok).toBe(true);
    const g = s.gpu.parts['sync-read'];
    expect(g.ok).toBe(false);
    expect(g.error).toMatch(/synchronous read \(dataSync\/arraySync\) of a GPU tensor on the webgpu backend in .*worker\.ts.*await tensor\.data\(\)/);
    expect(g.leaked).toBe(0);
  });

  it('every executor op matches onnxruntime on webgpu (the ops test, run on this backend)', async (ctx) => {
    sides(ctx);
    const vitest = path.join(REPO, 'node_modules/vitest/vitest.mjs');
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        process.execPath,
        [vitest, 'run', 'test/unit/models/ops.test.ts'],
        { cwd: REPO, env: { ...process.env, ARTIPHYS_BACKEND: 'webgpu', FORCE_COLOR: '0' }, timeout: 300_000, maxBuffer: 64 << 20 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
      );
    });
    const failed = r.out.split('\n').filter((l) => /×|FAIL|Error:/.test(l) && !/already registered/.test(l));
    expect(failed.slice(0, 10), 'ops test on webgpu').toEqual([]);
    expect(r.code).toBe(0);
  }, 300_000);

  for (const name of ANALYSES) {
    it(`${name}: one short run equals tensorflow within float32 tolerance, every tensor freed`, (ctx) => {
      const { g, c } = partsOf(ctx, name);
      expect(g.leaked, 'tensors left by the webgpu run').toBe(0);
      expect(g.emitted.map((e) => e.key)).toEqual(c.emitted.map((e) => e.key));
      expect(c.emitted.length).toBeGreaterThan(0);
      const diffs = c.emitted.flatMap((e, i) => differences(e.data, g.emitted[i].data, e.key));
      expect(diffs.slice(0, 10)).toEqual([]);
      c.emitted.forEach((e, i) =>
        e.images.forEach((img, k) => {
          const [a, b] = [Buffer.from(img, 'base64'), Buffer.from(g.emitted[i].images[k], 'base64')];
          expect(b.length).toBe(a.length);
          // 8-bit images: float32 rounding may tip a pixel to the next grey level.
          expect(a.reduce((m, v, j) => Math.max(m, Math.abs(v - b[j])), 0), `${e.key} image ${k}`).toBeLessThanOrEqual(1);
        }),
      );
    });
  }
});
