// Settings of the residual-stream scale-invariance analysis (METHODS §7).
import { z } from 'zod';
import { lucidSettings } from './feature-vis';
import { datasetScanResults } from './dataset-scan';
import { intList, nameList } from './lists';
import { int, keyFunction, part, real, text } from './result-contract';

export const scaleInvarianceSettings = z.object({
  modelId: z.string().min(1).default('builtin:complex-cell'),
  /** Residual blocks by name (e.g. `layer2.0`), as the model's graph gives them. */
  blocks: nameList.default([]),
  /** In: the previous block's output before or after its ReLU. */
  inRelu: z.enum(['before', 'after']).default('after'),
  /** Post: the sum before or after the block's ReLU. */
  postRelu: z.enum(['before', 'after']).default('before'),
  /** Channels of each block; null: all. */
  channels: intList.nullable().default(null),
  /** Also the channel-objective visualizations and the Post neuron one, for the 3 x 3 gallery. */
  galleryVisualizations: z.boolean().default(true),
  /** A folder of images for the gallery's top-9 row (a dataset scan of In, Pre, Post); empty: none. */
  images: z.string().default(''),
  ...lucidSettings,
});
export type ScaleInvarianceSettings = z.infer<typeof scaleInvarianceSettings>;

/** The numbers behind both criteria for one channel, as the engine stores and the views read them. */
export interface CriteriaValues {
  /** In_c(X_In) and Pre_c(X_Pre): what each visualization reached on its own channel. */
  inOfIn: number;
  preOfPre: number;
  preOfIn: number;
  preOfZoomedIn: number;
  postOfIn: number;
  postOfPre: number;
  /** Post_c(X_In) / Post_c(X_Pre). */
  ratio: number;
  /**
   * X_In or X_Pre did not drive its channel above the run's `silentActivation`: the criteria are
   * not judged (null), since on near-zero values they pass or fail by chance.
   */
  silent: boolean;
  criterion1: boolean | null;
  criterion2: boolean | null;
  scaleInvariant: boolean | null;
}

const blockLayers = z.looseObject({ in: z.string(), pre: z.string(), post: z.string() });
const verdict = z.boolean().nullable();

/**
 * Stored results (src/main/engine/analyses/scale-invariance.ts): per channel both criteria's
 * numbers and its visualizations, per block the passing list, and with an image folder the
 * dataset scan of the blocks (the dataset-scan kind's `unit` part).
 */
export const scaleInvarianceResults = {
  channel: part(
    ['channel', text('block'), int('channel')],
    z.looseObject({
      block: z.string(),
      channel: z.number().int(),
      layers: blockLayers,
      inOfIn: real,
      preOfPre: real,
      preOfIn: real,
      preOfZoomedIn: real,
      postOfIn: real,
      postOfPre: real,
      ratio: real,
      silent: z.boolean(),
      criterion1: verdict,
      criterion2: verdict,
      scaleInvariant: verdict,
      steps: z.number().int(),
      size: z.number().int(),
    }),
  ),
  block: part(
    ['block', text('block')],
    z.looseObject({
      block: z.string(),
      layers: blockLayers,
      channels: z.number().int(),
      tested: z.number().int(),
      passing: z.array(z.number().int()),
      count: z.number().int(),
      percent: z.number(),
      silent: z.array(z.number().int()),
      criterion1Count: z.number().int(),
      criterion2Count: z.number().int(),
    }),
  ),
  unit: datasetScanResults.unit,
};
export const scaleInvarianceKey = keyFunction(scaleInvarianceResults);
