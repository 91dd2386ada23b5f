// What the sweep tests share: a project holding one small sweep, the stored results of every
// shard in a comparable form, the built CLI, and a real redis-server on a free local port.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ProjectDb } from '../../../src/main/services/project-db';
import type { SweepSpecInput } from '../../../src/shared/sweeps';
import { sweepSpec } from '../../../src/shared/sweeps';

export const ROOT = path.resolve(__dirname, '../../..');
export const BIN = path.join(ROOT, 'bin/artiphys.js');
export const REDIS_SERVER = '/usr/bin/redis-server';

/** A diverse sweep of the complex cell's 8 subunits, tiny: two lambdas, a few steps, two units a shard. */
export const CELL_SWEEP: SweepSpecInput = {
  kind: 'diverse',
  models: ['builtin:complex-cell'],
  layers: ['subunits'],
  units: [0, 1, 2, 3, 4, 5],
  unitsPerShard: 2,
  settings: { unitsPerBatch: 2, lambdas: [0, 1], maxSteps: 6, images: 3, textureCropStride: 6 },
  seed: 11,
};

/** A new project holding the sweep; returns its file and the sweep's id. */
export function projectWithSweep(file: string, spec: SweepSpecInput, setup?: (db: ProjectDb) => void): { file: string; sweepId: number } {
  const db = ProjectDb.open(file, { create: true });
  try {
    setup?.(db);
    const sweep = db.sweeps.create(sweepSpec.parse(spec), 'test sweep');
    return { file, sweepId: sweep.id };
  } finally {
    db.close();
  }
}

/** Every shard's stored results (keys, data, image bytes) and state, in shard order. */
export function storedShards(file: string, sweepId: number) {
  const db = ProjectDb.open(file, { readOnly: true });
  try {
    const sweep = db.sweeps.get(sweepId)!;
    return sweep.shards.map((s) => ({ index: s.index, state: s.state, results: db.sweeps.outcomeOf(sweep, s.index)?.results ?? null }));
  } finally {
    db.close();
  }
}

export function runCount(file: string): number {
  const db = ProjectDb.open(file, { readOnly: true });
  try {
    return db.info().counts.runs;
  } finally {
    db.close();
  }
}

export function artiphys(args: string[], env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 300_000 });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A redis-server on a free port of 127.0.0.1 that keeps nothing on disk. */
export async function startRedis(): Promise<{ url: (db: number) => string; stop: () => void }> {
  const port = await freePort();
  const proc = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: (db) => `redis://127.0.0.1:${port}/${db}`, stop: () => proc.kill('SIGKILL') };
}

/** `artiphys worker` as a process of its own; resolves once it says it is ready. */
export async function startWorker(url: string, extra: string[] = []): Promise<{ proc: ChildProcess; log: () => string; stop: () => Promise<void> }> {
  const proc = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--lock-seconds', '3', ...extra], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('ready:')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`worker exited (${code}): ${text}`)));
  });
  return {
    proc,
    log: () => text,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const ended = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await ended;
    },
  };
}

export function copyProject(from: string, to: string): string {
  fs.copyFileSync(from, to);
  return to;
}
