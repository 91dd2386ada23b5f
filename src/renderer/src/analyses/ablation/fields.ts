import type { FieldHint } from '../fields';

/** Form hints for ablation settings (src/shared/analyses/ablation.ts; METHODS §8). */
export const ablationFields: Record<string, FieldHint> = {
  block: { main: true, label: 'Block', help: 'Residual block name, e.g. layer4.2.' },
  images: { type: 'path', main: true, label: 'Evaluation images', help: 'ImageNet-layout folder, or files named <wnid>_….' },
  labels: { type: 'path', label: 'Labels CSV', help: 'Optional: file,label (class index or wnid).' },
  channels: { type: 'json', label: 'Channels', help: 'null = the block’s scale-invariant channels from the latest scale-invariance run.' },
  postRelu: { type: 'choice', options: ['before', 'after'], label: 'Ablated tensor', help: 'The block’s sum before or after its ReLU.' },
  scales: { type: 'json', label: 'Scales (%)', help: 'Centre-crop percentages, e.g. [0, 10, 20, 30, 40, 50].' },
  trials: { type: 'int', label: 'Random sets', min: 1 },
  tolerance: { type: 'number', label: 'Screen tolerance (points)', min: 0 },
  fallbackTolerance: { type: 'number', label: 'Fallback tolerance (points)', min: 0 },
  maxDraws: { type: 'int', label: 'Draws before the fallback', min: 1 },
};
