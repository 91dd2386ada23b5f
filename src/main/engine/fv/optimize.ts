// The one optimization loop every feature visualization uses (METHODS §2): gradient ascent with
// Adam on a parameterization, optional Fourier preconditioning of the gradient, the constraint
// restored after every step, and early stopping per group (unit) when an exponential moving
// average of its objective has not improved for `patience` steps. A stopped group's rows are
// frozen while the others go on, so batching units does not change any unit's result; where the
// objective splits by group, the forward and backward passes then run on the running groups'
// images alone, so a batch whose units stop at different steps does not pay for the stopped ones.
import * as tf from '@tensorflow/tfjs';
import { yieldToEvents } from '../analysis';
import type { NetworkModel } from '../model';
import { objectiveInput, type Objective } from './objectives';
import type { ImageParameterization } from './parameterization';
import { FourierPreconditioner } from './precondition';
import { take } from '../read';

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

/** The loop's state, one step at a time. */
class Optimization {
  readonly steps: number[];
  readonly values: number[];
  cancelled = false;
  private step = 0;
  private readonly rows: number;
  private readonly rowsPerGroup: number;
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  private readonly precond: FourierPreconditioner | null;
  private readonly running: Uint8Array;
  private readonly ema: Float64Array;
  private readonly best: Float64Array;
  private readonly lastImproved: Int32Array;
  /** The objective of the running groups, while some have stopped; made anew when one more stops. */
  private split: { groups: number[]; objective: Objective } | null = null;

  constructor(
    private readonly model: NetworkModel,
    private readonly param: ImageParameterization,
    private readonly objective: Objective,
    private readonly opts: OptimizeOptions,
  ) {
    const shape = param.variable.shape;
    this.rows = shape[0];
    const { groups } = opts;
    if (!Number.isInteger(this.rows / groups)) throw new Error(`optimize: ${this.rows} rows do not split into ${groups} groups`);
    this.rowsPerGroup = this.rows / groups;
    [this.m, this.v] = tf.tidy(() => [tf.variable(tf.zerosLike(param.variable), false), tf.variable(tf.zerosLike(param.variable), false)]);
    this.precond = opts.precondition && param.spatialGradient ? new FourierPreconditioner(shape[1]!, shape[2]!) : null;
    this.running = new Uint8Array(groups).fill(1);
    this.steps = new Array<number>(groups).fill(0);
    this.values = new Array<number>(groups).fill(NaN);
    this.ema = new Float64Array(groups);
    this.best = new Float64Array(groups).fill(-Infinity);
    this.lastImproved = new Int32Array(groups);
  }

  /** One step; false once the run is over (all groups stopped, steps used up, or cancelled). */
  async next(): Promise<boolean> {
    const { opts, param, model, objective, rows, rowsPerGroup, running } = this;
    if (this.step >= opts.maxSteps) return false;
    if (opts.cancelled?.()) {
      this.cancelled = true;
      return false;
    }
    const step = ++this.step;
    param.resample?.(step);
    const shape = param.variable.shape;
    const split = this.runningSplit();
    const perGroup = tf.tidy(() => {
      let kept: tf.Tensor1D | null = null;
      const { grads } = tf.variableGrads(() => {
        let pixels = param.render();
        const active = split?.objective ?? objective;
        // The running groups' images; the stopped ones' rows get no gradient.
        if (split) pixels = tf.gather(pixels, tf.tensor1d(rowsOf(split.groups, pixels.shape[0] / opts.groups), 'int32'));
        kept = tf.keep(active.evaluate(objectiveInput(model, pixels, active)));
        return tf.sum(kept) as tf.Scalar;
      }, [param.variable]);
      let g: tf.Tensor = grads[param.variable.name];
      if (param.projectGradient) g = param.projectGradient(g);
      if (this.precond) g = this.precond.apply(g as tf.Tensor4D);
      // Rows of stopped groups keep their state; while every group runs there is nothing to mask.
      const mask = running.every((r) => r === 1)
        ? null
        : tf.reshape(tf.tensor1d(Array.from({ length: rows }, (_, r) => running[Math.floor(r / rowsPerGroup)])), [rows, ...shape.slice(1).map(() => 1)]);
      adamAscend(param.variable, this.m, this.v, g, mask, opts.learningRate, step);
      return kept!;
    });
    param.constrain();
    const read = await take(perGroup);
    // Stopped groups keep the value of their last step.
    const now = split ? Float32Array.from(this.values) : read;
    split?.groups.forEach((g, k) => (now[g] = read[k]));
    for (let gi = 0; gi < opts.groups; gi++) {
      if (!running[gi]) continue;
      this.steps[gi] = step;
      this.values[gi] = now[gi];
      this.ema[gi] = step === 1 ? now[gi] : opts.emaDecay * this.ema[gi] + (1 - opts.emaDecay) * now[gi];
      if (this.ema[gi] > this.best[gi] + opts.minImprovement * Math.abs(this.best[gi]) || step === 1) {
        this.best[gi] = this.ema[gi];
        this.lastImproved[gi] = step;
      } else if (step - this.lastImproved[gi] >= opts.patience) {
        running[gi] = 0;
      }
    }
    const still = running.reduce((a, b) => a + b, 0);
    opts.onStep?.(step, now, still);
    return still > 0;
  }

