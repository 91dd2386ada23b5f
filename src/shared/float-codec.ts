// Compact numeric arrays inside JSON results: float32 values as base64 of their little-endian
// bytes (a third of the size of decimal text, and exact). Pure TypeScript, no Buffer or atob, so
// the engine and the renderer decode alike.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

function littleEndianBytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return bytes;
}

export function encodeFloat32(values: ArrayLike<number>): string {
  const b = littleEndianBytes(values);
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    chunk += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
    chunk += i + 1 < b.length ? ALPHABET[(n >> 6) & 63] : '=';
    chunk += i + 2 < b.length ? ALPHABET[n & 63] : '=';
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}

export function decodeFloat32(text: string): Float32Array {
  if (text.length % 4 !== 0) throw new Error(`base64 float32 data has length ${text.length}, not a multiple of 4`);
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const byteCount = (text.length / 4) * 3 - pad;
  if (byteCount % 4 !== 0) throw new Error(`base64 data holds ${byteCount} bytes, not whole float32 values`);
  const bytes = new Uint8Array(byteCount);
  for (let i = 0, o = 0; i < text.length; i += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const ch = text.charCodeAt(i + k);
      const v = ch === 61 /* = */ ? 0 : ch < 128 ? LOOKUP[ch] : -1;
      if (v < 0) throw new Error(`invalid base64 character at ${i + k}`);
      n = (n << 6) | v;
    }
    if (o < byteCount) bytes[o++] = (n >> 16) & 255;
    if (o < byteCount) bytes[o++] = (n >> 8) & 255;
    if (o < byteCount) bytes[o++] = n & 255;
  }
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(byteCount / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
