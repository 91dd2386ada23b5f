// The open project and the recently used project files (remembered in this browser).
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ProjectInfo } from '../../../shared/api/contract';
import { api } from '../api';

const RECENT_KEY = 'artiphys.recentProjects';
const RECENT_MAX = 8;

function readRecent(): string[] {
  try {
    const raw: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(raw) ? raw.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}

export const useProjectStore = defineStore('project', () => {
  const info = ref<ProjectInfo | null>(null);
  const recent = ref<string[]>(readRecent());

  function remember(path: string): void {
    recent.value = [path, ...recent.value.filter((p) => p !== path)].slice(0, RECENT_MAX);
    localStorage.setItem(RECENT_KEY, JSON.stringify(recent.value));
  }

  function set(next: ProjectInfo | null): void {
    info.value = next;
    if (next) remember(next.path);
  }

  async function refresh(): Promise<void> {
    set(await api().call('project.info'));
  }

  async function open(path: string): Promise<ProjectInfo> {
    const next = await api().call('project.open', { path });
    set(next);
    return next;
  }

  async function create(path: string): Promise<ProjectInfo> {
    const next = await api().call('project.create', { path });
    set(next);
    return next;
  }

  return { info, recent, set, refresh, open, create };
});
