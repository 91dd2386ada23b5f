// Which result fields hold float arrays encoded with float-codec (base64 of float32 bytes), so the
// arrays export can write them as numbers. Results store them as plain strings; an analysis that
// stores a new encoded field adds its name here.
export const FLOAT_BLOB_FIELDS: ReadonlySet<string> = new Set([
  // shapes (engine/analyses/shapes.ts): responses, APC fits, controls, natural images, translation
  'responses',
  'r',
  'muA',
  'sigmaA',
  'muC',
  'sigmaC',
  'large',
  'dim',
  'ratio',
  'ti',
  'rfProfile',
  'positionCorrelation',
]);

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether `value` under `key` is an encoded float32 array: a known field whose text decodes to whole floats. */
export function isFloatBlob(key: string, value: unknown): value is string {
  if (typeof value !== 'string' || !FLOAT_BLOB_FIELDS.has(key)) return false;
  if (value.length % 4 !== 0 || !BASE64.test(value)) return false;
  const pad = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return ((value.length / 4) * 3 - pad) % 4 === 0;
}
