// Lucid-style feature visualization of channels of one layer (METHODS §6): per channel the
// final image and its activation, channels optimized in batches.
import { transformsFor, type FeatureVisSettings } from '../../../shared/analyses/feature-vis';
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
          cancelled: ctx.cancelled,
          onStep: (step) => ctx.progress(done.size * s.steps + step * batch.length, s.channels.length * s.steps),
        });
        try {
          if (r.cancelled) return;
          const imgs = await imagesOut(r.images, batch.map(() => s.objective));
          batch.forEach((c, i) => {
            ctx.emitResult(`channel/${s.layer}/${c}`, { layer: s.layer, channel: c, objective: s.objective, activation: r.activations[i], steps: r.steps }, [imgs[i]]);
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
