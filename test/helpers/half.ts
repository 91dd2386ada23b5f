// float32 → float16 bit patterns in tests, written out here so that checks do not use the
// reader's own conversion (src/main/engine/formats/half-float.ts).
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** Rounded to nearest even; for normal numbers of float16's range (smaller ones flush to zero). */
export function floatToHalfBits(x: number): number {
  scratch[0] = x;
  const u = scratchBits[0];
  const sign = (u >>> 16) & 0x8000;
  const exponent = ((u >>> 23) & 0xff) - 127 + 15;
  if (exponent <= 0) return sign;
  let half = (exponent << 10) | ((u >>> 13) & 0x3ff);
  const rest = u & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}
