// Runs (jobs) of the open project with their live progress, and the results of the runs the
// user looks at. Progress events can arrive hundreds of times a second; they are coalesced and
// applied at most every PROGRESS_FLUSH_MS so the UI stays responsive.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ApiEvent } from '../../../shared/api/contract';
import type { ResultRecord, RunProgress, RunStatus, RunSummary } from '../../../shared/domain';
import { api } from '../api';

const PROGRESS_FLUSH_MS = 100;
const RESULTS_REFRESH_MS = 300;

export const ACTIVE: readonly RunStatus[] = ['queued', 'running', 'interrupted'];
export const RESUMABLE: readonly RunStatus[] = ['cancelled', 'failed', 'interrupted'];

export function isActive(run: RunSummary): boolean {
  return ACTIVE.includes(run.status);
}

/** Fraction done in 0..1; a finished run is complete whatever its last progress said. */
export function fractionDone(run: RunSummary): number {
  if (run.status === 'done') return 1;
  const { step, total } = run.progress;
  return total > 0 ? Math.min(1, Math.max(0, step / total)) : 0;
}

export interface StartRequest {
  kind: string;
  settings: Record<string, unknown>;
  seed?: number;
  title?: string;
}

export const useRunsStore = defineStore('runs', () => {
  const byId = ref<Record<number, RunSummary>>({});
  const selectedId = ref<number | null>(null);
  const results = ref<Record<number, ResultRecord[]>>({});
  const loading = ref(false);
  /** Per run: the step last seen, when it last advanced and when progress last arrived (this client's clock). */
  const pace = ref<Record<number, { step: number; advancedAt: number; progressAt: number }>>({});

  const list = computed(() => Object.values(byId.value).sort((a, b) => b.id - a.id));
  const selected = computed(() => (selectedId.value === null ? null : (byId.value[selectedId.value] ?? null)));
  const activeCount = computed(() => list.value.filter(isActive).length);

  /**
   * Status events seen per run. An answer to a call can arrive after a status event that is newer
   * than it (runs.cancel answers "running" while the engine's "cancelled" may already be here):
   * such an answer must not put the older status back.
   */
  const statusEvents = new Map<number, number>();
  const eventCount = (runId: number) => statusEvents.get(runId) ?? 0;

  /** A run from an answer to a call made when `eventsBefore` of its status events had been seen. */
  function newest(run: RunSummary, eventsBefore: number): RunSummary {
    const current = byId.value[run.id];
    return current && eventCount(run.id) !== eventsBefore ? { ...run, status: current.status, error: current.error } : run;
  }

  function put(run: RunSummary, eventsBefore: number): void {
    byId.value[run.id] = newest(run, eventsBefore);
  }

  /** Calls the API for one run and takes its answer, newer statuses kept. */
  async function fetchRun(runId: number | null, call: () => Promise<RunSummary>): Promise<RunSummary> {
    const before = runId === null ? 0 : eventCount(runId);
    const run = await call();
    put(run, runId === null ? 0 : before);
    return byId.value[run.id];
  }

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const before = new Map(statusEvents);
      const runs = await api().call('runs.list', { limit: 500 });
      byId.value = Object.fromEntries(runs.map((r) => [r.id, newest(r, before.get(r.id) ?? 0)]));
      for (const r of runs) notePace(r.id, r.progress.step);
      results.value = {};
      if (selectedId.value !== null && !byId.value[selectedId.value]) selectedId.value = null;
      if (selectedId.value !== null) await loadResults(selectedId.value);
    } finally {
      loading.value = false;
    }
  }

  async function refreshRun(runId: number): Promise<void> {
    await fetchRun(runId, () => api().call('runs.get', { runId }));
  }

  async function loadResults(runId: number): Promise<ResultRecord[]> {
    const records = await api().call('results.list', { runId });
    results.value = { ...results.value, [runId]: records };
    return records;
  }

  async function select(runId: number | null): Promise<void> {
    selectedId.value = runId;
    if (runId !== null) await loadResults(runId);
  }

  async function start(req: StartRequest): Promise<RunSummary> {
    // Its id is not known before the answer: any status event of it seen by then is newer.
    const run = await fetchRun(null, () => api().call('runs.start', req));
    await select(run.id);
    return run;
  }

  async function cancel(runId: number): Promise<void> {
    await fetchRun(runId, () => api().call('runs.cancel', { runId }));
  }

  async function resume(runId: number): Promise<void> {
    await fetchRun(runId, () => api().call('runs.resume', { runId }));
  }

  async function remove(runId: number): Promise<void> {
    await api().call('runs.delete', { runId });
    forget(runId);
  }

  function forget(runId: number): void {
    const { [runId]: _run, ...rest } = byId.value;
    byId.value = rest;
    const { [runId]: _results, ...kept } = results.value;
    results.value = kept;
    if (selectedId.value === runId) selectedId.value = null;
  }

  // ---- live updates -------------------------------------------------------------------------

  const pendingProgress = new Map<number, RunProgress>();
  let progressTimer: ReturnType<typeof setTimeout> | null = null;
  const resultTimers = new Map<number, ReturnType<typeof setTimeout>>();

  /** Records progress of a run; the step count advancing restarts its stall clock. */
  function notePace(runId: number, step: number): void {
    const t = Date.now();
    const seen = pace.value[runId];
    pace.value[runId] = { step, advancedAt: seen && seen.step === step ? seen.advancedAt : t, progressAt: t };
  }

  function flushProgress(): void {
    progressTimer = null;
    for (const [runId, progress] of pendingProgress) {
      const run = byId.value[runId];
      if (!run) continue;
      run.progress = progress;
      notePace(runId, progress.step);
      if (run.status === 'queued' || run.status === 'interrupted') run.status = 'running';
    }
    pendingProgress.clear();
  }

  function scheduleResults(runId: number): void {
    if (!results.value[runId] || resultTimers.has(runId)) return;
    if (runId !== selectedId.value) {
      // Not on screen: forget the stale copy; selecting the run loads it afresh.
      const { [runId]: _stale, ...rest } = results.value;
      results.value = rest;
      return;
    }
    resultTimers.set(
      runId,
      setTimeout(() => {
        resultTimers.delete(runId);
        void loadResults(runId).catch(() => undefined);
      }, RESULTS_REFRESH_MS),
    );
  }

  function handle(event: ApiEvent): void {
    switch (event.type) {
      case 'run.progress':
        pendingProgress.set(event.runId, event.progress);
        progressTimer ??= setTimeout(flushProgress, PROGRESS_FLUSH_MS);
        break;
      case 'run.status': {
        statusEvents.set(event.runId, eventCount(event.runId) + 1);
        const run = byId.value[event.runId];
        if (run) {
          // Progress queued before the status change must not land after it.
          if (pendingProgress.has(event.runId)) flushProgress();
          run.status = event.status;
          run.error = event.error ?? null;
        }
        // The stored run has what the event lacks: start and end times, the result count.
        void refreshRun(event.runId).catch(() => undefined);
        if (event.status === 'running') {
          const t = Date.now(); // a (re)started run's stall clock starts now
          pace.value[event.runId] = { step: run?.progress.step ?? 0, advancedAt: t, progressAt: t };
        }
        if (!ACTIVE.includes(event.status)) scheduleResults(event.runId);
        break;
      }
      case 'run.deleted':
        forget(event.runId);
        break;
      case 'run.result': {
        const run = byId.value[event.runId];
        if (run) run.resultCount += 1;
        scheduleResults(event.runId);
        break;
      }
      default:
        break;
    }
  }

  return {
    byId,
    list,
    selectedId,
    selected,
    results,
    loading,
    pace,
    activeCount,
    load,
    loadResults,
    select,
    start,
    cancel,
    resume,
    remove,
    handle,
  };
});
