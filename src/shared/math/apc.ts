// The angular position and curvature (APC) model of V4 shape tuning (METHODS §10): its
// prediction, the 65,536-model grid, the normalized prediction matrix the fast fit multiplies
// with, and a plain reference fit. Pure TypeScript.

/** Boundary points of a stimulus set, stimulus s owning points offsets[s] .. offsets[s+1]-1. */
export interface ApcPoints {
  offsets: Int32Array;
  /** Angular position of each point around the shape's centre, radians. */
  angle: Float64Array;
  /** Normalized curvature of each point (-0.31 .. 1 in the Pasupathy & Connor set). */
  curvature: Float64Array;
}

export interface ApcParams {
  /** Preferred angular position and its spread, radians (the von Mises kappa is 1 / sigmaA). */
  muA: number;
  sigmaA: number;
  /** Preferred curvature and its spread. */
  muC: number;
  sigmaC: number;
}

export function stimulusCount(p: ApcPoints): number {
  return p.offsets.length - 1;
}

/** Parses `pc370-apc-points.json` (`{ stimuli: [[[angle, curvature], ...], ...] }`). */
export function loadApcPoints(json: unknown): ApcPoints {
  const stimuli = (json as { stimuli?: unknown })?.stimuli;
  if (!Array.isArray(stimuli) || stimuli.length === 0) throw new Error('APC points: expected an object with a non-empty "stimuli" array');
  const offsets = new Int32Array(stimuli.length + 1);
  const angle: number[] = [];
  const curvature: number[] = [];
  stimuli.forEach((pts: unknown, s) => {
    if (!Array.isArray(pts) || pts.length === 0) throw new Error(`APC points: stimulus ${s} has no points`);
    for (const pt of pts as unknown[]) {
      const [a, c] = pt as [unknown, unknown];
      if (!Array.isArray(pt) || typeof a !== 'number' || typeof c !== 'number') throw new Error(`APC points: stimulus ${s} has a point that is not [angle, curvature]`);
      angle.push(a);
      curvature.push(c);
    }
    offsets[s + 1] = angle.length;
  });
  return { offsets, angle: Float64Array.from(angle), curvature: Float64Array.from(curvature) };
}

/** The points of the stimuli at `indices`, in that order (e.g. the 362 standard set). */
export function selectStimuli(p: ApcPoints, indices: readonly number[]): ApcPoints {
  const n = stimulusCount(p);
  const offsets = new Int32Array(indices.length + 1);
  const angle: number[] = [];
  const curvature: number[] = [];
  indices.forEach((s, k) => {
    if (!(Number.isInteger(s) && s >= 0 && s < n)) throw new Error(`APC points: no stimulus ${s} (the set has ${n})`);
    for (let q = p.offsets[s]; q < p.offsets[s + 1]; q++) {
      angle.push(p.angle[q]);
      curvature.push(p.curvature[q]);
    }
    offsets[k + 1] = angle.length;
  });
  return { offsets, angle: Float64Array.from(angle), curvature: Float64Array.from(curvature) };
}

/**
 * von Mises (kappa = 1/sigmaA) times Gaussian tuning of one boundary point. The densities'
 * normalizing constants are dropped, so a point at the preferred (a, c) gives 1; a constant
 * factor per model changes no correlation.
 */
export function apcPointTuning(a: number, c: number, m: ApcParams): number {
  const dc = (c - m.muC) / m.sigmaC;
  return Math.exp((Math.cos(a - m.muA) - 1) / m.sigmaA - 0.5 * dc * dc);
}

/** The model's prediction per stimulus: the maximum over its boundary points. */
export function apcPredict(p: ApcPoints, m: ApcParams): Float64Array {
  checkParams(m);
  const n = stimulusCount(p);
  const out = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    let best = 0;
    for (let q = p.offsets[s]; q < p.offsets[s + 1]; q++) best = Math.max(best, apcPointTuning(p.angle[q], p.curvature[q], m));
    out[s] = best;
  }
  return out;
}

