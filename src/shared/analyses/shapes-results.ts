// Reads shape-analysis results for the renderer's views through the kind's contract
// (shapesResults): the stimuli (indices and one thumbnail per stimulus), per layer its responses
// [stimulus, channel], APC fits, controls, distributions, natural images, translation sweep. Also the small
// statistics the views plot (empirical CDFs, shared-bin histograms). Pure TypeScript, no DOM.
import type { z } from 'zod';
import type { ResultRecord } from '../domain';
import { decodeFloat32 } from '../float-codec';
import type { ApcParams } from '../math/apc';
import { readResult, resultsOf, type Stored } from './result-contract';
import { shapesResults, translationSweepData } from './shapes';

export interface Stimuli {
  /** Shape-set indices (0..369) in presentation order; thumbnail k shows indices[k]. */
  indices: number[];
  imageIds: number[];
  size: number;
  intensity: number;
}

export interface ApcFits {
  r: Float32Array;
  muA: Float32Array;
  sigmaA: Float32Array;
  muC: Float32Array;
  sigmaC: Float32Array;
}

export interface Translation {
  direction: string;
  step: number;
  positions: { dx: number; dy: number }[];
  centreIndex: number;
  ti: Float32Array;
  /** [channel, position]. */
  rfProfile: Float32Array;
  positionCorrelation: Float32Array;
}

export interface LayerShapes {
  layer: string;
  channels: number;
  stimuli: number;
  rfSize: number;
  /** [stimulus, channel]. */
  responses: Float32Array;
  apc: ApcFits;
  shuffledR: Float32Array | null;
  randomWeightsR: Float32Array | null;
  large: Float32Array | null;
  dim: Float32Array | null;
  largeSize: number | null;
  dimIntensity: number | null;
  natural: { count: number; responses: Float32Array; ratio: Float32Array } | null;
  translation: Translation | null;
  /** Why there is no TI for this layer (RF smaller than the stimuli), when so. */
  translationReason: string | null;
  randomWeightsTi: Float32Array | null;
}

type LayerData = Stored<z.output<typeof shapesResults.layer.data>>;
const num = (v: number | null | undefined): number => v ?? Number.NaN;
const blob = (v: string | undefined): Float32Array | null => (typeof v === 'string' ? decodeFloat32(v) : null);

export function stimuliResult(results: ResultRecord[]): Stimuli | null {
  const found = resultsOf(shapesResults, 'stimuli', results)[0];
  if (!found) return null;
  const { record: r, data: d } = found;
  return {
    indices: d.indices ? [...d.indices] : [],
    imageIds: r.imageIds,
    size: num(d.size),
    intensity: num(d.intensity),
  };
}

function apcFits(d: LayerData['apc']): ApcFits {
  const params = d?.params ?? {};
  const empty = new Float32Array(0);
  return {
    r: blob(d?.r) ?? empty,
    muA: blob(params.muA) ?? empty,
    sigmaA: blob(params.sigmaA) ?? empty,
    muC: blob(params.muC) ?? empty,
    sigmaC: blob(params.sigmaC) ?? empty,
  };
}

/** One stored layer result (its data as stored), read through the contract's schema. */
export function layerResult(data: Record<string, unknown>): LayerShapes {
  const d: LayerData = readResult(shapesResults.layer.data, data);
  const dist = d.distributions;
  const natural = d.natural;
  const tr = d.translation;
  const sweep = tr && typeof tr.ti === 'string' ? (tr as Stored<z.output<typeof translationSweepData>>) : null;
  return {
    layer: String(d.layer),
    channels: num(d.channels),
    stimuli: num(d.stimuli),
    rfSize: num(d.rf?.size),
    responses: blob(d.responses) ?? new Float32Array(0),
    apc: apcFits(d.apc),
    shuffledR: blob(d.shuffled?.r),
    randomWeightsR: blob(d.randomWeights?.r),
    large: blob(dist?.large),
    dim: blob(dist?.dim),
    largeSize: dist ? num(dist.largeSize) : null,
    dimIntensity: dist ? num(dist.dimIntensity) : null,
    natural: natural
      ? { count: num(natural.count), responses: blob(natural.responses) ?? new Float32Array(0), ratio: blob(natural.ratio) ?? new Float32Array(0) }
      : null,
    translation: sweep
      ? {
          direction: String(sweep.direction),
          step: num(sweep.step),
          positions: sweep.positions ?? [],
          centreIndex: num(sweep.centreIndex),
          ti: blob(sweep.ti)!,
          rfProfile: blob(sweep.rfProfile) ?? new Float32Array(0),
          positionCorrelation: blob(sweep.positionCorrelation) ?? new Float32Array(0),
        }
      : null,
    translationReason: tr && !sweep && typeof tr.reason === 'string' ? tr.reason : null,
    randomWeightsTi: blob(d.randomWeightsTranslation?.ti),
  };
}

