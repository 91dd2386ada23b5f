// The kinds of figure panel, each drawn into a given width: what it needs from the project, how
// tall it comes out, its SVG, and the runs whose results it shows (the figure's provenance).
import type { z } from 'zod';
import { ApiError } from '../../shared/api/contract';
import { SI_LC_AXIS_TITLES, siLcAxis } from '../../shared/analyses/si-lc';
import type { panelSpec } from '../../shared/figures';
import { plural } from '../../shared/plural';
import type { FigureUnit } from '../services/gallery-db';
import { esc, n, pngImage, text } from './svg';

export type Panel = z.output<typeof panelSpec>;

/** What panels read from the open project. */
export interface FigureSource {
  units(unitIds: number[], images: number, metrics: string[]): FigureUnit[];
  image(imageId: number): { runId: number; width: number; height: number; png: Buffer } | null;
}

export interface PanelDrawing {
  height: number;
  /** The panel's SVG with its top-left corner at (x, y). */
  draw(x: number, y: number): string;
  runIds: number[];
}

/** Sizes in points. */
const IMAGE_GAP = 1.5;
const UNIT_GAP = 6;
const CAPTION_SIZE = 6.5;
const CAPTION_HEIGHT = 9;
/** Unit images stop growing at this size (two-thirds of an inch), so wide figures stay compact. */
const MAX_UNIT_IMAGE = 48;
const MAX_GRID_IMAGE = 120;
const GREY = '#666';

export function drawPanel(panel: Panel, width: number, source: FigureSource): PanelDrawing {
  switch (panel.kind) {
    case 'svg':
      return chartPanel(panel.svg, panel.runIds, width);
    case 'units':
      return unitsPanel(source.units(panel.unitIds, panel.imagesPerUnit, []), panel.imagesPerUnit, width, source);
    case 'si-lc':
      return siLcPanel(source.units(panel.unitIds, 0, [SI, LC]), width);
    case 'images':
      return imagesPanel(panel.imageIds, panel.columns, width, source);
  }
}

// ---- a chart the renderer drew (ECharts' SVG renderer) ----

/** A chart's SVG document nested as one <svg> element, scaled to the panel's width. */
function chartPanel(svg: string, runIds: number[], width: number): PanelDrawing {
  const doc = svg.replace(/^\s*<\?xml[^>]*\?>/, '').replace(/<!DOCTYPE[^>]*>/i, '').trim();
  const open = /^<svg\b([^>]*)>/.exec(doc);
  const close = doc.lastIndexOf('</svg>');
  if (!open || close < 0) throw new ApiError('bad_request', 'a chart panel must hold one SVG document (<svg ...>...</svg>)');
  if (/<script\b|<[^>]*\son[a-z]+\s*=/i.test(doc)) throw new ApiError('bad_request', 'a chart panel may not hold scripts or event handlers');
  const attr = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(open[1])?.[1];
  const box = attr('viewBox')?.trim().split(/[\s,]+/).map(Number);
  const w = box?.length === 4 ? box[2] : parseFloat(attr('width') ?? '');
  const h = box?.length === 4 ? box[3] : parseFloat(attr('height') ?? '');
  if (!(w > 0 && h > 0)) throw new ApiError('bad_request', 'a chart panel\'s SVG needs a size (width and height, or a viewBox)');
  const viewBox = box?.length === 4 ? box.join(' ') : `0 0 ${w} ${h}`;
  const inner = doc.slice(open[0].length, close);
  const height = (width * h) / w;
  return {
    height,
    draw: (x, y) =>
      `<svg x="${n(x)}" y="${n(y)}" width="${n(width)}" height="${n(height)}" viewBox="${esc(viewBox)}" preserveAspectRatio="xMidYMid meet">${inner}</svg>`,
    runIds,
  };
}

// ---- a grid of units, each with its images in a row under a caption ----

function unitsPanel(units: FigureUnit[], asked: number, width: number, source: FigureSource): PanelDrawing {
  // As many places per unit as the unit with the most images has (up to the number asked): no empty column.
  const perUnit = Math.max(1, Math.min(asked, Math.max(0, ...units.map((u) => u.images.length))));
  const size = Math.min(MAX_UNIT_IMAGE, (width - (perUnit - 1) * IMAGE_GAP) / perUnit);
  const blockWidth = perUnit * size + (perUnit - 1) * IMAGE_GAP;
  const perRow = Math.max(1, Math.floor((width + UNIT_GAP) / (blockWidth + UNIT_GAP)));
  const rows = Math.ceil(units.length / perRow);
  const rowHeight = CAPTION_HEIGHT + size;
  const models = new Set(units.map((u) => u.modelId));
  const caption = (u: FigureUnit) => `${models.size > 1 ? `${u.modelId} ` : ''}${u.layer} · ${u.channel}`;
  return {
    height: rows * rowHeight + (rows - 1) * UNIT_GAP,
    draw: (x, y) => {
      const parts: string[] = [];
      units.forEach((u, i) => {
        const bx = x + (i % perRow) * (blockWidth + UNIT_GAP);
        const by = y + Math.floor(i / perRow) * (rowHeight + UNIT_GAP);
        parts.push(text(bx, by + CAPTION_SIZE, caption(u), { size: CAPTION_SIZE, maxWidth: blockWidth }));
        // Only the images the unit has: a unit with fewer leaves blank space, not outlined slots.
        u.images.slice(0, perUnit).forEach((im, k) => {
          const stored = source.image(im.imageId);
          if (stored) parts.push(pngImage(bx + k * (size + IMAGE_GAP), by + CAPTION_HEIGHT, size, size, stored.png));
        });
      });
      return parts.join('');
    },
    runIds: units.flatMap((u) => u.images.slice(0, perUnit).map((im) => im.runId)),
  };
}

