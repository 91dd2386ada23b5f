// Settings of a dataset scan (METHODS §11) over the In, Pre and Post layers of residual blocks.
import { z } from 'zod';
import { nameList } from './lists';

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
