// Reads the floating-point tensors of a safetensors file (a little-endian u64 header length, a JSON
// header of name → dtype, shape, byte range, then the raw data): the format PyTorch state dicts
// travel in. Float16, bfloat16 and float64 tensors are widened to float32. Every header entry is
// checked before anything is allocated: byte ranges inside the file and not overlapping (so the
// tensors never take more memory than the file, twice for 16-bit ones), shapes that fit their range.
import { ModelFormatError } from '../errors';
import { MAX_TENSOR_ELEMENTS } from '../graph/ir';
import { bfloat16ToFloat, halfToFloat } from './half-float';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContent {
  /** The floating-point tensors, as float32. */
  tensors: Map<string, NamedTensor>;
  /** The other tensors by name, with their dtype (e.g. BN's I64 counters). */
  skipped: Map<string, string>;
}

/** Largest header read: the reference implementation's limit. */
const MAX_HEADER_BYTES = 100 * 2 ** 20;

const FLOAT_DTYPES: Record<string, { bytes: number; read: (view: DataView, offset: number) => number }> = {
  F32: { bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  F16: { bytes: 2, read: (v, o) => halfToFloat(v.getUint16(o, true)) },
  BF16: { bytes: 2, read: (v, o) => bfloat16ToFloat(v.getUint16(o, true)) },
  F64: { bytes: 8, read: (v, o) => v.getFloat64(o, true) },
};
/** Bytes per value of the dtypes that are skipped, so their byte ranges can be checked too. */
const OTHER_DTYPES: Record<string, number> = { I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1 };

/** True when the bytes start like a safetensors file: a plausible header length, then a JSON object. */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10 || bytes[8] !== 0x7b) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getBigUint64(0, true) <= BigInt(bytes.length - 8);
}

export function parseSafetensors(bytes: Uint8Array, source: string): SafetensorsContent {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${source}: not a readable safetensors file: ${msg}`);
  };
  if (bytes.length < 8) fail('shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(bytes.length - 8, MAX_HEADER_BYTES))) fail(`a header of ${headerLength} bytes in a ${bytes.length}-byte file`);
  const base = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, base)));
  } catch {
    return fail('the header is not JSON (the file is damaged or not safetensors)');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('the header is not a JSON object');

  const ranges: { begin: number; end: number; name: string }[] = [];
  const entries: { name: string; shape: number[]; begin: number; dtype: string }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const e = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const what = `tensor "${name}"`;
    if (typeof e.dtype !== 'string') fail(`${what} has no dtype`);
    const dtype = e.dtype as string;
    const bytesPer = FLOAT_DTYPES[dtype]?.bytes ?? OTHER_DTYPES[dtype];
    if (bytesPer === undefined) fail(`${what} has an unknown dtype ${JSON.stringify(dtype).slice(0, 40)}`);
    const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
    if (!Array.isArray(e.shape) || e.shape.length > 16 || !e.shape.every(isCount)) fail(`${what} has no valid shape`);
    const shape = e.shape as number[];
    let count = 1;
    for (const d of shape) {
      count *= d;
      if (count > MAX_TENSOR_ELEMENTS) fail(`${what} has huge dimensions [${shape.join(', ')}]`);
    }
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) fail(`${what} has no valid data_offsets`);
    const [begin, end] = offsets as [number, number];
    if (end - begin !== count * bytesPer || base + end > bytes.length) {
      fail(`${what} has byte range [${begin}, ${end}) for shape [${shape.join(', ')}] of ${dtype} in a data section of ${bytes.length - base} bytes`);
    }
    ranges.push({ begin, end, name });
    entries.push({ name, shape, begin, dtype });
  }
  ranges.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].begin < ranges[i - 1].end) fail(`tensors "${ranges[i - 1].name}" and "${ranges[i].name}" overlap`);
  }

  const tensors = new Map<string, NamedTensor>();
  const skipped = new Map<string, string>();
  for (const { name, shape, begin, dtype } of entries) {
    const type = FLOAT_DTYPES[dtype];
    if (!type) {
      skipped.set(name, dtype);
      continue;
    }
    const count = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    // Read value by value: the file's bytes need not be aligned.
    for (let i = 0, at = base + begin; i < count; i++, at += type.bytes) data[i] = type.read(view, at);
    tensors.set(name, { shape, data });
  }
  return { tensors, skipped };
}
