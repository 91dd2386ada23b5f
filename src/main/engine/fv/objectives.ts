// What the optimization maximizes (the Lucent "objectives" part). Every objective returns one
// value per group of images: a group is the images of one unit, so many units optimize in one
// batched forward/backward pass while each unit's objective sees only its own images.
import * as tf from '@tensorflow/tfjs';
import type { ReceptiveField, TokenLayout } from '../../../shared/domain';
import { activeBackend } from '../backend';
import type { LayerChannels, LayerPositions, NetworkModel } from '../model';
import type { ImagePrior } from './prior';

export interface ObjectiveInput {
  /** The requested layers' outputs for the whole batch. */
  acts: Record<string, tf.Tensor>;
  /** The batch's pixel images (RGB 0..255, NHWC). */
  pixels: tf.Tensor4D;
  /**
   * Layers of `acts` that hold only the position the objective gave in `positions`: [N, 1, 1, C],
   * or [N, 1, 1, K] where the objective also gave their `channels` (K of them, in that order).
   */
  restricted?: ReadonlySet<string>;
  channels?: LayerChannels;
}

export interface Objective {
  /** Layers the forward pass must return. */
  readonly layers: readonly string[];
  /** Layers the objective reads at one position only; the model may compute just that position. */
  readonly positions?: LayerPositions;
  /** Channels the objective reads of some of those layers; the model may compute just those. */
  readonly channels?: LayerChannels;
  /** One value per group, [groups]. */
  evaluate(input: ObjectiveInput): tf.Tensor1D;
  /**
   * The same objective for some of its groups (their indices, in order), on a batch of only
   * their images; absent where the objective cannot be split by group.
   */
  forGroups?(groups: readonly number[]): Objective;
}

/** The forward pass an objective reads, its one-position layers restricted where the model can. */
export function objectiveInput(model: NetworkModel, pixels: tf.Tensor4D, objective: Objective): ObjectiveInput {
  if (objective.layers.length === 0) return { acts: {}, pixels };
  if (!objective.positions || !model.forwardAt) return { acts: model.forward(pixels, objective.layers), pixels };
  const { acts, restricted } = model.forwardAt(pixels, objective.layers, objective.positions, objective.channels);
  return { acts, pixels, restricted, channels: objective.channels };
}

/** Marks the distance in pixel space (deviation images) instead of a layer's features. */
export const PIXELS = 'pixels';

/**
 * Index along one spatial axis of the unit whose receptive-field centre is nearest the centre of
 * an input of side `inputSide` (METHODS: the spatially central neuron of the channel).
 */
export function centralIndex(rf: ReceptiveField | undefined, inputSide: number, outSide: number): number {
  const i = rf ? Math.round(((inputSide - 1) / 2 - rf.offset) / rf.jump) : Math.floor(outSide / 2);
  return Math.min(Math.max(i, 0), outSide - 1);
}

/** Where a layer's units lie: its RF and, for a transformer's token layer, its patch grid. */
export interface UnitGeometry {
  rf?: ReceptiveField;
  tokens?: TokenLayout;
}

export interface UnitSpec extends UnitGeometry {
  layer: string;
  /** Channel of each group's unit. */
  channels: readonly number[];
  imagesPerGroup: number;
  /** Unit position in the layer output; null: the central unit (needs `rf` and `inputSide`). */
  position: readonly [number, number] | null;
  inputSide: number;
}

/**
 * Every image's channels at one unit position, [rows, C]: of an NHWC map, or of a token layer
 * ([N, T, C]: positions on its patch grid, class tokens excluded). `position` null: the central
 * unit for an input of side `inputSide`. Outputs of rank 2 have no positions and are returned whole.
 */
export function channelsAt(out: tf.Tensor, layer: string, geometry: UnitGeometry, position: readonly [number, number] | null, inputSide: number): tf.Tensor2D {
  return tf.tidy(() => {
    if (out.rank === 2) return out as tf.Tensor2D;
    const tokens = out.rank === 3 ? geometry.tokens : undefined;
    if (out.rank !== 4 && !tokens) throw new Error(`layer ${layer} has rank ${out.rank}; unit objectives need NHWC, [N, C] or a token layer`);
    const rows = out.shape[0];
    const c = out.shape[out.rank - 1];
    const [h, w] = tokens ? tokens.grid : out.shape.slice(1, 3);
    const [y, x] = position ?? [centralIndex(geometry.rf, inputSide, h), centralIndex(geometry.rf, inputSide, w)];
    if (y < 0 || y >= h || x < 0 || x >= w) throw new Error(`unit position (${y}, ${x}) is outside the ${h} x ${w} ${tokens ? 'patch grid' : 'output'} of ${layer}`);
    if (!tokens && h === 1 && w === 1) return tf.reshape(out, [rows, c]) as tf.Tensor2D;
    const at = tokens ? tf.slice(out, [0, tokens.classTokens + y * w + x, 0], [rows, 1, c]) : tf.slice(out, [0, y, x, 0], [rows, 1, 1, c]);
    return tf.reshape(at, [rows, c]) as tf.Tensor2D;
  });
}

