// What every CLI command module shares: the workbench over the chosen project, calls through the
// API (the same validation as every front door), and output as text or one JSON document.
import path from 'node:path';
import type { MethodResults } from '../../shared/api/contract';
import { forkEngine } from '../services/engine-process';
import { defaultProjectPath, Workbench } from '../services/workbench';
import type { ParsedArgs } from './args';

export function out(args: ParsedArgs, json: unknown, human: () => string): void {
  console.log(args.flags.json ? JSON.stringify(json, null, 2) : human());
}

export function openWorkbench(args: ParsedArgs, create = true): Workbench {
  const projectPath = path.resolve(String(args.flags.project ?? defaultProjectPath()));
  return Workbench.open({
    launcher: forkEngine,
    projectPath,
    create,
    ...(args.flags.backend ? { backend: String(args.flags.backend) } : {}),
  });
}

export async function call<M extends keyof MethodResults>(wb: Workbench, method: M, params: unknown = {}): Promise<MethodResults[M]> {
  return (await wb.call({ method, params })) as MethodResults[M];
}
