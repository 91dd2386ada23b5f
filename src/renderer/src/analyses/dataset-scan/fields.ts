import type { FieldHint } from '../fields';

/** Form hints for dataset-scan settings (src/shared/analyses/dataset-scan.ts; METHODS §11). */
export const datasetScanFields: Record<string, FieldHint> = {
  images: { type: 'path', main: true, label: 'Images', help: 'A folder of JPEG/PNG images (subfolders too).' },
  blocks: { type: 'json', main: true, label: 'Blocks', help: 'Residual block names, e.g. ["layer2.0", "layer2.1"].' },
  roles: { type: 'json', label: 'Roles', help: 'Which of in, pre, post are scanned, e.g. ["in", "pre", "post"].' },
  inRelu: { type: 'choice', options: ['after', 'before'], label: 'In: previous ReLU' },
  postRelu: { type: 'choice', options: ['before', 'after'], label: 'Post: ReLU' },
};