  /** The running groups and their objective while some groups have stopped; null while all run or where the objective does not split. */
  private runningSplit(): { groups: number[]; objective: Objective } | null {
    const { running, objective } = this;
    if (!objective.forGroups || running.every((r) => r === 1)) return null;
    const groups = [...running.keys()].filter((g) => running[g] === 1);
    if (this.split?.groups.length !== groups.length) this.split = { groups, objective: objective.forGroups(groups) };
    return this.split;
  }

  result(): OptimizeResult {
    return { steps: this.steps, values: this.values, cancelled: this.cancelled };
  }

  dispose(): void {
    tf.dispose([this.m, this.v]);
    this.precond?.dispose();
  }
}

/**
 * Runs the loop to its end. Values are read asynchronously after each step (webgpu cannot read
 * synchronously), which also lets the event loop deliver a cancel between steps.
 */
export async function optimize(model: NetworkModel, param: ImageParameterization, objective: Objective, opts: OptimizeOptions): Promise<OptimizeResult> {
  const run = new Optimization(model, param, objective, opts);
  try {
    while (await run.next()) await yieldToEvents();
    return run.result();
  } finally {
    run.dispose();
  }
}

/** The rows of `groups` in a batch of `perGroup` rows per group, in order. */
function rowsOf(groups: readonly number[], perGroup: number): number[] {
  return groups.flatMap((g) => Array.from({ length: perGroup }, (_, i) => g * perGroup + i));
}

/** One Adam step towards a larger objective; rows where `mask` is 0 keep their state (null: no row masked). */
function adamAscend(p: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor, mask: tf.Tensor | null, lr: number, t: number): void {
  const mNew = tf.add(tf.mul(m, BETA1), tf.mul(g, 1 - BETA1));
  const vNew = tf.add(tf.mul(v, BETA2), tf.mul(tf.square(g), 1 - BETA2));
  // lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps), its constant factors gathered in
  // the denominator (one kernel fewer).
  const stepSize = lr / (1 - BETA1 ** t);
  const update = tf.div(mNew, tf.add(tf.mul(tf.sqrt(vNew), 1 / (stepSize * Math.sqrt(1 - BETA2 ** t))), EPSILON / stepSize));
  if (mask === null) {
    m.assign(mNew);
    v.assign(vNew);
    p.assign(tf.add(p, update));
    return;
  }
  const keepOld = tf.sub(1, mask);
  m.assign(tf.add(tf.mul(mNew, mask), tf.mul(m, keepOld)));
  v.assign(tf.add(tf.mul(vNew, mask), tf.mul(v, keepOld)));
  p.assign(tf.add(p, tf.mul(update, mask)));
}
