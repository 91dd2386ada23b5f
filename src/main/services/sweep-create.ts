// Recording a sweep, for `artiphys sweep create` and the API's `sweeps.create`: the spec is
// checked, cut into shards and every shard checked against its model before anything is stored.
import { ZodError } from 'zod';
import { ApiError } from '../../shared/api/errors';
import { builtinModels } from '../../shared/builtin-models';
import { shardSweep, sweepSpec, type SweepSpec } from '../../shared/sweeps';
import type { ProjectDb } from './project-db';
import { checkRunSettings } from './run-checks';
import type { SweepRecord } from './sweep-db';

export function createSweep(project: ProjectDb, input: unknown, title?: string): SweepRecord {
  let spec: SweepSpec;
  try {
    spec = sweepSpec.parse(input);
    for (const s of shardSweep(spec)) {
      const model = builtinModels().find((m) => m.id === s.modelId) ?? project.getModel(s.modelId);
      if (!model) throw new ApiError('not_found', `no model "${s.modelId}"; "artiphys models list" shows the ids`);
      checkRunSettings(s.kind, s.settings, model);
    }
  } catch (err) {
    throw zodToApi(err);
  }
  return project.sweeps.create(spec, title ?? `${spec.kind} sweep · ${spec.models.join(', ')} · ${spec.layers.join(', ')}`);
}

function zodToApi(err: unknown): unknown {
  if (!(err instanceof ZodError)) return err;
  const issue = err.issues[0];
  return new ApiError('bad_request', `${issue.path.join('.') || 'sweep'}: ${issue.message}`);
}
