// Small display helpers shared by the views.

/** 75 → "1:15", 3725 → "1:02:05". */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Seconds between two ISO timestamps (to now when the second is missing). */
export function elapsedSeconds(fromIso: string | null, toIso: string | null): number | null {
  if (!fromIso) return null;
  const from = Date.parse(fromIso);
  const to = toIso ? Date.parse(toIso) : Date.now();
  return Number.isFinite(from) && Number.isFinite(to) ? (to - from) / 1000 : null;
}

export function formatDateTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function formatShape(shape: number[]): string {
  return shape.join('×');
}

/** Numbers at a readable precision; other values as compact JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  if (value === null) return 'auto';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** The last path segment, for long project paths in tight places. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** The text in at most `max` characters, cut in the middle with "…" (the end of a layer name tells most). */
export function middleEllipsis(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return '…';
  const keep = max - 1;
  const head = Math.floor(keep * 0.4);
  return `${text.slice(0, head)}…${text.slice(text.length - (keep - head))}`;
}
