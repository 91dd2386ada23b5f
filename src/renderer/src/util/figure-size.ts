// Physical sizes of exported figures: journal presets and the mm / inch / point / pixel
// conversions the figure dialog shows before anything is exported.
import type {
  FIGURE_PRESETS as SharedPresets,
  FigurePreset,
  MM_PER_INCH as SharedMmPerInch,
  POINTS_PER_INCH as SharedPointsPerInch,
} from '../../../shared/figures';

// The renderer keeps zod (which shared/figures.ts loads for its schemas) out of its bundle, so
// the presets and units are repeated here; `satisfies typeof` makes any drift from the shared values a
// type error.
export const FIGURE_PRESETS = {
  'one-column': { label: 'One column (85 mm)', widthMm: 85 },
  'one-and-half-column': { label: 'One and a half columns (114 mm)', widthMm: 114 },
  'two-column': { label: 'Two columns (174 mm)', widthMm: 174 },
} as const satisfies typeof SharedPresets;
export const PRESET_NAMES = Object.keys(FIGURE_PRESETS) as FigurePreset[];

export const MM_PER_INCH = 25.4 satisfies typeof SharedMmPerInch;
export const POINTS_PER_INCH = 72 satisfies typeof SharedPointsPerInch;

export type LengthUnit = 'mm' | 'in';

export function toMm(value: number, unit: LengthUnit): number {
  return unit === 'mm' ? value : value * MM_PER_INCH;
}

export function mmToPoints(mm: number): number {
  return (mm / MM_PER_INCH) * POINTS_PER_INCH;
}

/** Pixels of a length printed at `dpi`, as a rasterizer rounds them. */
export function mmToPixels(mm: number, dpi: number): number {
  return Math.round((mm / MM_PER_INCH) * dpi);
}
