import type { FieldHint } from '../fields';

/** Form hints for feature-visualization settings (src/shared/analyses/feature-vis.ts; METHODS §6). */
export const featureVisFields: Record<string, FieldHint> = {
  channels: { type: 'units', label: 'Channels', help: 'Channels of the layer, e.g. 0-15; batched together.' },
  objective: { type: 'choice', options: ['neuron', 'channel'], label: 'Objective', help: 'neuron: the central unit; channel: the mean over the map.' },
  size: { type: 'int', label: 'Image size (px)', min: 8, max: 512 },
  steps: { type: 'int', main: true, label: 'Steps', min: 1 },
  learningRate: { type: 'number', label: 'Learning rate (Adam)', min: 0 },
  layerTransforms: { type: 'json', label: 'Per-layer transforms', help: 'By layer name, e.g. {"conv1": {"jitter": 0}}.' },
};
