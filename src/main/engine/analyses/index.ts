// The engine side of every analysis kind, looked up by the kind a run names.
import type { EngineAnalysis } from '../analysis';
import { diverse } from './diverse';
import { maxImage } from './max-image';
import { shapesAnalysis } from './shapes';

const ENGINE_ANALYSES: EngineAnalysis<never>[] = [maxImage, shapesAnalysis, diverse];

export function engineAnalysis(kind: string): EngineAnalysis<Record<string, unknown>> {
  const found = ENGINE_ANALYSES.find((a) => a.kind === kind);
  if (!found) throw new Error(`the engine has no analysis "${kind}"`);
  return found as unknown as EngineAnalysis<Record<string, unknown>>;
}
