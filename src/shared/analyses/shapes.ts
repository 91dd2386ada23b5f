// Settings of the shape analysis (METHODS §9–10): Pasupathy & Connor shapes shown to the
// central unit of every channel of chosen layers, APC fits with controls, translation
// invariance. Every default is the METHODS value. The shuffled-responses control and the
// random-weights network use the run's seed.
import { z } from 'zod';
import { keyFunction, part, real, summaryTableData, text } from './result-contract';

/** A layer list; the CLI passes a single `--layers name` as a plain string. */
const layerList = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v),
  z.array(z.string().min(1)).min(1),
);

export const shapesSettings = z.object({
  modelId: z.string().min(1).default('builtin:corner'),
  layers: layerList.default(['response']),
  /** Largest extent over the shape set, pixels (32 standard; 64 large). */
  size: z.number().positive().max(1024).default(32),
  /** Fill of the shapes (255 standard; 100 dim) on the background, grey levels 0..255. */
  intensity: z.number().min(0).max(255).default(255),
  background: z.number().min(0).max(255).default(0),
  /** Off reproduces the original (binary) stimuli. */
  antialias: z.boolean().default(false),
  /** `standard`: the 362 shapes of the V4 studies; `all`: all 370 entries. */
  stimulusSet: z.enum(['standard', 'all']).default('standard'),
  /** Controls: APC fit of responses shuffled across shapes, and of the same network with random weights. */
  shuffledControl: z.boolean().default(true),
  randomWeightsControl: z.boolean().default(true),
  /** Translation-invariance sweep through the RF centre. */
  translation: z.boolean().default(true),
  direction: z.enum(['horizontal', 'vertical', '2d']).default('horizontal'),
  /** Distance between sweep positions, pixels. */
  step: z.number().positive().default(2),
  /** At most this many sweep positions, evenly spaced over those inside the RF and always including the centre (null: all; cheap runs). */
  maxPositions: z.number().int().min(2).nullable().default(null),
  /** Response distributions also for large (64 px) and dim (intensity 100) shapes. */
  distributions: z.boolean().default(true),
  largeSize: z.number().positive().max(1024).default(64),
  dimIntensity: z.number().min(0).max(255).default(100),
  /** Folder of JPEG/PNG images for the natural-image response distribution (null: none). */
  naturalImages: z.string().min(1).nullable().default(null),
  /** At most this many of its images, in name order (null: all). */
  naturalImageLimit: z.number().int().min(1).nullable().default(null),
  /** Images per forward pass. */
  batchSize: z.number().int().min(1).max(1024).default(32),
});
export type ShapesSettings = z.infer<typeof shapesSettings>;

/** A float32 array as results store it (float-codec's base64; listed in run-arrays' FLOAT_BLOB_FIELDS). */
const floats = z.string();
const apcFitsData = z.looseObject({
  r: floats,
  params: z.looseObject({ muA: floats, sigmaA: floats, muC: floats, sigmaC: floats }),
  medianR: real.nullable(),
});

/** The translation sweep of a layer: TI per channel, profiles [channel, position]. */
export const translationSweepData = z.looseObject({
  direction: z.string(),
  step: z.number(),
  positions: z.array(z.object({ dx: z.number(), dy: z.number() })),
  centreIndex: z.number().int(),
  ti: floats,
  rfProfile: floats,
  positionCorrelation: floats,
});

/**
 * Stored results (src/main/engine/analyses/shapes.ts): the `stimuli` with one thumbnail each, per
 * layer the responses [stimulus, channel], APC fits, controls, distributions, natural images and
 * translation sweep, then the per-layer `summary` table of medians.
 */
export const shapesResults = {
  stimuli: part(['stimuli'], z.looseObject({ indices: z.array(z.number().int()), size: z.number(), intensity: z.number(), background: z.number(), antialias: z.boolean() })),
  layer: part(
    ['layer', text('layer')],
    z.looseObject({
      layer: z.string(),
      channels: z.number().int(),
      stimuli: z.number().int(),
      rf: z.looseObject({ size: z.number() }),
      responses: floats,
      apc: apcFitsData,
      shuffled: apcFitsData.optional(),
      randomWeights: apcFitsData.optional(),
      distributions: z.looseObject({ large: floats, dim: floats, largeSize: z.number(), dimIntensity: z.number() }).optional(),
      natural: z.looseObject({ count: z.number().int(), responses: floats, ratio: floats }).optional(),
      /** The sweep, or the reason there is none (RF smaller than the stimuli). */
      translation: z.union([translationSweepData, z.looseObject({ reason: z.string() })]).optional(),
      randomWeightsTranslation: z.looseObject({ ti: floats }).optional(),
    }),
  ),
  summary: part(['summary'], summaryTableData),
};
export const shapesKey = keyFunction(shapesResults);
