// The default channel set of an ablation run (METHODS §8): the block's scale-invariant channels
// from the latest finished scale-invariance run on the same model. The engine cannot read the
// project database, so the service fills this in before the run is queued.
import type { ProjectDb } from './project-db';

export function latestScaleInvariantChannels(db: ProjectDb, modelId: string, block: string): number[] | null {
  const runs = db.listRuns(10_000).filter((r) => r.kind === 'scale-invariance' && r.status === 'done' && r.modelId === modelId);
  for (const run of runs) {
    const summary = db.listResults(run.id).find((r) => r.key === `block/${block}`);
    if (summary && Array.isArray(summary.data.passing)) return summary.data.passing as number[];
  }
  return null;
}
