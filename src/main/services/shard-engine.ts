// Runs sweep shards in an engine process of its own, without a project: for queue workers, Slurm
// tasks and the local sweep runner. What a shard emits is collected into its outcome, which the
// project owner stores (SweepDb.storeOutcome).
import os from 'node:os';
import type { ShardOutcome } from '../../shared/sweeps';
import type { BackendInfo } from '../../shared/domain';
import type { FromEngine, ModelRef } from '../engine/protocol';
import type { EngineLauncher, EngineProcess } from './engine-process';
import type { ProjectDb } from './project-db';
import type { SweepRecord } from './sweep-db';

/** Everything a machine needs to run one shard: it travels as a queue job or in a Slurm sweep file. */
export interface ShardTask {
  sweepUid: string;
  index: number;
  digest: string;
  kind: string;
  settings: Record<string, unknown>;
  seed: number;
  /** Project models the shard loads (files must be readable where it runs). */
  models: Record<string, ModelRef>;
  /** The checkpoint of an earlier attempt, returned by the worker that was running it... */
  resumeFrom?: unknown;
  /** ...with the results that attempt had finished by then. */
  finished?: ShardOutcome['results'];
}

export interface ShardHooks {
  onProgress?: (step: number, total: number) => void;
  /** A checkpoint, with every result finished before it: together they resume the shard. */
  onCheckpoint?: (state: unknown, finished: ShardOutcome['results']) => void;
  onLog?: (message: string) => void;
}

/** The project's models as the engine loads them (as JobRunner passes them to a run). */
export function modelRefs(project: ProjectDb): Record<string, ModelRef> {
  const refs: Record<string, ModelRef> = {};
  for (const m of project.listModels()) {
    if (!m.source) continue;
    refs[m.id] = { path: m.source, inputConvention: m.inputConvention, ...(m.randomWeightsSeed !== undefined ? { randomWeightsSeed: m.randomWeightsSeed } : {}) };
  }
  return refs;
}

/** The sweep's shards as tasks (only the models a shard uses travel with it). */
export function shardTasks(project: ProjectDb, sweep: SweepRecord): ShardTask[] {
  const refs = modelRefs(project);
  return sweep.shards.map((s) => ({
    sweepUid: sweep.uid,
    index: s.index,
    digest: s.digest,
    kind: s.kind,
    settings: s.settings,
    seed: s.seed,
    models: refs[s.modelId] ? { [s.modelId]: refs[s.modelId] } : {},
  }));
}

export const WORKER_NAME = `${os.hostname()}:${process.pid}`;

export class ShardEngine {
  private engine: EngineProcess | null = null;
  private ready: Promise<BackendInfo> | null = null;
  private nextRunId = 1;
  private current: { runId: number; onMessage: (msg: FromEngine) => void; onExit: (why: string) => void } | null = null;

  constructor(
    private readonly launcher: EngineLauncher,
    private readonly backend?: string,
  ) {}

  /** Starts the engine (again, after it died) and resolves with its backend. */
  start(): Promise<BackendInfo> {
    if (this.ready) return this.ready;
    const engine = this.launcher();
    this.engine = engine;
    this.ready = new Promise<BackendInfo>((resolve, reject) => {
      engine.onMessage((msg) => {
        if (msg.type === 'ready') resolve(msg.backend);
        else if (msg.type === 'init-failed') reject(new Error(`engine failed to start: ${msg.error}`));
        else this.current?.onMessage(msg);
      });
      engine.onExit((code, signal) => {
        if (this.engine !== engine) return;
        this.engine = null;
        this.ready = null;
        const why = `engine process exited (${signal ?? `code ${code}`})`;
        reject(new Error(why));
        this.current?.onExit(why);
      });
    });
    this.ready.catch(() => undefined);
    engine.send({ type: 'init', ...(this.backend ? { backend: this.backend } : {}) });
    return this.ready;
  }

  /** Taken by a shard (from the moment run is called, before the engine has started). */
  get busy(): boolean {
    return this.claimed;
  }

  private claimed = false;

