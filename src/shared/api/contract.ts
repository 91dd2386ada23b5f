// The one API contract every front door serves: Electron IPC, HTTP + WebSocket, and the CLI.
// Each method has a runtime schema for its params; transports validate before calling services.
import { z } from 'zod';
import { ApiError, type ApiErrorCode } from './errors';
import type {
  BackendInfo,
  ModelDetail,
  ModelSummary,
  ResultRecord,
  RunProgress,
  RunStatus,
  RunSummary,
  ZooListing,
  ZooProgress,
} from '../domain';
import type { CollectionSummary, CurationStep, GalleryPage, UnitDetail } from '../curation';
import type { SweepSummary } from '../sweeps';
import type { RunEstimate } from '../analyses/cost';
import { figureSpec, type ExportedFile } from '../figures';
import type { ApcPointsReference, V4Reference } from '../v4-reference';

const runId = z.number().int().positive();
const unitIds = z.array(z.number().int().positive()).min(1).max(100_000);
const collectionId = z.number().int().positive();
/** Optional server-side destination of an export (CLI, desktop save dialog); else the bytes come back. */
const exportPath = z.string().min(1).optional();

/** Which units the gallery shows, and in what order. */
export const galleryQuery = z.object({
  modelId: z.string().optional(),
  layer: z.string().optional(),
  collectionId: collectionId.optional(),
  starred: z.boolean().optional(),
  tag: z.string().optional(),
  /** Full-text search in the units' notes. */
  search: z.string().max(200).optional(),
  filters: z.array(z.object({ metric: z.string(), min: z.number().optional(), max: z.number().optional() })).default([]),
  /** Sort by a metric key, or by 'layer' / 'channel'; default: model, layer, channel. */
  sort: z.object({ by: z.string(), descending: z.boolean().default(true) }).optional(),
});
export type GalleryQuery = z.input<typeof galleryQuery>;

/** A stored image as the API hands it out (PNG, base64). */
export interface StoredImageData {
  id: number;
  width: number;
  height: number;
  mime: 'image/png';
  base64: string;
}

export const inputConventionSchema = z.object({
  channelOrder: z.enum(['RGB', 'BGR']),
  scale: z.union([z.literal(1), z.literal(255)]),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  inputSize: z.number().int().min(1).max(4096),
});

/** Params schema of every method. */
export const methodParams = {
  'app.info': z.object({}),
  'project.info': z.object({}),
  'project.open': z.object({ path: z.string().min(1) }),
  'project.create': z.object({ path: z.string().min(1) }),
  'models.list': z.object({}),
  'models.get': z.object({ modelId: z.string().min(1) }),
  'models.import': z.object({ path: z.string().min(1), name: z.string().optional() }),
  'models.setConvention': z.object({ modelId: z.string().min(1), convention: inputConventionSchema }),
  'models.randomize': z.object({ modelId: z.string().min(1), seed: z.number().int().min(0).max(2 ** 31 - 1) }),
  'zoo.list': z.object({}),
  'zoo.download': z.object({ name: z.string().min(1) }),
  'runs.start': z.object({
    kind: z.string().min(1),
    settings: z.record(z.string(), z.unknown()).default({}),
    seed: z.number().int().min(0).optional(),
    title: z.string().max(200).optional(),
  }),
  /**
   * The cost of a run before it starts: its settings checked as runs.start checks them, and the
   * seconds of its steps on this backend (timed on the model and layer once, then reused).
   */
  'runs.estimate': z.object({ kind: z.string().min(1), settings: z.record(z.string(), z.unknown()).default({}) }),
  'runs.list': z.object({ limit: z.number().int().min(1).max(1000).default(200) }),
  'runs.get': z.object({ runId }),
  'runs.cancel': z.object({ runId }),
  'runs.resume': z.object({ runId }),
  /** Removes a finished, failed or cancelled run with its results and images. */
  'runs.delete': z.object({ runId }),
  'results.list': z.object({ runId }),
  /** The project's sweeps with the state of each shard (they run through the CLI: `artiphys sweep`). */
  'sweeps.list': z.object({}),
  'images.get': z.object({ imageId: z.number().int().positive() }),
  /** Several images in one answer: a grid's thumbnails cost one round trip, not one each. */
  'images.getMany': z.object({ imageIds: z.array(z.number().int().positive()).min(1).max(200) }),
  'notes.set': z.object({ target: z.string().min(1).max(300), text: z.string().max(100_000) }),
  'notes.get': z.object({ target: z.string().min(1).max(300) }),
  'reference.v4': z.object({}),
  'reference.apcPoints': z.object({}),
  'gallery.query': galleryQuery,
  'units.get': z.object({ unitId: z.number().int().positive() }),
  'curation.star': z.object({ unitIds, starred: z.boolean() }),
  'curation.tag': z.object({ unitIds, tag: z.string().trim().min(1).max(100), add: z.boolean() }),
  'curation.note': z.object({ unitId: z.number().int().positive(), text: z.string().max(100_000) }),
  'curation.undo': z.object({}),
  'curation.redo': z.object({}),
  'collections.list': z.object({}),
  'collections.create': z.object({ name: z.string().trim().min(1).max(200), unitIds: unitIds.optional() }),
  'collections.update': z.object({
    collectionId,
    name: z.string().trim().min(1).max(200).optional(),
    add: unitIds.optional(),
    remove: unitIds.optional(),
    /** The full new order of the collection's units. */
    order: unitIds.optional(),
  }),
  'collections.delete': z.object({ collectionId }),
  'export.figure': z.object({ figure: figureSpec, path: exportPath }),
  /** A units × metrics table of a gallery query, or the summary table of one run. */
  'export.table': z.object({
    format: z.enum(['csv', 'json']),
    query: galleryQuery.optional(),
    runId: runId.optional(),
    path: exportPath,
  }),
  /** Every result of a run with its arrays decoded (JSON). */
  'export.runArrays': z.object({ runId, path: exportPath }),
  /** Writes the open project (database and the model files it uses) into one archive. */
  'project.exportArchive': z.object({ path: z.string().min(1) }),
  /** Unpacks an archive into a new project file (models beside it) and opens it. */
  'project.importArchive': z.object({ archive: z.string().min(1), path: z.string().min(1) }),
} as const;

