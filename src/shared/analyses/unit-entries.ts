// Every analysis's stored results seen the same way: which units a result measures, with their
// numbers (keys of UNIT_METRICS) and images. The project index (gallery) is built from these
// entries when a result is stored, and rebuilt from stored results when UNIT_INDEX_VERSION grows.
// Pure functions of a result, one small extractor per result shape.
import { decodeFloat32 } from '../float-codec';
import type { AnalysisKind } from './registry';
import type { UnitMetricKey } from './unit-metrics';

/** Bump when an extractor changes what it reads: projects rebuild their unit index on open. */
export const UNIT_INDEX_VERSION = 3;

export interface ImageRef {
  id: number;
  name: string;
}

/** A stored result as the extractors read it. */
export interface StoredResultView {
  key: string;
  data: Record<string, unknown>;
  images: readonly ImageRef[];
}

export interface UnitEntry {
  modelId: string;
  layer: string;
  channel: number;
  /** Finite values only. */
  metrics: Partial<Record<UnitMetricKey, number>>;
  /** The unit's images in this result, most telling first. */
  images: ImageRef[];
  /** Lower shows first on a card that has images from several analyses. */
  imagePriority: number;
}

export interface ResultContext {
  /** The run's model. */
  modelId: string;
  /** Another result of the same run (shapes: the stimulus thumbnails), null when not stored. */
  sibling(key: string): StoredResultView | null;
}

interface UnitExtractor {
  /** Keys of the results it reads; other results of the kind measure no unit. */
  keys: RegExp;
  extract(r: StoredResultView, ctx: ResultContext): UnitEntry[];
}

type Metrics = UnitEntry['metrics'];

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function metrics(values: Record<UnitMetricKey, unknown> | Partial<Record<UnitMetricKey, unknown>>): Metrics {
  const out: Metrics = {};
  for (const [k, v] of Object.entries(values)) if (finite(v)) out[k as UnitMetricKey] = v;
  return out;
}

function channelOf(d: Record<string, unknown>): number | null {
  return Number.isInteger(d.channel) && (d.channel as number) >= 0 ? (d.channel as number) : null;
}

/** One unit named by the result's own `layer` and `channel` fields. */
function single(d: Record<string, unknown>, modelId: string, m: Metrics, images: ImageRef[], imagePriority: number): UnitEntry[] {
  const channel = channelOf(d);
  if (typeof d.layer !== 'string' || channel === null) return [];
  return [{ modelId, layer: d.layer, channel, metrics: m, images, imagePriority }];
}

/** Images of an unfinished diverse unit rank after every finished analysis's. */
const PARTIAL_DIVERSE_PRIORITY = 4;

/**
 * `unit/<layer>/<c>` summaries (src/main/engine/analyses/diverse.ts). Once every lambda is done:
 * lambda*, the diversity ratio, SI and LC with the lambda* images. Before (a run still going, or
 * cancelled or failed part-way): no numbers, which would not be the unit's, but the images of the
 * best lambda so far, so that the work a stopped run finished reaches the gallery.
 */
const diverseUnit: UnitExtractor = {
  keys: /^unit\/.+\/\d+$/,
  extract({ key, data: d, images }, ctx) {
    if (/\/lambda\/\d+$/.test(key)) return [];
    // A random-weights control run measures another network: the id models.randomize gives it.
    const seed = d.randomWeightsSeed;
    const modelId = finite(seed) ? `${ctx.modelId}-rand${seed}` : ctx.modelId;
    if (d.complete !== true) {
      const best = finite(d.lambdaStarIndex) ? ctx.sibling(`${key}/lambda/${d.lambdaStarIndex}`) : null;
      return best ? single(d, modelId, {}, [...best.images], PARTIAL_DIVERSE_PRIORITY) : [];
    }
    const star = images.filter((i) => i.name.startsWith('lambda-star/'));
    const texture = images.filter((i) => i.name === 'texture');
    const m = metrics({
      lambdaStar: d.lambdaStar,
      diversityRatio: d.diversityRatio,
      shiftInvariance: d.shiftInvariance,
      linearCombination: d.linearCombination,
    });
    return single(d, modelId, m, [...star, ...texture], 0);
  },
};

/** `channel/<layer>/<c>` of feature-vis: the visualization and its activation. */
const featureVisChannel: UnitExtractor = {
  keys: /^channel\/.+\/\d+$/,
  extract: ({ data: d, images }, ctx) => single(d, ctx.modelId, metrics({ fvActivation: d.activation }), [...images], 1),
};

/** `unit/<layer>/<c>` of max-image: the final preferred image (the snapshots are progress). */
const maxImageUnit: UnitExtractor = {
  keys: /^unit\/.+\/\d+$/,
  extract: ({ data: d, images }, ctx) => single(d, ctx.modelId, metrics({ maxActivation: d.activation }), [...images], 1),
};

