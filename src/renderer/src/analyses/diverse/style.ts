// Colours and chart pieces the diverse views share.
import type { DiverseUnit } from '../../../../shared/analyses/diverse-results';

/** Series colours in order (model × layer groups); trained first, random-weights controls in grey. */
export const PALETTE = ['#2960ae', '#cf8030', '#3a8f5c', '#a23b72', '#6b5bb5', '#b8a12a', '#2a9bb0', '#c0504d'];
export const RANDOM_COLOUR = '#8a8f98';

export const fmt = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : Number(v.toPrecision(digits)).toString());

/** Lambdas as category labels: a geometric sweep spreads evenly, like a log axis that also holds 0. */
export function lambdaLabels(lambdas: readonly number[]): string[] {
  return lambdas.map((l) => fmt(l, 3));
}

export const unitLabel = (u: Pick<DiverseUnit, 'layer' | 'channel'>): string => `${u.layer} · ${u.channel}`;
