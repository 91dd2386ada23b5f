// A figure's layout: panels in a grid of columns at the figure's physical width, each under its
// letter (A, B, C...) and title, with the figure's title on top. The result is the SVG body in
// points plus its size; render.ts wraps it into SVG, PDF or PNG files.
import type { z } from 'zod';
import { FIGURE_PRESETS, MM_PER_INCH, POINTS_PER_INCH, type figureSpec } from '../../shared/figures';
import { drawPanel, type FigureSource } from './panels';
import { text } from './svg';

export type Figure = z.output<typeof figureSpec>;

export interface ComposedFigure {
  /** SVG elements in points, for a viewBox of 0 0 widthPt contentHeightPt. */
  body: string;
  contentHeightPt: number;
  /** The page: the content's height unless the user fixed one (then the content is scaled into it). */
  widthPt: number;
  heightPt: number;
  /** The size as the file states it, in the unit the user chose ("174mm", "3.5in"). */
  widthAttr: string;
  heightAttr: string;
  /** Runs whose results the figure shows, ascending. */
  runIds: number[];
  /** What each format's metadata calls the figure: its own title, or a generic name. */
  title: string;
}

/** Sizes in points. */
const MARGIN = 4;
const GAP = 10;
const TITLE_SIZE = 10;
const LABEL_SIZE = 9;
const PANEL_TITLE_SIZE = 7.5;
const HEADER_HEIGHT = 13;

const toPoints = (value: number, unit: 'mm' | 'in') => (unit === 'mm' ? value / MM_PER_INCH : value) * POINTS_PER_INCH;
const fromPoints = (pt: number, unit: 'mm' | 'in') => (unit === 'mm' ? (pt / POINTS_PER_INCH) * MM_PER_INCH : pt / POINTS_PER_INCH);
const length = (value: number, unit: 'mm' | 'in') => `${Math.round(value * 1000) / 1000}${unit}`;

/** The figure's width: a journal preset in mm, or the width given in its unit. */
function widthOf(f: Figure): { pt: number; attr: string; unit: 'mm' | 'in' } {
  if (f.preset) {
    const mm = FIGURE_PRESETS[f.preset].widthMm;
    return { pt: toPoints(mm, 'mm'), attr: length(mm, 'mm'), unit: 'mm' };
  }
  // Without a preset or a width, one journal column.
  const value = f.width ?? FIGURE_PRESETS['one-column'].widthMm;
  const unit = f.width === undefined ? 'mm' : f.unit;
  return { pt: toPoints(value, unit), attr: length(value, unit), unit };
}

export function composeFigure(f: Figure, source: FigureSource): ComposedFigure {
  const width = widthOf(f);
  const columns = Math.min(f.columns, f.panels.length);
  const cellWidth = (width.pt - 2 * MARGIN - (columns - 1) * GAP) / columns;
  const drawings = f.panels.map((p) => ({ panel: p, drawing: drawPanel(p, cellWidth, source) }));
  const hasHeader = f.labels || f.panels.some((p) => p.title);

  const parts: string[] = [];
  let y = MARGIN;
  if (f.title) {
    parts.push(text(MARGIN, y + TITLE_SIZE, f.title, { size: TITLE_SIZE, weight: 'bold', maxWidth: width.pt - 2 * MARGIN }));
    y += TITLE_SIZE + 6;
  }
  for (let row = 0; row * columns < drawings.length; row++) {
    if (row > 0) y += GAP;
    const inRow = drawings.slice(row * columns, (row + 1) * columns);
    let rowHeight = 0;
    inRow.forEach(({ panel, drawing }, col) => {
      const index = row * columns + col;
      const x = MARGIN + col * (cellWidth + GAP);
      let textX = x;
      if (f.labels) {
        parts.push(text(x, y + LABEL_SIZE, String.fromCharCode(65 + index), { size: LABEL_SIZE, weight: 'bold' }));
        textX += LABEL_SIZE + 3;
      }
      if (panel.title) {
        parts.push(text(textX, y + LABEL_SIZE, panel.title, { size: PANEL_TITLE_SIZE, maxWidth: x + cellWidth - textX }));
      }
      const top = y + (hasHeader ? HEADER_HEIGHT : 0);
      parts.push(`<g>${drawing.draw(x, top)}</g>`);
      rowHeight = Math.max(rowHeight, top - y + drawing.height);
    });
    y += rowHeight;
  }
  const contentHeight = y + MARGIN;
  const heightPt = f.height !== undefined ? toPoints(f.height, f.unit) : contentHeight;
  return {
    body: parts.join('\n'),
    widthPt: width.pt,
    heightPt,
    widthAttr: width.attr,
    heightAttr: f.height !== undefined ? length(f.height, f.unit) : length(fromPoints(contentHeight, width.unit), width.unit),
    runIds: [...new Set(drawings.flatMap((d) => d.drawing.runIds))].sort((a, b) => a - b),
    contentHeightPt: contentHeight,
    title: f.title?.trim() || 'Artiphys figure',
  };
}