// ---- shift invariance against linear combination (METHODS §4-5), one point per unit ----

const SI = 'shiftInvariance';
const LC = 'linearCombination';
const POINT_RADIUS = 2;
const TICK_SIZE = 6;
const AXIS_TITLE_SIZE = 7;

function siLcPanel(units: FigureUnit[], width: number): PanelDrawing {
  const points = units.filter((u) => u.metrics[SI] && u.metrics[LC]);
  const height = Math.min(320, Math.max(110, width * 0.75));
  const pad = { left: 30, right: 6, top: 6, bottom: 24 };
  const xs = siLcAxis(points.map((u) => u.metrics[SI].value));
  const ys = siLcAxis(points.map((u) => u.metrics[LC].value));
  return {
    height,
    draw: (x0, y0) => {
      const left = x0 + pad.left;
      const right = x0 + width - pad.right;
      const top = y0 + pad.top;
      const bottom = y0 + height - pad.bottom;
      const px = (v: number) => left + ((v - xs.lo) / (xs.hi - xs.lo)) * (right - left);
      const py = (v: number) => bottom - ((v - ys.lo) / (ys.hi - ys.lo)) * (bottom - top);
      const parts: string[] = [];
      for (const t of xs.ticks) {
        parts.push(`<line x1="${n(px(t))}" y1="${n(top)}" x2="${n(px(t))}" y2="${n(bottom)}" stroke="#e3e3e3" stroke-width="0.4"/>`);
        parts.push(text(px(t), bottom + TICK_SIZE + 2, tickLabel(t), { size: TICK_SIZE, anchor: 'middle', fill: GREY }));
      }
      for (const t of ys.ticks) {
        parts.push(`<line x1="${n(left)}" y1="${n(py(t))}" x2="${n(right)}" y2="${n(py(t))}" stroke="#e3e3e3" stroke-width="0.4"/>`);
        parts.push(text(left - 3, py(t) + TICK_SIZE * 0.35, tickLabel(t), { size: TICK_SIZE, anchor: 'end', fill: GREY }));
      }
      parts.push(`<path d="M${n(left)} ${n(top)}V${n(bottom)}H${n(right)}" fill="none" stroke="#333" stroke-width="0.6"/>`);
      parts.push(text((left + right) / 2, y0 + height - 3, SI_LC_AXIS_TITLES.x, { size: AXIS_TITLE_SIZE, anchor: 'middle' }));
      parts.push(text(x0 + AXIS_TITLE_SIZE, (top + bottom) / 2, SI_LC_AXIS_TITLES.y, { size: AXIS_TITLE_SIZE, anchor: 'middle', rotate: -90 }));
      for (const u of points) {
        parts.push(
          `<circle class="artiphys-point" cx="${n(px(u.metrics[SI].value))}" cy="${n(py(u.metrics[LC].value))}" r="${POINT_RADIUS}" ` +
            `fill="#2c6db5" fill-opacity="0.8" stroke="#fff" stroke-width="0.3" data-unit="${u.unitId}">` +
            `<title>${esc(`${u.layer} · ${u.channel}: SI ${u.metrics[SI].value.toFixed(3)}, LC ${u.metrics[LC].value.toFixed(3)}`)}</title></circle>`,
        );
      }
      if (points.length < units.length) {
        const note = points.length
          ? `${points.length} of ${plural(units.length, 'unit')} ${points.length === 1 ? 'has' : 'have'} SI and LC`
          : 'no unit has SI and LC: run diverse with indices';
        parts.push(text(right, top + TICK_SIZE, note, { size: TICK_SIZE, anchor: 'end', fill: GREY, maxWidth: right - left }));
      }
      return parts.join('');
    },
    runIds: points.flatMap((u) => [u.metrics[SI].runId, u.metrics[LC].runId]),
  };
}

function tickLabel(v: number): string {
  return String(Math.round(v * 1000) / 1000).replace('-', '−');
}

// ---- stored images in a grid ----

function imagesPanel(imageIds: number[], columns: number | undefined, width: number, source: FigureSource): PanelDrawing {
  const found = imageIds.map((id) => source.image(id));
  const missing = imageIds.filter((_, i) => !found[i]);
  if (missing.length) throw new ApiError('not_found', `no image ${missing.join(', ')} in this project`);
  const images = found.map((im) => im!);
  const cols = Math.min(images.length, columns ?? Math.ceil(Math.sqrt(images.length)));
  const size = Math.min(MAX_GRID_IMAGE, (width - (cols - 1) * IMAGE_GAP) / cols);
  const rowHeights: number[] = [];
  images.forEach((im, i) => {
    const r = Math.floor(i / cols);
    rowHeights[r] = Math.max(rowHeights[r] ?? 0, (size * im.height) / im.width);
  });
  const rowTops = rowHeights.map((_, r) => rowHeights.slice(0, r).reduce((a, h) => a + h + IMAGE_GAP, 0));
  return {
    height: rowTops[rowTops.length - 1] + rowHeights[rowHeights.length - 1],
    draw: (x, y) =>
      images
        .map((im, i) => {
          const r = Math.floor(i / cols);
          return pngImage(x + (i % cols) * (size + IMAGE_GAP), y + rowTops[r], size, (size * im.height) / im.width, im.png);
        })
        .join(''),
    runIds: images.map((im) => im.runId),
  };
}
