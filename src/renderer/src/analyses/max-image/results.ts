// Reads max-image results (src/main/engine/analyses/max-image.ts): checkpoint snapshots
// `snapshot/<step>` {step, activation} and the final `unit/<layer>/<channel>` record with the
// activation trace sampled every `traceEvery` steps.
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

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

export function snapshots(results: ResultRecord[]): Snapshot[] {
  return results
    .filter((r) => r.key.startsWith('snapshot/'))
    .map((r) => ({ step: num(r.data.step), activation: num(r.data.activation), imageId: r.imageIds[0] ?? null }))
    .sort((a, b) => a.step - b.step);
}

export function finalResult(results: ResultRecord[]): FinalResult | null {
  const r = results.find((x) => x.key.startsWith('unit/'));
  if (!r) return null;
  const d = r.data;
  return {
    layer: String(d.layer),
    channel: num(d.channel),
    activation: num(d.activation),
    steps: num(d.steps),
    imageNorm: num(d.imageNorm),
    trace: Array.isArray(d.trace) ? d.trace.map(num) : [],
    traceEvery: num(d.traceEvery) || 1,
    imageId: r.imageIds[0] ?? null,
  };
}

/** [step, activation] pairs of the trace: sampled every traceEvery steps, and at the last step. */
export function traceCurve(f: FinalResult): [number, number][] {
  return f.trace.map((a, i) => [Math.min((i + 1) * f.traceEvery, f.steps), a]);
}
