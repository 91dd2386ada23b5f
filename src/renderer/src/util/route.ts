// The workbench's address: which centre view is open (a run, a model's page, the gallery), the
// unit selected in the sidebar, and the project, in the URL's hash so that a reload restores
// them and a link opens them. Pure parsing and formatting; stores/router.ts applies them.
//   #/run/12?project=/data/a.artiphys&model=builtin:energy&layer=response&unit=0
//   #/model?model=vgg19-1a2b3c4d&layer=relu3_1
//   #/gallery
import type { UnitSelection } from '../stores/models';

export type RouteView = 'run' | 'model' | 'gallery';

export interface Route {
  view: RouteView | null;
  /** The open run (view 'run'). */
  runId: number | null;
  /** The sidebar's selection: a model, one of its layers, or a unit (channel) of that layer. */
  selection: UnitSelection | null;
  /** The project file the route belongs to. */
  project: string | null;
}

export const EMPTY_ROUTE: Route = { view: null, runId: null, selection: null, project: null };

/** Reads a hash ("#/run/12?model=..."); anything it does not understand is left out. */
export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#/, '');
  const q = text.indexOf('?');
  const segments = (q < 0 ? text : text.slice(0, q)).split('/').filter(Boolean);
  const params = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const view = (['run', 'model', 'gallery'] as const).find((v) => v === segments[0]) ?? null;
  const runId = view === 'run' ? positiveInt(segments[1]) : null;
  const modelId = params.get('model');
  const layer = params.get('layer');
  const unit = params.get('unit');
  const channel = unit !== null && /^\d+$/.test(unit) ? Number(unit) : undefined;
  const selection: UnitSelection | null = modelId
    ? { modelId, ...(layer ? { layer } : {}), ...(layer && channel !== undefined ? { channel } : {}) }
    : null;
  return { view: view === 'run' && runId === null ? null : view, runId, selection, project: params.get('project') || null };
}

export function formatRoute(r: Route): string {
  const path = r.view === 'run' && r.runId !== null ? `/run/${r.runId}` : r.view && r.view !== 'run' ? `/${r.view}` : '/';
  const params = new URLSearchParams();
  if (r.project) params.set('project', r.project);
  if (r.selection) {
    params.set('model', r.selection.modelId);
    if (r.selection.layer) params.set('layer', r.selection.layer);
    if (r.selection.layer && r.selection.channel !== undefined) params.set('unit', String(r.selection.channel));
  }
  const query = params.toString();
  return `#${path}${query ? `?${query}` : ''}`;
}

function positiveInt(s: string | undefined): number | null {
  return s !== undefined && /^\d+$/.test(s) && Number(s) > 0 ? Number(s) : null;
}
