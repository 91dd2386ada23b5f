import type { FieldHint } from '../fields';

/** Form hints for diverse settings (src/shared/analyses/diverse.ts; METHODS §2–5). */
export const diverseFields: Record<string, FieldHint> = {
  units: { type: 'units', label: 'Units', help: 'Channels of the layer (central unit each), e.g. 0-15; one layer is one batched job.' },
  images: { type: 'int', label: 'Images per unit (n)', min: 2, max: 64 },
  lambdas: { type: 'json', main: true, label: 'Lambdas', help: 'The sweep, from 0 upwards; the unit page shows the distance scale to pick it.' },
  maxSteps: { type: 'int', main: true, label: 'Max steps per lambda', min: 1 },
  learningRate: { type: 'number', label: 'Learning rate (Adam)', min: 0 },
  distanceLayer: { type: 'path', label: 'Distance layer', help: 'A layer name, or pixels; empty = the preceding conv layer.' },
  normImages: { type: 'path', label: 'Natural images', help: 'A folder of JPEG/PNG images for the image norm and the prior; empty = stored ImageNet statistics.' },
  imageNorm: { type: 'nullable-number', label: 'Image norm', help: 'Empty = from natural image statistics.', min: 0 },
  prior: { type: 'choice', options: ['gaussian', 'none'], label: 'Image prior' },
  randomWeightsSeed: { type: 'nullable-number', label: 'Random-weights seed', help: 'Set for the control run on a random copy of the network; empty = trained weights.', min: 0 },
  indices: { type: 'boolean', label: 'SI and LC indices' },
};
