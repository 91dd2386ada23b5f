// How the gallery names units and prints their metrics.
import type { UnitCard } from '../../../shared/curation';

/** "conv3 · 17": the unit's layer and channel (the model is in the title). */
export const unitName = (card: Pick<UnitCard, 'layer' | 'channel'>): string => `${card.layer} · ${card.channel}`;

export const shortModel = (modelId: string): string => modelId.replace(/^builtin:/, '');

/** Three significant digits; tiny and huge values in exponent form; '—' for missing values. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (Number.isInteger(value) && Math.abs(value) < 1e6) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e5)) return value.toExponential(2);
  return Number(value.toPrecision(3)).toString();
}

/** Metrics of a card in the order the gallery lists them, only those the card has. */
export function cardMetrics(card: UnitCard, order: { key: string; label: string }[], max: number): { key: string; label: string; value: number }[] {
  const out: { key: string; label: string; value: number }[] = [];
  for (const m of order) {
    const value = card.metrics[m.key];
    if (value === undefined) continue;
    out.push({ key: m.key, label: m.label, value });
    if (out.length === max) break;
  }
  return out;
}
