// Reads diverse runs for the views through the kind's result contract (diverseResults): per unit
// its summary {lambdas, activation, distance, normalized curves, tau, threshold, lambda*, diversity
// ratio, SI, LC, phases} with the lambda* images (and the texture), per unit and lambda that
// lambda's images. Pure functions, no Vue.
import type { ModelSummary, ResultRecord, RunSummary } from '../domain';
import { diverseResults } from './diverse';
import { resultsOf } from './result-contract';

export interface LambdaResult {
  index: number;
  lambda: number;
  activation: number;
  distance: number;
  steps: number;
  imageIds: number[];
}

export interface DiverseUnit {
  runId: number;
  modelId: string;
  layer: string;
  channel: number;
  /** Run's random-weights seed; null for the trained network. */
  randomWeightsSeed: number | null;
  complete: boolean;
  lambdas: number[];
  activation: number[];
  distance: number[];
  normalizedActivation: (number | null)[];
  normalizedDistance: (number | null)[];
  tau: number;
  threshold: number;
  lambdaStar: number;
  lambdaStarIndex: number;
  /** D(lambda*)/D(0) with both distances floored at `diversityFloor` (the run's noise-distance floor). */
  diversityRatio: number | null;
  diversityRatioRaw: number | null;
  diversityFloor: number | null;
  /** Images at lambda* below the per-image bound (imageActivationFraction a(0)); null when not recorded. */
  weakImagesAtStar: number | null;
  noiseDistance: number | null;
  lambdaScale: number | null;
  shiftInvariance: number | null;
  linearCombination: number | null;
  phasesDeg: number[][] | null;
  /** The lambda* images (n), then the texture when the indices were computed. */
  starImageIds: number[];
  textureImageId: number | null;
}

const num = (v: number | null | undefined): number => v ?? Number.NaN;
const numOrNull = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const nums = (v: readonly (number | null)[] | undefined): number[] => (v ? v.map(num) : []);
const numsOrNull = (v: readonly (number | null)[] | undefined): (number | null)[] => (v ? v.map(numOrNull) : []);

/** Per-unit summaries of a run, in layer then channel order. */
export function diverseUnits(run: Pick<RunSummary, 'id' | 'modelId'>, results: ResultRecord[]): DiverseUnit[] {
  return resultsOf(diverseResults, 'unit', results)
    .map(({ record: r, data: d }) => {
      const withTexture = 'shiftInvariance' in d;
      const n = withTexture ? r.imageIds.length - 1 : r.imageIds.length;
      return {
        runId: run.id,
        modelId: d.modelId ?? run.modelId,
        layer: String(d.layer),
        channel: num(d.channel),
        randomWeightsSeed: numOrNull(d.randomWeightsSeed),
        complete: d.complete === true,
        lambdas: nums(d.lambdas),
        activation: nums(d.activation),
        distance: nums(d.distance),
        normalizedActivation: numsOrNull(d.normalizedActivation),
        normalizedDistance: numsOrNull(d.normalizedDistance),
        tau: num(d.tau),
        threshold: num(d.threshold),
        lambdaStar: num(d.lambdaStar),
        lambdaStarIndex: num(d.lambdaStarIndex),
        diversityRatio: numOrNull(d.diversityRatio),
        diversityRatioRaw: numOrNull(d.diversityRatioRaw),
        diversityFloor: numOrNull(d.diversityFloor),
        weakImagesAtStar: numOrNull(d.weakImagesAtStar),
        noiseDistance: numOrNull(d.noiseDistance),
        lambdaScale: numOrNull(d.lambdaScale),
        shiftInvariance: numOrNull(d.shiftInvariance),
        linearCombination: numOrNull(d.linearCombination),
        phasesDeg: d.phasesDeg ? d.phasesDeg.map(nums) : null,
        starImageIds: r.imageIds.slice(0, n),
        textureImageId: withTexture ? (r.imageIds[n] ?? null) : null,
      };
    })
    .sort((a, b) => a.layer.localeCompare(b.layer) || a.channel - b.channel);
}

/** One unit's results per lambda, in sweep order. */
export function lambdaResults(results: ResultRecord[], layer: string, channel: number): LambdaResult[] {
  return resultsOf(diverseResults, 'lambda', results)
    .filter(({ params }) => params.layer === layer && params.channel === channel)
    .map(({ record, data: d }) => ({
      index: num(d.lambdaIndex),
      lambda: num(d.lambda),
      activation: num(d.activation),
      distance: num(d.distance),
      steps: num(d.steps),
      imageIds: record.imageIds,
    }))
    .sort((a, b) => a.index - b.index);
}

export interface Histogram {
  /** Bin left edges and the common width. */
  edges: number[];
  width: number;
  counts: number[];
}

/** Counts of the finite values in `bins` equal bins over [lo, hi] (values outside are clamped in). */
export function histogram(values: readonly (number | null)[], lo: number, hi: number, bins: number): Histogram {
  if (!(hi > lo) || bins < 1) throw new Error(`histogram needs hi > lo and at least one bin (got ${lo}..${hi}, ${bins} bins)`);
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]++;
  }
  return { edges: counts.map((_, i) => lo + i * width), width, counts };
}

/** Range of the finite values of several sets together, padded so that the extremes fall inside a bin; [0, 1] when there are none. */
export function sharedRange(sets: readonly (readonly (number | null)[])[]): [number, number] {
  const all = sets.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  if (!all.length) return [0, 1];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const pad = Math.max((hi - lo) * 0.05, Math.abs(hi) * 0.02, 1e-6);
  return [lo - pad, hi + pad];
}

/** Phase histogram bins (30 degrees, 0..360) of a set of phases in degrees. */
export function phaseHistogram(phases: readonly number[]): Histogram {
  return histogram(
    phases.map((p) => ((p % 360) + 360) % 360),
    0,
    360,
    12,
  );
}

/** Series name for a unit in cross-run charts: model, layer, and the control mark. */
export function seriesName(u: Pick<DiverseUnit, 'modelId' | 'layer' | 'randomWeightsSeed'>, modelName: (id: string) => string): string {
  return `${modelName(u.modelId)} ${u.layer}${u.randomWeightsSeed !== null ? ' (random)' : ''}`;
}

/** Pairs trained and random-weights units of the same model and layer. */
export function controlGroups(units: readonly DiverseUnit[], modelId: string, layer: string): { trained: DiverseUnit[]; random: DiverseUnit[] } {
  const same = units.filter((u) => u.modelId === modelId && u.layer === layer && u.complete);
  return { trained: same.filter((u) => u.randomWeightsSeed === null), random: same.filter((u) => u.randomWeightsSeed !== null) };
}

/**
 * Units of a project model's random-weights copy (`models.randomize`) as controls of the trained
 * model it was copied from (same source file, no seed), like units of a `randomWeightsSeed` run.
 */
export function withModelControls(units: readonly DiverseUnit[], models: readonly Pick<ModelSummary, 'id' | 'source' | 'randomWeightsSeed'>[]): DiverseUnit[] {
  const byId = new Map(models.map((m) => [m.id, m]));
  return units.map((u) => {
    const m = byId.get(u.modelId);
    if (!m || m.randomWeightsSeed === undefined || u.randomWeightsSeed !== null) return u;
    const trained = models.find((t) => t.randomWeightsSeed === undefined && t.source !== undefined && t.source === m.source);
    return trained ? { ...u, modelId: trained.id, randomWeightsSeed: m.randomWeightsSeed } : u;
  });
}
