// What a run costs before it starts: the analyses that ascend gradients cost steps x units x passes
// (lambdas), each step priced at the seconds one unit-step takes on this backend, timed on the
// chosen model and layer by a short probe run (the same analysis, cut to the timing).
// Settings here are parsed ones (defaults filled in).

export interface CostFactor {
  label: string;
  value: number;
}

export interface RunCost {
  /** The factors whose product is `unitSteps`, as the form shows them. */
  factors: CostFactor[];
  /** Steps of single units in all; an upper bound where units stop early (diverse's patience). */
  unitSteps: number;
  /** The layer whose steps cost this, and how many units one timed step optimizes together. */
  layer: string;
  batch: number;
  /** Settings of the probe: the same model, layer and batch, steps enough to time, nothing else. */
  probeSettings: Record<string, unknown>;
  /** Unit-steps one progress step of the probe stands for. */
  unitStepsPerProgress: number;
}

/** Steps the probe is allowed: more than it ever takes before it is stopped. */
const PROBE_STEPS = 100_000;

/** The cost of a run of this kind, or null where it is not counted in optimization steps. */
export function runCost(kind: string, s: Record<string, unknown>): RunCost | null {
  if (kind === 'max-image') {
    const steps = Number(s.steps);
    return {
      factors: [
        { label: 'steps', value: steps },
        { label: 'units', value: 1 },
      ],
      unitSteps: steps,
      layer: String(s.layer),
      batch: 1,
      probeSettings: { ...s, steps: PROBE_STEPS, checkpointEvery: PROBE_STEPS },
      unitStepsPerProgress: 1,
    };
  }
  if (kind === 'diverse') {
    const units = s.units as number[];
    const batch = Math.min(units.length, Number(s.unitsPerBatch));
    // The texture ascent of the SI index is one more pass of the same length.
    const passes = (s.lambdas as number[]).length + (s.indices ? 1 : 0);
    const steps = Number(s.maxSteps);
    return {
      factors: [
        { label: 'steps', value: steps },
        { label: 'units', value: units.length },
        { label: s.indices ? 'passes (lambdas and texture)' : 'lambdas', value: passes },
      ],
      unitSteps: steps * units.length * passes,
      layer: String(s.layer),
      batch,
      probeSettings: { ...s, units: units.slice(0, batch), lambdas: [0], maxSteps: PROBE_STEPS, patience: PROBE_STEPS, indices: false },
      unitStepsPerProgress: batch,
    };
  }
  if (kind === 'feature-vis') {
    const channels = s.channels as number[];
    const steps = Number(s.steps);
    const batch = Math.min(channels.length, Number(s.batchSize));
    return {
      factors: [
        { label: 'steps', value: steps },
        { label: 'units', value: channels.length },
      ],
      unitSteps: steps * channels.length,
      layer: String(s.layer),
      batch,
      probeSettings: { ...s, channels: channels.slice(0, batch), steps: PROBE_STEPS },
      // Its progress already counts unit-steps.
      unitStepsPerProgress: 1,
    };
  }
  return null;
}

/** What `runs.estimate` answers. */
export interface RunEstimate {
  /** Null where the analysis's cost is not counted in steps (`reason` says so). */
  seconds: number | null;
  secondsPerUnitStep: number | null;
  factors: CostFactor[];
  unitSteps: number | null;
  /** The backend the steps were timed on (the one runs use). */
  backend: string;
  /** Whether the timing was taken for this call or reused from an earlier one (same model, layer, batch, backend). */
  timing: 'measured' | 'cached' | null;
  reason?: string;
}
