// Shell state that is not data: colour theme (remembered), which dialog is open, which page the
// centre shows, and what a file drop hands to the import dialog.
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';

export type Theme = 'light' | 'dark';
export type DialogName = 'project' | 'new-run' | 'import-model' | 'shortcuts';
/** The centre pane: the selected run, or the selected model's page. */
export type CentreTab = 'run' | 'model';

/** What a drop on the window hands to the import dialog: a path, or why there is none. */
export interface DroppedFile {
  name: string;
  path: string | null;
}

const THEME_KEY = 'artiphys.theme';

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
  }

  function importDropped(file: DroppedFile): void {
    dropped.value = file;
    dialog.value = 'import-model';
  }

  return { theme, dialog, centre, dropped, toggleTheme, open, close, importDropped };
});
