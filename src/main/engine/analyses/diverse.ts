// Diverse feature visualization (METHODS §2) with the shift-invariance and linear-combination
// indices (§4, §5). For every lambda of the sweep, n images per unit start from white noise and
// are optimized for activation + alpha log P + lambda * min pairwise distance; the units of a
// batch share one forward/backward pass. After every lambda the run emits that lambda's images
// and numbers and checkpoints, so a restarted run resumes at the next lambda.
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import { diverseKey, diverseResults, type DiverseSettings, type diverseUnitData } from '../../../shared/analyses/diverse';
import { checkResult } from '../../../shared/analyses/result-contract';
import { builtinKind } from '../../../shared/builtin-models';
import { chooseLambdaStar, diversityRatio, flooredDiversityRatio, qualifiesForLambdaStar, type PerImageCondition } from '../../../shared/math/diverse';
import { decodeFloat32, encodeFloat32 } from '../../../shared/float-codec';
import { defaultTemplateNorm, NATURAL_SPECTRUM } from '../../../shared/math/natural-images';
import type { EngineAnalysis, ImageOut, RunContext } from '../analysis';
import { take } from '../read';
import { findLayer, meanPixel, rfSizedInput, type NetworkModel } from '../model';
import { cellPhasesDeg, PHASE_CELLS } from '../fv/cell-phase';
import { precedingConvLayer } from '../fv/layers';
import { fitPowerSpectrum, loadImageFolder, meanPatchNorm, samplePatches } from '../fv/natural-images';
import {
  distanceFeatures,
  diversity,
  logPrior,
  minPairwiseDistance,
  pairwiseDistances,
  PIXELS,
  unitActivation,
  unitActivations,
  weightedSum,
  type Objective,
  type UnitSpec,
} from '../fv/objectives';
import { optimize, type OptimizerSettings } from '../fv/optimize';
import { PixelImages } from '../fv/parameterization';
import { GaussianSpectrumPrior, type ImagePrior, type PowerLawSpectrum } from '../fv/prior';
import { deriveSeed, preActivationLayer, redrawSilentStarts, wakeSilentRows } from '../fv/starts';
import { activationRatio, optimizeTextures, pairAverageActivation } from './indices';

/** What a unit has accumulated over the lambdas done so far. */
interface UnitState {
  channel: number;
  activation: number[];
  /** The lowest activation among the n images, per lambda (the per-image condition of lambda*). */
  lowestActivation?: number[];
  /** Images below imageActivationFraction * a(0), per lambda (0 where the condition is off). */
  weakImages?: number[];
  distance: number[];
  steps: number[];
  /** Starting images whose unit stayed silent through every redraw, per lambda. */
  silentStarts: number[];
  /** Cell models: the images' phases (degrees) per lambda. */
  phases: number[][] | null;
  /** Mean pairwise distance of the starting noise images: the scale D is measured on. */
  noiseDistance: number | null;
  /** Index and pixels (float32, base64) of the lambda* candidate so far: the largest qualifying lambda. */
  star: { index: number; pixels: string };
}

interface Checkpoint {
  batch: number;
  lambdaIndex: number;
  units: UnitState[];
  /** Summary rows of the units finished in earlier batches. */
  rows?: SummaryRow[];
}

/** One unit in the run's `summary` table (the CLI prints it). */
interface SummaryRow {
  layer: string;
  channel: number;
  lambdaStar: number;
  diversityRatio: number | null;
  diversityRatioRaw: number | null;
  shiftInvariance: number | null;
  linearCombination: number | null;
}

const SUMMARY_COLUMNS = ['layer', 'channel', 'lambdaStar', 'diversityRatio', 'diversityRatioRaw', 'shiftInvariance', 'linearCombination'] as const;
const SUMMARY_LABELS = {
  lambdaStar: 'lambda*',
  diversityRatio: 'D(lambda*)/D(0) (floored)',
  diversityRatioRaw: 'D(lambda*)/D(0) (raw)', shiftInvariance: 'SI', linearCombination: 'LC' };

