// Shape tuning of the central unit of every channel of chosen layers (METHODS §9–10): responses
// to the Pasupathy & Connor shapes placed on the unit's RF centre, APC fits with the shuffled
// and random-weights controls, response distributions for large and dim shapes, and the
// translation-invariance sweep; optionally the responses to natural images. One result per
// layer, emitted as soon as the layer is done, then a `summary` (per-layer medians) that the
// CLI prints as a table.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import { take } from '../read';
import { checkResult } from '../../../shared/analyses/result-contract';
import { shapesKey, shapesResults, type ShapesSettings } from '../../../shared/analyses/shapes';
import type { LayerInfo } from '../../../shared/domain';
import { encodeFloat32 } from '../../../shared/float-codec';
import { apcModelParams, apcPredictionMatrix, selectStimuli } from '../../../shared/math/apc';
import { SHAPE_COUNT, STANDARD_SET_INDICES, renderShape, renderStimuli, setReach, setScale, type Polygon } from '../../../shared/math/shapes';
import {
  insideRf,
  positionCorrelationProfile,
  positionSweep,
  rfProfile,
  translationInvariance,
  type SweepPosition,
} from '../../../shared/math/translation';
import { yieldToEvents, type EngineAnalysis, type ImageOut, type RunContext } from '../analysis';
import { ApcFitter, type ApcFitResults } from '../apc-fit';
import { centreCrop, loadImageBatch, resizeBilinear, type RgbImage } from '../images';
import { findLayer, type NetworkModel } from '../model';
import { shippedApcPoints, shippedShapes } from '../shape-data';
import { median } from '../../../shared/math/stats';

interface Checkpoint {
  /** Result keys already emitted (`stimuli`, `layer/<name>`). */
  done: string[];
  /** Per-layer medians of the layers done, for the summary. */
  medians: Record<string, LayerMedians>;
}

interface LayerMedians {
  apcR: number | null;
  shuffledR: number | null;
  randomWeightsR: number | null;
  ti: number | null;
  naturalToShapeRatio: number | null;
}

/** A layer's central unit and where its RF centre falls in an input image of a given side. */
interface Probe {
  side: number;
  row: number;
  col: number;
  channels: number;
  centre: { x: number; y: number };
}

/** Stimulus look, as in the settings. */
interface Look {
  sizePx: number;
  intensity: number;
}

export const shapesAnalysis: EngineAnalysis<ShapesSettings> = {
  kind: 'shapes',
  async run(s, ctx) {
    const model = await ctx.loadModel(s.modelId);
    const untrained = s.randomWeightsControl ? model.withRandomWeights(ctx.seed) : null;
    let fitter: ApcFitter | null = null;
    try {
      const layers = s.layers.map((name) => findLayer(model, name));
      for (const l of layers) if (!l.rf) throw new Error(`layer ${l.name} has no spatial layout; the shape analysis needs a convolutional layer`);
      const indices = s.stimulusSet === 'standard' ? STANDARD_SET_INDICES : Array.from({ length: SHAPE_COUNT }, (_, i) => i);
      const shapes = shippedShapes();
      const resumed = ctx.resumeFrom as Partial<Checkpoint> | null;
      const done = new Set(resumed?.done ?? []);
      const medians: Record<string, LayerMedians> = { ...resumed?.medians };
      const mark = (key: string) => {
        done.add(key);
        ctx.checkpoint({ done: [...done], medians } satisfies Checkpoint);
      };
      const natural = s.naturalImages ? await naturalImageViews(s.naturalImages, s.naturalImageLimit, model.inputConvention.inputSize) : null;

      const stimuliKey = shapesKey('stimuli');
      if (!done.has(stimuliKey)) {
        ctx.emitResult(
          stimuliKey,
          checkResult(shapesResults, 'stimuli', { indices: [...indices], size: s.size, intensity: s.intensity, background: s.background, antialias: s.antialias }),
          thumbnails(shapes, indices, s),
        );
        mark(stimuliKey);
      }
      const steps = layers.length;
      for (const [k, layer] of layers.entries()) {
        const key = shapesKey('layer', { layer: layer.name });
        if (done.has(key)) continue;
        ctx.progress(k, steps, `layer ${layer.name}`);
        if (ctx.cancelled()) return;
        fitter ??= new ApcFitter(apcPredictionMatrix(selectStimuli(shippedApcPoints(), indices)));
        const data = await measureLayer(layer, model, untrained, fitter, shapes, indices, natural, s, ctx);
        if (!data) return; // cancelled
        // Built field by field as the settings ask; the contract checks it whole.
        ctx.emitResult(key, checkResult(shapesResults, 'layer', data as z.input<typeof shapesResults.layer.data>));
        medians[layer.name] = data.medians as LayerMedians;
        mark(key);
      }
      ctx.emitResult(shapesKey('summary'), checkResult(shapesResults, 'summary', summaryTable(s.layers, medians)));
      ctx.progress(steps, steps);
    } finally {
      fitter?.dispose();
      untrained?.dispose();
      model.dispose();
    }
  },
};