/** `unit/<block>/<role>/<c>` of a dataset scan: the top crops (the bottom ones are not the unit's face). */
const datasetScanUnit: UnitExtractor = {
  keys: /^unit\/.+\/(in|pre|post)\/\d+$/,
  extract({ data: d, images }, ctx) {
    const top = Array.isArray(d.top) ? (d.top as { activation?: unknown }[]) : [];
    const m = metrics({ topActivation: top[0]?.activation });
    return single(d, ctx.modelId, m, images.filter((i) => i.name.startsWith('top-')), 2);
  },
};

/**
 * `channel/<block>/<c>` of scale invariance: the criteria belong to channel c of the block's
 * residual stream, measured at its Post layer (the layer ablation zeroes).
 */
const scaleChannel: UnitExtractor = {
  keys: /^channel\/.+\/\d+$/,
  extract({ data: d, images }, ctx) {
    const post = (d.layers as { post?: unknown } | undefined)?.post;
    if (typeof post !== 'string') return [];
    // A silent channel (criteria not judged) carries no criteria metrics: its card shows its
    // images but neither a count of passed criteria nor a ratio of near-zero values.
    const passed = (d.criterion1 === true ? 1 : 0) + (d.criterion2 === true ? 1 : 0);
    const m = d.silent === true ? {} : metrics({ scaleCriteria: passed, scaleRatio: d.ratio });
    return single({ layer: post, channel: d.channel }, ctx.modelId, m, [...images], 1);
  },
};

const PREFERRED_SHAPES = 3;

/** `layer/<name>` of shapes: APC r and TI of every channel, and its preferred stimuli's thumbnails. */
const shapesLayer: UnitExtractor = {
  keys: /^layer\/.+$/,
  extract({ data: d }, ctx) {
    if (typeof d.layer !== 'string' || !finite(d.channels)) return [];
    const channels = d.channels;
    const r = blob((d.apc as Record<string, unknown> | undefined)?.r);
    const ti = blob((d.translation as Record<string, unknown> | undefined)?.ti);
    const thumbs = ctx.sibling('stimuli')?.images ?? [];
    const responses = thumbs.length ? blob(d.responses) : null;
    const preferred = responses && responses.length === thumbs.length * channels ? topStimuli(responses, channels, PREFERRED_SHAPES) : null;
    return Array.from({ length: channels }, (_, c) => ({
      modelId: ctx.modelId,
      layer: d.layer as string,
      channel: c,
      metrics: metrics({ apcR: r?.[c], translationInvariance: ti?.[c] }),
      images: preferred ? preferred[c].map((k) => thumbs[k]) : [],
      imagePriority: 3,
    }));
  },
};

function blob(v: unknown): Float32Array | null {
  return typeof v === 'string' ? decodeFloat32(v) : null;
}

/** Per channel, the rows (stimuli) of a [stimulus, channel] matrix with the largest finite values, largest first. */
function topStimuli(m: Float32Array, channels: number, k: number): number[][] {
  const rows = m.length / channels;
  return Array.from({ length: channels }, (_, c) => {
    const best: number[] = [];
    for (let s = 0; s < rows; s++) {
      const v = m[s * channels + c];
      if (!Number.isFinite(v)) continue;
      let at = best.length;
      while (at > 0 && m[best[at - 1] * channels + c] < v) at--;
      if (at < k) {
        best.splice(at, 0, s);
        if (best.length > k) best.pop();
      }
    }
    return best;
  });
}

/** Which results of each kind measure units. Ablation measures a network, not units. */
const EXTRACTORS: Record<AnalysisKind, readonly UnitExtractor[]> = {
  diverse: [diverseUnit],
  'feature-vis': [featureVisChannel],
  'max-image': [maxImageUnit],
  'dataset-scan': [datasetScanUnit],
  // A scale-invariance run with an image folder also stores a dataset scan of its blocks.
  'scale-invariance': [datasetScanUnit, scaleChannel],
  shapes: [shapesLayer],
  ablation: [],
};

function extractorFor(kind: string, key: string): UnitExtractor | null {
  const list: readonly UnitExtractor[] = (EXTRACTORS as Record<string, readonly UnitExtractor[]>)[kind] ?? [];
  return list.find((e) => e.keys.test(key)) ?? null;
}

/** Whether a result of this kind and key can measure units (saves parsing the rest when rebuilding). */
export function measuresUnits(kind: string, key: string): boolean {
  return extractorFor(kind, key) !== null;
}

/** The units a stored result measures; empty for results of other shapes and unknown kinds. */
export function unitEntries(kind: string, result: StoredResultView, ctx: ResultContext): UnitEntry[] {
  return extractorFor(kind, result.key)?.extract(result, ctx) ?? [];
}
