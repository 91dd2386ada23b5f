// Types and presets of exported figures and data files. A figure is a grid of panels (A, B, C...)
// at a physical width; the main process composes it to SVG and converts it to PDF or PNG, so the
// desktop app, the web UI and `artiphys export figure` produce the same files.
import { z } from 'zod';

/** Journal column widths (mm): one column, one and a half, two columns (full page width). */
export const FIGURE_PRESETS = {
  'one-column': { label: 'One column (85 mm)', widthMm: 85 },
  'one-and-half-column': { label: 'One and a half columns (114 mm)', widthMm: 114 },
  'two-column': { label: 'Two columns (174 mm)', widthMm: 174 },
} as const;
export type FigurePreset = keyof typeof FIGURE_PRESETS;

export const MM_PER_INCH = 25.4;
export const POINTS_PER_INCH = 72;

const ids = z.array(z.number().int().positive());

/** One panel of a figure. */
export const panelSpec = z.discriminatedUnion('kind', [
  /** A chart the renderer already drew as SVG (ECharts SVG renderer); runIds say where its data came from. */
  z.object({
    kind: z.literal('svg'),
    svg: z.string().min(1).max(20_000_000),
    title: z.string().max(200).optional(),
    runIds: ids.default([]),
  }),
  /** A grid of unit cards: each unit's images in a row, labelled with layer and channel. */
  z.object({
    kind: z.literal('units'),
    unitIds: ids.min(1).max(400),
    imagesPerUnit: z.number().int().min(1).max(12).default(4),
    title: z.string().max(200).optional(),
  }),
  /** Shift invariance against linear combination for the given units (METHODS' SI–LC scatter). */
  z.object({
    kind: z.literal('si-lc'),
    unitIds: ids.min(1).max(100_000),
    title: z.string().max(200).optional(),
  }),
  /** Stored images of runs, in a grid (e.g. a run's visualizations). */
  z.object({
    kind: z.literal('images'),
    imageIds: ids.min(1).max(2000),
    columns: z.number().int().min(1).max(50).optional(),
    title: z.string().max(200).optional(),
  }),
]);
export type PanelSpec = z.input<typeof panelSpec>;

export const figureSpec = z.object({
  title: z.string().max(300).optional(),
  panels: z.array(panelSpec).min(1).max(26),
  /** Panels per row. */
  columns: z.number().int().min(1).max(6).default(1),
  /** Label panels A, B, C... */
  labels: z.boolean().default(true),
  /** Width: a preset, or a size in mm or inches. */
  preset: z.enum(Object.keys(FIGURE_PRESETS) as [FigurePreset, ...FigurePreset[]]).optional(),
  width: z.number().positive().max(2000).optional(),
  height: z.number().positive().max(2000).optional(),
  unit: z.enum(['mm', 'in']).default('mm'),
  format: z.enum(['svg', 'pdf', 'png']),
  /** PNG resolution. */
  dpi: z.number().int().min(36).max(1200).default(300),
});
export type FigureSpec = z.input<typeof figureSpec>;

/** Where an exported file came from; written into the file's own metadata. */
export interface Provenance {
  app: 'Artiphys';
  appVersion: string;
  project: string;
  runIds: number[];
  /** sha256 of the canonical JSON of the runs' kinds, settings and seeds. */
  configHash: string;
  createdAt: string;
}

/** A file made by an export, handed to the client (or written to `path` when one was given). */
export interface ExportedFile {
  fileName: string;
  mime: string;
  /** File bytes, base64; empty when the file was written to a path. */
  base64: string;
  bytes: number;
  path: string | null;
  provenance: Provenance;
  /** Figures: page size in points, and pixels for PNG. */
  widthPt?: number;
  heightPt?: number;
  pixelWidth?: number;
  pixelHeight?: number;
}