/** Everything measured for one layer; null when the run was cancelled part-way. */
async function measureLayer(
  layer: LayerInfo,
  model: NetworkModel,
  untrained: NetworkModel | null,
  fitter: ApcFitter,
  shapes: Polygon[],
  indices: readonly number[],
  natural: RgbImage[] | null,
  s: ShapesSettings,
  ctx: RunContext,
): Promise<Record<string, unknown> | null> {
  const rf = layer.rf!;
  const standard: Look = { sizePx: s.size, intensity: s.intensity };
  // The image holds the unit's whole RF and the whole stimulus (a padded network's central unit
  // then sees exactly what it would inside a larger image).
  const sideFor = (sizePx: number) => Math.max(rf.size, Math.ceil(sizePx) + 2);
  const probe = probeLayer(model, layer, sideFor(s.size));
  const collect = (net: NetworkModel, look: Look, p: Probe, at?: SweepPosition) =>
    centralResponses(net, layer.name, p, renderStimuli(shapes, stimulusOptions(s, look, p, at), indices), indices.length, s.batchSize, ctx);

  const blank = await centralResponses(model, layer.name, probe, new Float32Array(probe.side * probe.side).fill(s.background), 1, 1, ctx);
  const responses = await collect(model, standard, probe);
  if (!blank || !responses) return null;
  const C = probe.channels;
  const apc = await fitter.fit(responses, C);
  const out: Record<string, unknown> = {
    layer: layer.name,
    channels: C,
    stimuli: indices.length,
    unit: { row: probe.row, col: probe.col },
    rf: { size: rf.size, centre: probe.centre },
    imageSide: probe.side,
    blank: Array.from(blank),
    responses: encodeFloat32(responses), // [stimulus, channel]
    apc: apcSummary(apc),
  };
  if (s.shuffledControl) out.shuffled = apcSummary(await fitter.fitShuffled(responses, C, ctx.seed));
  let untrainedProbe: Probe | null = null;
  let untrainedResponses: Float32Array | null = null;
  if (untrained) {
    untrainedProbe = probeLayer(untrained, layer, probe.side);
    const r = await collect(untrained, standard, untrainedProbe);
    if (!r) return null;
    untrainedResponses = r;
    out.randomWeights = apcSummary(await fitter.fit(r, C));
  }
  if (s.distributions) {
    const large = await collect(model, { sizePx: s.largeSize, intensity: s.intensity }, probeLayer(model, layer, sideFor(s.largeSize)));
    const dim = await collect(model, { sizePx: s.size, intensity: s.dimIntensity }, probe);
    if (!large || !dim) return null;
    out.distributions = { large: encodeFloat32(large), dim: encodeFloat32(dim), largeSize: s.largeSize, dimIntensity: s.dimIntensity };
  }
  let ratio: Float32Array | null = null;
  if (natural) {
    const r = await centralResponses(model, layer.name, probe, naturalPatches(natural, probe.side), natural.length, s.batchSize, ctx, 3);
    if (!r) return null;
    ratio = naturalToShapeRatio(r, responses, C);
    out.natural = { count: natural.length, responses: encodeFloat32(r), ratio: encodeFloat32(ratio) };
  }
  if (s.translation) {
    const sweep = await translationSweep(model, probe, blank, responses, layer, shapes, indices, s, ctx);
    if (sweep === null) return null;
    out.translation = sweep;
    if (untrained && untrainedProbe && untrainedResponses && 'ti' in sweep) {
      const uBlank = await centralResponses(untrained, layer.name, untrainedProbe, new Float32Array(probe.side ** 2).fill(s.background), 1, 1, ctx);
      const control = uBlank && (await translationSweep(untrained, untrainedProbe, uBlank, untrainedResponses, layer, shapes, indices, s, ctx));
      if (!control) return null;
      if ('ti' in control) out.randomWeightsTranslation = { ti: control.ti, medianTi: control.medianTi };
    }
  }
  out.medians = {
    apcR: (out.apc as ApcSummary).medianR,
    shuffledR: (out.shuffled as ApcSummary | undefined)?.medianR ?? null,
    randomWeightsR: (out.randomWeights as ApcSummary | undefined)?.medianR ?? null,
    ti: (out.translation as { medianTi?: number } | undefined)?.medianTi ?? null,
    naturalToShapeRatio: ratio ? median(ratio) : null,
  } satisfies LayerMedians;
  return out;
}

