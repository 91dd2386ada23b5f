// Runs queued runs of a project on the engine process, one at a time, and stores what they emit.
// If the engine dies (mid-run or while it starts), the run is marked interrupted, the engine
// restarts, and the run resumes from its last checkpoint: finished results are already in the
// database. Model files are read in an engine process of their own (see inspect).
import type { ApiEvent } from '../../shared/api/contract';
import type { BackendInfo, RunStatus } from '../../shared/domain';
import type { FromEngine, InspectedModel, ModelRef } from '../engine/protocol';
import { DEFAULT_INSPECT_TIMEOUT_SECONDS, probeEngine, type EngineLauncher, type EngineProcess } from './engine-process';
import { forTerminal } from '../terminal-text';
import type { ProjectDb } from './project-db';

export type EngineState = 'starting' | 'ready' | 'failed';

interface Options {
  launcher: EngineLauncher;
  emit: (event: ApiEvent) => void;
  /** Backend the engine should use (`auto` unless the user chose). */
  backend?: string;
  /** Restarts allowed within RESTART_WINDOW_MS before the engine is declared failed. */
  maxRestarts?: number;
  /** Seconds a cancelled run may take to stop before the engine is killed. */
  cancelGraceSeconds?: number;
  /** Seconds reading a model file may take (DEFAULT_INSPECT_TIMEOUT_SECONDS). */
  inspectTimeoutSeconds?: number;
  /** Where the engine's log lines for a run go (default: stderr as `[run N] message`). */
  log?: (runId: number, message: string) => void;
}

const RESTART_WINDOW_MS = 60_000;
/**
 * How long a timing probe runs once its steps have begun: 3 s, or 0.5 s once it has counted 100
 * steps (a cell model's steps take microseconds; the probe should not hold the CPU the runs use).
 * And how long it may take in all.
 */
const PROBE_TIMING_MS = 3_000;
const PROBE_SHORT_MS = 500;
const PROBE_ENOUGH_STEPS = 100;
const PROBE_LIMIT_MS = 180_000;

export class JobRunner {
  private engine: EngineProcess | null = null;
  private state: EngineState = 'starting';
  private error: string | undefined;
  private backendInfo: BackendInfo | null = null;
  private current: number | null = null;
  private readonly cancelling = new Set<number>();
  /** Who waits for a cancelled run to stop (see cancel). */
  private readonly stopWaiters = new Map<number, (() => void)[]>();
  private restarts: number[] = [];
  private ready: Promise<BackendInfo> | null = null;
  private stopped = false;
  /** Timing probes under way, each with what stops it. */
  private readonly probes = new Set<() => void>();

  constructor(
    private db: ProjectDb,
    private readonly opts: Options,
  ) {}

  get engineState(): { state: EngineState; error?: string } {
    return { state: this.state, ...(this.error ? { error: this.error } : {}) };
  }

  get backend(): BackendInfo | null {
    return this.backendInfo;
  }

  get currentRun(): number | null {
    return this.current;
  }

  get enginePid(): number | undefined {
    return this.engine?.pid;
  }

  /** Starts the engine (once) and resolves with the backend it runs on. */
  start(): Promise<BackendInfo> {
    this.ready ??= this.launch();
    return this.ready;
  }

  /** Takes over another project: runs of the old one stay where they are (queued or interrupted). */
  switchProject(db: ProjectDb): void {
    if (this.current !== null) {
      this.db.setRunStatus(this.current, 'interrupted');
      this.current = null;
      this.restartEngine();
    }
    this.releaseStopWaiters();
    this.db = db;
    this.resumeInterrupted();
  }

  /** Queues interrupted runs again: they resume from their checkpoints. */
  resumeInterrupted(): void {
    for (const run of this.db.runsWithStatus('interrupted')) this.setStatus(run.id, 'queued');
    this.pump();
  }

  pump(): void {
    if (this.state !== 'ready' || this.current !== null || this.stopped) return;
    const next = this.db.runsWithStatus('queued')[0];
    if (!next) return;
    this.current = next.id;
    this.db.markRunStarted(next.id, this.backendInfo?.name ?? 'unknown');
    this.opts.emit({ type: 'run.status', runId: next.id, status: 'running' });
    this.engine!.send({
      type: 'run',
      runId: next.id,
      kind: next.kind,
      settings: next.settings as Record<string, unknown>,
      seed: next.seed,
      resumeFrom: this.db.loadCheckpoint(next.id),
      models: this.modelRefs(),
    });
  }

