// The "new run" form is generated from an analysis's defaults (app.info): each setting becomes a
// field whose input follows its default's type. An analysis may refine a field with a hint
// (label, help, bounds, or a picker such as model/layer/unit that knows the project's models).

export type FieldType =
  | 'model'
  | 'layer'
  | 'channel'
  | 'position'
  | 'int'
  | 'number'
  | 'nullable-number'
  | 'text'
  | 'boolean'
  | 'json';

export interface FieldHint {
  type?: FieldType;
  label?: string;
  help?: string;
  min?: number;
  max?: number;
}

export interface FieldSpec {
  key: string;
  type: FieldType;
  label: string;
  help?: string;
  min?: number;
  max?: number;
}

/** Settings keys with one meaning across analyses get their picker without a hint. */
const WELL_KNOWN: Record<string, FieldType> = { modelId: 'model', layer: 'layer', channel: 'channel' };

function inferType(key: string, value: unknown): FieldType {
  if (WELL_KNOWN[key]) return WELL_KNOWN[key];
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'number';
  if (typeof value === 'string') return 'text';
  return 'json';
}

/** "learningRate" → "Learning rate". */
function labelOf(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function fieldSpecs(defaults: Record<string, unknown>, hints: Record<string, FieldHint> = {}): FieldSpec[] {
  return Object.entries(defaults).map(([key, value]) => {
    const hint = hints[key] ?? {};
    return {
      key,
      type: hint.type ?? inferType(key, value),
      label: hint.label ?? labelOf(key),
      ...(hint.help ? { help: hint.help } : {}),
      ...(hint.min !== undefined ? { min: hint.min } : {}),
      ...(hint.max !== undefined ? { max: hint.max } : {}),
    };
  });
}

/** Initial text of a JSON field. */
export function jsonText(value: unknown): string {
  return value === null || value === undefined ? '' : JSON.stringify(value);
}

/** Parses a JSON field; empty means null (the analysis's automatic choice). */
export function parseJsonField(label: string, text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${label}: not valid JSON (e.g. 3, [1, 2] or "text")`);
  }
}
