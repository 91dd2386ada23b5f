// Settings of the simplest analysis: one image that maximizes a unit (gradient ascent on pixels
// with the norm constraint of METHODS §2). It is also the template the other analyses copy.
import { z } from 'zod';
import { int, keyFunction, part, real, reals, text } from './result-contract';

export const maxImageSettings = z.object({
  modelId: z.string().min(1).default('builtin:complex-cell'),
  layer: z.string().min(1).default('response'),
  channel: z.number().int().min(0).default(0),
  /** Unit position in the layer's output; null means the spatially central unit. */
  position: z.tuple([z.number().int(), z.number().int()]).nullable().default(null),
  steps: z.number().int().min(1).max(100_000).default(300),
  learningRate: z.number().positive().default(0.1),
  /** L2 norm of the mean-subtracted image in pixel units (0..255 scale); null: RF-size default. */
  imageNorm: z.number().positive().nullable().default(null),
  /** Steps between checkpoints (and intermediate snapshots). */
  checkpointEvery: z.number().int().min(1).default(50),
});
export type MaxImageSettings = z.infer<typeof maxImageSettings>;

/** Stored results (src/main/engine/analyses/max-image.ts): checkpoint snapshots, then the final unit. */
export const maxImageResults = {
  snapshot: part(['snapshot', int('step')], z.looseObject({ step: z.number().int(), activation: real })),
  /** The preferred image, with the activation trace sampled every `traceEvery` steps. */
  unit: part(
    ['unit', text('layer'), int('channel')],
    z.looseObject({ layer: z.string(), channel: z.number().int(), activation: real, steps: z.number().int(), imageNorm: z.number(), trace: reals, traceEvery: z.number().int() }),
  ),
};
export const maxImageKey = keyFunction(maxImageResults);
