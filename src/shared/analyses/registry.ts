// Every analysis kind the app knows, with its settings schema (defaults from METHODS.md).
// Adding an analysis: a settings file here, an engine run under src/main/engine/analyses, and
// its views under src/renderer/src/analyses.
import type { z } from 'zod';
import { ablationSettings } from './ablation';
import { datasetScanSettings } from './dataset-scan';
import { diverseSettings } from './diverse';
import { featureVisSettings } from './feature-vis';
import { maxImageSettings } from './max-image';
import { scaleInvarianceSettings } from './scale-invariance';
import { shapesSettings } from './shapes';

export const ANALYSES = {
  'max-image': { title: 'Preferred image', settings: maxImageSettings },
  diverse: { title: 'Diverse feature visualization and invariance indices', settings: diverseSettings },
  shapes: { title: 'Shape tuning (APC, translation invariance)', settings: shapesSettings },
  'feature-vis': { title: 'Feature visualization (Lucid style)', settings: featureVisSettings },
  'scale-invariance': { title: 'Residual-stream scale invariance', settings: scaleInvarianceSettings },
  'dataset-scan': { title: 'Dataset scan (top and bottom images)', settings: datasetScanSettings },
  ablation: { title: 'Mean-ablation under scale transforms', settings: ablationSettings },
} as const satisfies Record<string, { title: string; settings: z.ZodType }>;

export type AnalysisKind = keyof typeof ANALYSES;

export function isAnalysisKind(kind: string): kind is AnalysisKind {
  return Object.hasOwn(ANALYSES, kind);
}

/** Validates settings and fills in the defaults; throws a ZodError naming the bad fields. */
export function parseSettings(kind: AnalysisKind, settings: unknown): Record<string, unknown> {
  return ANALYSES[kind].settings.parse(settings ?? {}) as Record<string, unknown>;
}