  /**
   * Cancels a run; resolves once it has stopped (the engine finished its step, or was killed after
   * the grace time), so that whoever asked reads "cancelled", not the "running" of a run that is
   * about to stop.
   */
  cancel(runId: number): Promise<void> {
    const run = this.db.getRun(runId);
    if (!run) return Promise.resolve();
    if (run.status === 'queued' || run.status === 'interrupted') {
      this.setStatus(runId, 'cancelled');
    } else if (run.status === 'running' && this.current === runId) {
      this.cancelling.add(runId);
      this.engine?.send({ type: 'cancel', runId });
      const grace = (this.opts.cancelGraceSeconds ?? 10) * 1000;
      const stopped = new Promise<void>((resolve) => this.stopWaiters.set(runId, [...(this.stopWaiters.get(runId) ?? []), resolve]));
      setTimeout(() => {
        if (this.current === runId && this.cancelling.has(runId)) this.engine?.kill();
      }, grace).unref();
      return stopped;
    }
    return Promise.resolve();
  }

  /**
   * Reads a model file (parsing and a dry run are tensor work) in an engine process of its own on
   * the plain CPU backend: the runs queued on this engine go on meanwhile, and a file that takes
   * longer than the time bound is stopped with its process.
   */
  async inspect(path: string): Promise<InspectedModel> {
    const r = await probeEngine(this.opts.launcher, 'cpu', path, this.opts.inspectTimeoutSeconds ?? DEFAULT_INSPECT_TIMEOUT_SECONDS);
    if (!r.model) throw new Error(r.error ?? 'inspection failed');
    return r.model;
  }

  /**
   * Seconds one progress step of this run takes on the runs' backend: the run is started in an
   * engine process of its own (queued runs go on meanwhile), timed over its first seconds of steps
   * (model loading and the first step, which builds the kernels, left out) and stopped; it stores
   * nothing. A run that starts stops the probes under way (stopTimings).
   */
  timeProgressStep(kind: string, settings: Record<string, unknown>): Promise<number> {
    const engine = this.opts.launcher();
    return new Promise<number>((resolve, reject) => {
      let settled = false;
      const done = (err: Error | null, seconds = 0) => {
        if (settled) return;
        settled = true;
        clearTimeout(limit);
        this.probes.delete(stop);
        engine.kill();
        if (err) reject(err);
        else resolve(seconds);
      };
      const limit = setTimeout(() => done(new Error(`timing steps of ${kind} took longer than ${PROBE_LIMIT_MS / 1000} s`)), PROBE_LIMIT_MS);
      const stop = () => done(new Error('the timing was stopped: a run started'));
      this.probes.add(stop);
      let first: { t: number; step: number } | null = null;
      let events = 0;
      engine.onMessage((msg) => {
        if (msg.type === 'ready') {
          engine.send({ type: 'run', runId: 0, kind, settings, seed: 1, resumeFrom: null, models: this.modelRefs() });
        } else if (msg.type === 'init-failed') {
          done(new Error(msg.error));
        } else if (msg.type === 'progress') {
          const t = performance.now();
          if (!first) {
            first = { t, step: msg.progress.step };
            return;
          }
          const steps = msg.progress.step - first.step;
          const elapsed = t - first.t;
          const enough = elapsed >= PROBE_TIMING_MS || (steps >= PROBE_ENOUGH_STEPS && elapsed >= PROBE_SHORT_MS);
          if (++events >= 2 && steps > 0 && enough) done(null, elapsed / 1000 / steps);
        } else if (msg.type === 'finished') {
          done(new Error(msg.error ?? `the timing run ${msg.status} before its steps could be timed`));
        }
      });
      engine.onExit((code, signal) => done(new Error(`the timing engine exited (${signal ?? `code ${code}`})`)));
      engine.send({ type: 'init', ...(this.opts.backend ? { backend: this.opts.backend } : {}) });
    });
  }

  /** Stops the timing probes under way: the CPU goes to the runs. */
  stopTimings(): void {
    for (const stop of [...this.probes]) stop();
  }

  stop(): void {
    this.stopped = true;
    this.stopTimings();
    if (this.current !== null) this.db.setRunStatus(this.current, 'interrupted');
    this.current = null;
    this.releaseStopWaiters();
    this.engine?.kill();
    this.engine = null;
  }

