// Residual-stream scale invariance (METHODS §7): for every channel of the chosen blocks, the
// central-neuron visualizations X_In and X_Pre, the zoom S(X_In), both criteria with all their
// numbers, and per block the list of passing channels with counts and percentages.
import * as tf from '@tensorflow/tfjs';
import { datasetScanSettings } from '../../../shared/analyses/dataset-scan';
import { transformsFor } from '../../../shared/analyses/feature-vis';
import { checkResult } from '../../../shared/analyses/result-contract';
import { scaleInvarianceKey, scaleInvarianceResults, type ScaleInvarianceSettings } from '../../../shared/analyses/scale-invariance';
import { yieldToEvents, type EngineAnalysis, type ImageOut, type RunContext } from '../analysis';
import { visualizeChannels, type LucidObjectiveKind, type LucidResult } from '../fv/lucid';
import { datasetScan } from './dataset-scan';
import { zoomCentre } from '../fv/resample';
import type { NetworkModel } from '../model';
import { findBlock, findResidualBlocks, roleLayer, type BlockRole, type ResidualBlock } from '../residual/blocks';
import { criteriaForChannels } from '../residual/criteria';
import { chunks, imagesOut } from '../residual/images-out';

interface BlockProgress {
  done: number[];
  passing: number[];
  /** Channels not judged: X_In or X_Pre at or below the silent floor (absent in older checkpoints). */
  silent?: number[];
  criterion1: number;
  criterion2: number;
}

interface Checkpoint {
  blocks: Record<string, BlockProgress>;
}

const ROLES: readonly BlockRole[] = ['in', 'pre', 'post'];