interface Setup {
  model: NetworkModel;
  layerName: string;
  side: number;
  spec: Omit<UnitSpec, 'channels'>;
  distanceLayer: string;
  /** The listed pre-ReLU layer of the unit, used to wake silent starting images. */
  preActivationLayer: string | null;
  norm: number;
  mean: [number, number, number];
  prior: ImagePrior | null;
  tau: number;
  phaseCell: boolean;
  optimizer: OptimizerSettings;
}

/** Natural images read for the norm and the prior, at most this many. */
const MAX_NORM_IMAGES = 500;

export const diverse: EngineAnalysis<DiverseSettings> = {
  kind: 'diverse',
  async run(s, ctx) {
    const trained = await ctx.loadModel(s.modelId);
    const model = s.randomWeightsSeed === null ? trained : trained.withRandomWeights(s.randomWeightsSeed);
    let prior: ImagePrior | null = null;
    try {
      const layer = findLayer(model, s.layer);
      const side = rfSizedInput(layer);
      const distanceLayer = s.distanceLayer ?? precedingConvLayer(model, s.layer);
      if (distanceLayer !== PIXELS) findLayer(model, distanceLayer);
      const cell = builtinKind(s.modelId);
      const natural = await naturalStatistics(s, side, ctx.seed);
      prior = s.prior === 'gaussian' && s.priorAlpha > 0 ? new GaussianSpectrumPrior(natural.spectrum, side, side) : null;
      const setup: Setup = {
        model,
        layerName: s.layer,
        side,
        spec: { layer: s.layer, imagesPerGroup: s.images, position: s.position, rf: layer.rf, tokens: layer.tokens, inputSide: side },
        distanceLayer,
        preActivationLayer: preActivationLayer(model, s.layer),
        norm: natural.norm,
        mean: meanPixel(model.inputConvention),
        prior,
        tau: cell ? s.tauCellModel : s.tauTrained,
        phaseCell: cell !== null && PHASE_CELLS.includes(cell),
        optimizer: {
          maxSteps: s.maxSteps,
          learningRate: s.learningRate,
          patience: s.patience,
          emaDecay: s.emaDecay,
          minImprovement: s.minImprovement,
          precondition: s.precondition,
        },
      };
      ctx.log(
        `diverse: ${s.units.length} units of ${s.layer}, ${side} px images, norm ${natural.norm.toFixed(1)} (${natural.source}), ` +
          `distance in ${distanceLayer}, tau ${setup.tau}`,
      );
      const batches: number[][] = [];
      for (let i = 0; i < s.units.length; i += s.unitsPerBatch) batches.push(s.units.slice(i, i + s.unitsPerBatch));
      const stepsPerBatch = (s.lambdas.length + (s.indices ? 1 : 0)) * s.maxSteps;
      const total = batches.length * stepsPerBatch;
      let state: Checkpoint = (ctx.resumeFrom as Checkpoint | null) ?? { batch: 0, lambdaIndex: 0, units: [] };
      const rows: SummaryRow[] = [...(state.rows ?? [])];
      for (let b = state.batch; b < batches.length; b++) {
        const channels = batches[b];
        if (state.units.length === 0) state = { batch: b, lambdaIndex: 0, units: channels.map(freshUnit) };
        for (let li = state.lambdaIndex; li < s.lambdas.length; li++) {
          const base = b * stepsPerBatch + li * s.maxSteps;
          const done = await runLambda(setup, s, ctx, channels, li, state.units, (step, text) => ctx.progress(base + step, total, text));
          if (!done) return;
          state = { batch: b, lambdaIndex: li + 1, units: state.units, rows };
          ctx.checkpoint(state);
        }
        const base = b * stepsPerBatch + s.lambdas.length * s.maxSteps;
        const finished = await finishUnits(setup, s, ctx, state.units, (step, text) => ctx.progress(base + step, total, text));
        if (!finished) return;
        rows.push(...finished);
        state = { batch: b + 1, lambdaIndex: 0, units: [], rows };
        ctx.checkpoint(state);
      }
      ctx.emitResult(diverseKey('summary'), checkResult(diverseResults, 'summary', { columns: [...SUMMARY_COLUMNS], labels: SUMMARY_LABELS, table: rows, randomWeightsSeed: s.randomWeightsSeed }));
      ctx.progress(total, total, 'done');
    } finally {
      prior?.dispose();
      if (model !== trained) model.dispose();
      trained.dispose();
    }
  },
};

