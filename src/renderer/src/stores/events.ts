// Routes the workbench's events to the stores, and catches up after the event stream was down
// (a WebSocket reconnect may have missed progress, results or a project switch).
import { api } from '../api';
import { useAppStore } from './app';
import { useModelsStore } from './models';
import { useNotices } from './notices';
import { useProjectStore } from './project';
import { useRunsStore } from './runs';

const COUNTS_REFRESH_MS = 500;

/** Loads everything shown for the open project. */
export async function loadWorkbench(): Promise<void> {
  const app = useAppStore();
  const project = useProjectStore();
  const models = useModelsStore();
  const runs = useRunsStore();
  const info = await app.load();
  project.set(info.project);
  await Promise.all([models.load(), runs.load()]);
}

/** Called once the next project switch is loaded (a link to another project's run). */
let afterSwitch: (() => void) | null = null;
export function whenProjectLoaded(callback: () => void): void {
  afterSwitch = callback;
}

export function connectEvents(): () => void {
  const client = api();
  const app = useAppStore();
  const runs = useRunsStore();
  const project = useProjectStore();
  const models = useModelsStore();
  const notices = useNotices();

  const offEvents = client.onEvent((event) => {
    switch (event.type) {
      case 'engine.status':
        app.setEngine({ state: event.state, ...(event.error ? { error: event.error } : {}) });
        break;
      case 'project.changed':
        // Run ids and models belong to a project: what was selected is gone.
        runs.selectedId = null;
        models.select(null);
        void loadWorkbench()
          .catch((err) => notices.error(err))
          .finally(() => {
            const next = afterSwitch;
            afterSwitch = null;
            next?.();
          });
        break;
      default:
        runs.handle(event);
        // New runs and stored results change the project's counts in the status bar.
        if (event.type === 'run.status' || event.type === 'run.result') refreshCounts();
    }
  });

  // Results can arrive many a second: the counts are asked for at most once per COUNTS_REFRESH_MS.
  let countsTimer: ReturnType<typeof setTimeout> | null = null;
  function refreshCounts(): void {
    countsTimer ??= setTimeout(() => {
      countsTimer = null;
      void project.refresh().catch(() => undefined);
    }, COUNTS_REFRESH_MS);
  }

  let wasDown = false;
  const offConnection = client.onConnection((state) => {
    app.connection = state;
    if (state === 'reconnecting') wasDown = true;
    if (state === 'live' && wasDown) {
      wasDown = false;
      void loadWorkbench().catch((err) => notices.error(err));
    }
  });

  return () => {
    if (countsTimer) clearTimeout(countsTimer);
    offEvents();
    offConnection();
  };
}