/**
 * Where the unit of `spec` lies in its layer's output, if that is known without the output's size:
 * its given position, or the central one from the layer's RF (not for token layers).
 */
function knownPosition(spec: UnitSpec): [number, number] | null {
  if (spec.position) return [spec.position[0], spec.position[1]];
  if (!spec.rf || spec.tokens) return null;
  // Unclamped at the far end: a position past the output makes the model compute the layer whole.
  const i = centralIndex(spec.rf, spec.inputSide, Infinity);
  return [i, i];
}

export interface UnitReadout {
  /** `out` holds the unit's position only, [N, 1, 1, C]. */
  atUnit?: boolean;
  /** The channels `out` holds, in order (where it holds only some). */
  held?: readonly number[];
  /** Each group's sum over its images, [groups], instead of one value per image. */
  sumGroups?: boolean;
}

/** Activation of each image's own unit, [rows]: row r belongs to group floor(r / imagesPerGroup). */
export function unitActivations(out: tf.Tensor, spec: UnitSpec, { atUnit = false, held, sumGroups = false }: UnitReadout = {}): tf.Tensor1D {
  return tf.tidy(() => {
    const rows = out.shape[0];
    if (rows !== spec.channels.length * spec.imagesPerGroup) {
      throw new Error(`unit objective: ${rows} images for ${spec.channels.length} units x ${spec.imagesPerGroup}`);
    }
    // Held at the unit's position, [N, 1, 1, C] already holds each image's channels there.
    const perChannel = atUnit && out.rank === 4 ? out : channelsAt(out, spec.layer, spec, atUnit ? [0, 0] : spec.position, spec.inputSide);
    const c = perChannel.shape[perChannel.rank - 1];
    const column = (ch: number) => (held ? held.indexOf(ch) : ch);
    for (const ch of spec.channels) if (ch < 0 || column(ch) < 0 || column(ch) >= c) throw new Error(`layer ${spec.layer} has ${c} channels, no channel ${ch}`);
    const select = new Float32Array(rows * c);
    spec.channels.forEach((ch, g) => {
      for (let i = 0; i < spec.imagesPerGroup; i++) select[(g * spec.imagesPerGroup + i) * c + column(ch)] = 1;
    });
    // Each group's images side by side in one row (or each image in its own row): one product and
    // one sum give the sums.
    const sums = sumGroups ? spec.channels.length : rows;
    return selectedSums(perChannel, tf.tensor2d(select, [sums, (rows / sums) * c]));
  });
}

/**
 * sum_k x[r, k] * select[r, k] for x flattened to select's rows, [rows]; one taped op whose
 * gradient is the selection scaled by dy (the tape's gradients of the reshapes, the product and
 * the sum would be about eight small kernels).
 */
function selectedSums(x: tf.Tensor, select: tf.Tensor2D): tf.Tensor1D {
  const rows = select.shape[0];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    // Saved: the backward pass runs after the caller's tidy has freed `select`.
    (args[1] as tf.GradSaveFunc)([select]);
    return {
      value: tf.sum(tf.mul(tf.reshape(input, [rows, -1]), select), 1),
      gradFunc: (dy: tf.Tensor, [kept]: tf.Tensor[]) => tf.reshape(tf.mul(tf.reshape(dy, [rows, 1]), kept), input.shape),
    };
  });
  return op(x) as tf.Tensor1D;
}

/** Sum over each group's images of its unit's activation. */
export function unitActivation(spec: UnitSpec): Objective {
  const position = knownPosition(spec);
  return {
    layers: [spec.layer],
    positions: position ? { [spec.layer]: position } : undefined,
    channels: position ? { [spec.layer]: [...new Set(spec.channels)].sort((a, b) => a - b) } : undefined,
    evaluate: ({ acts, restricted, channels }) => {
      const atUnit = restricted?.has(spec.layer) === true;
      return unitActivations(acts[spec.layer], spec, { atUnit, held: atUnit ? channels?.[spec.layer] : undefined, sumGroups: true });
    },
    forGroups: (groups) => unitActivation({ ...spec, channels: groups.map((g) => spec.channels[g]) }),
  };
}