  private launch(): Promise<BackendInfo> {
    this.state = 'starting';
    this.opts.emit({ type: 'engine.status', state: 'starting' });
    const engine = this.opts.launcher();
    this.engine = engine;
    return new Promise<BackendInfo>((resolve, reject) => {
      engine.onMessage((msg) => {
        if (msg.type === 'ready') {
          this.backendInfo = msg.backend;
          this.state = 'ready';
          this.error = undefined;
          this.opts.emit({ type: 'engine.status', state: 'ready' });
          resolve(msg.backend);
          this.resumeInterrupted();
        } else if (msg.type === 'init-failed') {
          this.fail(msg.error);
          reject(new Error(msg.error));
        } else {
          this.handle(msg);
        }
      });
      engine.onExit((code, signal) => {
        if (this.engine !== engine) return;
        this.engine = null;
        if (this.stopped) return;
        const starting = this.state === 'starting';
        const why = `engine process exited${starting ? ' while starting' : ''} (${signal ?? `code ${code}`})`;
        // Killed while starting is a crash like any other: it restarts (within the limit), and
        // whoever waits for this start waits for the restarted engine.
        const next = this.onCrash(why);
        if (!starting) return;
        if (next) resolve(next);
        else reject(new Error(this.error ?? why));
      });
      engine.send({ type: 'init', ...(this.opts.backend ? { backend: this.opts.backend } : {}) });
    });
  }

  /** Marks the run interrupted and restarts the engine; null when it restarted too often and is declared failed. */
  private onCrash(why: string): Promise<BackendInfo> | null {
    const runId = this.current;
    this.current = null;
    if (runId !== null) {
      if (this.cancelling.delete(runId)) this.setStatus(runId, 'cancelled');
      else this.setStatus(runId, 'interrupted', why);
    }
    const t = Date.now();
    this.restarts = this.restarts.filter((r) => t - r < RESTART_WINDOW_MS);
    if (this.restarts.length >= (this.opts.maxRestarts ?? 3)) {
      this.fail(`${why}; restarted ${this.restarts.length} times within a minute, giving up`);
      return null;
    }
    this.restarts.push(t);
    this.ready = this.launch();
    this.ready.catch(() => undefined); // failure is reported through engine.status
    return this.ready;
  }

  private restartEngine(): void {
    const old = this.engine;
    this.engine = null;
    old?.kill();
    this.ready = this.launch();
    this.ready.catch(() => undefined);
  }

  private fail(error: string): void {
    this.state = 'failed';
    this.error = error;
    this.opts.emit({ type: 'engine.status', state: 'failed', error });
  }

  private handle(msg: FromEngine): void {
    switch (msg.type) {
      case 'progress':
        this.db.setRunProgress(msg.runId, msg.progress);
        this.opts.emit({ type: 'run.progress', runId: msg.runId, progress: msg.progress });
        break;
      case 'result': {
        const r = this.db.addResult(msg.runId, msg.key, msg.data, msg.images);
        this.opts.emit({ type: 'run.result', runId: msg.runId, resultId: r.id, key: msg.key });
        break;
      }
      case 'checkpoint':
        this.db.saveCheckpoint(msg.runId, msg.state);
        break;
      case 'log':
        if (this.opts.log) this.opts.log(msg.runId, msg.message);
        else process.stderr.write(`${forTerminal(`[run ${msg.runId}] ${msg.message}`)}\n`);
        break;
      case 'finished':
        this.db.addComputeSeconds(msg.runId, msg.computeSeconds);
        this.cancelling.delete(msg.runId);
        this.setStatus(msg.runId, msg.status, msg.error ?? null);
        if (this.current === msg.runId) this.current = null;
        this.pump();
        break;
    }
  }

  private setStatus(runId: number, status: RunStatus, error: string | null = null): void {
    this.db.setRunStatus(runId, status, error);
    this.opts.emit({ type: 'run.status', runId, status, error });
    if (status === 'running') return;
    for (const resolve of this.stopWaiters.get(runId) ?? []) resolve();
    this.stopWaiters.delete(runId);
  }

  /** The run was set aside (interrupted) without a status event: nobody waits for it any longer. */
  private releaseStopWaiters(): void {
    for (const waiters of this.stopWaiters.values()) for (const resolve of waiters) resolve();
    this.stopWaiters.clear();
  }

  private modelRefs(): Record<string, ModelRef> {
    const refs: Record<string, ModelRef> = {};
    for (const m of this.db.listModels()) {
      if (!m.source) continue;
      refs[m.id] = {
        path: m.source,
        inputConvention: m.inputConvention,
        ...(m.randomWeightsSeed !== undefined ? { randomWeightsSeed: m.randomWeightsSeed } : {}),
      };
    }
    return refs;
  }
}