function freshUnit(channel: number): UnitState {
  return { channel, activation: [], lowestActivation: [], weakImages: [], distance: [], steps: [], silentStarts: [], phases: null, noiseDistance: null, star: { index: 0, pixels: '' } };
}

/** Template norm and prior spectrum: from the user's images when given, else the stored statistics. */
async function naturalStatistics(s: DiverseSettings, side: number, seed: number): Promise<{ norm: number; spectrum: PowerLawSpectrum; source: string }> {
  if (s.normImages === null) {
    return { norm: s.imageNorm ?? defaultTemplateNorm(side), spectrum: NATURAL_SPECTRUM, source: s.imageNorm ? 'set' : 'stored ImageNet statistics' };
  }
  const patches = samplePatches(loadImageFolder(s.normImages, MAX_NORM_IMAGES), side, s.normPatches, deriveSeed(seed, 'patches'));
  try {
    const norm = s.imageNorm ?? (await meanPatchNorm(patches)) / 2;
    return { norm, spectrum: await fitPowerSpectrum(patches), source: `${s.normPatches} patches of ${s.normImages}` };
  } finally {
    patches.dispose();
  }
}

/** L = sum_i y(x_i) + alpha sum_i log P(x_i) + lambda min_{i != j} d(x_i, x_j), per unit. */
export function diverseObjective(spec: UnitSpec, prior: ImagePrior | null, alpha: number, distanceLayer: string, lambda: number): Objective {
  const n = spec.imagesPerGroup;
  return weightedSum([
    [unitActivation(spec), 1],
    ...(prior ? [[logPrior(prior, n), alpha] as const] : []),
    [diversity(distanceLayer, n), lambda],
  ]);
}

