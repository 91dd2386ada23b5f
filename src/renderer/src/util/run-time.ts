// What a job's time line says while it runs: the live duration, and an ETA that counts down
// between progress events and turns into "no progress for N s" when the steps stop advancing
// (a frozen step count must not keep a frozen ETA). Pure functions of the run and the clock.
import type { RunSummary } from '../../../shared/domain';
import { elapsedSeconds, formatSeconds } from './format';

/** Steps that stop for this long (at least) read as stalled. */
export const STALL_MIN_SECONDS = 30;
/** ... or for this many times the run's own pace per step, when that is longer. */
const STALL_STEP_FACTOR = 5;

/** Seconds the run has taken: to now while it runs, to its end once finished; null before it starts. */
export function runDurationSeconds(run: Pick<RunSummary, 'startedAt' | 'finishedAt' | 'status'>, nowMs: number): number | null {
  if (!run.startedAt) return null;
  const to = run.finishedAt ?? (run.status === 'running' ? new Date(nowMs).toISOString() : null);
  return to ? elapsedSeconds(run.startedAt, to) : null;
}

export interface EtaState {
  /** eta: a live countdown; stalled: the steps stopped; estimating: no pace yet. */
  kind: 'eta' | 'stalled' | 'estimating';
  text: string;
  /** Seconds since the step count last advanced. */
  idleSeconds: number;
}

/**
 * The ETA line of a running job. `advancedAtMs` is when this client saw the step count change
 * last (or first saw the run); `progressAtMs` when the last progress event arrived.
 */
export function etaState(progress: RunSummary['progress'], advancedAtMs: number, progressAtMs: number, nowMs: number): EtaState {
  const idleSeconds = Math.max(0, (nowMs - advancedAtMs) / 1000);
  const remaining = progress.total - progress.step;
  const perStep = progress.etaSeconds !== null && remaining > 0 ? progress.etaSeconds / remaining : 0;
  if (idleSeconds >= Math.max(STALL_MIN_SECONDS, STALL_STEP_FACTOR * perStep)) {
    return { kind: 'stalled', text: `no progress for ${formatIdle(idleSeconds)}`, idleSeconds };
  }
  if (progress.etaSeconds === null) return { kind: 'estimating', text: 'ETA …', idleSeconds };
  const left = Math.max(0, progress.etaSeconds - (nowMs - progressAtMs) / 1000);
  return { kind: 'eta', text: `ETA ${formatSeconds(left)}`, idleSeconds };
}

/** 42 → "42 s", 125 → "2:05". */
function formatIdle(seconds: number): string {
  return seconds < 60 ? `${Math.floor(seconds)} s` : formatSeconds(seconds);
}
