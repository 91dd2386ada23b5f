// The one font of every exported figure (resources/fonts, DejaVu Sans): its files for the PDF and
// PNG renderers, text widths for the layout, and subsets embedded in SVG files so the figure reads
// the same on a machine without the font.
import fs from 'node:fs';
import path from 'node:path';
import * as fontkit from 'fontkit';
import subsetFont from 'subset-font';
import { resourcesDir } from '../engine/shape-data';

export const FIGURE_FONT_FAMILY = 'DejaVu Sans';

const FILES = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf' } as const;
export type Weight = keyof typeof FILES;
export const WEIGHTS = Object.keys(FILES) as Weight[];

export function fontPath(weight: Weight): string {
  return path.join(resourcesDir(), 'fonts', FILES[weight]);
}

const bytes = new Map<Weight, Buffer>();
const fonts = new Map<Weight, fontkit.Font>();

function fontBytes(weight: Weight): Buffer {
  let b = bytes.get(weight);
  if (!b) bytes.set(weight, (b = fs.readFileSync(fontPath(weight))));
  return b;
}

function font(weight: Weight): fontkit.Font {
  let f = fonts.get(weight);
  if (!f) fonts.set(weight, (f = fontkit.create(fontBytes(weight))));
  return f;
}

/** Width of a line of text in points at `size` points. */
export function textWidth(content: string, size: number, weight: Weight = 'regular'): number {
  const f = font(weight);
  return (f.layout(content).advanceWidth / f.unitsPerEm) * size;
}

/** The text, cut with an ellipsis where it would be wider than maxWidth. */
export function fitText(content: string, size: number, maxWidth: number, weight: Weight = 'regular'): string {
  if (textWidth(content, size, weight) <= maxWidth) return content;
  const chars = Array.from(content);
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (textWidth(`${chars.slice(0, mid).join('')}…`, size, weight) <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return `${chars.slice(0, lo).join('')}…`;
}

/**
 * @font-face rules embedding both weights, each cut down to the characters the figure uses
 * (a few kB instead of 0.7 MB per weight).
 */
export async function embeddedFontCss(characters: string): Promise<string> {
  const used = [...new Set(Array.from(characters))].join('') || ' ';
  const rules = await Promise.all(
    WEIGHTS.map(async (weight) => {
      const subset = await subsetFont(fontBytes(weight), used, { targetFormat: 'truetype' });
      return (
        `@font-face{font-family:'${FIGURE_FONT_FAMILY}';font-weight:${weight === 'bold' ? 700 : 400};` +
        `src:url(data:font/ttf;base64,${subset.toString('base64')}) format('truetype');}`
      );
    }),
  );
  return rules.join('\n');
}
