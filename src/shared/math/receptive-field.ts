// Receptive-field arithmetic (METHODS §1), one spatial axis at a time. A unit's RF is described
// by its size (pixels it spans), jump (input pixels between neighbouring units) and offset (the
// input coordinate of the centre of unit 0; pixel i has its centre at coordinate i). Unit k then
// spans [offset + k*jump - (size-1)/2, offset + k*jump + (size-1)/2].

export interface AxisRF {
  size: number;
  jump: number;
  offset: number;
}

/** The image itself: every pixel sees itself. */
export const PIXEL_RF: AxisRF = { size: 1, jump: 1, offset: 0 };

/** A sliding window along one axis (convolution or pooling). */
export interface Window {
  kernel: number;
  stride: number;
  dilation: number;
  /** Padding added before the first input element. */
  padBegin: number;
}

function effectiveKernel(w: Window): number {
  return (w.kernel - 1) * w.dilation + 1;
}

/** Convolution / pooling: unit k reads inputs k*stride - padBegin + j*dilation, j < kernel. */
export function throughWindow(rf: AxisRF, w: Window): AxisRF {
  const span = effectiveKernel(w) - 1;
  return {
    size: rf.size + span * rf.jump,
    jump: rf.jump * w.stride,
    offset: rf.offset + (span / 2 - w.padBegin) * rf.jump,
  };
}

/**
 * Transposed convolution: output o receives input i when o = i*stride - padBegin + j*dilation.
 * At most ceil(span+1 / stride) inputs reach one output; the size is that bound (exact for the
 * outputs that get the most inputs), the jump shrinks by the stride.
 */
export function throughTransposedWindow(rf: AxisRF, w: Window): AxisRF {
  const span = effectiveKernel(w) - 1;
  const inputsPerOutput = Math.ceil((span + 1) / w.stride);
  return {
    size: rf.size + (inputsPerOutput - 1) * rf.jump,
    jump: rf.jump / w.stride,
    offset: rf.offset + ((w.padBegin - span / 2) / w.stride) * rf.jump,
  };
}

/** Explicit padding shifts the unit grid; the RF itself is unchanged. */
export function throughPad(rf: AxisRF, padBegin: number): AxisRF {
  return { ...rf, offset: rf.offset - padBegin * rf.jump };
}

/** First and last input coordinate unit k sees. */
export function rfSpan(rf: AxisRF, k: number): [number, number] {
  const centre = rf.offset + k * rf.jump;
  return [centre - (rf.size - 1) / 2, centre + (rf.size - 1) / 2];
}

/**
 * Elementwise merge of branches (Add, Mul, Concat): a unit sees the union of what its inputs
 * see. The branches of a well-formed graph share the jump; the union is centred on the spans.
 */
export function mergeRFs(rfs: readonly AxisRF[]): AxisRF {
  if (rfs.length === 0) throw new Error('mergeRFs needs at least one receptive field');
  const starts = rfs.map((r) => rfSpan(r, 0)[0]);
  const ends = rfs.map((r) => rfSpan(r, 0)[1]);
  const start = Math.min(...starts);
  const end = Math.max(...ends);
  return { size: end - start + 1, jump: Math.max(...rfs.map((r) => r.jump)), offset: (start + end) / 2 };
}

/**
 * Smallest input side whose central output unit (index floor(m/2) of m units) sees its whole RF
 * inside the image. That unit is the first one whose RF starts at or after pixel 0; when the unit
 * grid cannot start exactly at pixel 0 (e.g. an even RF after odd padding), the image is larger
 * than the RF by the misalignment and the first pixels lie outside the RF.
 */
export function rfSizedSide(rf: AxisRF): { side: number; unit: number; start: number } {
  const start0 = rfSpan(rf, 0)[0];
  const unit = Math.max(0, Math.ceil(-start0 / rf.jump - 1e-9));
  const start = start0 + unit * rf.jump;
  return { side: Math.round(start + rf.size), unit, start };
}
