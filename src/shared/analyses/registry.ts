// Every analysis kind the app knows, with its settings schema (defaults from METHODS.md) and its
// result contract (the parts it stores: keys and data schemas, see result-contract.ts).
// Adding an analysis: a file here with its settings and results, an engine run under
// src/main/engine/analyses that emits through them, and its views under src/renderer/src/analyses.
import type { z } from 'zod';
import { ablationResults, ablationSettings } from './ablation';
import { datasetScanResults, datasetScanSettings } from './dataset-scan';
import { diverseResults, diverseSettings } from './diverse';
import { featureVisResults, featureVisSettings } from './feature-vis';
import { maxImageResults, maxImageSettings } from './max-image';
import type { ResultContract } from './result-contract';
import { scaleInvarianceResults, scaleInvarianceSettings } from './scale-invariance';
import { shapesResults, shapesSettings } from './shapes';

export const ANALYSES = {
  'max-image': { title: 'Preferred image', settings: maxImageSettings, results: maxImageResults },
  diverse: { title: 'Diverse feature visualization and invariance indices', settings: diverseSettings, results: diverseResults },
  shapes: { title: 'Shape tuning (APC, translation invariance)', settings: shapesSettings, results: shapesResults },
  'feature-vis': { title: 'Feature visualization (Lucid style)', settings: featureVisSettings, results: featureVisResults },
  'scale-invariance': { title: 'Residual-stream scale invariance', settings: scaleInvarianceSettings, results: scaleInvarianceResults },
  'dataset-scan': { title: 'Dataset scan (top and bottom images)', settings: datasetScanSettings, results: datasetScanResults },
  ablation: { title: 'Mean-ablation under scale transforms', settings: ablationSettings, results: ablationResults },
} as const satisfies Record<string, { title: string; settings: z.ZodType; results: ResultContract }>;

export type AnalysisKind = keyof typeof ANALYSES;

export function isAnalysisKind(kind: string): kind is AnalysisKind {
  return Object.hasOwn(ANALYSES, kind);
}

/** Validates settings and fills in the defaults; throws a ZodError naming the bad fields. */
export function parseSettings(kind: AnalysisKind, settings: unknown): Record<string, unknown> {
  return ANALYSES[kind].settings.parse(settings ?? {}) as Record<string, unknown>;
}
