// Small pieces of SVG text shared by the figure panels. Figures are laid out in points (1/72 in),
// the unit of the SVG's viewBox and of the PDF page.
import { FIGURE_FONT_FAMILY, fitText, type Weight } from './fonts';

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A length with at most two decimals: 0.01 pt is far below any printer's resolution. */
export function n(x: number): string {
  return String(Math.round(x * 100) / 100);
}

export interface TextStyle {
  size: number;
  weight?: Weight;
  anchor?: 'start' | 'middle' | 'end';
  fill?: string;
  /** Degrees, about (x, y): -90 for a vertical axis title. */
  rotate?: number;
  /** Longer text is cut to this width with an ellipsis. */
  maxWidth?: number;
}

/** One line of text with its baseline at y, in the figure font. */
export function text(x: number, y: number, content: string, style: TextStyle): string {
  const weight = style.weight ?? 'regular';
  const shown = style.maxWidth === undefined ? content : fitText(content, style.size, style.maxWidth, weight);
  const attrs = [
    `x="${n(x)}"`,
    `y="${n(y)}"`,
    `font-size="${n(style.size)}"`,
    `font-family="${FIGURE_FONT_FAMILY}"`,
    weight === 'bold' ? 'font-weight="bold"' : '',
    style.anchor && style.anchor !== 'start' ? `text-anchor="${style.anchor}"` : '',
    `fill="${style.fill ?? '#111'}"`,
    style.rotate ? `transform="rotate(${style.rotate} ${n(x)} ${n(y)})"` : '',
  ].filter(Boolean);
  return `<text ${attrs.join(' ')}>${esc(shown)}</text>`;
}

/** A stored PNG placed at (x, y), scaled into w × h keeping its aspect, without smoothing. */
export function pngImage(x: number, y: number, w: number, h: number, png: Buffer): string {
  return (
    `<image x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" preserveAspectRatio="xMidYMid meet" ` +
    `image-rendering="optimizeSpeed" xlink:href="data:image/png;base64,${png.toString('base64')}"/>`
  );
}