function checkParams(m: ApcParams): void {
  for (const [k, v] of Object.entries(m)) if (!Number.isFinite(v)) throw new Error(`APC parameter ${k} must be finite, got ${v}`);
  if (!(m.sigmaA > 0 && m.sigmaC > 0)) throw new Error(`APC spreads must be positive (sigmaA ${m.sigmaA}, sigmaC ${m.sigmaC})`);
}

function logspace(from: number, to: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from * Math.pow(to / from, i / (n - 1)));
}

const DEG = Math.PI / 180;
const GRID_SIDE = 16;

/** The grid of METHODS §10 (angles in radians). */
export const APC_GRID = {
  /** 0, 22.5, ..., 337.5 degrees. */
  muA: Array.from({ length: GRID_SIDE }, (_, i) => (i * 2 * Math.PI) / GRID_SIDE),
  /** 16 log-spaced values from 23 to 171 degrees. */
  sigmaA: logspace(23 * DEG, 171 * DEG, GRID_SIDE),
  /** -0.5, -0.4, ..., 1.0. */
  muC: Array.from({ length: GRID_SIDE }, (_, i) => -0.5 + i / 10),
  /** 16 log-spaced values from 0.09 to 0.98. */
  sigmaC: logspace(0.09, 0.98, GRID_SIDE),
} as const;

export const APC_MODEL_COUNT = GRID_SIDE ** 4;

/** Model index of grid position (iMuA, iSigmaA, iMuC, iSigmaC); the last varies fastest. */
export function apcModelIndex(iMuA: number, iSigmaA: number, iMuC: number, iSigmaC: number): number {
  return ((iMuA * GRID_SIDE + iSigmaA) * GRID_SIDE + iMuC) * GRID_SIDE + iSigmaC;
}

export function apcModelParams(index: number): ApcParams {
  if (!(Number.isInteger(index) && index >= 0 && index < APC_MODEL_COUNT)) throw new Error(`no APC model ${index} (0..${APC_MODEL_COUNT - 1})`);
  const iSigmaC = index % GRID_SIDE;
  const iMuC = Math.floor(index / GRID_SIDE) % GRID_SIDE;
  const iSigmaA = Math.floor(index / GRID_SIDE ** 2) % GRID_SIDE;
  const iMuA = Math.floor(index / GRID_SIDE ** 3);
  return { muA: APC_GRID.muA[iMuA], sigmaA: APC_GRID.sigmaA[iSigmaA], muC: APC_GRID.muC[iMuC], sigmaC: APC_GRID.sigmaC[iSigmaC] };
}

/**
 * Scales `v` in place to zero mean and unit norm (computed in double precision) and returns
 * true; returns false and leaves zeros when `v` is constant (no correlation is defined).
 */
export function normalizeInPlace(v: Float64Array | Float32Array): boolean {
  let mean = 0;
  for (let i = 0; i < v.length; i++) mean += v[i];
  mean /= v.length;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i] - mean) ** 2;
  // Relative test: values that differ only by rounding count as constant.
  if (!(ss > 0) || Math.sqrt(ss / v.length) <= 1e-12 * Math.max(Math.abs(mean), Number.MIN_VALUE)) {
    v.fill(0);
    return false;
  }
  const s = 1 / Math.sqrt(ss);
  for (let i = 0; i < v.length; i++) v[i] = (v[i] - mean) * s;
  return true;
}

/**
 * The predictions of all 65,536 grid models, each normalized to zero mean and unit norm over
 * the stimuli: row-major [model, stimulus], float32. The von Mises and Gaussian factors of every
 * point are computed once per (muA, sigmaA) and (muC, sigmaC) and multiplied per model.
 */
