// The provenance every exported file carries: which project, which runs, with which settings.
import { createHash } from 'node:crypto';
import type { Provenance } from '../../shared/figures';
import { APP_VERSION } from '../version';
import type { ProjectDb } from './project-db';

/**
 * Provenance of a file made from the given runs. The config hash covers each run's kind, model,
 * settings and seed (sorted keys), so two files made from identically configured runs share it.
 */
export function provenanceOf(project: ProjectDb, runIds: Iterable<number>): Provenance {
  const ids = [...new Set(runIds)].sort((a, b) => a - b);
  const configs = ids.map((id) => {
    const run = project.getRun(id);
    return run ? { id, kind: run.kind, modelId: run.modelId, settings: run.settings, seed: run.seed } : { id, missing: true };
  });
  return {
    app: 'Artiphys',
    appVersion: APP_VERSION,
    project: project.path,
    runIds: ids,
    configHash: createHash('sha256').update(canonicalJson(configs)).digest('hex'),
    createdAt: new Date().toISOString(),
  };
}

/** JSON with object keys sorted at every level, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
