// Virtual scrolling for every long list or grid of fixed-size items (the gallery's unit cards,
// the layer table's rows): only the rows in view, and `overscanRows` around them, are in the DOM,
// while a spacer of the full height keeps the scrollbar true. The arithmetic is a pure function,
// kept apart from the composable so it stays obvious.
import { computed, onBeforeUnmount, onMounted, ref, type Ref } from 'vue';

export interface GridWindow {
  columns: number;
  /** Height of every row, so the spacer is rows × rowHeight. */
  totalHeight: number;
  /** Item indices [first, end) that are rendered. */
  first: number;
  end: number;
}

/** Item size in px; without a width the items are the rows of a one-column list. */
export interface ItemSize {
  width?: number;
  height: number;
  gap: number;
}

export function gridWindow(count: number, view: { width: number; height: number; scrollTop: number }, item: ItemSize, overscanRows: number): GridWindow {
  const columns = item.width === undefined ? 1 : Math.max(1, Math.floor((view.width + item.gap) / (item.width + item.gap)));
  const rowHeight = item.height + item.gap;
  const rows = Math.ceil(count / columns);
  const firstRow = Math.max(0, Math.floor(view.scrollTop / rowHeight) - overscanRows);
  const lastRow = Math.min(rows - 1, Math.ceil((view.scrollTop + view.height) / rowHeight) - 1 + overscanRows);
  return {
    columns,
    totalHeight: Math.max(0, rows * rowHeight - item.gap),
    first: Math.min(count, firstRow * columns),
    end: lastRow < firstRow ? firstRow * columns : Math.min(count, (lastRow + 1) * columns),
  };
}

export interface VirtualGridOptions {
  item: ItemSize;
  overscanRows: number;
  /** Room kept free at each side of the scroller (for focus outlines), px. */
  edge?: number;
  /** Where to start, and who remembers the position (a store, so a view reopens where it was). */
  initialScrollTop?: number;
  onScroll?: (scrollTop: number) => void;
}

/**
 * The window of items to render for the scroller `el` holding `count()` items. Bind `onScroll`
 * to the scroller's scroll event; `reveal` scrolls just enough to show an item.
 */
export function useVirtualGrid(el: Ref<HTMLElement | null>, count: () => number, opts: VirtualGridOptions) {
  const width = ref(0);
  const height = ref(0);
  const scrollTop = ref(opts.initialScrollTop ?? 0);
  const rowHeight = opts.item.height + opts.item.gap;
  const win = computed(() => gridWindow(count(), { width: width.value, height: height.value, scrollTop: scrollTop.value }, opts.item, opts.overscanRows));

  function sync(): void {
    if (!el.value) return;
    scrollTop.value = el.value.scrollTop;
    opts.onScroll?.(el.value.scrollTop);
  }

  // At most one update a frame, however fast the scroll events come.
  let frame = 0;
  function onScroll(): void {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      sync();
    });
  }

  function measure(): void {
    if (!el.value) return;
    width.value = el.value.clientWidth - 2 * (opts.edge ?? 0);
    height.value = el.value.clientHeight;
  }
  let observer: ResizeObserver | null = null;
  onMounted(() => {
    measure();
    if (el.value) el.value.scrollTop = scrollTop.value;
    observer = new ResizeObserver(measure);
    if (el.value) observer.observe(el.value);
  });
  onBeforeUnmount(() => {
    observer?.disconnect();
    if (frame) cancelAnimationFrame(frame);
  });

  /** Top-left corner of the item at `index` inside the spacer. */
  function place(index: number): { left: number; top: number } {
    const { columns } = win.value;
    return { left: (index % columns) * ((opts.item.width ?? 0) + opts.item.gap), top: Math.floor(index / columns) * rowHeight };
  }

  /** Scrolls just enough to show the item at `index`. */
  function reveal(index: number): void {
    const box = el.value;
    if (!box) return;
    const { top } = place(index);
    if (top < box.scrollTop) box.scrollTop = top;
    else if (top + opts.item.height > box.scrollTop + box.clientHeight) box.scrollTop = top + opts.item.height - box.clientHeight;
    sync();
  }

  function scrollToTop(): void {
    if (el.value) el.value.scrollTop = 0;
    scrollTop.value = 0;
  }

  return { win, width, height, rowHeight, onScroll, place, reveal, scrollToTop };
}
