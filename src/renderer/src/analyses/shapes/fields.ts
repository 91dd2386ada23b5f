import type { FieldHint } from '../fields';

/** Form hints for shape-analysis settings (src/shared/analyses/shapes.ts; METHODS §9–10). */
export const shapesFields: Record<string, FieldHint> = {
  size: { type: 'number', main: true, label: 'Size (px)', help: 'Largest extent over the shape set (32 standard, 64 large).', min: 1, max: 1024 },
  intensity: { type: 'number', label: 'Intensity', help: 'Fill of the shapes, 0–255 (255 standard, 100 dim).', min: 0, max: 255 },
  stimulusSet: { type: 'choice', options: ['standard', 'all'], help: 'standard: the 362 shapes of the V4 studies; all: 370.' },
  direction: { type: 'choice', options: ['horizontal', 'vertical', '2d'], label: 'Sweep direction' },
  step: { type: 'number', label: 'Sweep step (px)', min: 0 },
  maxPositions: { type: 'nullable-number', label: 'Max sweep positions', help: 'Evenly spaced over those inside the RF; empty = all.', min: 2 },
  naturalImages: { type: 'path', main: true, label: 'Natural images folder', help: 'A folder of JPEG/PNG images for the natural-image distribution; empty = none.' },
  naturalImageLimit: { type: 'nullable-number', label: 'Natural images (max)', help: 'First N images by name; empty = all.', min: 1 },
};
