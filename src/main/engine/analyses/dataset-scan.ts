// Dataset scan (METHODS §11) of the In, Pre and Post layers of residual blocks: every image of a
// folder goes through the network once (batched, forward only); per unit (the central unit of
// each channel) the top-k and bottom-k images are kept with their activations, and stored with
// the crop of the unit's receptive field.
import * as tf from '@tensorflow/tfjs';
import { take } from '../read';
import { datasetScanKey, datasetScanResults, type DatasetScanSettings } from '../../../shared/analyses/dataset-scan';
import { checkResult } from '../../../shared/analyses/result-contract';
import type { ReceptiveField } from '../../../shared/domain';
import { yieldToEvents, type EngineAnalysis, type ImageOut } from '../analysis';
import { centralIndex } from '../fv/objectives';
import { loadImageBatch } from '../images';
import { findLayer } from '../model';
import { findBlock, roleLayer, type BlockRole } from '../residual/blocks';
import { chunks } from '../residual/images-out';
import { listImages } from '../residual/labelled-images';

interface Ranked {
  image: number;
  activation: number;
}

/** The k best entries seen so far, best first (k is small: insertion keeps it simple). */
class TopK {
  readonly items: Ranked[] = [];
  constructor(
    private readonly k: number,
    private readonly better: (a: number, b: number) => boolean,
  ) {}
  offer(image: number, activation: number): void {
    if (this.k === 0) return;
    if (this.items.length === this.k && !this.better(activation, this.items[this.k - 1].activation)) return;
    let i = this.items.length;
    while (i > 0 && this.better(activation, this.items[i - 1].activation)) i--;
    this.items.splice(i, 0, { image, activation });
    if (this.items.length > this.k) this.items.pop();
  }
}

interface Unit {
  block: string;
  role: BlockRole;
  layer: string;
  channel: number;
  top: TopK;
  bottom: TopK;
}

/** The receptive field of the central unit inside the crop (pixels), clipped to the image. */
export function rfBox(rf: ReceptiveField | undefined, side: number, outSide: number): { x0: number; y0: number; x1: number; y1: number } {
  if (!rf) return { x0: 0, y0: 0, x1: side, y1: side };
  const i = centralIndex(rf, side, outSide);
  const start = rf.offset + rf.jump * i - (rf.size - 1) / 2;
  const a = Math.max(0, Math.floor(start));
  const b = Math.min(side, Math.ceil(start + rf.size));
  return { x0: a, y0: a, x1: b, y1: b };
}

function cropImage(data: Float32Array, side: number, box: ReturnType<typeof rfBox>, name: string): ImageOut {
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) rgb[(y * w + x) * 3 + c] = Math.round(Math.min(255, Math.max(0, data[((box.y0 + y) * side + box.x0 + x) * 3 + c])));
  return { name, width: w, height: h, rgb };
}

export const datasetScan: EngineAnalysis<DatasetScanSettings> = {
  kind: 'dataset-scan',
  async run(s, ctx) {
    if (!s.images) throw new Error('dataset scan: no image folder given');
    if (s.blocks.length === 0) throw new Error('dataset scan: choose at least one residual block');
    const files = listImages(s.images);
    const model = await ctx.loadModel(s.modelId);
    try {
      const units: Unit[] = [];
      const layers = new Set<string>();
      for (const name of s.blocks) {
        const block = findBlock(model, name);
        for (const role of s.roles) {
          const layer = roleLayer(block, role, { in: s.inRelu, post: s.postRelu });
          layers.add(layer);
          const channels = findLayer(model, layer).shape.at(-1)!;
          for (let c = 0; c < channels; c++) {
            units.push({ block: name, role, layer, channel: c, top: new TopK(s.topK, (a, b) => a > b), bottom: new TopK(s.bottomK, (a, b) => a < b) });
          }
        }
      }
      const byLayer = new Map<string, Unit[]>();
      for (const u of units) byLayer.set(u.layer, [...(byLayer.get(u.layer) ?? []), u]);
      const outSides = new Map<string, number>();
      let seen = 0;
      for (const batch of chunks(files.map((f, i) => [f, i] as const), s.batchSize)) {
        if (ctx.cancelled()) return;
        const pixels = await loadImageBatch(batch.map(([f]) => f), s.resize, s.crop);
        const centrals = tf.tidy(() => {
          const out = model.forward(tf.tensor4d(pixels.data, pixels.shape), [...layers]);
          return [...layers].map((l) => {
            const t = out[l];
            const [n, h, w, c] = t.shape as number[];
            outSides.set(l, h);
            const info = findLayer(model, l);
            const y = centralIndex(info.rf, s.crop, h);
            const x = centralIndex(info.rf, s.crop, w);
            return [l, tf.reshape(tf.slice(t, [0, y, x, 0], [n, 1, 1, c]), [n, c]), c] as const;
          });
        });
        for (const [l, central, c] of centrals) {
          const acts = await take(central);
          for (const u of byLayer.get(l)!) batch.forEach(([, img], i) => (u.top.offer(img, acts[i * c + u.channel]), u.bottom.offer(img, acts[i * c + u.channel])));
        }
        seen += batch.length;
        ctx.progress(seen, files.length, `scanned ${seen}/${files.length} images`);
        await yieldToEvents();
      }
      // Only the images some unit keeps are decoded again, for their crops.
      const kept = [...new Set(units.flatMap((u) => [...u.top.items, ...u.bottom.items].map((r) => r.image)))].sort((a, b) => a - b);
      const views = new Map<number, Float32Array>();
      for (const batch of chunks(kept, s.batchSize)) {
        const b = await loadImageBatch(batch.map((i) => files[i]), s.resize, s.crop);
        const size = s.crop * s.crop * 3;
        batch.forEach((img, k) => views.set(img, b.data.slice(k * size, (k + 1) * size)));
      }
      for (const u of units) {
        const box = rfBox(findLayer(model, u.layer).rf, s.crop, outSides.get(u.layer)!);
        const entry = (r: Ranked) => ({ file: files[r.image], activation: r.activation });
        const images = [
          ...u.top.items.map((r, k) => cropImage(views.get(r.image)!, s.crop, box, `top-${k}`)),
          ...u.bottom.items.map((r, k) => cropImage(views.get(r.image)!, s.crop, box, `bottom-${k}`)),
        ];
        ctx.emitResult(
          datasetScanKey('unit', { block: u.block, role: u.role, channel: u.channel }),
          checkResult(datasetScanResults, 'unit', { block: u.block, role: u.role, layer: u.layer, channel: u.channel, top: u.top.items.map(entry), bottom: u.bottom.items.map(entry), rfBox: box, images: files.length }),
          images,
        );
      }
    } finally {
      model.dispose();
    }
  },
};
