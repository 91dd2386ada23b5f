import type { FieldHint } from '../fields';

/** Form hints for scale-invariance settings (src/shared/analyses/scale-invariance.ts; METHODS §6–7). */
export const scaleInvarianceFields: Record<string, FieldHint> = {
  blocks: { type: 'json', main: true, label: 'Blocks', help: 'Residual block names, e.g. ["layer2.0", "layer2.1"].' },
  inRelu: { type: 'choice', options: ['after', 'before'], label: 'In: previous ReLU', help: 'The block input before or after the previous block’s ReLU.' },
  postRelu: { type: 'choice', options: ['before', 'after'], label: 'Post: ReLU', help: 'The sum before or after the block’s ReLU.' },
  channels: { type: 'json', main: true, label: 'Channels', help: 'null = every channel of each block.' },
  size: { type: 'int', label: 'Image size (px)', min: 8, max: 512 },
  steps: { type: 'int', main: true, label: 'Steps', help: '512 by default; long runs use 2560.', min: 1 },
  learningRate: { type: 'number', label: 'Learning rate (Adam)', min: 0 },
  layerTransforms: { type: 'json', label: 'Per-layer transforms', help: 'By layer or block name, e.g. {"layer1.0": {"jitter": 0, "jitterFine": 0}}.' },
  images: { type: 'path', label: 'Images for top-9', help: 'A folder of JPEG/PNG images scanned for each neuron’s top 9; empty = none.' },
};
