// Mean-ablation under scale transforms (METHODS §8): the block's scale-invariant channels ablated
// together, against screened random sets of as many other channels, top-1 at every scale, and the
// ratio invariant / random with its standard error over the accepted random sets.
import { ablationKey, ablationResults, type AblationSettings } from '../../../shared/analyses/ablation';
import { checkResult } from '../../../shared/analyses/result-contract';
import { mulberry32 } from '../../../shared/math/random';
import type { EngineAnalysis } from '../analysis';
import { AblationExperiment, meanAndSe } from '../residual/ablation';
import { findBlock } from '../residual/blocks';
import { labelsFromCsv, labelsFromNames } from '../residual/labelled-images';

interface Trial {
  channels: number[];
  /** Top-1 in percent per scale, in the order of `scales`. */
  top1: number[];
}

interface Checkpoint {
  draws: number;
  tolerance: number;
  screened: { channels: number[]; top1: number }[];
  accepted: Trial[];
}

/** `count` distinct channels from `pool`, from the draw's own seed (so draws can be resumed). */
function drawSet(pool: readonly number[], count: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const xs = [...pool];
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rand() * (xs.length - i));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs.slice(0, count).sort((a, b) => a - b);
}

export const ablation: EngineAnalysis<AblationSettings> = {
  kind: 'ablation',
  async run(s, ctx) {
    if (!s.images) throw new Error('ablation: no folder of evaluation images given');
    if (!s.channels || s.channels.length === 0) {
      throw new Error(`ablation of block ${s.block}: no channels given and no scale-invariant channels known (run scale-invariance on the block first)`);
    }
    const scales = [...new Set([0, ...s.scales])].sort((a, b) => a - b);
    const invariant = [...new Set(s.channels)].sort((a, b) => a - b);
    const images = s.labels ? labelsFromCsv(s.labels, s.images) : labelsFromNames(s.images);
    const model = await ctx.loadModel(s.modelId);
    let exp: AblationExperiment | null = null;
    try {
      const block = findBlock(model, s.block);
      const afterRelu = s.postRelu === 'after' && block.postAfterRelu !== null;
      const layer = afterRelu ? block.postAfterRelu! : block.postBeforeRelu;
      const pool = Array.from({ length: block.channels }, (_, i) => i).filter((c) => !invariant.includes(c));
      if (pool.length < invariant.length) {
        throw new Error(`block ${s.block}: ${invariant.length} channels ablated but only ${pool.length} others to draw random sets from`);
      }
      // Passes: one per scale to prepare, the invariant set per scale, the screening draws and the accepted sets.
      let done = 0;
      const total = () => scales.length * 2 + s.trials * scales.length;
      const step = (message: string) => ctx.progress(Math.min(done, total()), total(), message);
      exp = new AblationExperiment({
        model,
        layer,
        beforeRelu: !afterRelu && block.postAfterRelu !== null,
        images,
        percents: scales,
        batchSize: s.batchSize,
        cancelled: ctx.cancelled,
        onProgress: step,
      });
      if (!(await exp.prepare())) return;
      done += scales.length;
      const pct = (x: number) => 100 * x;
      const intact = scales.map((p) => pct(exp!.intact.get(p)!));
      const invTop1: number[] = [];
      for (const p of scales) {
        const a = await exp.accuracy(invariant, p);
        if (a === null) return;
        invTop1.push(pct(a));
        done++;
        step(`invariant channels ablated at ${p} %`);
      }
      ctx.emitResult(
        ablationKey('conditions'),
        checkResult(ablationResults, 'conditions', { block: s.block, layer, images: images.length, scales, intactTop1: intact, invariantChannels: invariant, invariantTop1: invTop1, channelMeans: Array.from(exp.means) }),
      );

      const state: Checkpoint = (ctx.resumeFrom as Checkpoint | null) ?? { draws: 0, tolerance: s.tolerance, screened: [], accepted: [] };
      const passes = (top1: number) => top1 <= invTop1[0] + state.tolerance + 1e-9;
      const complete = async (channels: number[], top1AtZero: number): Promise<boolean> => {
        const top1 = [top1AtZero];
        for (const p of scales.slice(1)) {
          const a = await exp!.accuracy(channels, p);
          if (a === null) return false;
          top1.push(pct(a));
        }
        state.accepted.push({ channels, top1 });
        ctx.emitResult(ablationKey('trial', { trial: state.accepted.length - 1 }), checkResult(ablationResults, 'trial', { channels, top1, tolerance: state.tolerance }));
        done += scales.length;
        ctx.checkpoint(state);
        return true;
      };
      while (state.accepted.length < s.trials && state.draws < 2 * s.maxDraws) {
        if (state.draws >= s.maxDraws && state.accepted.length === 0 && state.tolerance < s.fallbackTolerance) {
          // No random set was as harmful as the invariant one: relax the screen once, and look again at the draws made.
          state.tolerance = s.fallbackTolerance;
          for (const d of state.screened.filter((x) => passes(x.top1))) {
            if (state.accepted.length >= s.trials) break;
            if (!(await complete(d.channels, d.top1))) return;
          }
          continue;
        }
        const channels = drawSet(pool, invariant.length, ctx.seed * 65_537 + state.draws);
        state.draws++;
        const a = await exp.accuracy(channels, 0);
        if (a === null) return;
        state.screened.push({ channels, top1: pct(a) });
        step(`random set ${state.draws}: ${pct(a).toFixed(1)} % (accepted ${state.accepted.length}/${s.trials})`);
        if (passes(pct(a)) && !(await complete(channels, pct(a)))) return;
        ctx.checkpoint(state);
      }
      if (state.accepted.length === 0) {
        throw new Error(
          `block ${s.block}: none of ${state.draws} random channel sets came within ${state.tolerance} points of the invariant ablation's ${invTop1[0].toFixed(1)} % at 0 %`,
        );
      }
      const ratios = scales.map((_, k) => meanAndSe(state.accepted.map((t) => invTop1[k] / t.top1[k])));
      ctx.emitResult(ablationKey('summary'), checkResult(ablationResults, 'summary', {
        model: model.name,
        block: s.block,
        layer,
        images: images.length,
        scales,
        intactTop1: intact,
        invariantChannels: invariant,
        invariantTop1: invTop1,
        randomTop1: state.accepted.map((t) => t.top1),
        randomChannels: state.accepted.map((t) => t.channels),
        ratioMean: ratios.map((r) => r.mean),
        ratioSe: ratios.map((r) => r.se),
        reference: ratios[0].mean,
        trialsAccepted: state.accepted.length,
        trialsRequested: s.trials,
        draws: state.draws,
        tolerance: state.tolerance,
      }));
    } finally {
      exp?.dispose();
      model.dispose();
    }
  },
};