interface ApcSummary {
  r: string;
  model: number[];
  params: { muA: string; sigmaA: string; muC: string; sigmaC: string };
  medianR: number | null;
}

function apcSummary(fit: ApcFitResults): ApcSummary {
  const model = Array.from(fit.model);
  const params = model.map((m) => (m >= 0 ? apcModelParams(m) : { muA: NaN, sigmaA: NaN, muC: NaN, sigmaC: NaN }));
  const col = (k: 'muA' | 'sigmaA' | 'muC' | 'sigmaC') => encodeFloat32(params.map((p) => p[k]));
  return { r: encodeFloat32(fit.r), model, params: { muA: col('muA'), sigmaA: col('sigmaA'), muC: col('muC'), sigmaC: col('sigmaC') }, medianR: median(fit.r) };
}

/**
 * The sweep through the RF centre, over the positions where every stimulus lies wholly inside
 * the RF (the only ones TI uses). Fewer than two such positions (an RF smaller than the
 * stimuli) gives a reason instead of numbers. `atCentre` (the responses to the shapes at the RF
 * centre, already measured) stands in for the sweep position at the centre.
 */
async function translationSweep(
  model: NetworkModel,
  probe: Probe,
  blank: Float32Array,
  atCentre: Float32Array,
  layer: LayerInfo,
  shapes: Polygon[],
  indices: readonly number[],
  s: ShapesSettings,
  ctx: RunContext,
): Promise<Record<string, unknown> | { reason: string } | null> {
  const rfSize = layer.rf!.size;
  const all = positionSweep({ centre: probe.centre, step: s.step, halfSpan: rfSize / 2, direction: s.direction });
  const keep = insideRf(all, setReach(shapes, setScale(shapes, s.size)), probe.centre, rfSize);
  const positions = thinSweep(all.filter((_, k) => keep[k]), s.maxPositions);
  if (positions.length < 2) return { reason: `fewer than two positions keep every ${s.size} px shape inside the ${rfSize} px RF` };
  const S = indices.length;
  const C = probe.channels;
  const data = new Float32Array(positions.length * S * C);
  for (const [k, p] of positions.entries()) {
    if (p.dx === 0 && p.dy === 0) {
      data.set(atCentre, k * S * C);
      continue;
    }
    const r = await centralResponses(model, layer.name, probe, renderStimuli(shapes, stimulusOptions(s, { sizePx: s.size, intensity: s.intensity }, probe, p), indices), S, s.batchSize, ctx);
    if (!r) return null;
    data.set(r, k * S * C);
  }
  const sweep = { data, positions: positions.length, stimuli: S, units: C };
  const ti = translationInvariance(sweep);
  const nearest = positions.reduce((best, p, k) => (Math.hypot(p.dx, p.dy) < Math.hypot(positions[best].dx, positions[best].dy) ? k : best), 0);
  return {
    direction: s.direction,
    step: s.step,
    positions: positions.map((p) => ({ dx: p.dx, dy: p.dy })),
    centreIndex: nearest,
    ti: encodeFloat32(ti),
    medianTi: median(ti),
    rfProfile: encodeFloat32(rfProfile(sweep, blank)), // [channel, position]
    positionCorrelation: encodeFloat32(positionCorrelationProfile(sweep, nearest)), // [channel, position]
  };
}