/** Optimizes and records one lambda for a batch of units; false when cancelled. */
async function runLambda(
  setup: Setup,
  s: DiverseSettings,
  ctx: RunContext,
  channels: number[],
  li: number,
  units: UnitState[],
  progress: (step: number, text: string) => void,
): Promise<boolean> {
  const { model, side, norm, mean, spec: common } = setup;
  const n = s.images;
  const lambda = s.lambdas[li];
  const spec: UnitSpec = { ...common, channels };
  const seeds = channels.flatMap((c) => Array.from({ length: n }, (_, i) => deriveSeed(ctx.seed, c, li, i)));
  const images = new PixelImages({ seeds, height: side, width: side, norm, meanPixel: mean, tangentGradient: s.tangentGradient });
  try {
    let silent = await redrawSilentStarts(model, images, spec, seeds, s.silentStartRedraws);
    if (silent.length > 0 && setup.preActivationLayer) silent = await wakeSilentRows(model, images, spec, setup.preActivationLayer, silent);
    if (li === 0) {
      const start = await measure(setup, spec, images.render());
      units.forEach((u, k) => (u.noiseDistance = start.meanDistance[k]));
    }
    const objective = diverseObjective(spec, setup.prior, s.priorAlpha, setup.distanceLayer, lambda);
    const res = await optimize(model, images, objective, {
      ...setup.optimizer,
      groups: channels.length,
      cancelled: ctx.cancelled,
      onStep: (step, _values, running) => progress(step, `lambda ${lambda}: step ${step}, ${running}/${channels.length} units running`),
    });
    if (res.cancelled) return false;
    const m = await measure(setup, spec, images.render());
    const size = side * side * 3;
    units.forEach((u, k) => {
      const pixels = m.pixels.subarray(k * n * size, (k + 1) * n * size);
      const acts = m.activations.slice(k * n, (k + 1) * n);
      const a = acts.reduce((x, y) => x + y, 0) / n;
      u.activation.push(a);
      (u.lowestActivation ??= []).push(Math.min(...acts));
      const imageBound = s.imageActivationFraction * u.activation[0];
      (u.weakImages ??= []).push(s.imageActivationFraction > 0 ? acts.filter((x) => !(x >= imageBound)).length : 0);
      u.distance.push(m.minDistance[k]);
      u.steps.push(res.steps[k]);
      u.silentStarts.push(silent.filter((r) => Math.floor(r / n) === k).length);
      const phases = setup.phaseCell ? cellPhasesDeg(pixels, n, side) : null;
      if (phases) (u.phases ??= []).push(phases);
      if (qualifiesForLambdaStar(li, u.activation, setup.tau, perImage(s, u))) u.star = { index: li, pixels: encodeFloat32(pixels) };
      const unit = { layer: setup.layerName, channel: u.channel };
      ctx.emitResult(
        diverseKey('lambda', { ...unit, lambdaIndex: li }),
        checkResult(diverseResults, 'lambda', {
          layer: setup.layerName,
          channel: u.channel,
          lambdaIndex: li,
          lambda,
          activation: a,
          activations: acts,
          distance: m.minDistance[k],
          distances: m.distances[k],
          steps: res.steps[k],
          ...(phases ? { phasesDeg: phases } : {}),
          clippedFraction: clippedFraction(pixels),
        }),
        Array.from({ length: n }, (_, i) => toImage(`lambda-${lambda}/img-${i}`, pixels.subarray(i * size, (i + 1) * size), side, side)),
      );
      ctx.emitResult(diverseKey('unit', unit), checkResult(diverseResults, 'unit', summary(setup, s, u, false)));
    });
    return true;
  } finally {
    images.dispose();
  }
}