  /**
   * Runs one shard to its end. A failed or cancelled run resolves with that status and its
   * error; an engine that dies mid-shard rejects (the shard can run again from its checkpoint).
   */
  async run(task: ShardTask, hooks: ShardHooks = {}, signal?: AbortSignal): Promise<ShardOutcome> {
    if (this.claimed) throw new Error('this engine is already running a shard');
    this.claimed = true;
    let backend: BackendInfo;
    try {
      backend = await this.start();
    } catch (err) {
      this.claimed = false;
      throw err;
    }
    const runId = this.nextRunId++;
    const results: ShardOutcome['results'] = [...(task.finished ?? [])];
    return new Promise<ShardOutcome>((resolve, reject) => {
      const onAbort = () => this.engine?.send({ type: 'cancel', runId });
      const end = () => {
        this.current = null;
        this.claimed = false;
        signal?.removeEventListener('abort', onAbort);
      };
      this.current = {
        runId,
        onExit: (why) => {
          end();
          reject(new Error(why));
        },
        onMessage: (msg) => {
          if (!('runId' in msg) || msg.runId !== runId) return;
          if (msg.type === 'progress') hooks.onProgress?.(msg.progress.step, msg.progress.total);
          else if (msg.type === 'checkpoint') hooks.onCheckpoint?.(msg.state, [...results]);
          else if (msg.type === 'log') hooks.onLog?.(msg.message);
          else if (msg.type === 'result') {
            // A resumed shard re-emits its last part under the same key: the later one counts.
            const at = results.findIndex((r) => r.key === msg.key);
            const result = {
              key: msg.key,
              data: msg.data,
              images: msg.images.map((i) => ({ name: i.name, width: i.width, height: i.height, pngBase64: Buffer.from(i.png).toString('base64') })),
            };
            if (at >= 0) results[at] = result;
            else results.push(result);
          } else if (msg.type === 'finished') {
            end();
            resolve({
              sweepUid: task.sweepUid,
              index: task.index,
              digest: task.digest,
              status: msg.status,
              ...(msg.error ? { error: msg.error } : {}),
              backend: backend.name,
              computeSeconds: msg.computeSeconds,
              worker: WORKER_NAME,
              results,
            });
          }
        },
      };
      signal?.addEventListener('abort', onAbort);
      this.engine!.send({ type: 'run', runId, kind: task.kind, settings: task.settings, seed: task.seed, resumeFrom: task.resumeFrom ?? null, models: task.models });
      if (signal?.aborted) onAbort();
    });
  }

  stop(): void {
    const engine = this.engine;
    this.engine = null;
    this.ready = null;
    engine?.kill();
  }
}

/**
 * Runs a sweep's unfinished shards one after another in this process's engine and stores each as
 * it ends: the reference the queue and Slurm paths are compared with.
 */
export async function runSweepLocally(
  project: ProjectDb,
  sweepId: number,
  engine: ShardEngine,
  opts: { signal?: AbortSignal; onShard?: (index: number, state: string) => void } = {},
): Promise<SweepRecord> {
  const sweep = project.sweeps.get(sweepId)!;
  for (const task of shardTasks(project, sweep)) {
    if (sweep.shards[task.index].state === 'done') continue;
    if (opts.signal?.aborted) {
      project.sweeps.setShardState(sweepId, task.index, 'cancelled');
      continue;
    }
    project.sweeps.setShardState(sweepId, task.index, 'running', { worker: WORKER_NAME, countAttempt: true });
    opts.onShard?.(task.index, 'running');
    let outcome: ShardOutcome;
    try {
      outcome = await engine.run(task, { onProgress: (step, total) => project.sweeps.setShardProgress(sweepId, task.index, step, total) }, opts.signal);
    } catch (err) {
      project.sweeps.setShardState(sweepId, task.index, 'failed', { error: err instanceof Error ? err.message : String(err) });
      opts.onShard?.(task.index, 'failed');
      continue;
    }
    project.sweeps.storeOutcome(sweep, outcome);
    opts.onShard?.(task.index, outcome.status);
  }
  return project.sweeps.get(sweepId)!;
}