export const scaleInvariance: EngineAnalysis<ScaleInvarianceSettings> = {
  kind: 'scale-invariance',
  async run(s, ctx) {
    const model = await ctx.loadModel(s.modelId);
    try {
      if (s.blocks.length === 0) {
        const known = findResidualBlocks(model).map((b) => b.name);
        throw new Error(`scale invariance: choose at least one residual block (${model.name} has: ${known.join(', ') || 'none'})`);
      }
      const blocks = s.blocks.map((name) => findBlock(model, name));
      const saved = (ctx.resumeFrom as Checkpoint | null)?.blocks ?? {};
      const total = blocks.reduce((n, b) => n + channelsOf(b, s).length, 0);
      let finished = Object.values(saved).reduce((n, p) => n + p.done.length, 0);
      for (const block of blocks) {
        const channels = channelsOf(block, s);
        const progress: BlockProgress = saved[block.name] ?? { done: [], passing: [], criterion1: 0, criterion2: 0 };
        saved[block.name] = progress;
        const layers = Object.fromEntries(ROLES.map((r) => [r, roleLayer(block, r, { in: s.inRelu, post: s.postRelu })])) as Record<BlockRole, string>;
        const todo = channels.filter((c) => !progress.done.includes(c));
        for (const batch of chunks(todo, s.batchSize)) {
          if (ctx.cancelled()) return;
          const vis = async (role: BlockRole, objective: LucidObjectiveKind) => {
            const r = await visualizeChannels(model, {
              layer: layers[role],
              channels: batch,
              objective,
              size: s.size,
              steps: s.steps,
              learningRate: s.learningRate,
              transforms: transformsFor(s, layers[role], block.name),
              seed: ctx.seed + batch[0] * 31 + ROLES.indexOf(role) * 7 + (objective === 'channel' ? 3 : 0),
              silentStartRedraws: s.silentStartRedraws,
              cancelled: ctx.cancelled,
              onStep: (step) => {
                if (step % 16 === 0) ctx.progress(finished, total, `${block.name}: ${role} ${objective} visualizations of channels ${batch[0]}..${batch.at(-1)}, step ${step}/${s.steps}`);
              },
            });
            return r;
          };
          const kinds: [BlockRole, LucidObjectiveKind][] = [['in', 'neuron'], ['pre', 'neuron']];
          if (s.galleryVisualizations) kinds.push(['post', 'neuron'], ['in', 'channel'], ['pre', 'channel'], ['post', 'channel']);
          const made: LucidResult[] = [];
          try {
            for (const [role, objective] of kinds) {
              made.push(await vis(role, objective));
              if (made.at(-1)!.cancelled) return;
            }
            const [xIn, xPre] = made;
            const values = await criteriaForChannels(
              model,
              { in: layers.in, pre: layers.pre, post: layers.post },
              batch,
              xIn.images,
              xPre.images,
              s.silentActivation,
            );
            const zoomed = zoomCentre(xIn.images);
            const images = [...made.map((r) => r.images), zoomed];
            const names = ['in-neuron', 'pre-neuron', ...(s.galleryVisualizations ? ['post-neuron', 'in-channel', 'pre-channel', 'post-channel'] : []), 'in-zoomed'];
            const perImage = await Promise.all(images.map((t, k) => imagesOut(t, batch.map(() => names[k]))));
            zoomed.dispose();
            batch.forEach((c, i) => {
              const v = values[i];
              const activations = Object.fromEntries(made.map((r, k) => [names[k], r.activations[i]]));
              // Visualizations whose start was silent (redrawn or woken), and those that stayed silent.
              const silentStarts = Object.fromEntries(
                made.map((r, k) => [names[k], r.silentStarts.includes(c) ? 'silent' : r.silentStartsRedrawn.includes(c) ? 'redrawn' : 'ok']),
              );
              const imgs: ImageOut[] = perImage.map((p) => p[i]);
              ctx.emitResult(
                scaleInvarianceKey('channel', { block: block.name, channel: c }),
                checkResult(scaleInvarianceResults, 'channel', { block: block.name, channel: c, layers, ...v, silentActivation: s.silentActivation, activations, silentStarts, steps: s.steps, size: s.size }),
                imgs,
              );
              progress.done.push(c);
              if (v.silent) (progress.silent ??= []).push(c);
              if (v.scaleInvariant) progress.passing.push(c);
              if (v.criterion1) progress.criterion1++;
              if (v.criterion2) progress.criterion2++;
            });
          } finally {
            tf.dispose(made.map((r) => r.images));
          }
          finished += batch.length;
          ctx.progress(finished, total, `${block.name}: ${progress.done.length}/${channels.length} channels`);
          ctx.checkpoint({ blocks: saved } satisfies Checkpoint);
          await yieldToEvents();
        }
        emitBlockSummary(ctx, model, block, layers, channels.length, progress);
      }
    } finally {
      model.dispose();
    }
    if (s.images && !ctx.cancelled()) {
      // The gallery's third row: the top-9 images of each central neuron, stored with this run.
      const scan = datasetScanSettings.parse({ modelId: s.modelId, images: s.images, blocks: s.blocks, inRelu: s.inRelu, postRelu: s.postRelu, bottomK: 0 });
      await datasetScan.run(scan, ctx);
    }
  },
};

function channelsOf(b: ResidualBlock, s: ScaleInvarianceSettings): number[] {
  if (!s.channels) return Array.from({ length: b.channels }, (_, i) => i);
  const bad = s.channels.find((c) => c >= b.channels);
  if (bad !== undefined) throw new Error(`block ${b.name} has ${b.channels} channels, no channel ${bad}`);
  return s.channels;
}

function emitBlockSummary(
  ctx: RunContext,
  model: NetworkModel,
  block: ResidualBlock,
  layers: Record<BlockRole, string>,
  tested: number,
  p: BlockProgress,
): void {
  const passing = [...p.passing].sort((a, b) => a - b);
  const silent = [...(p.silent ?? [])].sort((a, b) => a - b);
  // Percentages are of the tested channels, silent ones included (they are not passing).
  const pct = (n: number) => (tested ? (100 * n) / tested : 0);
  ctx.emitResult(scaleInvarianceKey('block', { block: block.name }), checkResult(scaleInvarianceResults, 'block', {
    model: model.name,
    block: block.name,
    layers,
    channels: block.channels,
    tested,
    passing,
    count: passing.length,
    percent: pct(passing.length),
    silent,
    silentCount: silent.length,
    judged: tested - silent.length,
    criterion1Count: p.criterion1,
    criterion1Percent: pct(p.criterion1),
    criterion2Count: p.criterion2,
    criterion2Percent: pct(p.criterion2),
  }));
}
