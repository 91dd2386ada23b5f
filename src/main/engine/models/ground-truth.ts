// Built-in cell models with a known answer (METHODS §3), usable anywhere a network is. Each is a
// small convolutional network with RF-sized kernels and valid padding, so a 24 x 24 input gives
// one unit and a larger input gives the responses of all RF-sized crops at stride 1.
import * as tf from '@tensorflow/tfjs';
import type { LayerInfo } from '../../../shared/domain';
import { CELL_CONVENTION, cellLayers, type CellKind } from '../../../shared/builtin-models';
import { applyInputConvention, type NetworkModel } from '../model';
import { gabor, type GaborParams } from '../../../shared/math/gabor';
import { gaussian, mulberry32 } from '../../../shared/math/random';

export interface CellParams {
  rf: number;
  gabor: Omit<GaborParams, 'size' | 'phase'>;
  /** Hubel & Wiesel cell: number of simple subunits and jitter of their phases (deg) and weights. */
  subunits: number;
  phaseJitterDeg: number;
  weightJitter: number;
  /**
   * Hubel & Wiesel cell: output nonlinearity of the simple subunits. Half-rectified subunits
   * give a phase response with a kink, hence a local maximum, between every two subunit phases:
   * with 8 subunits and >= 80 % invariance, gradient ascent from noise lands on one of about 8
   * phases. Half-squared subunits (Heeger's simple cells) make the response smooth in phase.
   */
  subunitNonlinearity: 'relu' | 'half-square';
  /**
   * Hubel & Wiesel cell: subunit weights 1 + phasePreference * cos(phase - preferredPhaseDeg),
   * so the cell has one preferred phase. 0.04 gives ~95 % of the maximum at the worst phase:
   * mild enough that six images spread over the circle (even when the min-distance term parks
   * one of them at the centre of the quadrature plane) keep >= 80 % of a(0) on average.
   */
  phasePreference: number;
  preferredPhaseDeg: number;
  seed: number;
}

export const DEFAULT_CELL_PARAMS: CellParams = {
  rf: 24,
  // sigma 4.8 px (0.6 cycles per sigma) fills the RF about as the shift-invariance window of
  // METHODS §4 does (sigma_w = RF / 2.4): a windowed grating then keeps ~89 % of the energy
  // model's template response, so that texture-like model has SI near 0.9 (sigma 4 gave 0.76).
  gabor: { thetaDeg: 0, cyclesPerPixel: 0.125, sigma: 4.8 },
  subunits: 8,
  phaseJitterDeg: 1,
  weightJitter: 0.01,
  subunitNonlinearity: 'half-square',
  phasePreference: 0.04,
  preferredPhaseDeg: 0,
  seed: 1,
};

/** A set of linear filters, each followed by a pointwise nonlinearity and a weighted sum. */
interface CellDesign {
  filters: Float32Array[]; // each rf*rf, row-major
  weights: number[];
  /** Energy and corner models use quadrature pairs, squared; simple cells are half-rectified. */
  nonlinearity: 'relu' | 'square' | 'half-square';
}

function design(kind: CellKind, p: CellParams): CellDesign {
  const g = (phase: number, extra: Partial<GaborParams> = {}) =>
    gabor({ size: p.rf, ...p.gabor, phase, ...extra });
  switch (kind) {
    case 'simple-cell':
      return { filters: [g(0)], weights: [1], nonlinearity: 'relu' };
    case 'energy':
      return { filters: [g(0), g(90)], weights: [1, 1], nonlinearity: 'square' };
    case 'complex-cell': {
      const rand = mulberry32(p.seed);
      const filters: Float32Array[] = [];
      const weights: number[] = [];
      for (let k = 0; k < p.subunits; k++) {
        const phase = (360 * k) / p.subunits + (rand() * 2 - 1) * p.phaseJitterDeg;
        filters.push(g(phase));
        const preference = 1 + p.phasePreference * Math.cos(((phase - p.preferredPhaseDeg) * Math.PI) / 180);
        weights.push(preference * (1 + (rand() * 2 - 1) * p.weightJitter));
      }
      return { filters, weights, nonlinearity: p.subunitNonlinearity };
    }
    case 'corner': {
      // A horizontal and a vertical edge detector at two fixed places of the RF.
      const q = p.rf / 4;
      const at = (thetaDeg: number, dx: number, dy: number, phase: number) =>
        g(phase, { thetaDeg, centerX: dx, centerY: dy, sigma: p.gabor.sigma * 0.75 });
      return {
        filters: [at(90, 0, -q, 90), at(90, 0, -q, 0), at(0, -q, 0, 90), at(0, -q, 0, 0)],
        weights: [1, 1, 1, 1],
        nonlinearity: 'square',
      };
    }
  }
}

function nonlinearity(kind: CellDesign['nonlinearity'], x: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.relu(x);
    case 'square':
      return tf.square(x);
    case 'half-square':
      return tf.square(tf.relu(x));
  }
}

class CellModel implements NetworkModel {
  readonly format = 'builtin' as const;
  readonly inputConvention = CELL_CONVENTION;
  readonly layers: LayerInfo[];
  private readonly kernel: tf.Tensor4D;
  private readonly weights: tf.Tensor1D;

  constructor(
    readonly name: string,
    kind: CellKind,
    private readonly cell: CellDesign,
    rf: number,
    private readonly randomize: (seed: number) => CellModel,
  ) {
    const k = cell.filters.length;
    const data = new Float32Array(rf * rf * k);
    cell.filters.forEach((f, j) => f.forEach((v, i) => (data[i * k + j] = v)));
    this.kernel = tf.tensor4d(data, [rf, rf, 1, k]);
    this.weights = tf.tensor1d(cell.weights);
    this.layers = cellLayers(kind, rf, k);
  }

  forward(pixels: tf.Tensor4D, layers: readonly string[]): Record<string, tf.Tensor> {
    for (const l of layers) if (l !== 'subunits' && l !== 'response') throw new Error(`model ${this.name} has no layer "${l}"`);
    // Returning the tensors from tidy hands them to the caller's scope (tf.keep would leak them).
    return tf.tidy(() => {
      const x = applyInputConvention(pixels, this.inputConvention);
      const grey = tf.mean(x, 3, true) as tf.Tensor4D;
      const linear = tf.conv2d(grey, this.kernel, 1, 'valid');
      const out: Record<string, tf.Tensor> = {};
      if (layers.includes('subunits')) out.subunits = linear;
      if (layers.includes('response')) {
        const act = nonlinearity(this.cell.nonlinearity, linear);
        out.response = tf.sum(tf.mul(act, this.weights), 3, true);
      }
      return out;
    });
  }

  withRandomWeights(seed: number): NetworkModel {
    return this.randomize(seed);
  }

  dispose(): void {
    this.kernel.dispose();
    this.weights.dispose();
  }
}

export function createCellModel(kind: CellKind, params: Partial<CellParams> = {}): NetworkModel {
  const p = { ...DEFAULT_CELL_PARAMS, ...params, gabor: { ...DEFAULT_CELL_PARAMS.gabor, ...params.gabor } };
  const randomize = (seed: number): CellModel => {
    // Same architecture, filters drawn from N(0, 1/rf^2) with a fixed seed.
    const rand = mulberry32(seed);
    const d = design(kind, p);
    const filters = d.filters.map((f) => f.map(() => gaussian(rand) / p.rf));
    return new CellModel(`${kind} (random weights, seed ${seed})`, kind, { ...d, filters }, p.rf, randomize);
  };
  return new CellModel(kind, kind, design(kind, p), p.rf, randomize);
}
