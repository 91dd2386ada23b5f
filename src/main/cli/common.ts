// What every CLI command module shares: the workbench over the chosen project, calls through the
// API (the same validation as every front door), and output as text or one JSON document.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type MethodResults } from '../../shared/api/contract';
import { forkEngine } from '../services/engine-process';
import { defaultProjectPath } from '../services/paths';
import { Workbench, type WorkbenchOptions } from '../services/workbench';
import type { ParsedArgs } from './args';

export { out } from './output';

function projectPath(args: ParsedArgs): string {
  return path.resolve(String(args.flags.project ?? defaultProjectPath()));
}

/** The project for writing, with its engine (runs, imports). */
export function openWorkbench(args: ParsedArgs, create = true, extra: Partial<WorkbenchOptions> = {}): Workbench {
  return Workbench.open({
    launcher: forkEngine,
    projectPath: projectPath(args),
    create,
    ...(args.flags.backend ? { backend: String(args.flags.backend) } : {}),
    ...extra,
  });
}

/**
 * The project for commands that only read it (lists, details, exports), without an engine. When
 * another process has it open for writing (a run in progress), it is opened read-only instead.
 */
export function openForReading(args: ParsedArgs): Workbench {
  const file = projectPath(args);
  try {
    return Workbench.open({ launcher: forkEngine, projectPath: file, create: false, startEngine: false });
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'project_locked') throw err;
    return Workbench.open({ launcher: forkEngine, projectPath: file, readOnly: true });
  }
}

export async function call<M extends keyof MethodResults>(wb: Workbench, method: M, params: unknown = {}): Promise<MethodResults[M]> {
  return (await wb.call({ method, params })) as MethodResults[M];
}

/** `--model` names a model file rather than an id: a path to an existing file. */
export function isModelFile(model: string): boolean {
  if (model.startsWith('builtin:')) return false;
  try {
    return fs.statSync(path.resolve(model)).isFile();
  } catch {
    return false;
  }
}

/** The project's model imported from this file, imported now on first use and reused after. */
export async function modelIdForFile(wb: Workbench, file: string): Promise<string> {
  const known = (await call(wb, 'models.list')).find((m) => m.source === file && m.randomWeightsSeed === undefined);
  return (known ?? (await call(wb, 'models.import', { path: file }))).id;
}
