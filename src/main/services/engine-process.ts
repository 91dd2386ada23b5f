// Starts the engine process and carries protocol messages to and from it. Headless front doors
// fork a Node child; the desktop shell passes a launcher that uses Electron's utilityProcess.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendInfo } from '../../shared/domain';
import { KEPT_BLOCK_BYTES } from '../engine/kept-memory';
import type { FromEngine, InspectedModel, ToEngine } from '../engine/protocol';
import { forTerminal } from '../terminal-text';

export interface EngineProcess {
  readonly pid: number | undefined;
  send(msg: ToEngine): void;
  onMessage(listener: (msg: FromEngine) => void): void;
  /** Called once when the process ends, for whatever reason. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
}

export type EngineLauncher = () => EngineProcess;

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The engine entry next to this module: the bundled `engine.js` in a build, or the TypeScript
 * source (run through tsx) when the services run from source, as in unit tests.
 */
export function engineEntry(): { file: string; execArgv: string[] } {
  const built = path.join(here, 'engine.js');
  if (existsSync(built)) return { file: built, execArgv: [] };
  const source = path.resolve(here, '../engine/host.ts');
  if (existsSync(source)) return { file: source, execArgv: ['--import', 'tsx'] };
  throw new Error(`engine entry not found next to ${here}; run "npm run build"`);
}

/**
 * glibc's allocator settings for the engine (mallopt(3)'s variables): keep freed memory rather
 * than hand it back to the kernel. By default a freed tensor's block is unmapped or trimmed off the
 * heap, and the next step's tensors fault their pages in again: in a 16-unit diverse step on
 * VGG-19, 2,000-7,000 page faults and 8-15 % of the step's time. Blocks up to 32 MB (glibc's
 * largest heap block) now come from the heap, which is never trimmed: the engine's peak memory
 * grows little (12 lambdas of 4 VGG-19 relu3_1 units: 894 MB, 813 before), but it is kept until
 * the engine exits. Both are needed: a fixed trim threshold alone also fixes the mmap threshold at
 * 128 kB, and every large tensor is mapped anew (five times slower). Other C libraries ignore them.
 */
const KEEP_FREED_MEMORY = { MALLOC_MMAP_THRESHOLD_: String(KEPT_BLOCK_BYTES), MALLOC_TRIM_THRESHOLD_: String(4 * 2 ** 30) };

/** The environment an engine process starts with: this one's, with KEEP_FREED_MEMORY where the user set neither variable. */
export function engineEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (Object.keys(KEEP_FREED_MEMORY).some((k) => env[k] !== undefined)) return env;
  return { ...env, ...KEEP_FREED_MEMORY };
}

/** `env` without what engineEnvironment added to it: the environment other programs get. */
export function withoutEngineSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const added = Object.entries(KEEP_FREED_MEMORY).every(([k, v]) => env[k] === v);
  return added ? Object.fromEntries(Object.entries(env).filter(([k]) => !(k in KEEP_FREED_MEMORY))) : env;
}

export const forkEngine: EngineLauncher = () => {
  const { file, execArgv } = engineEntry();
  const child = fork(file, [], {
    env: engineEnvironment(),
    execArgv: [...execArgv, '--max-old-space-size=8192'],
    serialization: 'advanced', // Uint8Array (PNG bytes) crosses without base64
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  // TensorFlow's native start-up chatter goes to stderr; keep only lines that look like errors.
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (/error|exception|fatal/i.test(line) && !/cpu_feature_guard|absl::InitializeLog/.test(line)) {
        process.stderr.write(`${forTerminal(`[engine] ${line}`)}\n`);
      }
    }
  });
  return {
    pid: child.pid,
    send: (msg) => {
      // An engine that dies between the check and the write fails the write (EPIPE); its exit
      // handler restarts it or fails its run, so the error itself needs no handling here.
      if (child.connected) child.send(msg, (err) => void err);
    },
    onMessage: (l) => child.on('message', (m) => l(m as FromEngine)),
    onExit: (l) => child.once('exit', (code, signal) => l(code, signal)),
    kill: () => child.kill('SIGKILL'),
  };
};

/** How long reading a model file (format, convention, layers) may take before it is stopped. */
export const DEFAULT_INSPECT_TIMEOUT_SECONDS = 120;

/**
 * Starts an engine, reports the backend it chose (and, given a model file, what it reads in it),
 * then stops it. For `doctor` and `models inspect`, which need no project, and for imports: a
 * model file is read in an engine of its own, so a slow or hostile file never holds up the runs
 * queued on the project's engine, and it is stopped after `timeoutSeconds`.
 */
export function probeEngine(
  launcher: EngineLauncher,
  backend?: string,
  inspectPath?: string,
  timeoutSeconds = DEFAULT_INSPECT_TIMEOUT_SECONDS,
): Promise<{ backend: BackendInfo | null; error?: string; model?: InspectedModel; timedOut?: boolean }> {
  const engine = launcher();
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: { backend: BackendInfo | null; error?: string; model?: InspectedModel; timedOut?: boolean }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      engine.kill();
      resolve(r);
    };
    let info: BackendInfo | null = null;
    const timer = setTimeout(() => {
      const what = inspectPath ? `reading ${path.basename(inspectPath)}` : 'starting the engine';
      done({ backend: info, timedOut: true, error: `${what} took longer than ${timeoutSeconds} s and was stopped (is the file damaged?)` });
    }, timeoutSeconds * 1000);
    engine.onMessage((msg) => {
      if (msg.type === 'init-failed') done({ backend: null, error: msg.error });
      if (msg.type === 'ready') {
        info = msg.backend;
        if (!inspectPath) done({ backend: info });
        else engine.send({ type: 'inspect', requestId: 1, path: inspectPath });
      }
      if (msg.type === 'inspected') {
        done({ backend: info, ...(msg.model ? { model: msg.model } : { error: msg.error ?? 'inspection failed' }) });
      }
    });
    engine.onExit((code, signal) => done({ backend: info, error: `engine process exited (${signal ?? `code ${code}`})` }));
    engine.send({ type: 'init', ...(backend ? { backend } : {}) });
  });
}
