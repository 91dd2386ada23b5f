// Reads scale-invariance results through the kind's contract (scaleInvarianceResults): per block
// {passing, count, tested, percent, criterion counts}, per channel both criteria's numbers and the
// visualizations, and (when the run scanned a folder) per unit of In, Pre, Post its top-9 images.
import { resultsOf } from '../../../../shared/analyses/result-contract';
import { scaleInvarianceKey, scaleInvarianceResults, type CriteriaValues } from '../../../../shared/analyses/scale-invariance';
import type { ResultRecord } from '../../../../shared/domain';

export interface BlockSummary {
  block: string;
  tested: number;
  channels: number;
  passing: number[];
  count: number;
  percent: number;
  criterion1Count: number;
  criterion2Count: number;
  /** Channels not judged (X_In or X_Pre at or below the silent floor); empty for runs stored before. */
  silent: number[];
}

export interface ChannelResult extends CriteriaValues {
  block: string;
  channel: number;
  /** Image id by role name (`in-neuron`, `pre-channel`, `in-zoomed`, ...). */
  images: Record<string, number>;
}

export type Role = 'in' | 'pre' | 'post';
export const ROLES: readonly Role[] = ['in', 'pre', 'post'];

const num = (v: number | null | undefined): number => v ?? Number.NaN;
/** A stored verdict: true, false, or null where the channel was silent and not judged. */
const verdict = (v: boolean | null | undefined): boolean | null => v ?? null;

export function blockSummaries(results: ResultRecord[]): BlockSummary[] {
  return resultsOf(scaleInvarianceResults, 'block', results).map(({ data: d }) => {
    return {
      block: String(d.block),
      tested: num(d.tested),
      channels: num(d.channels),
      passing: d.passing ? [...d.passing] : [],
      count: num(d.count),
      percent: num(d.percent),
      criterion1Count: num(d.criterion1Count),
      criterion2Count: num(d.criterion2Count),
      silent: d.silent ? [...d.silent] : [],
    };
  });
}

/** Image names in the order the engine stores them (the gallery ones only when made). */
function imageNames(n: number): string[] {
  return n === 3 ? ['in-neuron', 'pre-neuron', 'in-zoomed'] : ['in-neuron', 'pre-neuron', 'post-neuron', 'in-channel', 'pre-channel', 'post-channel', 'in-zoomed'];
}

export function channelResults(results: ResultRecord[]): ChannelResult[] {
  return resultsOf(scaleInvarianceResults, 'channel', results).map(({ record: r, data: d }) => {
    const names = imageNames(r.imageIds.length);
    return {
      block: String(d.block),
      channel: num(d.channel),
      preOfIn: num(d.preOfIn),
      preOfZoomedIn: num(d.preOfZoomedIn),
      postOfIn: num(d.postOfIn),
      postOfPre: num(d.postOfPre),
      inOfIn: num(d.inOfIn),
      preOfPre: num(d.preOfPre),
      ratio: num(d.ratio),
      silent: d.silent === true,
      criterion1: verdict(d.criterion1),
      criterion2: verdict(d.criterion2),
      scaleInvariant: verdict(d.scaleInvariant),
      images: Object.fromEntries(r.imageIds.map((id, i) => [names[i], id])),
    };
  });
}

/** Top images (ids and activations) of one role's central neuron, from the run's dataset scan. */
export function topImages(results: ResultRecord[], block: string, role: Role, channel: number): { imageId: number; activation: number }[] {
  const key = scaleInvarianceKey('unit', { block, role, channel });
  const found = resultsOf(scaleInvarianceResults, 'unit', results).find(({ record }) => record.key === key);
  if (!found) return [];
  return (found.data.top ?? []).map((t, i) => ({ imageId: found.record.imageIds[i], activation: num(t.activation) }));
}
