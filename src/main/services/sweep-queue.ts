// Sweeps on a worker pool: BullMQ over Redis. The project owner enqueues a sweep's unfinished
// shards and is the only writer of the project: each shard's outcome (results and images) comes
// back as its job's return value and is stored as it arrives. Workers (`artiphys worker`) run
// shards in their own engines, report progress, and hand back each checkpoint (with the results
// finished before it) into the job's data,
// so a shard whose worker dies is run again by another from there. BullMQ retries failed shards
// with exponential backoff; cancelling a sweep drops its waiting jobs and tells the workers, over
// a Redis channel, to stop the ones they run.
import { Queue, QueueEvents, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ApiError } from '../../shared/api/errors';
import type { ShardOutcome } from '../../shared/sweeps';
import type { EngineLauncher } from './engine-process';
import type { ProjectDb } from './project-db';
import { ShardEngine, shardTasks, WORKER_NAME, type ShardTask } from './shard-engine';
import type { SweepRecord } from './sweep-db';

export const QUEUE_NAME = 'artiphys-shards';
const CANCEL_CHANNEL = `${QUEUE_NAME}:cancel`;

/** Progress a worker reports for its shard. */
interface ShardProgress {
  worker: string;
  step: number;
  total: number;
}

/** A Redis connection from `redis://[:password@]host:port/db` or `rediss://` (TLS). */
export function redisConnection(url: string): Redis {
  if (!/^rediss?:\/\//.test(url)) throw new ApiError('bad_request', `--queue takes redis://HOST:PORT/N or rediss://... (TLS), not "${url}"`);
  // BullMQ's blocking commands need ioredis not to give up on a request.
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

/** Job ids are per sweep and shard: enqueuing a shard that is already queued adds nothing. */
function jobId(uid: string, index: number): string {
  return `${uid}-${index}`;
}

export interface QueueRunOptions {
  /** Tries of a shard before it is failed (1 = no retry). */
  attempts?: number;
  /** First retry delay; later ones double. */
  backoffMs?: number;
  signal?: AbortSignal;
  onShard?: (index: number, state: string, detail?: string) => void;
}

/**
 * Enqueues the sweep's unfinished shards and stores their outcomes as workers return them, until
 * every shard is done, failed or cancelled. Aborting `signal` cancels the sweep.
 */
export async function runSweepOnQueue(project: ProjectDb, sweepId: number, url: string, opts: QueueRunOptions = {}): Promise<SweepRecord> {
  const sweep = project.sweeps.get(sweepId);
  if (!sweep) throw new ApiError('not_found', `no sweep ${sweepId} in this project`);
  const connections = [redisConnection(url), redisConnection(url)];
  const queue = new Queue<ShardTask, ShardOutcome>(QUEUE_NAME, { connection: connections[0] });
  // Events are read from the stream's present end, fixed before any job is added, so that none
  // of this sweep's is missed while the event reader starts.
  const last = await connections[0].xrevrange(`bull:${QUEUE_NAME}:events`, '+', '-', 'COUNT', 1);
  const events = new QueueEvents(QUEUE_NAME, { connection: connections[1], lastEventId: last[0]?.[0] ?? '0-0' });
  const open = new Set(sweep.shards.filter((s) => s.state !== 'done').map((s) => s.index));
  const ownShard = (id: string): number | null => {
    if (!id.startsWith(`${sweep.uid}-`)) return null;
    const index = Number(id.slice(sweep.uid.length + 1));
    return Number.isInteger(index) ? index : null;
  };
  try {
    await events.waitUntilReady();
    let settle!: () => void;
    const finished = new Promise<void>((resolve) => (settle = resolve));
    const close = (index: number) => {
      open.delete(index);
      if (open.size === 0) settle();
    };
    events.on('active', ({ jobId: id }) => {
      const index = ownShard(id);
      if (index === null || !open.has(index)) return;
      project.sweeps.setShardState(sweep.id, index, 'running', { countAttempt: true });
      opts.onShard?.(index, 'running');
    });
    events.on('progress', ({ jobId: id, data }) => {
      const index = ownShard(id);
      const p = data as ShardProgress;
      if (index === null || !open.has(index) || typeof p?.step !== 'number') return;
      project.sweeps.setShardProgress(sweep.id, index, p.step, p.total);
    });
    events.on('completed', ({ jobId: id, returnvalue }) => {
      const index = ownShard(id);
      if (index === null) return;
      const outcome = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as ShardOutcome;
      let how: string;
      try {
        how = project.sweeps.storeOutcome(sweep, outcome);
      } catch (err) {
        project.sweeps.setShardState(sweep.id, index, 'failed', { error: err instanceof Error ? err.message : String(err) });
        how = 'refused';
      }
      opts.onShard?.(index, project.sweeps.get(sweep.id)!.shards[index].state, how);
      close(index);
    });
    events.on('failed', ({ jobId: id, failedReason }) => {
      const index = ownShard(id);
      if (index === null || !open.has(index)) return;
      const cancelled = failedReason === CANCELLED;
      project.sweeps.setShardState(sweep.id, index, cancelled ? 'cancelled' : 'failed', { error: cancelled ? null : failedReason });
      opts.onShard?.(index, cancelled ? 'cancelled' : 'failed', failedReason);
      close(index);
    });

    if (open.size === 0) return project.sweeps.get(sweep.id)!;
    const tasks = shardTasks(project, sweep).filter((t) => open.has(t.index));
    // Jobs of an earlier, interrupted owner are dropped first: their outcome would have no listener.
    for (const t of tasks) await queue.remove(jobId(sweep.uid, t.index)).catch(() => 0);
    await queue.addBulk(
      tasks.map((t) => ({
        name: 'shard',
        data: t,
        opts: {
          jobId: jobId(sweep.uid, t.index),
          attempts: opts.attempts ?? 3,
          backoff: { type: 'exponential', delay: opts.backoffMs ?? 2000 },
          removeOnComplete: true,
          removeOnFail: true,
        },
      })),
    );
    for (const t of tasks) project.sweeps.setShardState(sweep.id, t.index, 'queued');

    const onAbort = () => void cancelOnQueue(queue, connections[0], sweep.uid, (index) => {
      if (!open.has(index)) return;
      project.sweeps.setShardState(sweep.id, index, 'cancelled');
      opts.onShard?.(index, 'cancelled');
      close(index);
    });
    opts.signal?.addEventListener('abort', onAbort);
    if (opts.signal?.aborted) onAbort();
    await finished;
    opts.signal?.removeEventListener('abort', onAbort);
    return project.sweeps.get(sweep.id)!;
  } finally {
    await events.close();
    await queue.close();
    for (const c of connections) c.disconnect();
  }
}

/** The reason a cancelled shard's job fails with (never retried). */
const CANCELLED = 'cancelled';

/** Removes the sweep's jobs no worker holds yet, and tells the workers to stop the ones they hold. */
async function cancelOnQueue(queue: Queue, connection: Redis, uid: string, removed: (index: number) => void): Promise<void> {
  await connection.publish(CANCEL_CHANNEL, uid);
  for (const job of await queue.getJobs(['waiting', 'delayed', 'prioritized'])) {
    if (!job?.id?.startsWith(`${uid}-`)) continue;
    // A job taken by a worker meanwhile cannot be removed: that worker gets the cancel message.
    const gone = await job.remove().then(() => true, () => false);
    if (gone) removed(job.data.index);
  }
}

export interface WorkerOptions {
  launcher: EngineLauncher;
  backend?: string;
  concurrency?: number;
  /** Seconds without a lock renewal after which a worker's shard is given to another (default 30). */
  lockSeconds?: number;
  log?: (line: string) => void;
}

/** Takes shards from the queue and runs them, `concurrency` at a time, each in an engine of its own. */
export async function startWorker(url: string, opts: WorkerOptions): Promise<{ close: () => Promise<void> }> {
  const concurrency = opts.concurrency ?? 1;
  const engines = Array.from({ length: concurrency }, () => new ShardEngine(opts.launcher, opts.backend));
  const log = opts.log ?? (() => undefined);
  // Engines start now: a backend that cannot start is told before any shard is taken.
  await Promise.all(engines.map((e) => e.start()));
  const cancelled = new Set<string>();
  const running = new Map<string, Set<AbortController>>();
  const subscriber = redisConnection(url);
  await subscriber.subscribe(CANCEL_CHANNEL);
  subscriber.on('message', (_channel: string, uid: string) => {
    cancelled.add(uid);
    for (const c of running.get(uid) ?? []) c.abort();
  });
  const lockDuration = (opts.lockSeconds ?? 30) * 1000;
  const connection = redisConnection(url);
  const worker = new Worker<ShardTask, ShardOutcome>(
    QUEUE_NAME,
    async (job: Job<ShardTask, ShardOutcome>) => {
      const task = job.data;
      if (cancelled.has(task.sweepUid)) throw new UnrecoverableError(CANCELLED);
      const engine = engines.find((e) => !e.busy)!;
      const abort = new AbortController();
      const mine = running.get(task.sweepUid) ?? new Set();
      running.set(task.sweepUid, mine.add(abort));
      log(`shard ${task.index} of sweep ${task.sweepUid}: started${task.resumeFrom ? ' (from its checkpoint)' : ''}`);
      try {
        const outcome = await engine.run(
          task,
          {
            onProgress: (step, total) => void job.updateProgress({ worker: WORKER_NAME, step, total } satisfies ShardProgress).catch(() => undefined),
            // The checkpoint and the results finished before it go into the job: whoever runs
            // it next resumes from there, and nothing finished is lost.
            onCheckpoint: (state, finished) => void job.updateData({ ...task, resumeFrom: state, finished }).catch(() => undefined),
          },
          abort.signal,
        );
        log(`shard ${task.index} of sweep ${task.sweepUid}: ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''}`);
        if (outcome.status === 'cancelled') throw new UnrecoverableError(CANCELLED);
        if (outcome.status === 'failed') throw new Error(outcome.error ?? 'the shard failed');
        return outcome;
      } finally {
        mine.delete(abort);
      }
    },
    { connection, concurrency, lockDuration, stalledInterval: lockDuration, autorun: true },
  );
  worker.on('error', (err) => log(`queue error: ${err.message}`));
  await worker.waitUntilReady();
  return {
    close: async () => {
      await worker.close();
      for (const e of engines) e.stop();
      subscriber.disconnect();
      connection.disconnect();
    },
  };
}
