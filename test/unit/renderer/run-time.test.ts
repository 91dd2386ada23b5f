// A job's time line while it runs: the live duration and an ETA that turns into "no progress for
// N s" when the step count stops advancing.
import { describe, expect, it } from 'vitest';
import { etaState, runDurationSeconds, STALL_MIN_SECONDS } from '../../../src/renderer/src/util/run-time';

const T0 = Date.parse('2026-01-01T10:00:00Z');

describe('run duration', () => {
  it('runs with the clock while the run runs and stops at its end', () => {
    const running = { startedAt: new Date(T0).toISOString(), finishedAt: null, status: 'running' as const };
    expect(runDurationSeconds(running, T0 + 75_000)).toBe(75);
    expect(runDurationSeconds(running, T0 + 90_000)).toBe(90);
    const cancelled = { ...running, status: 'cancelled' as const, finishedAt: new Date(T0 + 12_000).toISOString() };
    expect(runDurationSeconds(cancelled, T0 + 90_000)).toBe(12);
    expect(runDurationSeconds({ startedAt: null, finishedAt: null, status: 'queued' }, T0)).toBeNull();
  });
});

describe('ETA', () => {
  const progress = { step: 50, total: 150, etaSeconds: 100 };

  it('counts down between progress events', () => {
    expect(etaState(progress, T0, T0, T0 + 10_000)).toMatchObject({ kind: 'eta', text: 'ETA 1:30' });
  });

  it('says how long the steps have stood still once that is well beyond the pace', () => {
    const stalled = etaState(progress, T0, T0, T0 + (STALL_MIN_SECONDS + 12) * 1000);
    expect(stalled).toMatchObject({ kind: 'stalled', text: `no progress for ${STALL_MIN_SECONDS + 12} s` });
    // A slow run (20 s a step) is not stalled after 40 s without a step.
    const slow = { step: 1, total: 11, etaSeconds: 200 };
    expect(etaState(slow, T0, T0, T0 + 40_000).kind).toBe('eta');
    expect(etaState(slow, T0, T0, T0 + 101_000)).toMatchObject({ kind: 'stalled', text: 'no progress for 1:41' });
  });

  it('waits for a pace before it estimates', () => {
    expect(etaState({ step: 0, total: 10, etaSeconds: null }, T0, T0, T0 + 1000)).toMatchObject({ kind: 'estimating', text: 'ETA …' });
  });
});
