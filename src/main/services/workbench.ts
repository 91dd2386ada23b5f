// The services behind every front door (desktop IPC, HTTP + WebSocket, CLI): one instance per
// process, holding the open project and the job runner. Transports only validate and forward.
import { createHash, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ZodError } from 'zod';
import { runCost, type RunEstimate } from '../../shared/analyses/cost';
import { ANALYSES, isAnalysisKind, parseSettings, type AnalysisKind } from '../../shared/analyses/registry';
import {
  ApiError,
  parseCall,
  type ApiEvent,
  type AppInfo,
  type Method,
  type MethodResults,
  type ProjectInfo,
  type StoredImageData,
} from '../../shared/api/contract';
import { builtinModels } from '../../shared/builtin-models';
import type { SweepSummary } from '../../shared/sweeps';
import { V4_BEST_REPORTED, type ApcPointsReference, type V4Reference } from '../../shared/v4-reference';
import { shippedApcPoints, shippedV4Fits } from '../engine/shape-data';
import type { InputConvention, ModelDetail, ModelSummary } from '../../shared/domain';
import { APP_VERSION } from '../version';
import type { EngineLauncher } from './engine-process';
import { latestScaleInvariantChannels } from './ablation-defaults';
import { checkRunSettings } from './run-checks';
import { JobRunner } from './job-runner';
import { modelsDir } from './paths';
import { ProjectDb } from './project-db';
import { downloadZooEntry, zooEntries, zooEntry } from './zoo';
import { dataExportHandlers } from './handlers/data-export';
import { figureHandlers } from './handlers/figures';
import { galleryHandlers } from './handlers/gallery';
import type { ServiceContext } from './handlers/types';

export interface WorkbenchOptions {
  launcher: EngineLauncher;
  /** Project file to open; created when missing if `create` is set. */
  projectPath: string;
  create?: boolean;
  backend?: string;
  /** Another zoo manifest and download folder (tests); defaults: the shipped manifest, modelsDir(). */
  zoo?: { manifest: string; dir: string };
  /** False: no engine is started (commands that only read the project). */
  startEngine?: boolean;
  /**
   * Opens the project read-only, without the writer's lock (another process may hold it) and
   * without an engine: for reading a project while another process runs on it.
   */
  readOnly?: boolean;
  /** Seconds reading a model file may take before it is stopped. */
  inspectTimeoutSeconds?: number;
  /** Where engine log lines for runs go (default: stderr). */
  log?: (runId: number, message: string) => void;
}

export { artiphysHome, defaultProjectPath, modelsDir } from './paths';

// Each handler validates and narrows its own params; the table only maps methods to them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handlers = { [M in Method]: (params: any) => Promise<MethodResults[M]> | MethodResults[M] };

export class Workbench {
  private readonly listeners = new Set<(e: ApiEvent) => void>();
  readonly runner: JobRunner;
  /** Seconds per unit-step by kind, model, layer, batch and backend, timed once per process. */
  private readonly stepTimings = new Map<string, Promise<number>>();