function stimulusOptions(s: ShapesSettings, look: Look, p: Probe, at?: SweepPosition) {
  const { x, y } = at ?? p.centre;
  return { sizePx: look.sizePx, intensity: look.intensity, background: s.background, antialias: s.antialias, width: p.side, height: p.side, x, y };
}

/** The layer's output for an image of `side`: its central unit and that unit's RF centre. */
function probeLayer(model: NetworkModel, layer: LayerInfo, side: number): Probe {
  const shape = tf.tidy(() => model.forward(tf.zeros([1, side, side, 3]) as tf.Tensor4D, [layer.name])[layer.name].shape);
  if (shape.length !== 4) throw new Error(`layer ${layer.name} gives output of shape [${shape}], not NHWC`);
  const [, h, w, c] = shape;
  const row = Math.floor(h / 2);
  const col = Math.floor(w / 2);
  const rf = layer.rf!;
  return { side, row, col, channels: c, centre: { x: rf.offset + col * rf.jump, y: rf.offset + row * rf.jump } };
}

/**
 * Responses [image, channel] of the central unit to images [image, side, side, planes]: greyscale
 * (1 plane, copied to the three colour channels) or RGB (3). The model applies its input
 * convention. Null when the run is cancelled.
 */
async function centralResponses(
  model: NetworkModel,
  layer: string,
  p: Probe,
  grey: Float32Array,
  count: number,
  batchSize: number,
  ctx: RunContext,
  planes: 1 | 3 = 1,
): Promise<Float32Array | null> {
  const plane = p.side * p.side * planes;
  const out = new Float32Array(count * p.channels);
  for (let start = 0; start < count; start += batchSize) {
    if (ctx.cancelled()) return null;
    const n = Math.min(batchSize, count - start);
    const values = await take(
      tf.tidy(() => {
        const img = tf.tensor4d(grey.subarray(start * plane, (start + n) * plane), [n, p.side, p.side, planes]);
        const act = model.forward((planes === 1 ? tf.tile(img, [1, 1, 1, 3]) : img) as tf.Tensor4D, [layer])[layer];
        return tf.slice(act, [0, p.row, p.col, 0], [n, 1, 1, p.channels]);
      }),
    );
    out.set(values, start * p.channels);
    await yieldToEvents();
  }
  return out;
}

/** The stimuli as the run presents them, cropped to the stimulus, for browsing. */
function thumbnails(shapes: Polygon[], indices: readonly number[], s: ShapesSettings): ImageOut[] {
  const side = Math.ceil(s.size) + 4;
  const scale = setScale(shapes, s.size);
  return indices.map((i) => {
    const grey = renderShape(shapes[i], { width: side, height: side, scale, intensity: s.intensity, background: s.background, antialias: s.antialias });
    const rgb = new Uint8Array(side * side * 3);
    grey.forEach((v, k) => rgb.fill(Math.round(Math.min(255, Math.max(0, v))), 3 * k, 3 * k + 3));
    return { name: `shape-${i}`, width: side, height: side, rgb };
  });
}

