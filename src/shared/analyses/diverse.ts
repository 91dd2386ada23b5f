// Settings of the diverse feature visualization (METHODS §2) with the invariance indices of
// §4 (shift invariance) and §5 (linear combination). Every default is the METHODS value; the
// few the methods leave open say in their comment what was chosen and why.
import { z } from 'zod';
import { DEFAULT_LAMBDAS } from '../math/diverse';
import { intList } from './lists';
import { int, keyFunction, part, real, reals, summaryTableData, text } from './result-contract';

/** Lambdas as a list or a comma-separated string; the sweep starts at 0 and increases. */
const lambdaList = z
  .preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => Number(s.trim())) : v), z.array(z.number().min(0)).min(1))
  .refine((l) => l[0] === 0, { message: 'the lambda sweep must start at 0 (a(0) is the reference activation)' })
  .refine((l) => l.every((v, i) => i === 0 || v > l[i - 1]), { message: 'lambdas must increase' });

export const diverseSettings = z.object({
  modelId: z.string().min(1).default('builtin:complex-cell'),
  layer: z.string().min(1).default('response'),
  /** Channels whose central unit is visualized; units of one layer are optimized together. */
  units: intList.default([0]),
  /** Unit position in the layer's output for an RF-sized input; null: the central unit. */
  position: z.tuple([z.number().int(), z.number().int()]).nullable().default(null),
  /** Images per unit (n). */
  images: z.number().int().min(2).max(64).default(6),
  lambdas: lambdaList.default([...DEFAULT_LAMBDAS]),
  maxSteps: z.number().int().min(1).max(100_000).default(1000),
  learningRate: z.number().positive().default(0.1),
  /** Early stopping: steps without improvement of the objective's moving average. */
  patience: z.number().int().min(1).default(100),
  emaDecay: z.number().min(0).max(1).default(0.9),
  /**
   * Smallest improvement of that average that counts, as a fraction of its magnitude (Adam's
   * step noise would otherwise count as progress forever).
   */
  minImprovement: z.number().min(0).default(1e-4),
  /** Divide each gradient frequency by sqrt(|f|) before the step (DC kept, mean gain 1). */
  precondition: z.boolean().default(true),
  /**
   * Remove the radial part of each image's gradient before Adam: under the norm constraint
   * Adam's per-pixel scaling otherwise drifts images towards sign patterns (about half the
   * attainable activation on the cell models).
   */
  tangentGradient: z.boolean().default(true),
  /** Where d(x_i, x_j) is measured: a layer name, `pixels`, or null for the preceding conv layer. */
  distanceLayer: z.string().min(1).nullable().default(null),
  /** Template norm (L2 of the deviation from the mean pixel, 0..255 units); null: from `normImages`. */
  imageNorm: z.number().positive().nullable().default(null),
  /**
   * Folder of natural images for the template norm and the prior's spectrum; null: the stored
   * ImageNet statistics (shared/math/natural-images.ts), also for the cell models.
   */
  normImages: z.string().min(1).nullable().default(null),
  /** Natural patches drawn from `normImages`. */
  normPatches: z.number().int().min(10).default(2000),
  prior: z.enum(['gaussian', 'none']).default('gaussian'),
  /**
   * Weight of log P. The Gaussian prior is a density over 0..255 pixel values in nats, the same
   * units as a learned PixelCNN++ prior, and its gradient on natural patches is of the same
   * size per pixel (about 0.1), so the learned prior's 0.0005 carries over.
   */
  priorAlpha: z.number().min(0).default(0.0005),
  /** lambda* threshold: a(lambda) >= tau a(0); tau for trained networks and for the cell models. */
  tauTrained: z.number().min(0).max(1).default(0.9),
  tauCellModel: z.number().min(0).max(1).default(0.8),
  /**
   * lambda* also needs every one of the n images at or above this fraction of a(0). The mean rule
   * alone lets an image die (tau 0.8, n = 6: five images at a(0) carry a sixth at zero), and a
   * dead template then lowers the reference of SI and LC (LC above 1). 0.5 is the half-maximum
   * response physiology uses for tuning widths: an image below half of a(0) is no longer one of
   * the unit's preferred stimuli. 0 turns the condition off (the METHODS mean rule alone).
   */
  imageActivationFraction: z.number().min(0).max(1).default(0.5),
  /**
   * Floor of the diversity ratio, as a multiple of the noise distance (the mean pairwise distance,
   * in the distance layer, of the n starting white-noise images at the template norm: the distance
   * between unrelated images of the same norm). `diversityRatio` is max(D(lambda*), F) /
   * max(D(0), F) with F = this x noise distance; `diversityRatioRaw` keeps D(lambda*) / D(0).
   * Images at lambda = 0 that collapse onto one optimum have D(0) at the optimizer's precision
   * (1e-6), and the raw ratio then measures that precision (1e6), not diversity. 0: no floor.
   */
  diversityFloor: z.number().min(0).default(1),
  /**
   * Units optimized together in one batched forward/backward pass; a unit that stops early leaves
   * the batch's passes. 16: a VGG-19 relu3_1 diverse step on a 2-core CPU takes 16.2 ms alone and,
   * per unit, 9.7 at 4, 8.4 at 8, 8.3 at 16 and 7.3 at 32 (medians of four `npm run bench --
   * speed` runs); 32 would gain about 12 % more per unit there, but the batch's memory grows with
   * it, and deep layers' RF-sized images span hundreds of pixels.
   */
  unitsPerBatch: z.number().int().min(1).max(1024).default(16),
  /**
   * Redraws of a starting image whose unit is silent (zero activation, zero gradient); images
   * still silent are then walked up the unit's pre-activation where the model lists it.
   */
  silentStartRedraws: z.number().int().min(0).default(20),
  /**
   * Random-weights control: run on a copy of the network whose weights are redrawn with this
   * seed (same architecture and input convention); null: the trained weights.
   */
  randomWeightsSeed: z.number().int().min(0).nullable().default(null),
  /** Also compute the shift-invariance (§4) and linear-combination (§5) indices. */
  indices: z.boolean().default(true),
  /** Stride between the texture's RF-sized crops (1 is the reference). */
  textureCropStride: z.number().int().min(1).default(1),
  /**
   * Crops drawn at random for each texture optimization step; null: all of them. At stride 1 a
   * 26 px RF has 676 crops, and one step over all of them for 16 units is a forward/backward
   * pass over 10,816 images (hours per texture, gigabytes of activations). A random subset's
   * mean is an unbiased estimate of the objective, so the ascent is the same in expectation; SI
   * is still measured on every crop.
   */
  textureCropsPerStep: z.number().int().min(1).nullable().default(16),
});
export type DiverseSettings = z.infer<typeof diverseSettings>;

