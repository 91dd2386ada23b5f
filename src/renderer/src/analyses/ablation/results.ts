// Reads the final ablation summary through the kind's contract (ablationResults): the ratio
// invariant / random per scale (mean and standard error) with the top-1 behind it.
import { ablationResults } from '../../../../shared/analyses/ablation';
import { resultsOf } from '../../../../shared/analyses/result-contract';
import type { ResultRecord } from '../../../../shared/domain';

export interface AblationSummary {
  block: string;
  layer: string;
  images: number;
  scales: number[];
  intactTop1: number[];
  invariantChannels: number[];
  invariantTop1: number[];
  randomTop1: number[][];
  ratioMean: number[];
  ratioSe: (number | null)[];
  reference: number;
  trialsAccepted: number;
  trialsRequested: number;
  draws: number;
  tolerance: number;
}

const num = (v: number | null | undefined): number => v ?? Number.NaN;
const nums = (v: readonly (number | null)[] | undefined): number[] => (v ? v.map(num) : []);

export function ablationSummary(results: ResultRecord[]): AblationSummary | null {
  const d = resultsOf(ablationResults, 'summary', results)[0]?.data;
  if (!d) return null;
  return {
    block: String(d.block),
    layer: String(d.layer),
    images: num(d.images),
    scales: nums(d.scales),
    intactTop1: nums(d.intactTop1),
    invariantChannels: nums(d.invariantChannels),
    invariantTop1: nums(d.invariantTop1),
    randomTop1: d.randomTop1 ? d.randomTop1.map(nums) : [],
    ratioMean: nums(d.ratioMean),
    ratioSe: d.ratioSe ? [...d.ratioSe] : [],
    reference: num(d.reference),
    trialsAccepted: num(d.trialsAccepted),
    trialsRequested: num(d.trialsRequested),
    draws: num(d.draws),
    tolerance: num(d.tolerance),
  };
}

/** Mean over trials of the random sets' top-1 at each scale. */
export function meanRandomTop1(s: AblationSummary): number[] {
  return s.scales.map((_, k) => s.randomTop1.reduce((a, t) => a + t[k], 0) / Math.max(1, s.randomTop1.length));
}
