// Reads max-image results through the kind's contract (maxImageResults): checkpoint snapshots
// {step, activation} and the final unit record with the activation trace sampled every
// `traceEvery` steps.
import { maxImageResults } from '../../../../shared/analyses/max-image';
import { resultsOf } from '../../../../shared/analyses/result-contract';
import type { ResultRecord } from '../../../../shared/domain';

export interface Snapshot {
  step: number;
  activation: number;
  imageId: number | null;
}

export interface FinalResult {
  layer: string;
  channel: number;
  activation: number;
  steps: number;
  imageNorm: number;
  trace: number[];
  traceEvery: number;
  imageId: number | null;
}

const num = (v: number | null | undefined): number => v ?? Number.NaN;

export function snapshots(results: ResultRecord[]): Snapshot[] {
  return resultsOf(maxImageResults, 'snapshot', results)
    .map(({ record, data: d }) => ({ step: num(d.step), activation: num(d.activation), imageId: record.imageIds[0] ?? null }))
    .sort((a, b) => a.step - b.step);
}

export function finalResult(results: ResultRecord[]): FinalResult | null {
  const found = resultsOf(maxImageResults, 'unit', results)[0];
  if (!found) return null;
  const { record: r, data: d } = found;
  return {
    layer: String(d.layer),
    channel: num(d.channel),
    activation: num(d.activation),
    steps: num(d.steps),
    imageNorm: num(d.imageNorm),
    trace: d.trace ? d.trace.map(num) : [],
    traceEvery: num(d.traceEvery) || 1,
    imageId: r.imageIds[0] ?? null,
  };
}

/** [step, activation] pairs of the trace: sampled every traceEvery steps, and at the last step. */
export function traceCurve(f: FinalResult): [number, number][] {
  return f.trace.map((a, i) => [Math.min((i + 1) * f.traceEvery, f.steps), a]);
}