/** Indices and final summaries of a batch once every lambda is done; the summary rows, null when cancelled. */
async function finishUnits(
  setup: Setup,
  s: DiverseSettings,
  ctx: RunContext,
  units: UnitState[],
  progress: (step: number, text: string) => void,
): Promise<SummaryRow[] | null> {
  const { model, side, norm, mean } = setup;
  const n = s.images;
  const channels = units.map((u) => u.channel);
  const spec: UnitSpec = { ...setup.spec, channels };
  const size = side * side * 3;
  const all = new Float32Array(units.length * n * size);
  units.forEach((u, k) => all.set(decodeFloat32(u.star.pixels), k * n * size));
  const indices = s.indices ? await computeIndices() : null;
  if (s.indices && indices === null) return null;
  return units.map((u, k) => {
    const images = Array.from({ length: n }, (_, i) => toImage(`lambda-star/img-${i}`, all.subarray((k * n + i) * size, (k * n + i + 1) * size), side, side));
    const data = summary(setup, s, u, true);
    if (indices) {
      Object.assign(data, {
        shiftInvariance: indices.si[k],
        linearCombination: indices.lc[k],
        templateActivation: indices.templateActivation[k],
        textureActivation: indices.textureActivation[k],
        pairActivation: indices.pairActivation[k],
        textureSteps: indices.textureSteps[k],
        textureCrops: indices.crops,
        textureCropStride: s.textureCropStride,
        textureCropsPerStep: s.textureCropsPerStep,
      });
      images.push(toImage('texture', indices.textures[k], indices.textureSide, indices.textureSide));
    }
    ctx.emitResult(diverseKey('unit', { layer: setup.layerName, channel: u.channel }), checkResult(diverseResults, 'unit', data), images);
    return {
      layer: setup.layerName,
      channel: u.channel,
      lambdaStar: data.lambdaStar as number,
      diversityRatio: data.diversityRatio as number | null,
      diversityRatioRaw: data.diversityRatioRaw as number | null,
      shiftInvariance: indices?.si[k] ?? null,
      linearCombination: indices?.lc[k] ?? null,
    };
  });

  async function computeIndices(): Promise<BatchIndices | null> {
    const templates = tf.tensor4d(all, [units.length * n, side, side, 3]);
    try {
      const templateActivation = Array.from(
        await take(tf.tidy(() => tf.mean(tf.reshape(unitActivations(model.forward(templates, [spec.layer])[spec.layer], spec), [units.length, n]), 1))),
      );
      const pairActivation = await pairAverageActivation(model, spec, templates, norm, mean);
      const tex = await optimizeTextures(
        model,
        { layer: spec.layer, channels, position: spec.position, rf: spec.rf, inputSide: side },
        {
          rf: side,
          stride: s.textureCropStride,
          norm,
          meanPixel: mean,
          seeds: channels.map((c) => deriveSeed(ctx.seed, c, 'texture')),
          tangentGradient: s.tangentGradient,
          cropsPerStep: s.textureCropsPerStep,
        },
        setup.preActivationLayer,
        setup.optimizer,
        { cancelled: ctx.cancelled, onStep: (step, _v, running) => progress(step, `texture: step ${step}, ${running}/${units.length} units running`) },
      );
      if (tex.cancelled) return null;
      return {
        si: tex.cropActivation.map((a, k) => activationRatio(a, templateActivation[k])),
        lc: pairActivation.map((a, k) => activationRatio(a, templateActivation[k])),
        textureActivation: tex.cropActivation,
        pairActivation,
        templateActivation,
        textures: tex.textures,
        textureSide: tex.side,
        crops: tex.cropsPerTexture,
        textureSteps: tex.steps,
      };
    } finally {
      templates.dispose();
    }
  }
}

/** The per-image condition of lambda* for a unit (none when the fraction is 0). */
function perImage(s: DiverseSettings, u: UnitState): PerImageCondition | undefined {
  return s.imageActivationFraction > 0 ? { lowest: u.lowestActivation ?? [], fraction: s.imageActivationFraction } : undefined;
}

