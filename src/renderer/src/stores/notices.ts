// Messages for the user (errors from actions, confirmations), shown in a polite live region.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { describeError } from '../api';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

const INFO_MS = 4000;

export const useNotices = defineStore('notices', () => {
  const list = ref<Notice[]>([]);
  let next = 1;

  function push(kind: Notice['kind'], text: string): void {
    const id = next++;
    list.value.push({ id, kind, text });
    // Errors stay until dismissed: the user may need to read or copy them.
    if (kind === 'info') setTimeout(() => dismiss(id), INFO_MS);
  }

  function dismiss(id: number): void {
    list.value = list.value.filter((n) => n.id !== id);
  }

  return {
    list,
    info: (text: string) => push('info', text),
    error: (err: unknown) => push('error', describeError(err)),
    dismiss,
  };
});