/** Layer results in the order the run's settings list them (the order they were measured). */
export function layerResults(results: ResultRecord[]): LayerShapes[] {
  return resultsOf(shapesResults, 'layer', results).map(({ record }) => layerResult(record.data));
}

/** One unit's column of a [row, channel] matrix. */
export function unitColumn(m: Float32Array, channels: number, unit: number): Float32Array {
  const rows = m.length / channels;
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) out[i] = m[i * channels + unit];
  return out;
}

/** One unit's row of a [channel, position] profile. */
export function unitRow(m: Float32Array, channels: number, unit: number): Float32Array {
  const n = m.length / channels;
  return m.subarray(unit * n, (unit + 1) * n);
}

export function apcParamsOf(fits: ApcFits, unit: number): ApcParams | null {
  const p = { muA: fits.muA[unit], sigmaA: fits.sigmaA[unit], muC: fits.muC[unit], sigmaC: fits.sigmaC[unit] };
  return Object.values(p).every(Number.isFinite) ? p : null;
}

/** Empirical CDF of the finite values as [value, fraction ≤ value] steps (empty when none). */
export function ecdf(values: ArrayLike<number>): [number, number][] {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  return v.map((x, i) => [x, (i + 1) / v.length]);
}

export interface Histograms {
  /** Bin centres. */
  centres: number[];
  /** Per set, the count in each bin (same bins for every set). */
  counts: number[][];
}

/**
 * Histograms of several sets over shared, equal bins spanning all their finite values, so the
 * sets compare bin by bin. Values equal to the maximum fall in the last bin.
 */
export function sharedHistograms(sets: ArrayLike<number>[], bins: number): Histograms {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of sets) {
    for (let i = 0; i < s.length; i++) {
      if (!Number.isFinite(s[i])) continue;
      lo = Math.min(lo, s[i]);
      hi = Math.max(hi, s[i]);
    }
  }
  if (!Number.isFinite(lo)) return { centres: [], counts: sets.map(() => []) };
  if (hi === lo) hi = lo + 1;
  const width = (hi - lo) / bins;
  const centres = Array.from({ length: bins }, (_, k) => lo + (k + 0.5) * width);
  const counts = sets.map((s) => {
    const c = new Array<number>(bins).fill(0);
    for (let i = 0; i < s.length; i++) {
      if (Number.isFinite(s[i])) c[Math.min(bins - 1, Math.floor((s[i] - lo) / width))]++;
    }
    return c;
  });
  return { centres, counts };
}

/** Stimulus positions (0-based, into the run's stimulus order) sorted by response, largest first. */
export function rankStimuli(responses: ArrayLike<number>): number[] {
  return Array.from(responses, (_, k) => k).sort((a, b) => responses[b] - responses[a]);
}

/** Each unit's largest response to a shape (responses are [stimulus, channel]). */
export function maxResponses(layer: LayerShapes): Float32Array {
  const out = new Float32Array(layer.channels).fill(-Infinity);
  for (let i = 0; i < layer.responses.length; i++) out[i % layer.channels] = Math.max(out[i % layer.channels], layer.responses[i]);
  return out;
}

/** Whether a unit responds to no shape at all (its largest response is 0 or below): a silent unit. */
export const isSilent = (max: Float32Array, unit: number): boolean => !(max[unit] > 0);
