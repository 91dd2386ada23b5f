// Keeps the address in step with the workbench (util/route.ts): what the user opens is written
// to the hash (a new history entry for another run or view, the same entry for a selection), and
// an address (reload, link, back and forward) is applied to the stores: its project opened when
// another is open, its run selected, its unit selected in the sidebar, its view shown.
import { nextTick, watch } from 'vue';
import { useModelsStore } from './models';
import { useNotices } from './notices';
import { useProjectStore } from './project';
import { useRunsStore } from './runs';
import { useUiStore } from './ui';
import { whenProjectLoaded } from './events';
import { EMPTY_ROUTE, formatRoute, parseRoute, type Route } from '../util/route';

/** Starts routing once the workbench is loaded; returns the function that stops it. */
export function startRouter(): () => void {
  const ui = useUiStore();
  const runs = useRunsStore();
  const models = useModelsStore();
  const project = useProjectStore();
  const notices = useNotices();
  let applying = false;

  function current(): Route {
    return {
      view: ui.centre === 'run' && runs.selectedId === null ? null : ui.centre,
      runId: runs.selectedId,
      selection: models.selection,
      project: project.info?.path ?? null,
    };
  }

  async function apply(route: Route): Promise<void> {
    applying = true;
    try {
      if (route.project && project.info && route.project !== project.info.path) {
        const switched = new Promise<void>((resolve) => whenProjectLoaded(resolve));
        try {
          await project.open(route.project);
        } catch (err) {
          notices.error(err);
          return;
        }
        await switched; // the switch clears the old project's selection; ours comes after it
      }
      const sel = route.selection;
      if (sel && models.list.some((m) => m.id === sel.modelId)) {
        // The layer must exist for its unit to be shown; a stale link keeps what still exists.
        const detail = sel.layer ? await models.detail(sel.modelId).catch(() => null) : null;
        const layer = detail?.layers.find((l) => l.name === sel.layer);
        models.select(layer ? sel : { modelId: sel.modelId });
      } else if (sel) {
        notices.error(new Error(`the link names model "${sel.modelId}", which this project does not have`));
      }
      if (route.runId !== null) {
        if (runs.byId[route.runId]) await runs.select(route.runId).catch((err) => notices.error(err));
        else notices.error(new Error(`the link names run #${route.runId}, which this project does not have`));
      }
      // The views' own watchers (a model picked shows its page) run first; the route has the last word.
      await nextTick();
      if (route.view === 'gallery' || (route.view === 'model' && models.selection)) ui.centre = route.view;
      else if (route.view === 'run' && runs.selectedId !== null) ui.centre = 'run';
    } finally {
      await nextTick();
      applying = false;
      write(false);
    }
  }

  /** Writes the workbench's state to the address; `push` adds a history entry. */
  function write(push: boolean): void {
    if (applying) return;
    const hash = formatRoute(current());
    if (hash === window.location.hash) return;
    const url = `${window.location.pathname}${window.location.search}${hash}`;
    if (push) window.history.pushState(null, '', url);
    else window.history.replaceState(window.history.state, '', url);
  }

  // Back, forward, a link followed or a hash typed in (pushState itself fires no event).
  const onHashChange = () => void apply(parseRoute(window.location.hash));
  window.addEventListener('hashchange', onHashChange);
  const initial = parseRoute(window.location.hash);
  void apply(initial.view || initial.selection || initial.project ? initial : EMPTY_ROUTE);

  const stopView = watch([() => ui.centre, () => runs.selectedId], () => write(true));
  const stopRest = watch([() => models.selection, () => project.info?.path], () => write(false));
  return () => {
    window.removeEventListener('hashchange', onHashChange);
    stopView();
    stopRest();
  };
}
