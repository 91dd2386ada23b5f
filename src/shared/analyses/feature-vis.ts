// Settings of the Lucid-style feature visualization (METHODS §6). Every default is the METHODS
// value; the transform stack is Lucid's standard one and can be changed per layer.
import { z } from 'zod';
import { intList, numberList } from './lists';
import { int, keyFunction, part, real, text } from './result-contract';

export const transformSettings = z.object({
  /** Constant padding, px, and its value as a fraction of the pixel range. */
  pad: z.number().int().min(0).default(12),
  padValue: z.number().min(0).max(1).default(0.5),
  /** First jitter, px (random crop this much smaller). */
  jitter: z.number().int().min(0).default(8),
  scales: numberList.pipe(z.array(z.number().positive())).default(Array.from({ length: 11 }, (_, i) => Math.round((0.9 + i * 0.02) * 100) / 100)),
  /** Angles in degrees; zero appears 6 times of 26, so it is drawn most often. */
  rotations: numberList.default([...Array.from({ length: 21 }, (_, i) => i - 10), 0, 0, 0, 0, 0]),
  /** Second jitter, px. */
  jitterFine: z.number().int().min(0).default(4),
});
export type TransformSettingsInput = z.infer<typeof transformSettings>;

/**
 * The optimization part every Lucid-style run shares. `layerTransforms` overrides the transform
 * stack for layers (or residual blocks) by name: deep layers want large jitter, early ones little.
 */
export const lucidSettings = {
  /** Image side, px (METHODS: 128 or 224). */
  size: z.number().int().min(8).max(512).default(128),
  steps: z.number().int().min(1).max(100_000).default(512),
  learningRate: z.number().positive().default(0.05),
  transforms: transformSettings.default(transformSettings.parse({})),
  layerTransforms: z.record(z.string(), transformSettings.partial()).default({}),
  /** Channels optimized together in one batch. */
  batchSize: z.number().int().min(1).max(512).default(16),
  /**
   * Redraws (derived seeds) of a starting image whose channel is silent: value <= 0 with zero
   * gradient, a rectified unit off for the near-grey start, which the optimizer could never move.
   * Images still silent are then walked up the channel's pre-ReLU layer where the model lists it.
   * 20, as the diverse analysis's `silentStartRedraws`.
   */
  silentStartRedraws: z.number().int().min(0).default(20),
  /**
   * A visualization whose final activation is at or below this (in the layer's own units) is
   * reported silent: it did not drive its channel, and nothing measured on it says anything about
   * the channel (the scale criteria refuse to judge it). 0.01 is a hundredth of the unit variance
   * a batch-normalized layer (ResNet's In, Pre, Post) has over natural images, and far below what
   * an optimized visualization reaches where it drives the channel at all (1 to 100 there).
   */
  silentActivation: z.number().min(0).default(0.01),
};

export const featureVisSettings = z.object({
  modelId: z.string().min(1).default('builtin:complex-cell'),
  layer: z.string().min(1).default('response'),
  channels: intList.default([0]),
  /** neuron: the central unit of the channel; channel: the mean over its whole map. */
  objective: z.enum(['neuron', 'channel']).default('neuron'),
  ...lucidSettings,
});
export type FeatureVisSettings = z.infer<typeof featureVisSettings>;

/** The transform stack for one layer: the run's stack with that layer's overrides. */
export function transformsFor(
  s: { transforms: TransformSettingsInput; layerTransforms: Record<string, Partial<TransformSettingsInput>> },
  ...names: string[]
): TransformSettingsInput {
  const own = names.map((n) => s.layerTransforms[n]).find(Boolean);
  return { ...s.transforms, ...own };
}

/** Stored results (src/main/engine/analyses/feature-vis.ts): per channel its visualization and activation. */
export const featureVisResults = {
  channel: part(
    ['channel', text('layer'), int('channel')],
    z.looseObject({
      layer: z.string(),
      channel: z.number().int(),
      objective: z.enum(['neuron', 'channel']),
      activation: real,
      steps: z.number().int(),
      silent: z.boolean(),
      silentActivation: z.number(),
      silentStart: z.enum(['ok', 'redrawn', 'silent']),
    }),
  ),
};
export const featureVisKey = keyFunction(featureVisResults);
