// Which cards of a fixed-size grid are in view: the arithmetic of the virtual grid, kept apart
// from the component so it stays obvious.
export interface GridWindow {
  columns: number;
  /** Height of every row, so the spacer is rows × rowHeight. */
  totalHeight: number;
  /** Card indices [first, end) that are rendered. */
  first: number;
  end: number;
}

export function gridWindow(
  count: number,
  view: { width: number; height: number; scrollTop: number },
  card: { width: number; height: number; gap: number },
  overscanRows: number,
): GridWindow {
  const columns = Math.max(1, Math.floor((view.width + card.gap) / (card.width + card.gap)));
  const rowHeight = card.height + card.gap;
  const rows = Math.ceil(count / columns);
  const firstRow = Math.max(0, Math.floor(view.scrollTop / rowHeight) - overscanRows);
  const lastRow = Math.min(rows - 1, Math.ceil((view.scrollTop + view.height) / rowHeight) - 1 + overscanRows);
  return {
    columns,
    totalHeight: Math.max(0, rows * rowHeight - card.gap),
    first: Math.min(count, firstRow * columns),
    end: lastRow < firstRow ? firstRow * columns : Math.min(count, (lastRow + 1) * columns),
  };
}
