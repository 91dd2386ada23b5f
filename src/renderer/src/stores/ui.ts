// Shell state that is not data: colour theme (remembered) and which dialog is open.
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';

export type Theme = 'light' | 'dark';
export type DialogName = 'project' | 'new-run' | 'import-model' | 'shortcuts';

const THEME_KEY = 'artiphys.theme';

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export const useUiStore = defineStore('ui', () => {
  const theme = ref<Theme>(initialTheme());
  const dialog = ref<DialogName | null>(null);

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
  }

  return { theme, dialog, toggleTheme, open, close };
});
