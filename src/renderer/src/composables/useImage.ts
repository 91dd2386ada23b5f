// Stored images (PNG in the project database) as data: URLs, fetched once and cached: views
// re-render often, and thumbnails repeat across views.
import { ref, watch, type Ref } from 'vue';
import { api } from '../api';

const CACHE_MAX = 600;
const cache = new Map<number, Promise<string>>();

export function imageUrl(imageId: number): Promise<string> {
  let hit = cache.get(imageId);
  if (!hit) {
    hit = api()
      .call('images.get', { imageId })
      .then((img) => `data:${img.mime};base64,${img.base64}`);
    hit.catch(() => cache.delete(imageId));
    cache.set(imageId, hit);
    if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value as number);
  }
  return hit;
}

/** The data URL of an image id, null while loading; `error` says why it could not be shown. */
export function useImage(id: Ref<number | null | undefined>) {
  const url = ref<string | null>(null);
  const error = ref<string | null>(null);
  watch(
    id,
    async (imageId) => {
      url.value = null;
      error.value = null;
      if (imageId == null) return;
      try {
        const next = await imageUrl(imageId);
        if (id.value === imageId) url.value = next;
      } catch (err) {
        if (id.value === imageId) error.value = err instanceof Error ? err.message : String(err);
      }
    },
    { immediate: true },
  );
  return { url, error };
}
