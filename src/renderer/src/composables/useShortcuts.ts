// Single-key shortcuts for the main actions (like a mail client): they fire only when focus is
// not in a text field and no modifier is held, so typing is never intercepted.
import { onBeforeUnmount, onMounted } from 'vue';

export interface Shortcut {
  key: string;
  description: string;
  run: () => void;
}

function typingInField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function useShortcuts(shortcuts: () => Shortcut[], enabled: () => boolean): void {
  function onKey(e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    if (!enabled() || typingInField(e.target)) return;
    const hit = shortcuts().find((s) => s.key === e.key);
    if (!hit) return;
    e.preventDefault();
    hit.run();
  }
  onMounted(() => window.addEventListener('keydown', onKey));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));
}