export function apcPredictionMatrix(p: ApcPoints): Float32Array {
  const n = stimulusCount(p);
  const nPts = p.angle.length;
  const side = GRID_SIDE;
  const angular = new Float64Array(side * side * nPts);
  const curv = new Float64Array(side * side * nPts);
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < side; j++) {
      const base = (i * side + j) * nPts;
      const muA = APC_GRID.muA[i];
      const kappa = 1 / APC_GRID.sigmaA[j];
      const muC = APC_GRID.muC[i];
      const sigmaC = APC_GRID.sigmaC[j];
      for (let q = 0; q < nPts; q++) {
        angular[base + q] = Math.exp(kappa * (Math.cos(p.angle[q] - muA) - 1));
        const d = (p.curvature[q] - muC) / sigmaC;
        curv[base + q] = Math.exp(-0.5 * d * d);
      }
    }
  }
  const out = new Float32Array(APC_MODEL_COUNT * n);
  const row = new Float64Array(n);
  for (let ang = 0; ang < side * side; ang++) {
    const aBase = ang * nPts;
    for (let cur = 0; cur < side * side; cur++) {
      const cBase = cur * nPts;
      for (let s = 0; s < n; s++) {
        let best = 0;
        for (let q = p.offsets[s]; q < p.offsets[s + 1]; q++) {
          const v = angular[aBase + q] * curv[cBase + q];
          if (v > best) best = v;
        }
        row[s] = best;
      }
      normalizeInPlace(row);
      out.set(row, (ang * side * side + cur) * n);
    }
  }
  return out;
}

export interface ApcFit {
  /** Largest correlation of the responses with any grid model; NaN for constant responses. */
  r: number;
  /** Index of that model (the first one on ties); -1 for constant responses. */
  model: number;
}

/**
 * Reference fit, plain loops in double precision: every grid model's prediction is computed
 * directly with apcPredict (not from the prediction matrix) and correlated with each unit's
 * responses. Slow (seconds); for checking the fast fit on a few units.
 */
export function fitApcReference(p: ApcPoints, units: readonly ArrayLike<number>[]): ApcFit[] {
  const n = stimulusCount(p);
  const normalized = units.map((u, k) => {
    if (u.length !== n) throw new Error(`unit ${k} has ${u.length} responses, the stimulus set ${n}`);
    const v = Float64Array.from(u);
    return normalizeInPlace(v) ? v : null;
  });
  const fits: ApcFit[] = normalized.map((v) => ({ r: v ? -Infinity : NaN, model: -1 }));
  for (let m = 0; m < APC_MODEL_COUNT; m++) {
    const pred = apcPredict(p, apcModelParams(m));
    if (!normalizeInPlace(pred)) continue;
    normalized.forEach((v, k) => {
      if (!v) return;
      let r = 0;
      for (let s = 0; s < n; s++) r += pred[s] * v[s];
      if (r > fits[k].r) fits[k] = { r, model: m };
    });
  }
  return fits;
}

/** One V4 neuron's APC fit as shipped (Pasupathy's least-squares fits, METHODS §10). */
export interface V4Fit extends ApcParams {
  r: number;
}

/** Parses `v4-109-apc-fits.csv`: `row, mu_angpos_rad, mu_curv, sd_angpos_rad, sd_curv, r`. */
export function parseV4Fits(csv: string): V4Fit[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]?.split(',').map((h) => h.trim());
  const expected = ['row', 'mu_angpos_rad', 'mu_curv', 'sd_angpos_rad', 'sd_curv', 'r'];
  if (header?.join(',') !== expected.join(',')) throw new Error(`V4 fits: expected the header ${expected.join(',')}, got ${lines[0]}`);
  return lines.slice(1).map((line, k) => {
    const v = line.split(',').map(Number);
    if (v.length !== 6 || v.some((x) => !Number.isFinite(x))) throw new Error(`V4 fits: line ${k + 2} is not 6 numbers`);
    return { muA: v[1], muC: v[2], sigmaA: v[3], sigmaC: v[4], r: v[5] };
  });
}