export type Method = keyof typeof methodParams;
export type Params<M extends Method> = z.input<(typeof methodParams)[M]>;

export interface AppInfo {
  version: string;
  backend: BackendInfo | null;
  /** Where the engine process stands: starting, ready, or failed with a reason. */
  engine: { state: 'starting' | 'ready' | 'failed'; error?: string };
  project: ProjectInfo | null;
  analyses: { kind: string; title: string; defaults: Record<string, unknown> }[];
}

export interface ProjectInfo {
  path: string;
  schemaVersion: number;
  createdAt: string;
  counts: { models: number; runs: number; results: number; images: number };
}

/** Result type of every method. */
export interface MethodResults {
  'app.info': AppInfo;
  'project.info': ProjectInfo;
  'project.open': ProjectInfo;
  'project.create': ProjectInfo;
  'models.list': ModelSummary[];
  'models.get': ModelDetail;
  'models.import': ModelSummary;
  'models.setConvention': ModelSummary;
  'models.randomize': ModelSummary;
  'zoo.list': ZooListing[];
  /** The file is kept even when it cannot be imported yet; `importError` then says why. */
  'zoo.download': { file: string; model: ModelSummary | null; importError: string | null };
  'runs.start': RunSummary;
  'runs.estimate': RunEstimate;
  'runs.list': RunSummary[];
  'runs.get': RunSummary;
  'runs.cancel': RunSummary;
  'runs.resume': RunSummary;
  'runs.delete': { deleted: number };
  'results.list': ResultRecord[];
  'sweeps.list': SweepSummary[];
  'images.get': StoredImageData;
  /** The images found, in the order asked; ids with no image are listed in `missing`. */
  'images.getMany': { images: StoredImageData[]; missing: number[] };
  'notes.set': { target: string; text: string };
  'notes.get': { target: string; text: string };
  /** Shipped V4 APC fits and the published best V4 values (shape views). */
  'reference.v4': V4Reference;
  /** APC boundary points of the shape set (the renderer evaluates a unit's APC model on them). */
  'reference.apcPoints': ApcPointsReference;
  'gallery.query': GalleryPage;
  'units.get': UnitDetail;
  'curation.star': { changed: number };
  'curation.tag': { changed: number };
  'curation.note': { unitId: number; text: string };
  'curation.undo': CurationStep;
  'curation.redo': CurationStep;
  'collections.list': CollectionSummary[];
  'collections.create': CollectionSummary;
  'collections.update': CollectionSummary;
  'collections.delete': { deleted: number };
  'export.figure': ExportedFile;
  'export.table': ExportedFile;
  'export.runArrays': ExportedFile;
  'project.exportArchive': { path: string; bytes: number; files: string[] };
  'project.importArchive': ProjectInfo;
}

/** Events pushed to every connected client. */
export type ApiEvent =
  | { type: 'run.progress'; runId: number; progress: RunProgress }
  | { type: 'run.status'; runId: number; status: RunStatus; error?: string | null }
  | { type: 'run.result'; runId: number; resultId: number; key: string }
  | { type: 'run.deleted'; runId: number }
  | { type: 'project.changed'; path: string }
  /** Stars, tags, notes or collections changed (by this client or another). */
  | { type: 'curation.changed' }
  | { type: 'engine.status'; state: 'starting' | 'ready' | 'failed'; error?: string }
  | { type: 'zoo.progress'; name: string; progress: ZooProgress };

export { ApiError, type ApiErrorCode };

/** Wire form of a call and its answer, the same on every transport. */
export const callEnvelope = z.object({ method: z.string(), params: z.unknown().optional() });
export type CallAnswer<M extends Method = Method> =
  | { ok: true; result: MethodResults[M] }
  | { ok: false; error: { code: ApiErrorCode; message: string } };

export function isMethod(name: string): name is Method {
  return Object.hasOwn(methodParams, name);
}

/** Validates a raw call; throws ApiError with a message that names the bad field. */
export function parseCall(raw: unknown): { method: Method; params: unknown } {
  const env = callEnvelope.safeParse(raw);
  if (!env.success) throw new ApiError('bad_request', 'a call is {"method": string, "params": object}');
  const { method } = env.data;
  if (!isMethod(method)) throw new ApiError('unknown_method', `unknown method "${method}"`);
  const parsed = methodParams[method].safeParse(env.data.params ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : 'params';
    throw new ApiError('bad_request', `${method}: ${where}: ${issue.message}`);
  }
  return { method, params: parsed.data };
}

/** What a client (renderer, CLI) calls, whatever carries the call. */
export interface ApiClient {
  call<M extends Method>(method: M, params?: Params<M>): Promise<MethodResults[M]>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
}
