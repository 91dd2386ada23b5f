// Shell state that is not data: colour theme (remembered), which dialog is open, which page the
// centre shows, and what a file drop hands to the import dialog.
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import type { RunSummary } from '../../../shared/domain';
import type { PanelSpec } from '../../../shared/figures';

export type Theme = 'light' | 'dark';
export type DialogName = 'project' | 'new-run' | 'import-model' | 'shortcuts' | 'export-figure';
/** The centre pane: the selected run, the selected model's page, or the unit gallery. */
export type CentreTab = 'run' | 'model' | 'gallery';

/** What a drop on the window hands to the import dialog: a path, or why there is none. */
export interface DroppedFile {
  name: string;
  path: string | null;
}

const THEME_KEY = 'artiphys.theme';
const RUN_MODEL_KEY = 'artiphys.newRunModel';

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export const useUiStore = defineStore('ui', () => {
  const theme = ref<Theme>(initialTheme());
  const dialog = ref<DialogName | null>(null);
  const centre = ref<CentreTab>('run');
  const dropped = ref<DroppedFile | null>(null);
  /** The panels the figure dialog starts from (a chart, a grid, a collection). */
  const figurePanels = ref<PanelSpec[]>([]);
  /** The model of the last run started from the New-run form: the form's model when nothing is selected. */
  const lastRunModel = ref<string | null>(localStorage.getItem(RUN_MODEL_KEY));

  function rememberRunModel(modelId: string): void {
    lastRunModel.value = modelId;
    localStorage.setItem(RUN_MODEL_KEY, modelId);
  }

  /** The run "Edit and rerun" opened the new-run form on; null: a fresh form. */
  const rerunOf = ref<RunSummary | null>(null);

  watch(
    theme,
    (t) => {
      document.documentElement.dataset.theme = t;
      localStorage.setItem(THEME_KEY, t);
    },
    { immediate: true },
  );

  function toggleTheme(): void {
    theme.value = theme.value === 'dark' ? 'light' : 'dark';
  }

  function open(name: DialogName): void {
    dialog.value = name;
  }

  function close(): void {
    dialog.value = null;
    dropped.value = null;
    rerunOf.value = null;
  }

  /** Opens the new-run form filled with this run's analysis, settings and seed. */
  function editAndRerun(run: RunSummary): void {
    rerunOf.value = run;
    dialog.value = 'new-run';
  }

  /** Opens the figure export dialog on these panels. */
  function openFigure(panels: PanelSpec[]): void {
    figurePanels.value = panels;
    dialog.value = 'export-figure';
  }

  function importDropped(file: DroppedFile): void {
    dropped.value = file;
    dialog.value = 'import-model';
  }

  return {
    theme,
    dialog,
    centre,
    dropped,
    figurePanels,
    rerunOf,
    lastRunModel,
    toggleTheme,
    open,
    close,
    editAndRerun,
    importDropped,
    openFigure,
    rememberRunModel,
  };
});
