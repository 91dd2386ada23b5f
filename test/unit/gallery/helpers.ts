// Runs a real analysis in this process and stores what it emits in a real project the way the
// job runner does (PNG-encoded images, ProjectDb.addResult), so the unit index is built by the
// code path of a real run.
import type { RunContext } from '../../../src/main/engine/analysis';
import type { NetworkModel } from '../../../src/main/engine/model';
import { engineAnalysis } from '../../../src/main/engine/analyses';
import { createCellModel } from '../../../src/main/engine/models/ground-truth';
import { encodePng } from '../../../src/main/engine/png';
import type { ProjectDb } from '../../../src/main/services/project-db';
import { parseSettings, type AnalysisKind } from '../../../src/shared/analyses/registry';
import type { CellKind } from '../../../src/shared/builtin-models';
import type { RunSummary } from '../../../src/shared/domain';

/** The built-in cell models by id; `loadModel` gives other models (the tiny residual ones). */
const builtinCell = async (id: string): Promise<NetworkModel> => createCellModel(id.replace('builtin:', '') as CellKind);

/**
 * Runs an analysis into the project. With `cancelAfter`, the run is cancelled as the engine
 * cancels it (its `cancelled` flag turns true) once a result with that key is stored.
 */
export async function runInto(
  db: ProjectDb,
  kind: AnalysisKind,
  input: Record<string, unknown>,
  seed = 5,
  loadModel = builtinCell,
  cancelAfter?: string,
): Promise<RunSummary> {
  let cancelled = false;
  const settings = parseSettings(kind, input);
  const run = db.createRun({ kind, title: `${kind} test`, modelId: String(settings.modelId), settings, seed, appVersion: 'test' });
  db.markRunStarted(run.id, 'test');
  const ctx: RunContext = {
    runId: run.id,
    seed,
    cancelled: () => cancelled,
    progress: () => {},
    emitResult: (key, data, images = []) => {
      db.addResult(
        run.id,
        key,
        data,
        images.map((i) => ({ name: i.name, width: i.width, height: i.height, png: encodePng(i.rgb, i.width, i.height) })),
      );
      if (key === cancelAfter) cancelled = true;
    },
    checkpoint: () => {},
    resumeFrom: null,
    loadModel,
    log: () => {},
  };
  await engineAnalysis(kind).run(settings, ctx);
  db.setRunStatus(run.id, cancelled ? 'cancelled' : 'done');
  return db.getRun(run.id)!;
}
