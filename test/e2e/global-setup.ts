// Starts `artiphys serve` on a fresh temporary project for the web project's tests and stops it
// afterwards. The URL it prints (with its token) reaches the tests through the environment.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const START_TIMEOUT_MS = 60_000;

export const ENV_URL = 'ARTIPHYS_E2E_URL';
export const ENV_PROJECT = 'ARTIPHYS_E2E_PROJECT';
export const ENV_DIR = 'ARTIPHYS_E2E_DIR';

function requireBuild(): void {
  for (const file of ['out/main/cli.js', 'out/renderer/index.html']) {
    if (!fs.existsSync(path.join(ROOT, file))) {
      throw new Error(`${file} is missing: run "npm run build" before the end-to-end tests`);
    }
  }
}

/** The serve command prints its URL as JSON (`--json`); the JSON may span several lines. */
function waitForUrl(child: ChildProcess, logFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(`no URL within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    function fail(why: string): void {
      clearTimeout(timer);
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
      reject(new Error(`artiphys serve: ${why}\nstdout: ${out}\nstderr: ${log}`));
    }
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const url = out.match(/"url"\s*:\s*"(http:\/\/[^"]+)"/)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    child.once('exit', (code, signal) => fail(`exited early (${signal ?? `code ${code}`})`));
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  requireBuild();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artiphys-e2e-'));
  const project = path.join(dir, 'e2e.artiphys');
  const logFile = path.join(dir, 'serve.log');
  const log = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, ['bin/artiphys.js', 'serve', '--project', project, '--port', '0', '--json'], {
    cwd: ROOT,
    env: { ...process.env, ARTIPHYS_HOME: dir },
    stdio: ['ignore', 'pipe', log],
  });
  let url: string;
  try {
    url = await waitForUrl(child, logFile);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  process.env[ENV_URL] = url;
  process.env[ENV_PROJECT] = project;
  process.env[ENV_DIR] = dir;

  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
      await Promise.race([exited, timeout]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    fs.closeSync(log);
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
