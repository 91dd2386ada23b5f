// The scale transforms of METHODS §8 as image views: for p > 0 the short side is resized to 256,
// the central square of 256 - floor(256 p / 100) px cut out and resized to 224 (bilinear); p = 0
// is the usual resize 256 / centre crop 224.
import { readFile } from 'node:fs/promises';
import { decodeImage, evaluationView, resizeBilinear, type RgbImage } from '../images';

const SHORT_SIDE = 256;
export const ABLATION_INPUT = 224;
const INPUT = ABLATION_INPUT;

export function scaledView(img: RgbImage, percent: number): RgbImage {
  if (!(percent >= 0 && percent < 100)) throw new Error(`scale transform: ${percent} % is not in 0..100`);
  if (percent === 0) return evaluationView(img, SHORT_SIDE, INPUT);
  const side = SHORT_SIDE - Math.floor((SHORT_SIDE * percent) / 100);
  return resizeBilinear(evaluationView(img, SHORT_SIDE, side), INPUT, INPUT);
}

/** The views of `files` at one scale: the data of a [files, 224, 224, 3] pixel batch. */
export async function scaledBatch(files: readonly string[], percent: number): Promise<Float32Array> {
  const size = INPUT * INPUT * 3;
  const out = new Float32Array(files.length * size);
  for (const [i, file] of files.entries()) {
    out.set(scaledView(decodeImage(new Uint8Array(await readFile(file)), file), percent).data, i * size);
  }
  return out;
}

