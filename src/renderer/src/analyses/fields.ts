// The "new run" form is generated from an analysis's defaults (app.info): each setting becomes a
// field whose input follows its default's type. An analysis may refine a field with a hint
// (label, help, bounds, or a picker such as model/layer/unit that knows the project's models).

import { parseIntList } from '../../../shared/analyses/ranges';

export type FieldType =
  | 'model'
  | 'layer'
  | 'layers'
  | 'channel'
  | 'units'
  | 'position'
  | 'choice'
  | 'int'
  | 'number'
  | 'nullable-number'
  | 'text'
  /** A path or name typed plainly; empty is the setting's "none" (null or ''). */
  | 'path'
  | 'boolean'
  | 'json';

export interface FieldHint {
  type?: FieldType;
  label?: string;
  help?: string;
  min?: number;
  max?: number;
  /** The allowed values of a 'choice' field. */
  options?: string[];
  /** Shown without opening "Advanced" (model, layer and unit pickers always are). */
  main?: boolean;
}

export interface FieldSpec extends FieldHint {
  key: string;
  type: FieldType;
  label: string;
}

/** Settings keys with one meaning across analyses get their picker without a hint. */
const WELL_KNOWN: Record<string, FieldType> = {
  modelId: 'model',
  layer: 'layer',
  layers: 'layers',
  channel: 'channel',
  units: 'units',
  position: 'position',
  imageNorm: 'nullable-number',
};

function inferType(key: string, value: unknown): FieldType {
  if (WELL_KNOWN[key]) return WELL_KNOWN[key];
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'number';
  if (typeof value === 'string') return 'text';
  return 'json';
}

const TYPE_LABELS: Partial<Record<FieldType, string>> = {
  model: 'Model',
  layer: 'Layer',
  layers: 'Layers',
  channel: 'Unit (channel)',
  units: 'Units',
  position: 'Unit position',
};

/** "learningRate" → "Learning rate". */
function labelOf(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Pickers every analysis shows first: what the run is about. */
const MAIN_TYPES: FieldType[] = ['model', 'layer', 'layers', 'channel', 'units'];

export function fieldSpecs(defaults: Record<string, unknown>, hints: Record<string, FieldHint> = {}): FieldSpec[] {
  return Object.entries(defaults).map(([key, value]) => {
    const hint = hints[key] ?? {};
    const type = hint.type ?? inferType(key, value);
    return {
      key,
      type,
      label: hint.label ?? TYPE_LABELS[type] ?? labelOf(key),
      ...(hint.help ? { help: hint.help } : {}),
      ...(hint.min !== undefined ? { min: hint.min } : {}),
      ...(hint.max !== undefined ? { max: hint.max } : {}),
      ...(hint.options ? { options: hint.options } : {}),
      ...(hint.main || MAIN_TYPES.includes(type) ? { main: true } : {}),
    };
  });
}

/** Initial text of a JSON field. */
export function jsonText(value: unknown): string {
  return value === null || value === undefined ? '' : JSON.stringify(value);
}

/**
 * Parses a free-form field: JSON where it is JSON, otherwise the text as typed (settings
 * schemas accept lists such as "0.1, 0.5, 1" as strings); empty means null (automatic).
 */
export function parseJsonField(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text.trim();
  }
}

/** [0, 1, 2, 3, 7] → "0-3, 7". */
export function unitsText(value: unknown): string {
  const list = Array.isArray(value) ? value.filter((v): v is number => Number.isInteger(v)) : typeof value === 'number' ? [value] : [];
  const parts: string[] = [];
  for (let i = 0; i < list.length; ) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1) j++;
    parts.push(j > i ? `${list[i]}-${list[j]}` : String(list[i]));
    i = j + 1;
  }
  return parts.join(', ');
}

/** "0-3, 7" → [0, 1, 2, 3, 7]; throws with the label when the text is not such a list. */
export function parseUnits(label: string, text: string): number[] {
  let units: number[];
  try {
    units = parseIntList(text);
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}`, { cause: err });
  }
  if (!units.length) throw new Error(`${label}: give at least one unit`);
  return units;
}
