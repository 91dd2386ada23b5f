// The run form's presets. "Paper defaults" are the settings schemas' defaults (the METHODS values);
// "quick look" cuts what drives the cost (steps, lambdas, units, controls) so that a run on the
// chosen unit finishes in about a minute on a 2-core CPU; "custom" keeps what the form holds.
export type PresetName = 'quick' | 'paper' | 'custom';

export const PRESETS: { name: PresetName; label: string; help: string }[] = [
  { name: 'quick', label: 'Quick look', help: 'Few steps, lambdas and units: about a minute on a CPU.' },
  { name: 'paper', label: 'Paper defaults', help: 'The settings of METHODS.md.' },
  { name: 'custom', label: 'Custom', help: 'Every setting, under Advanced.' },
];

const first = (v: unknown): unknown => (Array.isArray(v) && v.length ? [v[0]] : v);

/** What "quick look" changes of an analysis's settings, given what the form holds (units keep only the first). */
export function quickLook(kind: string, current: Record<string, unknown>): Record<string, unknown> {
  switch (kind) {
    case 'max-image':
      return { steps: 100, checkpointEvery: 50 };
    case 'diverse':
      return { units: first(current.units), lambdas: [0, 0.16, 1.28], maxSteps: 100, patience: 30 };
    case 'feature-vis':
      return { channels: first(current.channels), steps: 128, size: 64 };
    case 'scale-invariance':
      return { channels: [0, 1, 2, 3], steps: 64, size: 64, galleryVisualizations: false };
    case 'shapes':
      return { layers: first(current.layers), maxPositions: 5, distributions: false, randomWeightsControl: false };
    case 'ablation':
      return { trials: 2, scales: [0, 30] };
    default:
      return {};
  }
}