const unitKey = ['unit', text('layer'), int('channel')] as const;

/** One unit's summary as it grows lambda by lambda; `complete` once every lambda and the indices are done. */
export const diverseUnitData = z.looseObject({
  layer: z.string(),
  channel: z.number().int(),
  modelId: z.string(),
  randomWeightsSeed: z.number().int().nullable(),
  complete: z.boolean(),
  lambdas: z.array(z.number()),
  activation: reals,
  distance: reals,
  steps: z.array(z.number().int()),
  normalizedActivation: z.array(real.nullable()),
  normalizedDistance: z.array(real.nullable()),
  tau: real,
  threshold: real,
  lambdaStar: z.number(),
  lambdaStarIndex: z.number().int(),
  weakImagesAtStar: z.number().int().nullable(),
  diversityRatio: real.nullable(),
  diversityRatioRaw: real.nullable(),
  diversityFloor: real.nullable(),
  noiseDistance: real.nullable(),
  lambdaScale: real.nullable(),
  phasesDeg: z.array(reals).optional(),
  /** The indices (METHODS §4, §5), present when the run computed them. */
  shiftInvariance: real.nullable().optional(),
  linearCombination: real.nullable().optional(),
});

/**
 * Stored results (src/main/engine/analyses/diverse.ts): per unit and lambda that lambda's images,
 * per unit its summary with the lambda* images (and the texture), and the run's summary table.
 * The per-lambda key comes first: the unit key would also match it with a greedy layer name.
 */
export const diverseResults = {
  lambda: part(
    [...unitKey, 'lambda', int('lambdaIndex')],
    z.looseObject({ layer: z.string(), channel: z.number().int(), lambdaIndex: z.number().int(), lambda: z.number(), activation: real, distance: real, steps: z.number().int() }),
  ),
  unit: part(unitKey, diverseUnitData),
  summary: part(['summary'], summaryTableData.extend({ randomWeightsSeed: z.number().int().nullable() })),
};
export const diverseKey = keyFunction(diverseResults);