  private constructor(
    private db: ProjectDb,
    private readonly opts: WorkbenchOptions,
  ) {
    this.runner = new JobRunner(db, {
      launcher: opts.launcher,
      emit: (e) => this.emit(e),
      ...(opts.backend ? { backend: opts.backend } : {}),
      ...(opts.inspectTimeoutSeconds !== undefined ? { inspectTimeoutSeconds: opts.inspectTimeoutSeconds } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
  }

  /**
   * Opens (or creates) the project; the engine starts in the background. Runs left `running` by
   * a process that died are marked interrupted (this process holds the writer's lock, so no live
   * process runs them) and resume once the engine is ready.
   */
  static open(opts: WorkbenchOptions): Workbench {
    const exists = fs.existsSync(opts.projectPath);
    const readOnly = opts.readOnly === true;
    const db = ProjectDb.open(opts.projectPath, { create: !exists && opts.create === true && !readOnly, readOnly });
    if (!readOnly) db.markAbandonedRunsInterrupted();
    const wb = new Workbench(db, opts);
    if (!readOnly && opts.startEngine !== false) wb.runner.start().catch(() => undefined); // reported through app.info and engine.status
    return wb;
  }

  get project(): ProjectDb {
    return this.db;
  }

  onEvent(listener: (e: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Validates a raw call and runs it; errors come back as ApiError with a clear message. */
  async call(raw: unknown): Promise<unknown> {
    const { method, params } = parseCall(raw);
    try {
      return await this.handlers[method](params);
    } catch (err) {
      throw toApiError(err);
    }
  }

  close(): void {
    this.runner.stop();
    this.db.close();
  }

  private emit(e: ApiEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** What the handler groups in ./handlers see of the workbench. */
  private readonly context: ServiceContext = ((wb: Workbench) => ({
    get project() {
      return wb.db;
    },
    emit: (e: ApiEvent) => wb.emit(e),
    openProject: (file: string) => wb.switchTo(file, false),
  }))(this);

  private switchTo(file: string, create: boolean): ProjectInfo {
    // This process holds the open project's lock: opening it again would only meet that lock.
    if (path.resolve(file) === this.db.path && !create) return this.db.info();
    const next = ProjectDb.open(file, { create });
    next.markAbandonedRunsInterrupted();
    const old = this.db;
    this.db = next;
    this.runner.switchProject(next);
    old.close();
    this.emit({ type: 'project.changed', path: next.path });
    return next.info();
  }

  /** Ablation's default channels: the block's passing list from the latest scale-invariance run (METHODS §8). */
  private defaultAblationChannels(s: Record<string, unknown>): number[] {
    const channels = latestScaleInvariantChannels(this.db, String(s.modelId), String(s.block));
    if (!channels) throw new ApiError('bad_request', `no finished scale-invariance run covers block "${s.block}" of model ${s.modelId}; run one first or give the channels`);
    if (channels.length === 0) throw new ApiError('bad_request', `the latest scale-invariance run found no scale-invariant channel in block "${s.block}"; give the channels to ablate`);
    return channels;
  }

  private model(id: string): ModelDetail {
    const found = builtinModels().find((m) => m.id === id) ?? this.db.getModel(id);
    if (!found) throw new ApiError('not_found', `no model "${id}"; "artiphys models list" shows the ids`);
    return found;
  }

  private readonly handlers: Handlers = {
    ...galleryHandlers(this.context),
    ...figureHandlers(this.context),
    ...dataExportHandlers(this.context),
    'app.info': (): AppInfo => ({
      version: APP_VERSION,
      backend: this.runner.backend,
      engine: this.runner.engineState,
      project: this.db.info(),
      analyses: Object.entries(ANALYSES).map(([kind, a]) => ({ kind, title: a.title, defaults: parseSettings(kind as never, {}) })),
    }),
    'project.info': () => this.db.info(),
    'project.open': (p: { path: string }) => this.switchTo(p.path, false),
    'project.create': (p: { path: string }) => this.switchTo(p.path, true),
    'models.list': () => [
      ...builtinModels().map(({ layers: _layers, ...summary }) => summary),
      ...this.db.listModels(),
    ],
    'models.get': (p: { modelId: string }) => this.model(p.modelId),
    'models.import': (p: { path: string; name?: string }) => this.importFile(p.path, p.name),
    'models.setConvention': (p: { modelId: string; convention: ModelDetail['inputConvention'] }) => {
      this.db.setInputConvention(p.modelId, p.convention);
      const { layers: _layers, ...summary } = this.model(p.modelId);
      return summary;
    },
    'models.randomize': (p: { modelId: string; seed: number }) => {
      const from = this.model(p.modelId);
      if (from.format === 'builtin') {
        throw new ApiError('bad_request', `${from.id} is a built-in cell model; its parameters are set in the run settings, not random weights`);
      }
      const base = `${from.id.replace(/-rand\d+(-\d+)?$/, '')}-rand${p.seed}`;
      let id = base;
      for (let n = 2; this.db.getModel(id); n++) id = `${base}-${n}`;
      const name = `${from.name.replace(/ \(random weights, seed \d+\)$/, '')} (random weights, seed ${p.seed})`;
      this.db.copyModel(from.id, { id, name, randomWeightsSeed: p.seed });
      const { layers: _layers, ...summary } = this.model(id);
      return summary;
    },
    'zoo.list': () =>
      zooEntries(this.opts.zoo?.manifest).map((e) => {
        const file = path.join(this.opts.zoo?.dir ?? modelsDir(), e.fileName);
        return { ...e, path: file, downloaded: fs.existsSync(file) };
      }),
    'zoo.download': async (p: { name: string }) => {
      const entry = zooEntry(p.name, zooEntries(this.opts.zoo?.manifest));
      const file = await downloadZooEntry(entry, {
        dir: this.opts.zoo?.dir ?? modelsDir(),
        onProgress: (progress) => this.emit({ type: 'zoo.progress', name: entry.name, progress }),
      });
      try {
        const model = await this.importFile(file, entry.title, entry.inputConvention);
        return { file, model, importError: null };
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        // A verified file the engine cannot read is a format Artiphys does not read yet; any other
        // failure (engine down) is worth retrying with "models import".
        const importError =
          err instanceof ApiError && err.code === 'bad_model'
            ? `downloaded to ${file}, but it cannot be imported yet: ${why}`
            : `downloaded to ${file}, but importing it failed: ${why}; import the file again once that is fixed`;
        return { file, model: null, importError };
      }
    },
    'runs.estimate': (p: { kind: string; settings: Record<string, unknown> }) => this.estimate(p.kind, p.settings),
    'runs.start': (p: { kind: string; settings: Record<string, unknown>; seed?: number; title?: string }) => {
      const { kind, settings, model } = this.checkedSettings(p.kind, p.settings);
      const modelId = model.id;
      if (p.kind === 'ablation' && settings.channels === null) settings.channels = this.defaultAblationChannels(settings);
      const run = this.db.createRun({
        kind,
        title: p.title ?? `${ANALYSES[kind].title} · ${model.id}`,
        modelId,
        settings,
        seed: p.seed ?? randomInt(0, 2 ** 31),
        appVersion: APP_VERSION,
      });
      this.emit({ type: 'run.status', runId: run.id, status: 'queued' });
      this.runner.stopTimings();
      this.runner.pump();
      return run;
    },
    'runs.list': (p: { limit: number }) => this.db.listRuns(p.limit),
    'runs.get': (p: { runId: number }) => this.run(p.runId),
    'runs.cancel': async (p: { runId: number }) => {
      this.run(p.runId);
      await this.runner.cancel(p.runId); // answers once the run has stopped
      return this.run(p.runId);
    },
    'runs.resume': (p: { runId: number }) => {
      const run = this.run(p.runId);
      if (run.status === 'done' || run.status === 'running' || run.status === 'queued') {
        throw new ApiError('bad_request', `run ${run.id} is ${run.status}; only cancelled, failed or interrupted runs resume`);
      }
      this.db.setRunStatus(run.id, 'queued');
      this.emit({ type: 'run.status', runId: run.id, status: 'queued' });
      this.runner.pump();
      return this.run(run.id);
    },
    'runs.delete': (p: { runId: number }) => {
      const run = this.run(p.runId);
      if (run.status === 'running' || run.status === 'queued' || run.status === 'interrupted') {
        throw new ApiError('bad_request', `run ${run.id} is ${run.status}; cancel it before deleting it`);
      }
      this.db.deleteRun(run.id);
      this.emit({ type: 'run.deleted', runId: run.id });
      return { deleted: run.id };
    },
    'results.list': (p: { runId: number }) => {
      this.run(p.runId);
      return this.db.listResults(p.runId);
    },
    'sweeps.list': (): SweepSummary[] =>
      this.db.sweeps.list().map((w) => ({
        id: w.id,
        uid: w.uid,
        title: w.title,
        kind: w.spec.kind,
        state: w.state,
        createdAt: w.createdAt,
        shards: w.shards.map(({ index, modelId, layer, units, state, runId, attempts, worker, error, progress }) => ({
          index,
          modelId,
          layer,
          units,
          state,
          runId,
          attempts,
          worker,
          error,
          progress,
        })),
      })),
    'images.get': (p: { imageId: number }) => {
      const img = this.imageData(p.imageId);
      if (!img) throw new ApiError('not_found', `no image ${p.imageId}`);
      return img;
    },
    'images.getMany': (p: { imageIds: number[] }) => {
      const found = p.imageIds.map((id) => this.imageData(id));
      return { images: found.filter((img) => img !== null), missing: p.imageIds.filter((_, i) => found[i] === null) };
    },
    'notes.set': (p: { target: string; text: string }) => {
      this.db.setNote(p.target, p.text);
      return { target: p.target, text: p.text };
    },
    'notes.get': (p: { target: string }) => ({ target: p.target, text: this.db.getNote(p.target) }),
    'reference.v4': (): V4Reference => ({
      fits: shippedV4Fits(),
      bestReported: V4_BEST_REPORTED,
      source: 'least-squares APC fits of 109 V4 neurons (Pasupathy & Connor 2001 recordings), resources/v4',
    }),
    'reference.apcPoints': (): ApcPointsReference => {
      const p = shippedApcPoints();
      const stimuli = Array.from({ length: p.offsets.length - 1 }, (_, s) => {
        const pts: [number, number][] = [];
        for (let q = p.offsets[s]; q < p.offsets[s + 1]; q++) pts.push([p.angle[q], p.curvature[q]]);
        return pts;
      });
      return { stimuli };
    },
  };

  /** Settings parsed (defaults filled in) and checked against the model and the file system. */
  private checkedSettings(kind: string, raw: Record<string, unknown>): { kind: AnalysisKind; settings: Record<string, unknown>; model: ModelDetail } {
    if (!isAnalysisKind(kind)) {
      throw new ApiError('bad_request', `unknown analysis "${kind}"; known: ${Object.keys(ANALYSES).join(', ')}`);
    }
    const settings = parseSettings(kind, raw);
    const model = this.model(String(settings.modelId ?? ''));
    checkRunSettings(kind, settings, model);
    return { kind, settings, model };
  }

  private async estimate(kind: string, raw: Record<string, unknown>): Promise<RunEstimate> {
    const { settings, model } = this.checkedSettings(kind, raw);
    const backend = (this.runner.backend ?? (await this.runner.start())).name;
    const cost = runCost(kind, settings);
    if (!cost) {
      return { seconds: null, secondsPerUnitStep: null, factors: [], unitSteps: null, backend, timing: null, reason: `the cost of ${kind} is not counted in steps` };
    }
    const key = [kind, model.id, cost.layer, cost.batch, backend].join('|');
    const cached = this.stepTimings.has(key);
    if (!cached) {
      const timing = this.runner.timeProgressStep(kind, cost.probeSettings).then((s) => s / cost.unitStepsPerProgress);
      timing.catch(() => this.stepTimings.delete(key)); // a failed timing is tried again next time
      this.stepTimings.set(key, timing);
    }
    const perStep = await this.stepTimings.get(key)!;
    return {
      seconds: perStep * cost.unitSteps,
      secondsPerUnitStep: perStep,
      factors: cost.factors,
      unitSteps: cost.unitSteps,
      backend,
      timing: cached ? 'cached' : 'measured',
    };
  }

  /** Reads a model file in the engine and adds it to the project; `convention` overrides the file's. */
  private async importFile(filePath: string, name?: string, convention?: InputConvention): Promise<ModelSummary> {
    const file = path.resolve(filePath);
    if (!fs.existsSync(file)) throw new ApiError('not_found', `no file at ${file}`);
    const sha256 = await fileSha256(file); // streamed: a large file is never held in memory here
    const inspected = await this.runner.inspect(file).catch((err: Error) => {
      throw new ApiError('bad_model', `${path.basename(file)}: ${err.message}`);
    });
    const base = path.basename(file).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_-]+/g, '-');
    let id = `${base}-${sha256.slice(0, 8)}`;
    for (let n = 2; this.db.getModel(id); n++) id = `${base}-${sha256.slice(0, 8)}-${n}`;
    const detail: ModelDetail & { sha256: string } = {
      id,
      name: name ?? inspected.name,
      format: inspected.format,
      source: file,
      inputConvention: convention ?? inspected.inputConvention,
      layerCount: inspected.layers.length,
      layers: inspected.layers,
      sha256,
      ...(!convention && inspected.conventionGuessed ? { conventionGuessed: true } : {}),
    };
    this.db.addModel(detail);
    const { layers: _layers, sha256: _sha, ...summary } = detail;
    return summary;
  }

  private imageData(id: number): StoredImageData | null {
    const img = this.db.getImage(id);
    return img && { id: img.id, width: img.width, height: img.height, mime: 'image/png', base64: img.png.toString('base64') };
  }

  private run(id: number) {
    const run = this.db.getRun(id);
    if (!run) throw new ApiError('not_found', `no run ${id} in this project`);
    return run;
  }
}

/** SHA-256 of a file, read in chunks. */
async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (String((err as { code?: unknown }).code ?? '').startsWith('SQLITE_READONLY')) {
    return new ApiError('project_readonly', 'this project is open for writing in another process; here it can only be read');
  }
  if (err instanceof ZodError) {
    const issue = err.issues[0];
    return new ApiError('bad_request', `settings.${issue.path.join('.')}: ${issue.message}`);
  }
  return new ApiError('internal', err instanceof Error ? err.message : String(err));
}
