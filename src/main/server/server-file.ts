// How other processes find the server that holds a project: while `artiphys serve` has a project
// open it writes `<project>-server.json` beside it (owner-only, like the token it holds) with the
// loopback address and the token, and removes it when it lets go. The CLI's read commands then go
// through the server instead of opening a project another process holds for writing.
import fs from 'node:fs';

export interface ServerFile {
  pid: number;
  /** Base URL of the server, loopback only (http://127.0.0.1:PORT). */
  url: string;
  token: string;
  /** The project the server had open when it wrote the file. */
  project: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export const serverFilePath = (projectPath: string): string => `${projectPath}-server.json`;

/** Writes the file readable by its owner only; an existing one (a server that died) is replaced. */
export function writeServerFile(info: ServerFile): void {
  const file = serverFilePath(info.project);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, JSON.stringify(info, null, 1) + '\n', { mode: 0o600, flag: 'wx' });
}

/** Removes the file if it is still this process's (another server may have taken the project since). */
export function removeServerFile(projectPath: string): void {
  const file = serverFilePath(projectPath);
  if (readServerFile(projectPath)?.pid === process.pid) fs.rmSync(file, { force: true });
}

/** The server holding `projectPath`, or null when there is no file, it cannot be read, or it names a non-loopback host. */
export function readServerFile(projectPath: string): ServerFile | null {
  let info: Partial<ServerFile>;
  try {
    info = JSON.parse(fs.readFileSync(serverFilePath(projectPath), 'utf8')) as Partial<ServerFile>;
  } catch {
    return null;
  }
  if (typeof info.url !== 'string' || typeof info.token !== 'string' || typeof info.pid !== 'number' || info.project !== projectPath) return null;
  let host: string;
  try {
    host = new URL(info.url).hostname;
  } catch {
    return null;
  }
  return LOOPBACK.has(host) ? (info as ServerFile) : null;
}
