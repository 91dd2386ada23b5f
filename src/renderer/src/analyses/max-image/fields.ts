import type { FieldHint } from '../fields';

/** Form hints for max-image settings (src/shared/analyses/max-image.ts; METHODS §2). */
export const maxImageFields: Record<string, FieldHint> = {
  position: {
    help: 'Row and column in the layer output; centre = the spatially central unit.',
  },
  steps: { type: 'int', main: true, label: 'Steps', min: 1, max: 100_000 },
  learningRate: { type: 'number', label: 'Learning rate', min: 0 },
  imageNorm: {
    type: 'nullable-number',
    label: 'Image norm',
    help: 'L2 norm of the mean-subtracted image (0–255 scale); auto = RMS contrast of 30 grey levels.',
    min: 0,
  },
  checkpointEvery: { type: 'int', label: 'Checkpoint every', help: 'Steps between checkpoints and snapshots.', min: 1 },
};
