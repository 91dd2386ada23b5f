// The engine side of every analysis kind, looked up by the kind a run names.
import type { EngineAnalysis } from '../analysis';
import { ablation } from './ablation';
import { datasetScan } from './dataset-scan';
import { diverse } from './diverse';
import { featureVis } from './feature-vis';
import { maxImage } from './max-image';
import { scaleInvariance } from './scale-invariance';
import { shapesAnalysis } from './shapes';

const ENGINE_ANALYSES: EngineAnalysis<never>[] = [maxImage, shapesAnalysis, diverse, featureVis, scaleInvariance, datasetScan, ablation];

export function engineAnalysis(kind: string): EngineAnalysis<Record<string, unknown>> {
  const found = ENGINE_ANALYSES.find((a) => a.kind === kind);
  if (!found) throw new Error(`the engine has no analysis "${kind}"`);
  return found as unknown as EngineAnalysis<Record<string, unknown>>;
}
