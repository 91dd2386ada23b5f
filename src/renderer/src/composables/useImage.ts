// Stored images (PNG in the project database) as data: URLs, fetched once and cached: views
// re-render often, and thumbnails repeat across views. The images that components ask for while
// one view renders travel in one images.getMany call, so a grid of 48 thumbnails costs one round
// trip instead of 48 (a browser opens at most 6 connections to the server).
import { ref, watch, type Ref } from 'vue';
import type { StoredImageData } from '../../../shared/api/contract';
import { api } from '../api';

const CACHE_MAX = 600;
/** The contract's limit on one images.getMany call. */
const BATCH_MAX = 200;
const cache = new Map<number, Promise<string>>();

interface Waiting {
  resolve(url: string): void;
  reject(err: Error): void;
}
let waiting = new Map<number, Waiting>();

const dataUrl = (img: StoredImageData) => `data:${img.mime};base64,${img.base64}`;

/** Sends every image asked for since the last flush, in calls of at most BATCH_MAX ids. */
function flush(): void {
  const batch = waiting;
  waiting = new Map();
  const ids = [...batch.keys()];
  for (let at = 0; at < ids.length; at += BATCH_MAX) {
    const chunk = ids.slice(at, at + BATCH_MAX);
    api()
      .call('images.getMany', { imageIds: chunk })
      .then(({ images, missing }) => {
        for (const img of images) batch.get(img.id)?.resolve(dataUrl(img));
        for (const id of missing) batch.get(id)?.reject(new Error(`no image ${id} in this project`));
      })
      .catch((err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        for (const id of chunk) batch.get(id)?.reject(error);
      });
  }
}

export function imageUrl(imageId: number): Promise<string> {
  let hit = cache.get(imageId);
  if (!hit) {
    hit = new Promise<string>((resolve, reject) => {
      // Components set up in the same render ask within one task; the flush follows it.
      if (!waiting.size) queueMicrotask(flush);
      waiting.set(imageId, { resolve, reject });
    });
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