/**
 * At most `max` sweep positions (all when max is null), evenly spaced from the first to the
 * last, with the one nearest the RF centre always among them: its responses are already known,
 * so a thinned sweep costs one stimulus set less.
 */
function thinSweep(positions: SweepPosition[], max: number | null): SweepPosition[] {
  if (max === null || positions.length <= max) return positions;
  const dist = (k: number) => Math.hypot(positions[k].dx, positions[k].dy);
  const centre = positions.reduce((best, _, k) => (dist(k) < dist(best) ? k : best), 0);
  const stride = (positions.length - 1) / (max - 1);
  const picked = Array.from({ length: max }, (_, i) => Math.round(i * stride));
  if (!picked.includes(centre)) {
    const nearest = picked.reduce((best, k, i) => (Math.abs(k - centre) < Math.abs(picked[best] - centre) ? i : best), 0);
    picked[nearest] = centre;
  }
  return [...new Set(picked)].sort((a, b) => a - b).map((k) => positions[k]);
}

/**
 * The folder's JPEG/PNG images (name order, at most `limit`) in the model's evaluation view:
 * short side to 256/224 of the input size, central input-size square, i.e. at the scale the
 * network sees photos.
 */
async function naturalImageViews(folder: string, limit: number | null, inputSize: number): Promise<RgbImage[]> {
  let names: string[];
  try {
    names = (await readdir(folder)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
  } catch (err) {
    throw new Error(`natural images: cannot read the folder ${folder}: ${(err as Error).message}`, { cause: err });
  }
  if (names.length === 0) throw new Error(`natural images: no JPEG or PNG files in ${folder}`);
  const files = names.slice(0, limit ?? names.length).map((f) => path.join(folder, f));
  const batch = await loadImageBatch(files, Math.round((inputSize * 256) / 224), inputSize);
  const size = inputSize * inputSize * 3;
  return files.map((_, i) => ({ width: inputSize, height: inputSize, data: batch.data.subarray(i * size, (i + 1) * size) }));
}

/**
 * The central side×side patch of every view (where the central unit looks), as [image, side,
 * side, 3]; views smaller than the patch are enlarged to it.
 */
function naturalPatches(views: RgbImage[], side: number): Float32Array {
  const out = new Float32Array(views.length * side * side * 3);
  views.forEach((v, i) => {
    const patch = v.width >= side ? centreCrop(v, side) : resizeBilinear(v, side, side);
    out.set(patch.data, i * side * side * 3);
  });
  return out;
}

/** Per unit: its largest response to natural images over its largest response to shapes. */
function naturalToShapeRatio(natural: Float32Array, shapes: Float32Array, channels: number): Float32Array {
  const maxOver = (r: Float32Array) => {
    const m = new Float32Array(channels).fill(-Infinity);
    for (let i = 0; i < r.length; i++) m[i % channels] = Math.max(m[i % channels], r[i]);
    return m;
  };
  const n = maxOver(natural);
  const sh = maxOver(shapes);
  // A unit that never responds to shapes has no finite ratio (NaN, left out of the median).
  return n.map((v, c) => (sh[c] > 0 ? v / sh[c] : NaN));
}

/** Per layer medians as a table (rows in the order of the settings), for the CLI and the summary view. */
function summaryTable(layers: readonly string[], medians: Record<string, LayerMedians>) {
  const columns = ['layer', 'apcR', 'ti', 'shuffledR', 'randomWeightsR', 'naturalToShapeRatio'] as const;
  const labels = { layer: 'layer', apcR: 'median APC r', ti: 'median TI', shuffledR: 'shuffled r', randomWeightsR: 'random-weights r', naturalToShapeRatio: 'natural/shape' };
  return {
    columns: [...columns],
    labels,
    table: layers.filter((l) => medians[l]).map((l) => ({ layer: l, ...medians[l] })),
  };
}
