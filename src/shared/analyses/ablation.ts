// Settings of the mean-ablation experiment under scale transforms (METHODS §8).
import { z } from 'zod';
import { intList, numberList } from './lists';
import { int, keyFunction, part, real, reals } from './result-contract';

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

/**
 * Stored results (src/main/engine/analyses/ablation.ts): `conditions` (intact and invariant top-1
 * per scale, as soon as known), one `trial/<i>` per accepted random set, and the final `summary`
 * with the ratio invariant / random per scale (mean and standard error). Top-1 in percent.
 */
export const ablationResults = {
  conditions: part(
    ['conditions'],
    z.looseObject({ block: z.string(), layer: z.string(), images: z.number().int(), scales: z.array(z.number()), intactTop1: reals, invariantChannels: z.array(z.number().int()), invariantTop1: reals }),
  ),
  trial: part(['trial', int('trial')], z.looseObject({ channels: z.array(z.number().int()), top1: reals, tolerance: z.number() })),
  summary: part(
    ['summary'],
    z.looseObject({
      block: z.string(),
      layer: z.string(),
      images: z.number().int(),
      scales: z.array(z.number()),
      intactTop1: reals,
      invariantChannels: z.array(z.number().int()),
      invariantTop1: reals,
      randomTop1: z.array(reals),
      randomChannels: z.array(z.array(z.number().int())),
      ratioMean: reals,
      ratioSe: z.array(real.nullable()),
      reference: real,
      trialsAccepted: z.number().int(),
      trialsRequested: z.number().int(),
      draws: z.number().int(),
      tolerance: z.number(),
    }),
  ),
};
export const ablationKey = keyFunction(ablationResults);