/** Features the diversity term compares, flattened per image: [rows, D]. */
export function distanceFeatures(input: ObjectiveInput, layer: string): tf.Tensor2D {
  const t = layer === PIXELS ? input.pixels : input.acts[layer];
  return tf.reshape(t, [t.shape[0], -1]);
}

/**
 * Euclidean distances between the images of each group: [groups, n, n]. The direct (broadcast)
 * form: exact for every pair, used where a run records the whole matrix once per lambda.
 */
export function pairwiseDistances(features: tf.Tensor2D, imagesPerGroup: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [rows, d] = features.shape;
    const f = tf.reshape(features, [rows / imagesPerGroup, imagesPerGroup, 1, d]);
    const diff = tf.sub(f, tf.transpose(f, [0, 2, 1, 3]));
    // The epsilon keeps the gradient of sqrt finite should two images coincide.
    return tf.sqrt(tf.add(tf.sum(tf.square(diff), 3), 1e-12)) as tf.Tensor3D;
  });
}

/** Smallest distance between two different images of each group, [groups]. */
export function minPairwiseDistance(distances: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => {
    const n = distances.shape[1];
    // The diagonal (an image with itself) is moved out of reach of the minimum.
    const big = tf.mul(tf.eye(n), 1e30);
    return tf.min(tf.add(distances, big), [1, 2]) as tf.Tensor1D;
  });
}

/**
 * Whether the engine may read a small tensor synchronously mid-step: on a CPU backend the read is
 * a copy; on a GPU it would drain the queue (and webgpu cannot read synchronously at all).
 */
function cheapSyncReads(): boolean {
  const b = activeBackend();
  return b !== null && !b.gpu && b.name !== 'webgpu';
}

/**
 * +1 at the first and -1 at the second image of each group's closest pair, [groups, n]. The pair
 * is found from one batched Gram matrix (|a|^2 + |b|^2 - 2 a.b over pairs i < j, the first of
 * ties; each group's features taken relative to its first image, so the products stay small
 * next to the distances): a matrix product instead of a [groups, n, n, D] difference. Where reads
 * are cheap the Gram matrices are read and searched here (about 20 small kernels fewer);
 * elsewhere (`onHost` false) the search runs as tensor ops, comparing floats only: webgpu
 * mis-sums a float tensor cast from int32 (argMin, oneHot).
 */
export function closestPair(f: tf.Tensor3D, onHost = cheapSyncReads()): tf.Tensor2D {
  return tf.tidy(() => {
    const [groups, n, d] = f.shape;
    const relative = tf.sub(f, tf.slice(f, [0, 0, 0], [groups, 1, d])) as tf.Tensor3D;
    const gram = tf.matMul(relative, relative, false, true);
    if (onHost) return tf.tensor2d(pairFromGram(gram.dataSync() as Float32Array, groups, n), [groups, n]);
    // The squared norms are the Gram matrix's diagonal: [groups, n] from [groups, n, n], not [groups, n, D].
    const sq = tf.sum(tf.mul(gram, tf.reshape(tf.eye(n), [1, n, n])), 2);
    const squared = tf.sub(tf.add(tf.expandDims(sq, 2), tf.expandDims(sq, 1)), tf.mul(gram, 2));
    const notAbove = Float32Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) < k % n ? 0 : 1e30));
    const candidates = tf.reshape(tf.add(squared, tf.tensor3d(notAbove, [1, n, n])), [groups, n * n]);
    const one = tf.onesLike(candidates);
    const none = tf.zerosLike(candidates);
    const atMin = tf.where(tf.equal(candidates, tf.min(candidates, 1, true)), one, none);
    // The first of tied pairs only (identical images tie).
    const pick = tf.reshape(tf.where(tf.equal(tf.cumsum(atMin, 1), 1), atMin, none), [groups, n, n]);
    return tf.sub(tf.sum(pick, 2), tf.sum(pick, 1)) as tf.Tensor2D;
  });
}

/** closestPair's choice from the Gram matrices [groups, n, n] (row-major), the same pair order. */
function pairFromGram(gram: Float32Array, groups: number, n: number): Float32Array {
  const pick = new Float32Array(groups * n);
  for (let g = 0; g < groups; g++) {
    const at = (i: number, j: number) => gram[(g * n + i) * n + j];
    let best = Infinity;
    let pair = [0, 1];
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const squared = at(i, i) + at(j, j) - 2 * at(i, j);
        if (squared < best) [best, pair] = [squared, [i, j]];
      }
    }
    pick[g * n + pair[0]] = 1;
    pick[g * n + pair[1]] = -1;
  }
  return pick;
}

