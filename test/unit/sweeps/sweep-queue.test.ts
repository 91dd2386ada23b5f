// Sweeps on a BullMQ worker pool against a real redis-server (started here on a free local port):
// three `artiphys worker` processes store what the same sweep run here stores, for a built-in
// cell and for VGG-19 relu3_1; a worker killed mid-shard, a shard delivered twice and a cancelled
// sweep each end with nothing lost and nothing stored twice.
import fs from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkEngine } from '../../../src/main/services/engine-process';
import { ProjectDb } from '../../../src/main/services/project-db';
import { ShardEngine, runSweepLocally, shardTasks } from '../../../src/main/services/shard-engine';
import { shardDigest } from '../../../src/main/services/sweep-db';
import { QUEUE_NAME, runSweepOnQueue } from '../../../src/main/services/sweep-queue';
import { Workbench } from '../../../src/main/services/workbench';
import { sweepSpec, type SweepSpecInput } from '../../../src/shared/sweeps';
import { tempDir } from '../../helpers/temp';
import { CELL_SWEEP, copyProject, projectWithSweep, REDIS_SERVER, runCount, startRedis, startWorker, storedShards } from './sweep-helpers';

const VGG = path.resolve(import.meta.dirname, '../../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
const dir = tempDir('artiphys-sweep-queue-');

/** Runs the sweep of `file` here (the reference), on a copy of the project made before. */
async function runLocally(file: string, sweepId: number): Promise<void> {
  const db = ProjectDb.open(file);
  const engine = new ShardEngine(forkEngine);
  try {
    await runSweepLocally(db, sweepId, engine);
  } finally {
    engine.stop();
    db.close();
  }
}

async function runOnQueue(file: string, sweepId: number, url: string, opts: Parameters<typeof runSweepOnQueue>[3] = {}) {
  const db = ProjectDb.open(file);
  try {
    return await runSweepOnQueue(db, sweepId, url, opts);
  } finally {
    db.close();
  }
}

/** The same sweep in two projects: one to run here, one to run on the queue. */
function twinProjects(name: string, spec: SweepSpecInput, template?: string) {
  const base = template ? copyProject(template, path.join(dir, `${name}.artiphys`)) : path.join(dir, `${name}.artiphys`);
  const made = template
    ? (() => {
        const db = ProjectDb.open(base);
        try {
          return { file: base, sweepId: db.sweeps.create(sweepSpec.parse(spec), name).id };
        } finally {
          db.close();
        }
      })()
    : projectWithSweep(base, spec);
  return { local: copyProject(made.file, path.join(dir, `${name}-local.artiphys`)), queued: made.file, sweepId: made.sweepId };
}

describe.skipIf(!fs.existsSync(REDIS_SERVER))('sweeps on a BullMQ worker pool (redis-server)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('three workers store what the same sweeps run here store: a built-in cell and VGG-19 relu3_1', async () => {
    const url = redis.url(0);
    const workers = await Promise.all([startWorker(url), startWorker(url), startWorker(url)]);
    try {
      const cell = twinProjects('cell', CELL_SWEEP);
      const shardsSeen = new Map<number, string>();
      const sweep = await runOnQueue(cell.queued, cell.sweepId, url, { onShard: (i, s) => s === 'done' && shardsSeen.set(i, s) });
      expect(sweep.state).toBe('done');
      expect(shardsSeen.size).toBe(3);
      await runLocally(cell.local, cell.sweepId);
      expect(storedShards(cell.queued, cell.sweepId)).toEqual(storedShards(cell.local, cell.sweepId));
      // The work was shared out (each worker names itself with its host and pid).
      expect(new Set(sweep.shards.map((s) => s.worker)).size).toBeGreaterThan(1);

      // VGG-19: the model is imported once; workers load it from the same file.
      const vggProject = path.join(dir, 'vgg-base.artiphys');
      const wb = Workbench.open({ launcher: forkEngine, projectPath: vggProject, create: true, startEngine: false });
      const model = (await wb.call({ method: 'models.import', params: { path: VGG } })) as { id: string };
      wb.close();
      const vgg = twinProjects(
        'vgg',
        {
          kind: 'diverse',
          models: [model.id],
          layers: ['relu3_1'],
          units: [0, 1, 2],
          unitsPerShard: 1,
          settings: { unitsPerBatch: 1, lambdas: [0, 1], maxSteps: 3, images: 2, indices: false },
          seed: 5,
        },
        vggProject,
      );
      expect((await runOnQueue(vgg.queued, vgg.sweepId, url)).state).toBe('done');
      await runLocally(vgg.local, vgg.sweepId);
      const stored = storedShards(vgg.queued, vgg.sweepId);
      expect(stored.every((s) => s.results!.some((r) => r.key.startsWith('unit/relu3_1/') && r.images.length > 0))).toBe(true);
      expect(stored).toEqual(storedShards(vgg.local, vgg.sweepId));
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }, 900_000);

  it('a worker killed mid-shard loses only that shard\'s unfinished part: another resumes it from its checkpoint', async () => {
    const url = redis.url(2);
    const spec: SweepSpecInput = { ...CELL_SWEEP, units: [0, 1], settings: { ...CELL_SWEEP.settings, maxSteps: 40, lambdas: [0, 0.5, 1] } };
    const twin = twinProjects('killed', spec);
    const victim = await startWorker(url);
    let rescuer: Awaited<ReturnType<typeof startWorker>> | null = null;
    const db = ProjectDb.open(twin.queued);
    try {
      const running = runSweepOnQueue(db, twin.sweepId, url);
      // Past the first lambda the shard has sent a checkpoint; then its worker dies.
      while ((db.sweeps.get(twin.sweepId)!.shards[0].progress.step ?? 0) <= 40) await new Promise((r) => setTimeout(r, 100));
      await victim.stop();
      rescuer = await startWorker(url);
      const sweep = await running;
      expect(sweep.state).toBe('done');
      expect(sweep.shards[0].attempts).toBe(2);
      expect(rescuer.log()).toMatch(/shard 0 of sweep \S+: started \(from its checkpoint\)/);
    } finally {
      db.close();
      await victim.stop();
      await rescuer?.stop();
    }
    await runLocally(twin.local, twin.sweepId);
    expect(storedShards(twin.queued, twin.sweepId)).toEqual(storedShards(twin.local, twin.sweepId));
    expect(runCount(twin.queued)).toBe(1);
  }, 600_000);

  describe('with one worker', () => {
    const url = () => redis.url(1);
    let worker: Awaited<ReturnType<typeof startWorker>>;
    beforeAll(async () => {
      worker = await startWorker(url());
    });
    afterAll(() => worker?.stop());

    it('stores a shard delivered twice once', async () => {
      const { file, sweepId } = projectWithSweep(path.join(dir, 'twice.artiphys'), CELL_SWEEP);
      const db = ProjectDb.open(file);
      const connection = new Redis(url(), { maxRetriesPerRequest: null });
      const queue = new Queue(QUEUE_NAME, { connection });
      const deliveries: string[] = [];
      let again: Promise<unknown> | null = null;
      try {
        const sweep = db.sweeps.get(sweepId)!;
        const task = shardTasks(db, sweep)[0];
        const done = await runSweepOnQueue(db, sweepId, url(), {
          onShard: (index, state, detail) => {
            if (index !== 0 || state !== 'done') return;
            deliveries.push(detail ?? '');
            // Shard 0 is delivered, and its job comes again (as after a lost acknowledgement);
            // the worker takes it next, before the sweep's last shard.
            if (!again) again = queue.add('shard', task, { jobId: `${sweep.uid}-0`, lifo: true, removeOnComplete: true });
          },
        });
        await again;
        expect(done.state).toBe('done');
        expect(deliveries).toEqual(['stored', 'duplicate']);
        expect(db.info().counts.runs).toBe(3);
        expect(db.listResults(done.shards[0].runId!).length).toBe(storedShards(file, sweepId)[0].results!.length);
      } finally {
        await queue.close();
        connection.disconnect();
        db.close();
      }
    }, 600_000);

    it('retries a failing shard with backoff, then keeps it failed with its error; the others are stored', async () => {
      // Shard 1's natural images are in an empty folder (as on a worker where it is not mounted).
      const empty = fs.mkdtempSync(path.join(dir, 'no-images-'));
      const { file, sweepId } = projectWithSweep(path.join(dir, 'failing.artiphys'), { ...CELL_SWEEP, units: [0, 1, 2, 3] });
      const raw = new Database(file);
      const settings = JSON.parse((raw.prepare(`SELECT settings FROM sweep_shards WHERE idx = 1`).get() as { settings: string }).settings);
      raw.prepare(`UPDATE sweep_shards SET settings = ?, digest = ? WHERE idx = 1`).run(
        JSON.stringify({ ...settings, normImages: empty }),
        shardDigest({ kind: 'diverse', settings: { ...settings, normImages: empty }, seed: CELL_SWEEP.seed }),
      );
      raw.close();
      const sweep = await runOnQueue(file, sweepId, url(), { attempts: 2, backoffMs: 200 });
      expect(sweep.state).toBe('failed');
      expect(sweep.shards.map((s) => s.state)).toEqual(['done', 'failed']);
      expect(sweep.shards[1]).toMatchObject({ attempts: 2, runId: null });
      expect(sweep.shards[1].error).toMatch(/has no JPEG or PNG images/);
      expect(runCount(file)).toBe(1);
    }, 600_000);

    it('cancels a sweep: the worker stops its shard, the waiting ones are dropped, nothing is stored', async () => {
      const spec: SweepSpecInput = { ...CELL_SWEEP, settings: { ...CELL_SWEEP.settings, maxSteps: 2000, patience: 2000, lambdas: [0, 0.5, 1] } };
      const { file, sweepId } = projectWithSweep(path.join(dir, 'cancelled.artiphys'), spec);
      const abort = new AbortController();
      const sweep = await runOnQueue(file, sweepId, url(), { signal: abort.signal, onShard: (index, state) => index === 0 && state === 'running' && abort.abort() });
      expect(sweep.shards.map((s) => s.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
      expect(sweep.shards.every((s) => s.error === null && s.runId === null)).toBe(true);
      expect(runCount(file)).toBe(0);
      const connection = new Redis(url(), { maxRetriesPerRequest: null });
      const queue = new Queue(QUEUE_NAME, { connection });
      try {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        expect(counts).toEqual({ waiting: 0, active: 0, delayed: 0, prioritized: 0 });
      } finally {
        await queue.close();
        connection.disconnect();
      }
      expect(worker.log()).toMatch(/shard 0 of sweep \S+: cancelled/);
    }, 600_000);
  });
});
