// Settings of the mean-ablation experiment under scale transforms (METHODS §8).
import { z } from 'zod';
import { intList, numberList } from './lists';

export const ablationSettings = z.object({
  modelId: z.string().min(1).default('builtin:complex-cell'),
  block: z.string().default(''),
  /** Evaluation images: an ImageNet-layout folder, or files named `<wnid>_...`. */
  images: z.string().default(''),
  /** A CSV of `file,label` (label a wnid or a class index); null: labels from the folder layout. */
  labels: z.string().nullable().default(null),
  /** Channels ablated; null: the block's scale-invariant channels from the latest criteria run. */
  channels: intList.nullable().default(null),
  /** Which tensor is ablated: the block's sum before or after its ReLU. */
  postRelu: z.enum(['before', 'after']).default('before'),
  scales: numberList.pipe(z.array(z.number().min(0).max(90))).default([0, 10, 20, 30, 40, 50]),
  /** Accepted random channel sets. */
  trials: z.number().int().min(1).max(1000).default(10),
  /** Screening tolerance in accuracy points, and the one used when no draw passes within `maxDraws`. */
  tolerance: z.number().min(0).default(0),
  fallbackTolerance: z.number().min(0).default(1),
  maxDraws: z.number().int().min(1).default(200),
  batchSize: z.number().int().min(1).max(256).default(25),
});
export type AblationSettings = z.infer<typeof ablationSettings>;
