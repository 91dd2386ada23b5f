// Reads float32 tensors from a safetensors file (a little-endian u64 header length, a JSON header
// of name → dtype, shape, byte range, then the raw data): the format PyTorch state dicts travel in.
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Float32 tensors by name; other dtypes are listed in `skipped` (e.g. BN's int64 counters). */
export function parseSafetensors(bytes: Uint8Array, source: string): { tensors: Map<string, NamedTensor>; skipped: string[] } {
  const fail = (msg: string): never => {
    throw new Error(`${source}: not a readable safetensors file: ${msg}`);
  };
  if (bytes.length < 8) fail('shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) fail(`header of ${headerLength} bytes in a ${bytes.length}-byte file`);
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    return fail('the header is not JSON');
  }
  const base = 8 + headerLength;
  const tensors = new Map<string, NamedTensor>();
  const skipped: string[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as HeaderEntry;
    if (e.dtype !== 'F32') {
      skipped.push(name);
      continue;
    }
    const [begin, end] = e.data_offsets ?? [];
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end === begin + 4 * count && base + end <= bytes.length)) fail(`tensor "${name}" has byte range [${begin}, ${end}) for shape [${e.shape.join(', ')}]`);
    // Copied: the file's bytes need not be 4-aligned.
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(base + begin, base + end));
    tensors.set(name, { shape: e.shape, data });
  }
  return { tensors, skipped };
}
