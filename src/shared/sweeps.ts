// Sweeps: one analysis over many models x layers x units, split into shards that run anywhere
// (this machine, workers on a Redis queue, a Slurm job array) and come back into one project.
// A shard is one ordinary run of the analysis on a set of units with the sweep's seed. The
// analyses derive every random draw from the run seed and the unit (diverse: per channel and
// image; feature-vis: per batch's first channel), so cutting the units at batch boundaries gives
// each unit the same draws it gets in one unsharded run.
import { z } from 'zod';
import { intList, nameList } from './analyses/lists';
import { parseSettings, type AnalysisKind } from './analyses/registry';

/** Analyses a sweep runs, with the setting that holds a shard's units and the one that batches them. */
export const SWEEP_KINDS = {
  diverse: { units: 'units', batch: 'unitsPerBatch' },
  'feature-vis': { units: 'channels', batch: 'batchSize' },
  /** Shapes measures every channel of its layers: one shard per model and layer. */
  shapes: { units: null, batch: null },
} as const satisfies Partial<Record<AnalysisKind, { units: string | null; batch: string | null }>>;
export type SweepKind = keyof typeof SWEEP_KINDS;

export const sweepSpec = z
  .object({
    kind: z.enum(Object.keys(SWEEP_KINDS) as [SweepKind, ...SweepKind[]]),
    models: nameList.pipe(z.array(z.string()).min(1)),
    layers: nameList.pipe(z.array(z.string()).min(1)),
    /** Channels of every layer; not for shapes, which takes all of them. */
    units: intList.optional(),
    /** Units per shard, rounded up to whole batches of the analysis. */
    unitsPerShard: z.number().int().min(1).default(8),
    /** The analysis's other settings, the same for every shard. */
    settings: z.record(z.string(), z.unknown()).default({}),
    seed: z.number().int().min(0).max(2 ** 31 - 1),
  })
  .superRefine((s, ctx) => {
    const unitsKey = SWEEP_KINDS[s.kind].units;
    if (unitsKey && !s.units) ctx.addIssue({ code: 'custom', path: ['units'], message: `a ${s.kind} sweep needs its units` });
    if (!unitsKey && s.units) ctx.addIssue({ code: 'custom', path: ['units'], message: `${s.kind} measures every channel of a layer; give no units` });
    for (const key of ['modelId', 'layer', 'layers', ...(unitsKey ? [unitsKey] : [])]) {
      if (key in s.settings) ctx.addIssue({ code: 'custom', path: ['settings', key], message: `${key} is set by the sweep, per shard` });
    }
  });
export type SweepSpec = z.infer<typeof sweepSpec>;
export type SweepSpecInput = z.input<typeof sweepSpec>;

/** One shard: a run of the sweep's analysis, with its settings fully resolved. */
export interface SweepShard {
  index: number;
  kind: SweepKind;
  modelId: string;
  layer: string;
  units: number[] | null;
  settings: Record<string, unknown>;
  seed: number;
}

export type ShardState = 'pending' | 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** Where a shard stands: its state, run, tries, worker, error and step count. */
export interface ShardStatus {
  state: ShardState;
  runId: number | null;
  attempts: number;
  worker: string | null;
  error: string | null;
  progress: { step: number; total: number };
}

/** A sweep as the project records it, with every shard's state (API `sweeps.list`). */
export interface SweepSummary {
  id: number;
  uid: string;
  title: string;
  kind: SweepKind;
  state: ReturnType<typeof sweepState>;
  createdAt: string;
  shards: (Pick<SweepShard, 'index' | 'modelId' | 'layer' | 'units'> & ShardStatus)[];
}

/** A shard's finished run as it travels back to the owner (queue return value, shard project). */
export interface ShardOutcome {
  sweepUid: string;
  index: number;
  /** Digest of the shard's kind, settings and seed: a result of other settings is refused. */
  digest: string;
  status: 'done' | 'failed' | 'cancelled';
  error?: string;
  backend: string;
  computeSeconds: number;
  /** Who ran it (host and pid), for the record. */
  worker: string;
  results: { key: string; data: Record<string, unknown>; images: { name: string; width: number; height: number; pngBase64: string }[] }[];
}

/**
 * The sweep's shards in a fixed order (model, layer, units). Invalid analysis settings throw the
 * analysis schema's ZodError, naming the field.
 */
export function shardSweep(spec: SweepSpec): SweepShard[] {
  const { units: unitsKey, batch: batchKey } = SWEEP_KINDS[spec.kind];
  const shards: SweepShard[] = [];
  for (const modelId of spec.models) {
    for (const layer of spec.layers) {
      const base = { ...spec.settings, modelId, ...(spec.kind === 'shapes' ? { layers: [layer] } : { layer }) };
      if (!unitsKey) {
        shards.push(shard(spec, shards.length, modelId, layer, null, base));
        continue;
      }
      const units = spec.units!;
      const batch = batchKey ? Number(parseSettings(spec.kind, { ...base, [unitsKey]: units })[batchKey]) : 1;
      const size = Math.ceil(spec.unitsPerShard / batch) * batch;
      for (let i = 0; i < units.length; i += size) {
        const chunk = units.slice(i, i + size);
        shards.push(shard(spec, shards.length, modelId, layer, chunk, { ...base, [unitsKey]: chunk }));
      }
    }
  }
  return shards;
}

function shard(spec: SweepSpec, index: number, modelId: string, layer: string, units: number[] | null, settings: Record<string, unknown>): SweepShard {
  return { index, kind: spec.kind, modelId, layer, units, settings: parseSettings(spec.kind, settings), seed: spec.seed };
}

/** JSON with object keys sorted: the same settings give the same text (and digest) everywhere. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** How a sweep stands, from its shards' states. */
export function sweepState(states: ShardState[]): 'done' | 'failed' | 'cancelled' | 'running' | 'pending' {
  if (states.every((s) => s === 'done')) return 'done';
  if (states.some((s) => s === 'queued' || s === 'running')) return 'running';
  if (states.some((s) => s === 'failed')) return 'failed';
  if (states.some((s) => s === 'cancelled')) return 'cancelled';
  return 'pending';
}
