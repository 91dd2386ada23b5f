// 16-bit floats as weights arrive in them (IEEE half from `.half()` exports, bfloat16 from
// mixed-precision training), widened to float32: the engine computes in float32 whatever the file
// stores. Shared by the ONNX, safetensors and TF.js weight readers, which each find the 16-bit
// words themselves.

let halfTable: Float32Array | null = null;

/** The float32 value of each of the 65,536 half-precision bit patterns, built on first use. */
function halves(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    halfTable[h] =
      exponent === 0
        ? sign * fraction * 2 ** -24 // subnormal
        : exponent === 31
          ? fraction
            ? NaN
            : sign * Infinity
          : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return halfTable;
}

export function halfToFloat(bits: number): number {
  return halves()[bits & 0xffff];
}

const bfloat = new DataView(new ArrayBuffer(4));

/** bfloat16 is the upper half of a float32. */
export function bfloat16ToFloat(bits: number): number {
  bfloat.setUint32(0, (bits & 0xffff) << 16);
  return bfloat.getFloat32(0);
}
