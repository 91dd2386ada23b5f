// Every analysis's stored results seen the same way: which units a result measures, with their
// numbers (keys of UNIT_METRICS) and images. The project index (gallery) is built from these
// entries when a result is stored, and rebuilt from stored results when UNIT_INDEX_VERSION grows.
// Pure functions of a result, one small extractor per result part of a kind's contract.
import type { z } from 'zod';
import { decodeFloat32 } from '../float-codec';
import { datasetScanResults } from './dataset-scan';
import { diverseKey, diverseResults } from './diverse';
import { featureVisResults } from './feature-vis';
import { maxImageResults } from './max-image';
import type { AnalysisKind } from './registry';
import { parseResultKey, readResult, type ResultContract, type Stored } from './result-contract';
import { scaleInvarianceResults } from './scale-invariance';
import { shapesResults, shapesKey } from './shapes';
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
  /** Whether a key is of the result part it reads; other results of the kind measure no unit. */
  reads(key: string): boolean;
  extract(r: StoredResultView, ctx: ResultContext): UnitEntry[];
}

/** Reads one part of a kind's contract, its data read tolerantly through the part's schema. */
function extractor<C extends ResultContract, P extends keyof C & string>(
  contract: C,
  name: P,
  extract: (d: Stored<z.output<C[P]['data']>>, r: StoredResultView, ctx: ResultContext) => UnitEntry[],
): UnitExtractor {
  return {
    reads: (key) => parseResultKey(contract, key)?.part === name,
    extract: (r, ctx) => extract(readResult(contract[name].data, r.data) as Stored<z.output<C[P]['data']>>, r, ctx),
  };
}

type Metrics = UnitEntry['metrics'];

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function metrics(values: Partial<Record<UnitMetricKey, unknown>>): Metrics {
  const out: Metrics = {};
  for (const [k, v] of Object.entries(values)) if (finite(v)) out[k as UnitMetricKey] = v;
  return out;
}

/** One unit named by the result's own `layer` and `channel` fields. */
function single(d: { layer?: string; channel?: number }, modelId: string, m: Metrics, images: ImageRef[], imagePriority: number): UnitEntry[] {
  if (d.layer === undefined || d.channel === undefined || d.channel < 0) return [];
  return [{ modelId, layer: d.layer, channel: d.channel, metrics: m, images, imagePriority }];
}

/** Images of an unfinished diverse unit rank after every finished analysis's. */
const PARTIAL_DIVERSE_PRIORITY = 4;

/**
 * A diverse unit's summary. Once every lambda is done: lambda*, the diversity ratio, SI and LC
 * with the lambda* images. Before (a run still going, or cancelled or failed part-way): no
 * numbers, which would not be the unit's, but the images of the best lambda so far, so that the
 * work a stopped run finished reaches the gallery.
 */
const diverseUnit = extractor(diverseResults, 'unit', (d, { images }, ctx) => {
  // A random-weights control run measures another network: the id models.randomize gives it.
  const seed = d.randomWeightsSeed;
  const modelId = finite(seed) ? `${ctx.modelId}-rand${seed}` : ctx.modelId;
  if (d.complete !== true) {
    const { layer, channel, lambdaStarIndex } = d;
    const best =
      layer !== undefined && channel !== undefined && channel >= 0 && finite(lambdaStarIndex) && lambdaStarIndex >= 0
        ? ctx.sibling(diverseKey('lambda', { layer, channel, lambdaIndex: lambdaStarIndex }))
        : null;
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
});

/** A feature-vis channel: the visualization and its activation. */
const featureVisChannel = extractor(featureVisResults, 'channel', (d, { images }, ctx) =>
  single(d, ctx.modelId, metrics({ fvActivation: d.activation }), [...images], 1),
);

/** The final preferred image of max-image (the snapshots are progress). */
const maxImageUnit = extractor(maxImageResults, 'unit', (d, { images }, ctx) => single(d, ctx.modelId, metrics({ maxActivation: d.activation }), [...images], 1));

/** A dataset scan's unit: the top crops (the bottom ones are not the unit's face). */
function scannedUnit(d: Stored<z.output<typeof datasetScanResults.unit.data>>, { images }: StoredResultView, ctx: ResultContext): UnitEntry[] {
  const m = metrics({ topActivation: d.top?.[0]?.activation });
  return single(d, ctx.modelId, m, images.filter((i) => i.name.startsWith('top-')), 2);
}
const datasetScanUnit = extractor(datasetScanResults, 'unit', scannedUnit);

/**
 * A scale-invariance channel: the criteria belong to channel c of the block's residual stream,
 * measured at its Post layer (the layer ablation zeroes).
 */
const scaleChannel = extractor(scaleInvarianceResults, 'channel', (d, { images }, ctx) => {
  const post = d.layers?.post;
  if (post === undefined) return [];
  // A silent channel (criteria not judged) carries no criteria metrics: its card shows its
  // images but neither a count of passed criteria nor a ratio of near-zero values.
  const passed = (d.criterion1 === true ? 1 : 0) + (d.criterion2 === true ? 1 : 0);
  const m = d.silent === true ? {} : metrics({ scaleCriteria: passed, scaleRatio: d.ratio });
  return single({ layer: post, channel: d.channel }, ctx.modelId, m, [...images], 1);
});

const PREFERRED_SHAPES = 3;

/** A shapes layer: APC r and TI of every channel, and its preferred stimuli's thumbnails. */
const shapesLayer = extractor(shapesResults, 'layer', (d, _r, ctx) => {
  if (d.layer === undefined || d.channels === undefined) return [];
  const { layer, channels } = d;
  const r = blob(d.apc?.r);
  const ti = blob(d.translation && 'ti' in d.translation ? d.translation.ti : undefined);
  const thumbs = ctx.sibling(shapesKey('stimuli'))?.images ?? [];
  const responses = thumbs.length ? blob(d.responses) : null;
  const preferred = responses && responses.length === thumbs.length * channels ? topStimuli(responses, channels, PREFERRED_SHAPES) : null;
  return Array.from({ length: channels }, (_, c) => ({
    modelId: ctx.modelId,
    layer,
    channel: c,
    metrics: metrics({ apcR: r?.[c], translationInvariance: ti?.[c] }),
    images: preferred ? preferred[c].map((k) => thumbs[k]) : [],
    imagePriority: 3,
  }));
});

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
  'scale-invariance': [extractor(scaleInvarianceResults, 'unit', scannedUnit), scaleChannel],
  shapes: [shapesLayer],
  ablation: [],
};

function extractorFor(kind: string, key: string): UnitExtractor | null {
  const list: readonly UnitExtractor[] = (EXTRACTORS as Record<string, readonly UnitExtractor[]>)[kind] ?? [];
  return list.find((e) => e.reads(key)) ?? null;
}

/** Whether a result of this kind and key can measure units (saves parsing the rest when rebuilding). */
export function measuresUnits(kind: string, key: string): boolean {
  return extractorFor(kind, key) !== null;
}

/** The units a stored result measures; empty for results of other shapes and unknown kinds. */
export function unitEntries(kind: string, result: StoredResultView, ctx: ResultContext): UnitEntry[] {
  return extractorFor(kind, result.key)?.extract(result, ctx) ?? [];
}