/**
 * min_{i != j} |f_i - f_j| for each group, [groups]: the diversity term, with the value and the
 * gradient of the direct form. Only the closest pair's distance is computed directly, so nearly
 * equal images keep an exact small distance (no cancellation) and the gradient flows through
 * that pair only, as through a minimum. One taped op: the pair search is a choice with no
 * gradient, and the gradient is the pair's difference over its length, +/- on the two images.
 */
export function minPairDistance(features: tf.Tensor2D, imagesPerGroup: number): tf.Tensor1D {
  const [rows, d] = features.shape;
  const groups = rows / imagesPerGroup;
  const term = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[1] as tf.GradSaveFunc;
    const f = tf.reshape(args[0] as tf.Tensor, [groups, imagesPerGroup, d]) as tf.Tensor3D;
    const choice = closestPair(f);
    // Each group's chosen first image minus its second, [groups, 1, D]: one batched product.
    const diff = tf.matMul(tf.reshape(choice, [groups, 1, imagesPerGroup]), f);
    const pick = tf.reshape(choice, [groups, imagesPerGroup, 1]);
    // The epsilon keeps the gradient finite should two images coincide.
    const distance = tf.sqrt(tf.add(tf.sum(tf.square(diff), [1, 2]), 1e-12));
    save([pick, diff, distance]);
    return {
      value: distance,
      gradFunc: (dy, [pk, df, dist]) => tf.reshape(tf.mul(pk, tf.mul(df, tf.reshape(tf.div(dy, dist), [groups, 1, 1]))), [rows, d]),
    };
  });
  return tf.tidy(() => term(features) as tf.Tensor1D);
}

/**
 * The diversity term: min over pairs i != j of the distance between images' features in `layer`
 * (METHODS §2: the minimum, not the mean, which two clusters would maximize).
 */
export function diversity(layer: string, imagesPerGroup: number): Objective {
  if (imagesPerGroup < 2) throw new Error(`diversity needs at least 2 images per unit, got ${imagesPerGroup}`);
  const objective: Objective = {
    layers: layer === PIXELS ? [] : [layer],
    evaluate: (input) => minPairDistance(distanceFeatures(input, layer), imagesPerGroup),
    forGroups: () => objective,
  };
  return objective;
}

/** Sum over each group's images of the prior's log density. */
export function logPrior(prior: ImagePrior, imagesPerGroup: number): Objective {
  const objective: Objective = {
    layers: [],
    evaluate: ({ pixels }) => prior.logDensity(pixels, imagesPerGroup),
    forGroups: () => objective,
  };
  return objective;
}

/** sum_k weight_k * objective_k; terms of weight 0 are left out of the graph. */
export function weightedSum(terms: readonly (readonly [Objective, number])[]): Objective {
  const used = terms.filter(([, w]) => w !== 0);
  if (used.length === 0) throw new Error('objective: no term with a non-zero weight');
  // A layer is read at one position only if every term that reads it reads that same position.
  const positions: Record<string, readonly [number, number]> = {};
  const whole = new Set<string>();
  for (const [o] of used) {
    for (const layer of o.layers) {
      const p = o.positions?.[layer];
      const before = positions[layer];
      if (!p || (before && (before[0] !== p[0] || before[1] !== p[1]))) whole.add(layer);
      else positions[layer] = p;
    }
  }
  whole.forEach((layer) => delete positions[layer]);
  // Of those, the channels every term gives (merged); a term that gives none reads them all.
  const channels: Record<string, readonly number[]> = {};
  for (const layer of Object.keys(positions)) {
    const lists = used.filter(([o]) => o.layers.includes(layer)).map(([o]) => o.channels?.[layer]);
    if (lists.every((l) => l !== undefined)) channels[layer] = [...new Set(lists.flat())].sort((a, b) => a - b);
  }
  const splittable = used.every(([o]) => o.forGroups);
  return {
    layers: [...new Set(used.flatMap(([o]) => o.layers))],
    positions,
    channels,
    ...(splittable ? { forGroups: (groups: readonly number[]) => weightedSum(used.map(([o, w]) => [o.forGroups!(groups), w] as const)) } : {}),
    evaluate: (input) => {
      const values = used.map(([o]) => o.evaluate(input));
      if (used.length === 1 && used[0][1] === 1) return values[0];
      // One taped op: the tape's gradients of separate products and sums would add a reshape,
      // a cast and a copy per term (the one-unit diverse step is bound by such small kernels).
      const combine = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
        value: tf.addN(used.map(([, w], k) => (w === 1 ? (args[k] as tf.Tensor) : tf.mul(args[k] as tf.Tensor, w)))),
        gradFunc: (dy: tf.Tensor) => used.map(([, w]) => (w === 1 ? tf.clone(dy) : tf.mul(dy, w))),
      }));
      return tf.tidy(() => combine(...values) as tf.Tensor1D);
    },
  };
}
