// The one optimization loop every feature visualization uses (METHODS §2): gradient ascent with
// Adam on a parameterization, optional Fourier preconditioning of the gradient, the constraint
// restored after every step, and early stopping per group (unit) when an exponential moving
// average of its objective has not improved for `patience` steps. A stopped group's rows are
// frozen while the others go on, so batching units does not change any unit's result.
import * as tf from '@tensorflow/tfjs';
import type { NetworkModel } from '../model';
import type { Objective } from './objectives';
import type { ImageParameterization } from './parameterization';
import { FourierPreconditioner } from './precondition';

export interface OptimizerSettings {
  maxSteps: number;
  learningRate: number;
  /** Steps without improvement of the objective's moving average before a group stops. */
  patience: number;
  /** Decay of that moving average (0.9: each step weighs 0.1). */
  emaDecay: number;
  /** An improvement counts only if larger than this fraction of the best average's magnitude. */
  minImprovement: number;
  precondition: boolean;
}

export interface OptimizeOptions extends OptimizerSettings {
  /** Number of groups; the parameterization's rows split evenly among them, in order. */
  groups: number;
  /** Called after every step with each group's objective (before the step) and how many still run. */
  onStep?: (step: number, values: Float32Array, running: number) => void;
  cancelled?: () => boolean;
}

export interface OptimizeResult {
  /** Steps each group took. */
  steps: number[];
  /** Each group's objective at its last step. */
  values: number[];
  cancelled: boolean;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

export function optimize(
  model: NetworkModel,
  param: ImageParameterization,
  objective: Objective,
  opts: OptimizeOptions,
): OptimizeResult {
  const shape = param.variable.shape;
  const rows = shape[0];
  const { groups } = opts;
  if (!Number.isInteger(rows / groups)) throw new Error(`optimize: ${rows} rows do not split into ${groups} groups`);
  const rowsPerGroup = rows / groups;
  const [m, v] = tf.tidy(() => [tf.variable(tf.zerosLike(param.variable), false), tf.variable(tf.zerosLike(param.variable), false)]);
  const precond = opts.precondition && param.spatialGradient ? new FourierPreconditioner(shape[1]!, shape[2]!) : null;
  const running = new Uint8Array(groups).fill(1);
  const steps = new Array<number>(groups).fill(0);
  const values = new Array<number>(groups).fill(NaN);
  const ema = new Float64Array(groups);
  const best = new Float64Array(groups).fill(-Infinity);
  const lastImproved = new Int32Array(groups);
  let cancelled = false;
  try {
    for (let step = 1; step <= opts.maxSteps; step++) {
      if (opts.cancelled?.()) {
        cancelled = true;
        break;
      }
      const perGroup = tf.tidy(() => {
        let kept: tf.Tensor1D | null = null;
        const { grads } = tf.variableGrads(() => {
          const pixels = param.render();
          const acts = objective.layers.length ? model.forward(pixels, objective.layers) : {};
          kept = tf.keep(objective.evaluate({ acts, pixels }));
          return tf.sum(kept) as tf.Scalar;
        }, [param.variable]);
        let g: tf.Tensor = grads[param.variable.name];
        if (param.projectGradient) g = param.projectGradient(g);
        if (precond) g = precond.apply(g as tf.Tensor4D);
        const rowMask = Array.from({ length: rows }, (_, r) => running[Math.floor(r / rowsPerGroup)]);
        adamAscend(param.variable, m, v, g, tf.reshape(tf.tensor1d(rowMask), [rows, ...shape.slice(1).map(() => 1)]), opts.learningRate, step);
        return kept!;
      });
      param.constrain();
      const now = perGroup.dataSync() as Float32Array;
      perGroup.dispose();
      for (let gi = 0; gi < groups; gi++) {
        if (!running[gi]) continue;
        steps[gi] = step;
        values[gi] = now[gi];
        ema[gi] = step === 1 ? now[gi] : opts.emaDecay * ema[gi] + (1 - opts.emaDecay) * now[gi];
        if (ema[gi] > best[gi] + opts.minImprovement * Math.abs(best[gi]) || step === 1) {
          best[gi] = ema[gi];
          lastImproved[gi] = step;
        } else if (step - lastImproved[gi] >= opts.patience) {
          running[gi] = 0;
        }
      }
      const still = running.reduce((a, b) => a + b, 0);
      opts.onStep?.(step, now, still);
      if (still === 0) break;
    }
  } finally {
    tf.dispose([m, v]);
    precond?.dispose();
  }
  return { steps, values, cancelled };
}

/** One masked Adam step towards a larger objective; rows with mask 0 keep their state. */
function adamAscend(p: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, mask: tf.Tensor, lr: number, t: number): void {
  const mNew = tf.add(tf.mul(m, BETA1), tf.mul(g, 1 - BETA1));
  const vNew = tf.add(tf.mul(v, BETA2), tf.mul(tf.square(g), 1 - BETA2));
  const stepSize = lr / (1 - BETA1 ** t);
  const update = tf.div(tf.mul(mNew, stepSize), tf.add(tf.sqrt(tf.div(vNew, 1 - BETA2 ** t)), EPSILON));
  const keepOld = tf.sub(1, mask);
  m.assign(tf.add(tf.mul(mNew, mask), tf.mul(m, keepOld)));
  v.assign(tf.add(tf.mul(vNew, mask), tf.mul(v, keepOld)));
  p.assign(tf.add(p, tf.mul(update, mask)));
}
