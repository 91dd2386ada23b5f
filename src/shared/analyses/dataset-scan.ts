// Settings of a dataset scan (METHODS §11) over the In, Pre and Post layers of residual blocks.
import { z } from 'zod';
import { nameList } from './lists';
import { int, keyFunction, oneOf, part, real, text } from './result-contract';

export const datasetScanSettings = z.object({
  modelId: z.string().min(1).default('builtin:complex-cell'),
  /** Folder of JPEG/PNG images (searched recursively). */
  images: z.string().default(''),
  blocks: nameList.default([]),
  roles: z.array(z.enum(['in', 'pre', 'post'])).min(1).default(['in', 'pre', 'post']),
  inRelu: z.enum(['before', 'after']).default('after'),
  postRelu: z.enum(['before', 'after']).default('before'),
  topK: z.number().int().min(1).max(100).default(9),
  bottomK: z.number().int().min(0).max(100).default(9),
  batchSize: z.number().int().min(1).max(256).default(16),
  /** Evaluation view: short side resized to this, then the central `crop` square. */
  resize: z.number().int().min(8).default(256),
  crop: z.number().int().min(8).default(224),
});
export type DatasetScanSettings = z.infer<typeof datasetScanSettings>;

const ranked = z.looseObject({ file: z.string(), activation: real });

/** Stored results (src/main/engine/analyses/dataset-scan.ts): per unit its top and bottom images, crops named `top-<k>`, `bottom-<k>`. */
export const datasetScanResults = {
  unit: part(
    ['unit', text('block'), oneOf('role', ['in', 'pre', 'post']), int('channel')],
    z.looseObject({
      block: z.string(),
      role: z.enum(['in', 'pre', 'post']),
      layer: z.string(),
      channel: z.number().int(),
      top: z.array(ranked),
      bottom: z.array(ranked),
      rfBox: z.looseObject({ x0: z.number(), y0: z.number(), x1: z.number(), y1: z.number() }),
      images: z.number().int(),
    }),
  ),
};
export const datasetScanKey = keyFunction(datasetScanResults);
