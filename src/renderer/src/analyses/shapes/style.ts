// Colours and axis helpers the shape views share: layers coloured by depth (blue → orange), V4
// in the text colour so it stands out from every layer.
import type { Theme } from '../../stores/ui';

/** Colour of the k-th of n layers, shallow to deep (hue 215° → 30°), as #rrggbb. */
export function layerColour(k: number, n: number): string {
  const t = n > 1 ? k / (n - 1) : 0;
  return hslHex(215 - 185 * t, 0.62, 0.42 + 0.08 * t);
}

function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return `#${[f(0), f(8), f(4)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

export function v4Colour(theme: Theme): string {
  return theme === 'dark' ? '#f2f4f7' : '#111418';
}

export const fmt = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

export const valueAxis = (name: string, extra: Record<string, unknown> = {}) => ({
  type: 'value',
  name,
  nameLocation: 'middle',
  nameGap: 30,
  ...extra,
});
