// What every CLI command module shares: the workbench over the chosen project, calls through the
// API (the same validation as every front door), and output as text or one JSON document.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, type CallAnswer, type MethodResults } from '../../shared/api/contract';
import { readServerFile, type ServerFile } from '../server/server-file';
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

/** What read commands need of a project: its API. */
export interface ProjectReader {
  call(raw: unknown): Promise<unknown>;
  close(): void;
  /** How the project is read: opened here, opened read-only beside a writer, or through the server that holds it. */
  readonly via: 'open' | 'read-only' | 'server';
}

/**
 * The project file itself for commands that read it below the API (sweeps), without an engine;
 * read-only when another process has it open for writing.
 */
export function openProjectFile(args: ParsedArgs): Workbench {
  const file = projectPath(args);
  try {
    return Workbench.open({ launcher: forkEngine, projectPath: file, create: false, startEngine: false });
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'project_locked') throw err;
    return Workbench.open({ launcher: forkEngine, projectPath: file, readOnly: true });
  }
}

/**
 * The project for commands that only read it (lists, details, exports), without an engine. When
 * another process has it open for writing, the commands go through that process's server if it
 * announced one (`artiphys serve`), else the file is opened read-only.
 */
export async function openForReading(args: ParsedArgs): Promise<ProjectReader> {
  const file = projectPath(args);
  const opened = (wb: Workbench, via: ProjectReader['via']): ProjectReader => ({ call: (raw) => wb.call(raw), close: () => wb.close(), via });
  try {
    return opened(Workbench.open({ launcher: forkEngine, projectPath: file, create: false, startEngine: false }), 'open');
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 'project_locked') throw err;
  }
  const server = readServerFile(file);
  if (server && (await serverAnswers(server))) {
    if (!args.flags.json) console.error(`${file} is held by the server at ${server.url}: reading through it`);
    return throughServer(server);
  }
  return opened(Workbench.open({ launcher: forkEngine, projectPath: file, readOnly: true }), 'read-only');
}

/** Whether the announced server is up and still holds the project (a file left by a server that died is not). */
async function serverAnswers(server: ServerFile): Promise<boolean> {
  try {
    const info = (await postCall(server, { method: 'project.info', params: {} })) as { path?: string };
    return info.path === server.project;
  } catch {
    return false;
  }
}

async function postCall(server: ServerFile, raw: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${server.url}/api/call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
      body: JSON.stringify(raw),
    });
  } catch (err) {
    throw new ApiError('internal', `the server at ${server.url} that holds ${server.project} does not answer (${(err as Error).message})`);
  }
  const answer = (await res.json()) as CallAnswer;
  if (!answer.ok) throw new ApiError(answer.error.code, answer.error.message);
  return answer.result;
}

function throughServer(server: ServerFile): ProjectReader {
  return { call: (raw) => postCall(server, raw), close: () => undefined, via: 'server' };
}

export async function call<M extends keyof MethodResults>(wb: Pick<ProjectReader, 'call'>, method: M, params: unknown = {}): Promise<MethodResults[M]> {
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
