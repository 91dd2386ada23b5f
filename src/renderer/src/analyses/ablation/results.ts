// Reads ablation results (src/main/engine/analyses/ablation.ts): `conditions` (intact and
// invariant top-1 per scale, as soon as they are known), `trial/<i>` per accepted random set, and
// the final `summary` with the ratio invariant / random per scale (mean and standard error).
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

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const nums = (v: unknown): number[] => (Array.isArray(v) ? v.map(num) : []);

export function ablationSummary(results: ResultRecord[]): AblationSummary | null {
  const r = results.find((x) => x.key === 'summary');
  if (!r) return null;
  const d = r.data;
  return {
    block: String(d.block),
    layer: String(d.layer),
    images: num(d.images),
    scales: nums(d.scales),
    intactTop1: nums(d.intactTop1),
    invariantChannels: nums(d.invariantChannels),
    invariantTop1: nums(d.invariantTop1),
    randomTop1: Array.isArray(d.randomTop1) ? d.randomTop1.map(nums) : [],
    ratioMean: nums(d.ratioMean),
    ratioSe: Array.isArray(d.ratioSe) ? d.ratioSe.map((v) => (typeof v === 'number' ? v : null)) : [],
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
