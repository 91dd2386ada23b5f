// Renderer side of each analysis: the view that shows a run's results and the hints that refine
// its "new run" form. An analysis without an entry still works: generic form and result list.
import { defineAsyncComponent, type Component } from 'vue';
import type { ResultRecord, RunSummary } from '../../../shared/domain';
import type { FieldHint } from './fields';
import { ablationFields } from './ablation/fields';
import { datasetScanFields } from './dataset-scan/fields';
import { diverseFields } from './diverse/fields';
import { featureVisFields } from './feature-vis/fields';
import { maxImageFields } from './max-image/fields';
import { scaleInvarianceFields } from './scale-invariance/fields';
import { shapesFields } from './shapes/fields';

/** Props every analysis view receives. */
export interface AnalysisViewProps {
  run: RunSummary;
  results: ResultRecord[];
}

export interface AnalysisUi {
  view: Component;
  fields: Record<string, FieldHint>;
}

const GenericView = defineAsyncComponent(() => import('./GenericResultsView.vue'));

const REGISTRY: Record<string, AnalysisUi> = {
  'max-image': {
    view: defineAsyncComponent(() => import('./max-image/MaxImageView.vue')),
    fields: maxImageFields,
  },
  shapes: { view: defineAsyncComponent(() => import('./shapes/ShapesView.vue')), fields: shapesFields },
  'scale-invariance': { view: defineAsyncComponent(() => import('./scale-invariance/ScaleInvarianceView.vue')), fields: scaleInvarianceFields },
  ablation: { view: defineAsyncComponent(() => import('./ablation/AblationView.vue')), fields: ablationFields },
  diverse: { view: defineAsyncComponent(() => import('./diverse/DiverseView.vue')), fields: diverseFields },
  'feature-vis': { view: GenericView, fields: featureVisFields },
  'dataset-scan': { view: GenericView, fields: datasetScanFields },
};

export function analysisUi(kind: string): AnalysisUi {
  return REGISTRY[kind] ?? { view: GenericView, fields: {} };
}
