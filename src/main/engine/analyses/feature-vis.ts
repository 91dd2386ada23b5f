// Lucid-style feature visualization of channels of one layer (METHODS §6): per channel the
// final image and its activation, channels optimized in batches.
import { featureVisKey, featureVisResults, transformsFor, type FeatureVisSettings } from '../../../shared/analyses/feature-vis';
import { checkResult } from '../../../shared/analyses/result-contract';
import { yieldToEvents, type EngineAnalysis } from '../analysis';
import { visualizeChannels } from '../fv/lucid';
import { chunks, imagesOut } from '../residual/images-out';

interface Checkpoint {
  done: number[];
}

export const featureVis: EngineAnalysis<FeatureVisSettings> = {
  kind: 'feature-vis',
  async run(s, ctx) {
    const model = await ctx.loadModel(s.modelId);
    try {
      const done = new Set((ctx.resumeFrom as Checkpoint | null)?.done ?? []);
      const todo = s.channels.filter((c) => !done.has(c));
      const transforms = transformsFor(s, s.layer);
      for (const batch of chunks(todo, s.batchSize)) {
        if (ctx.cancelled()) return;
        const r = await visualizeChannels(model, {
          layer: s.layer,
          channels: batch,
          objective: s.objective,
          size: s.size,
          steps: s.steps,
          learningRate: s.learningRate,
          transforms,
          seed: ctx.seed + batch[0],
          silentStartRedraws: s.silentStartRedraws,
          cancelled: ctx.cancelled,
          onStep: (step) => ctx.progress(done.size * s.steps + step * batch.length, s.channels.length * s.steps),
        });
        try {
          if (r.cancelled) return;
          const imgs = await imagesOut(r.images, batch.map(() => s.objective));
          batch.forEach((c, i) => {
            const data = checkResult(featureVisResults, 'channel', {
              layer: s.layer,
              channel: c,
              objective: s.objective,
              activation: r.activations[i],
              steps: r.steps,
              // At or below the floor the image did not drive its channel; its start was redrawn or
              // woken when silent (silentStart: 'redrawn'), or stayed silent through that ('silent').
              silent: !(r.activations[i] > s.silentActivation),
              silentActivation: s.silentActivation,
              silentStart: r.silentStarts.includes(c) ? 'silent' : r.silentStartsRedrawn.includes(c) ? 'redrawn' : 'ok',
            });
            ctx.emitResult(featureVisKey('channel', { layer: s.layer, channel: c }), data, [imgs[i]]);
            done.add(c);
          });
        } finally {
          r.images.dispose();
        }
        ctx.checkpoint({ done: [...done] } satisfies Checkpoint);
        await yieldToEvents();
      }
    } finally {
      model.dispose();
    }
  },
};
