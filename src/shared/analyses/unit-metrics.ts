// The numbers a unit's gallery card can carry, defined once: the index writes these keys, the
// gallery filters and sorts by them, exports name their columns after them.
import type { UnitMetricInfo } from '../curation';

export type UnitMetricKey =
  | 'lambdaStar'
  | 'diversityRatio'
  | 'shiftInvariance'
  | 'linearCombination'
  | 'fvActivation'
  | 'maxActivation'
  | 'topActivation'
  | 'scaleCriteria'
  | 'scaleRatio'
  | 'apcR'
  | 'translationInvariance';

/** In the order the gallery lists them. */
export const UNIT_METRICS: readonly (UnitMetricInfo & { key: UnitMetricKey })[] = [
  { key: 'lambdaStar', label: 'λ*', kinds: ['diverse'] },
  { key: 'diversityRatio', label: 'D(λ*)/D(0)', kinds: ['diverse'] },
  { key: 'shiftInvariance', label: 'SI', kinds: ['diverse'] },
  { key: 'linearCombination', label: 'LC', kinds: ['diverse'] },
  { key: 'fvActivation', label: 'FV activation', kinds: ['feature-vis'] },
  { key: 'maxActivation', label: 'Preferred-image activation', kinds: ['max-image'] },
  { key: 'topActivation', label: 'Top dataset activation', kinds: ['dataset-scan', 'scale-invariance'] },
  { key: 'scaleCriteria', label: 'Scale criteria passed', kinds: ['scale-invariance'] },
  { key: 'scaleRatio', label: 'Post(X_In)/Post(X_Pre)', kinds: ['scale-invariance'] },
  { key: 'apcR', label: 'APC r', kinds: ['shapes'] },
  { key: 'translationInvariance', label: 'TI', kinds: ['shapes'] },
];

const KEYS = new Set<string>(UNIT_METRICS.map((m) => m.key));

export function isUnitMetric(key: string): key is UnitMetricKey {
  return KEYS.has(key);
}