/** The per-unit record: curves so far, lambda*, the diversity ratio and the distance scale. */
function summary(setup: Setup, s: DiverseSettings, u: UnitState, complete: boolean): z.input<typeof diverseUnitData> {
  const lambdas = s.lambdas.slice(0, u.activation.length);
  const star = chooseLambdaStar(lambdas, u.activation, setup.tau, perImage(s, u));
  const a0 = u.activation[0];
  const d0 = u.distance[0];
  // The diversity ratio's floor (METHODS §2): the noise distance, the mean pairwise distance in the
  // distance layer of the n starting white-noise images at the template norm, i.e. the distance
  // of unrelated images of the same norm measured the same way as D. Images closer than that at
  // lambda = 0 have collapsed onto one optimum, and D(0) then only says how precisely (the
  // complex cell: D(0) = 1.5e-6, raw ratio 3.6e6). Counting both D(0) and D(lambda*) at least as
  // the floor makes the ratio "how much more diverse than at lambda = 0" on the scale the distance
  // layer resolves: 1 when both sets collapsed (the simple cell), D(lambda*) / noise distance when
  // only the lambda = 0 images did (the complex cell), the raw ratio when D(0) is above the floor.
  const floor = s.diversityFloor > 0 && u.noiseDistance !== null ? s.diversityFloor * u.noiseDistance : null;
  const lowest = u.lowestActivation ?? [];
  return {
    layer: setup.layerName,
    channel: u.channel,
    modelId: s.modelId,
    randomWeightsSeed: s.randomWeightsSeed,
    complete,
    lambdas,
    activation: u.activation,
    distance: u.distance,
    steps: u.steps,
    silentStarts: u.silentStarts,
    normalizedActivation: u.activation.map((a) => (a0 !== 0 ? a / a0 : null)),
    normalizedDistance: u.distance.map((d) => (d0 > 0 ? d / d0 : null)),
    tau: setup.tau,
    threshold: star.threshold,
    lambdaStar: star.lambda,
    lambdaStarIndex: star.index,
    lowestActivation: lowest,
    weakImages: u.weakImages ?? [],
    imageActivationFraction: s.imageActivationFraction,
    imageThreshold: star.imageThreshold,
    // Images at lambda* below the per-image bound: none unless lambda* = 0 itself has one.
    weakImagesAtStar: star.imageThreshold === null ? null : (u.weakImages?.[star.index] ?? null),
    diversityRatio: flooredDiversityRatio(u.distance[star.index], d0, floor),
    diversityRatioRaw: diversityRatio(u.distance[star.index], d0),
    diversityFloor: floor,
    noiseDistance: u.noiseDistance,
    // The scale of lambda where diversity starts to weigh like activation: the summed activation
    // of the n images at lambda = 0 per unit of distance between noise images (D grows with the
    // size of the distance layer, so trained layers need lambdas far from the cell models').
    lambdaScale: u.noiseDistance ? (s.images * a0) / u.noiseDistance : null,
    distanceLayer: setup.distanceLayer,
    imageNorm: setup.norm,
    prior: setup.prior ? { name: setup.prior.name, alpha: s.priorAlpha } : null,
    ...(u.phases ? { phasesDeg: u.phases, phasesAtStar: u.phases[star.index] } : {}),
  };
}

interface BatchIndices {
  si: (number | null)[];
  lc: (number | null)[];
  templateActivation: number[];
  textureActivation: number[];
  pairActivation: number[];
  textures: Float32Array[];
  textureSide: number;
  crops: number;
  textureSteps: number[];
}

interface Measurement {
  activations: number[];
  minDistance: number[];
  meanDistance: number[];
  /** Pairwise distance matrices, one n x n per unit. */
  distances: number[][][];
  pixels: Float32Array;
}

/** Activations and distances of a batch of images (pixels are disposed here). */
async function measure(setup: Setup, spec: UnitSpec, pixels: tf.Tensor4D): Promise<Measurement> {
  try {
    const n = spec.imagesPerGroup;
    const [activations, minDistance, meanDistance, distances] = tf.tidy(() => {
      const layers = [spec.layer, ...(setup.distanceLayer === PIXELS ? [] : [setup.distanceLayer])];
      const acts = setup.model.forward(pixels, layers);
      const d = pairwiseDistances(distanceFeatures({ acts, pixels }, setup.distanceLayer), n);
      const offDiagonal = tf.sub(1, tf.eye(n));
      return [unitActivations(acts[spec.layer], spec), minPairwiseDistance(d), tf.div(tf.sum(tf.mul(d, offDiagonal), [1, 2]), n * (n - 1)), d];
    });
    const matrices = Array.from(await take(distances));
    const groups = matrices.length / (n * n);
    return {
      activations: Array.from(await take(activations)),
      minDistance: Array.from(await take(minDistance)),
      meanDistance: Array.from(await take(meanDistance)),
      distances: Array.from({ length: groups }, (_, g) => Array.from({ length: n }, (_, i) => matrices.slice((g * n + i) * n, (g * n + i + 1) * n))),
      pixels: (await pixels.data()) as Float32Array,
    };
  } finally {
    pixels.dispose();
  }
}

function clippedFraction(pixels: Float32Array): number {
  let c = 0;
  for (const v of pixels) if (v < 0 || v > 255) c++;
  return c / pixels.length;
}

function toImage(name: string, pixels: ArrayLike<number>, width: number, height: number): ImageOut {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.min(255, Math.max(0, Math.round(pixels[i])));
  return { name, width, height, rgb };
}
