// Models of the project (built-in cell models first), their layers, and the unit the user has
// selected in the sidebar: the selection pre-fills new runs.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { LayerInfo, ModelDetail, ModelSummary } from '../../../shared/domain';
import { api } from '../api';

export interface UnitSelection {
  modelId: string;
  layer?: string;
  channel?: number;
}

/** Units of a layer are its channels: the last axis of its NHWC (or flat) shape. */
export function channelCount(layer: LayerInfo): number {
  return layer.shape[layer.shape.length - 1] ?? 0;
}

export const useModelsStore = defineStore('models', () => {
  const list = ref<ModelSummary[]>([]);
  const details = ref<Record<string, ModelDetail>>({});
  const selection = ref<UnitSelection | null>(null);
  const loading = ref(false);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      list.value = await api().call('models.list');
      // Layers of a model id do not change (imported ids carry a hash of the file).
      details.value = Object.fromEntries(Object.entries(details.value).filter(([id]) => list.value.some((m) => m.id === id)));
      if (selection.value && !list.value.some((m) => m.id === selection.value?.modelId)) selection.value = null;
    } finally {
      loading.value = false;
    }
  }

  async function detail(modelId: string): Promise<ModelDetail> {
    const cached = details.value[modelId];
    if (cached) return cached;
    const d = await api().call('models.get', { modelId });
    details.value = { ...details.value, [modelId]: d };
    return d;
  }

  function select(next: UnitSelection | null): void {
    selection.value = next;
  }

  /** Takes a changed model record (a saved convention) into the list and the cached detail. */
  function update(summary: ModelSummary): void {
    list.value = list.value.map((m) => (m.id === summary.id ? summary : m));
    const cached = details.value[summary.id];
    if (cached) details.value = { ...details.value, [summary.id]: { ...summary, layers: cached.layers } };
  }

  return { list, details, selection, loading, load, detail, select, update };
});
