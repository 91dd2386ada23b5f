// Resolves a model id to a loaded network: built-in cell models, project models (by the file
// the project recorded), or a model file path.
import { builtinKind } from '../../../shared/builtin-models';
import type { NetworkModel } from '../model';
import type { ModelRef } from '../protocol';
import { createCellModel } from './ground-truth';
import { loadModelFile } from './load';

export async function resolveModel(id: string, projectModels: Record<string, ModelRef>): Promise<NetworkModel> {
  const kind = builtinKind(id);
  if (kind) return createCellModel(kind);
  const ref = projectModels[id];
  if (ref) {
    const model = await loadModelFile(ref.path, { inputConvention: ref.inputConvention });
    if (ref.randomWeightsSeed === undefined) return model;
    const random = model.withRandomWeights(ref.randomWeightsSeed);
    model.dispose();
    return random;
  }
  if (id.startsWith('builtin:')) throw new Error(`unknown built-in model "${id}"`);
  return loadModelFile(id);
}
