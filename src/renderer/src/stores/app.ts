// What the status bar shows: app version, compute backend, engine state, the transport's
// connection, and the analyses the app knows.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { AppInfo } from '../../../shared/api/contract';
import { api, type ConnectionState } from '../api';

export type EngineStatus = AppInfo['engine'];

export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null);
  const engine = ref<EngineStatus>({ state: 'starting' });
  const connection = ref<ConnectionState>(api().connection);
  const transport = api().transport;

  const backend = computed(() => info.value?.backend ?? null);
  const analyses = computed(() => info.value?.analyses ?? []);

  async function load(): Promise<AppInfo> {
    const next = await api().call('app.info');
    info.value = next;
    engine.value = next.engine;
    return next;
  }

  function setEngine(status: EngineStatus): void {
    engine.value = status;
    // The backend is known once the engine is ready (or changed after a restart).
    if (status.state === 'ready') void load().catch(() => undefined);
  }

  return { info, engine, connection, transport, backend, analyses, load, setEngine };
});
