// The unit gallery: which units it shows (the query), the page the server answered, the user's
// selection and focus, collections, and curation (star, tag, note) with undo and redo. Cards are
// kept shallow: thousands of them are replaced wholesale on every refresh, never edited in place.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { GalleryQuery } from '../../../shared/api/contract';
import type { CollectionSummary, CurationStep, GalleryPage, UnitCard } from '../../../shared/curation';
import { api } from '../api';
import { useNotices } from './notices';

/** What the gallery's centre shows beside the grid. */
export type GalleryMode = 'grid' | 'compare' | 'layers' | 'collections';

export interface MetricFilter {
  metric: string;
  min: number | null;
  max: number | null;
}

/** Sort keys besides the metrics: the default order, and channel. */
export const DEFAULT_SORT = '';
export const MAX_COMPARE = 4;

const REFRESH_COALESCE_MS = 120;

export const useGalleryStore = defineStore('gallery', () => {
  const notices = useNotices();

  // ---- the query -----------------------------------------------------------------------------
  const modelId = ref<string | null>(null);
  const layer = ref<string | null>(null);
  const tag = ref<string | null>(null);
  const starred = ref(false);
  const collectionId = ref<number | null>(null);
  const search = ref('');
  const filters = ref<MetricFilter[]>([]);
  const sortBy = ref<string>(DEFAULT_SORT);
  const descending = ref(true);

  const query = computed<GalleryQuery>(() => {
    const q: GalleryQuery = { filters: [] };
    if (modelId.value) q.modelId = modelId.value;
    if (modelId.value && layer.value) q.layer = layer.value;
    if (tag.value) q.tag = tag.value;
    if (starred.value) q.starred = true;
    if (collectionId.value !== null) q.collectionId = collectionId.value;
    if (search.value.trim()) q.search = search.value.trim();
    q.filters = filters.value
      .filter((f) => f.metric && (f.min !== null || f.max !== null))
      .map((f) => ({ metric: f.metric, ...(f.min !== null ? { min: f.min } : {}), ...(f.max !== null ? { max: f.max } : {}) }));
    if (sortBy.value !== DEFAULT_SORT) q.sort = { by: sortBy.value, descending: descending.value };
    return q;
  });

  // ---- the answer ----------------------------------------------------------------------------
  const cards = shallowRef<UnitCard[]>([]);
  const totalUnits = ref(0);
  const metrics = shallowRef<GalleryPage['metrics']>([]);
  const layers = shallowRef<GalleryPage['layers']>([]);
  const tags = shallowRef<string[]>([]);
  const collections = shallowRef<CollectionSummary[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  /** The project the loaded page belongs to: a switch of project resets the query. */
  const projectPath = ref<string | null>(null);

  const byId = computed(() => new Map(cards.value.map((c) => [c.unitId, c])));
  const metricLabel = computed(() => new Map(metrics.value.map((m) => [m.key, m.label])));
  const collection = computed(() => collections.value.find((c) => c.id === collectionId.value) ?? null);

  let generation = 0;
  async function load(): Promise<void> {
    const mine = ++generation;
    loading.value = true;
    try {
      const [page, cols] = await Promise.all([api().call('gallery.query', query.value), api().call('collections.list')]);
      if (mine !== generation) return; // a newer query answered or will answer
      collections.value = cols;
      cards.value = page.cards;
      totalUnits.value = page.totalUnits;
      metrics.value = page.metrics;
      layers.value = page.layers;
      tags.value = page.tags;
      error.value = null;
      loaded.value = true;
      pruneSelection();
    } catch (err) {
      if (mine === generation) error.value = err instanceof Error ? err.message : String(err);
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** Reloads soon; bursts of changes (events, typing in the search box) make one query. */
  function refresh(): void {
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void load();
    }, REFRESH_COALESCE_MS);
  }

  /** Forgets the query and selection of another project. */
  function resetFor(path: string | null): void {
    if (path === projectPath.value) return;
    projectPath.value = path;
    modelId.value = null;
    layer.value = null;
    tag.value = null;
    starred.value = false;
    collectionId.value = null;
    search.value = '';
    filters.value = [];
    sortBy.value = DEFAULT_SORT;
    selected.value = new Set();
    anchor.value = null;
    focusIndex.value = 0;
    detailId.value = null;
    compareIds.value = [];
    scrollTop.value = 0;
    cards.value = [];
    loaded.value = false;
  }

  // ---- view state ----------------------------------------------------------------------------
  const mode = ref<GalleryMode>('grid');
  const selected = ref<Set<number>>(new Set());
  const anchor = ref<number | null>(null);
  const focusIndex = ref(0);
  const detailId = ref<number | null>(null);
  const compareIds = ref<number[]>([]);
  /** The grid's scroll offset, kept while the gallery tab is closed. */
  const scrollTop = ref(0);

  const selectedIds = computed(() => cards.value.filter((c) => selected.value.has(c.unitId)).map((c) => c.unitId));

  function pruneSelection(): void {
    const ids = byId.value;
    const kept = [...selected.value].filter((id) => ids.has(id));
    if (kept.length !== selected.value.size) selected.value = new Set(kept);
    focusIndex.value = Math.min(focusIndex.value, Math.max(0, cards.value.length - 1));
  }

  /** Click semantics of a file manager: plain replaces, ctrl/cmd toggles, shift extends a range. */
  function selectAt(index: number, how: { toggle?: boolean; range?: boolean } = {}): void {
    const card = cards.value[index];
    if (!card) return;
    focusIndex.value = index;
    if (how.range && anchor.value !== null) {
      const from = Math.min(anchor.value, index);
      const to = Math.max(anchor.value, index);
      const next = how.toggle ? new Set(selected.value) : new Set<number>();
      for (let i = from; i <= to; i++) next.add(cards.value[i].unitId);
      selected.value = next;
      return;
    }
    const next = how.toggle ? new Set(selected.value) : new Set<number>();
    if (how.toggle && next.has(card.unitId)) next.delete(card.unitId);
    else next.add(card.unitId);
    selected.value = next;
    anchor.value = index;
  }

  function clearSelection(): void {
    selected.value = new Set();
    anchor.value = null;
  }

  /** The units an action applies to: the selection, or the focused card when nothing is selected. */
  function targets(): number[] {
    if (selected.value.size) return selectedIds.value;
    const card = cards.value[focusIndex.value];
    return card ? [card.unitId] : [];
  }

  // ---- curation ------------------------------------------------------------------------------
  const canUndo = ref(true);
  const canRedo = ref(false);

  async function curate<T>(act: () => Promise<T>): Promise<T | undefined> {
    try {
      const out = await act();
      canUndo.value = true;
      canRedo.value = false;
      refresh();
      return out;
    } catch (err) {
      notices.error(err);
      return undefined;
    }
  }

  async function star(unitIds: number[], on: boolean): Promise<void> {
    if (unitIds.length) await curate(() => api().call('curation.star', { unitIds, starred: on }));
  }

  /** Stars the units unless all of them already are, then unstars them. */
  async function toggleStar(unitIds: number[]): Promise<void> {
    const all = unitIds.every((id) => byId.value.get(id)?.starred);
    await star(unitIds, !all);
  }

  async function setTag(unitIds: number[], name: string, add: boolean): Promise<void> {
    const clean = name.trim();
    if (unitIds.length && clean) await curate(() => api().call('curation.tag', { unitIds, tag: clean, add }));
  }

  async function setNote(unitId: number, text: string): Promise<void> {
    await curate(() => api().call('curation.note', { unitId, text }));
  }

  async function step(which: 'undo' | 'redo'): Promise<CurationStep | null> {
    try {
      const out = await api().call(which === 'undo' ? 'curation.undo' : 'curation.redo', {});
      canUndo.value = out.canUndo;
      canRedo.value = out.canRedo;
      notices.info(out.description ? `${which === 'undo' ? 'Undone' : 'Redone'}: ${out.description}` : `Nothing to ${which}`);
      refresh();
      return out;
    } catch (err) {
      notices.error(err);
      return null;
    }
  }

  // ---- collections ---------------------------------------------------------------------------
  async function createCollection(name: string, unitIds: number[]): Promise<CollectionSummary | undefined> {
    return curate(() => api().call('collections.create', { name, ...(unitIds.length ? { unitIds } : {}) }));
  }

  async function updateCollection(
    id: number,
    change: { name?: string; add?: number[]; remove?: number[]; order?: number[] },
  ): Promise<CollectionSummary | undefined> {
    return curate(() => api().call('collections.update', { collectionId: id, ...change }));
  }

  async function deleteCollection(id: number): Promise<void> {
    await curate(() => api().call('collections.delete', { collectionId: id }));
    if (collectionId.value === id) collectionId.value = null;
  }

  /** Shows only this collection's units, in its order. */
  function openCollection(id: number | null): void {
    collectionId.value = id;
    sortBy.value = DEFAULT_SORT;
    mode.value = 'grid';
    refresh();
  }

  function compare(unitIds: number[]): void {
    compareIds.value = unitIds.slice(0, MAX_COMPARE);
    mode.value = 'compare';
  }

  return {
    modelId,
    layer,
    tag,
    starred,
    collectionId,
    search,
    filters,
    sortBy,
    descending,
    query,
    cards,
    totalUnits,
    metrics,
    layers,
    tags,
    collections,
    collection,
    loading,
    loaded,
    error,
    projectPath,
    byId,
    metricLabel,
    load,
    refresh,
    resetFor,
    mode,
    selected,
    selectedIds,
    focusIndex,
    detailId,
    compareIds,
    scrollTop,
    selectAt,
    clearSelection,
    targets,
    canUndo,
    canRedo,
    star,
    toggleStar,
    setTag,
    setNote,
    step,
    createCollection,
    updateCollection,
    deleteCollection,
    openCollection,
    compare,
  };
});
