// `artiphys`: the command line over the same services as the desktop app and the server.
// Every command takes --json and then prints exactly one JSON document on stdout.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError } from '../../shared/api/errors';
import { BACKEND_CHOICES } from '../../shared/backends';
import type { GpuAdapterInfo, RunSummary } from '../../shared/domain';
import { forkEngine, probeEngine } from '../services/engine-process';
import { diagnoseEngine } from '../services/engine-diagnose';
import { defaultProjectPath, modelsDir } from '../services/paths';
import type { Workbench } from '../services/workbench';
import { forTerminal } from '../terminal-text';
import { APP_VERSION } from '../version';
import { parseArgs, settingsFromFlags, type ParsedArgs } from './args';
import { jsonEvent, out } from './output';
import { ProgressBar } from './progress';
import { isDetailResult } from './result-keys';
import { tableText } from './table';

/**
 * The services (project database, figures, server) load when a command needs them, so that a
 * usage error (an unknown flag, a range too long) is told at once.
 */
const common = () => import('./common');

const HELP = (EXPORT_HELP: string, SWEEP_HELP: string) => `artiphys ${APP_VERSION}: a lab workbench for the physiology of deep-network units

Usage: artiphys <command> [options]    (every command takes --json)

  doctor                         compute backend, versions, GPU
  project create <file>          a new project file (.artiphys)
  project info [--project P]
  serve [--project P] [--port N] [--host 127.0.0.1]
                                 the workbench in a browser: prints http://127.0.0.1:N/?token=...
  models list [--project P]      built-in and project models with the ids --model takes
  models inspect <file>          format, input convention, layers with shape and RF, residual blocks
  models import <file> --project P
                                 an ONNX file, or a torchvision ResNet-18 state dict (.safetensors)
  models randomize <model-id> --seed N --project P
                                 adds a random-weights copy (same architecture and convention)
  models zoo                     well-known public weights that can be downloaded
  models download <name> --project P
                                 downloads a zoo entry, checks its checksum, imports it
  run <analysis> --model M|FILE [--<setting> value ...] [--seed N] [--project P]
                                 runs an analysis and waits for it (Ctrl-C cancels)
  run diverse --model M --layer L --units 0-15 [--lambdas 0,0.1,...] [--steps N]
                                 diverse images per unit; prints lambda*, D ratio, SI, LC
                                 (--indices false skips SI/LC; --random-weights-seed N: control)
  run indices ...                the same run with the indices on
  runs list [--project P]
  runs show <id> [--project P]   a run with its results
  runs resume <id> [--project P] resumes an interrupted, failed or cancelled run from its
                                 last checkpoint and waits for it
${EXPORT_HELP}
${SWEEP_HELP}

Options: --backend auto|tensorflow-gpu|webgpu|tensorflow|wasm|cpu (or ARTIPHYS_BACKEND)
Projects default to ${defaultProjectPath()} (ARTIPHYS_HOME moves it).
With --json, run and runs resume print progress on stderr as one JSON object per line.`;

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const [command, sub] = args.positional;
  if (!command || args.flags.help) {
    // Asked for, the help is the answer (exit 0); a bare `artiphys` is a usage error (exit 1).
    const help = HELP((await import('./export')).EXPORT_HELP, (await import('./sweep')).SWEEP_HELP);
    if (args.flags.help) console.log(help);
    else console.error(help);
    return args.flags.help ? 0 : 1;
  }
  checkBackend(args);
  switch (command) {
    case 'doctor':
      return doctor(args);
    case 'project':
      return project(sub, args);
    case 'serve':
      return serveCommand(args);
    case 'models':
      return models(sub, args);
    case 'run':
      return run(sub, args);
    case 'runs':
      return runs(sub, args);
    case 'export':
      return (await import('./export')).exportCommand(sub, args);
    case 'sweep':
      return (await import('./sweep')).sweepCommand(sub, args);
    case 'worker':
      return (await import('./sweep')).workerCommand(args);
    default:
      throw new ApiError('bad_request', `unknown command "${command}"; "artiphys --help" lists them`);
  }
}

/** A misspelled backend is a usage error here, before an engine starts or a run is queued. */
function checkBackend(args: ParsedArgs): void {
  const asked = args.flags.backend !== undefined ? String(args.flags.backend) : process.env.ARTIPHYS_BACKEND;
  if (asked === undefined || (BACKEND_CHOICES as readonly string[]).includes(asked)) return;
  const from = args.flags.backend !== undefined ? '--backend' : 'ARTIPHYS_BACKEND';
  throw new ApiError('bad_request', `unknown backend "${asked}" (${from}); choose one of ${BACKEND_CHOICES.join(', ')}`);
}

async function doctor(args: ParsedArgs): Promise<number> {
  const engine = await diagnoseEngine(forkEngine, args.flags.backend ? String(args.flags.backend) : undefined);
  const require = createRequire(import.meta.url);
  const version = (pkg: string) => {
    try {
      return (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      return null;
    }
  };
  const d = engine.diagnostics;
  const b = engine.backend;
  const report = {
    app: APP_VERSION,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    backend: b,
    /** The backend chosen and why, in words. */
    chosen: b ? { backend: b.name, requested: b.requested ?? 'auto', why: b.reason ?? null } : null,
    engineError: engine.error ?? null,
    gpu: {
      inUse: b?.gpu ?? false,
      adapter: b?.adapter ?? null,
      devices: nvidiaDevices(),
      adapters: d?.adapters ?? [],
      adapterError: d?.adapterError ?? null,
      cuda: d?.cuda ?? [],
      cudaMissing: d?.cudaSummary ?? null,
    },
    packages: {
      '@tensorflow/tfjs': version('@tensorflow/tfjs'),
      '@tensorflow/tfjs-node': version('@tensorflow/tfjs-node'),
      '@tensorflow/tfjs-node-gpu': version('@tensorflow/tfjs-node-gpu'),
      '@tensorflow/tfjs-backend-webgpu': version('@tensorflow/tfjs-backend-webgpu'),
      webgpu: version('webgpu'),
      '@tensorflow/tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm'),
      'better-sqlite3': version('better-sqlite3'),
      electron: version('electron'),
    },
    desktop: electronBinary(require),
    defaultProject: defaultProjectPath(),
  };
  out(args, report, () => {
    const g = report.gpu;
    const adapterLine = (a: GpuAdapterInfo) =>
      `  ${a.description || a.device || 'unnamed'} (vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}, ${a.software ? 'software' : 'hardware'})`;
    const lines = [
      `artiphys ${report.app} on node ${report.node} (${report.platform})`,
      b
        ? `backend: ${b.name} from ${b.package}${b.gpu ? ' (GPU)' : ''}${b.adapter ? ` on ${b.adapter.description || b.adapter.device}` : ''}`
        : `backend: none (${engine.error})`,
      ...(b?.reason ? [`  why: ${b.reason}`] : []),
      ...(b?.skipped ?? []).map((s) => `  passed over ${s.package}: ${s.reason}`),
      `WebGPU adapters:${g.adapters.length ? '' : ` none${g.adapterError ? ` (${g.adapterError})` : ''}`}`,
      ...g.adapters.map(adapterLine),
      `NVIDIA GPUs (nvidia-smi): ${g.devices.length ? g.devices.join('; ') : 'none'}`,
      ...(g.cuda.length ? [`CUDA for tfjs-node-gpu: ${g.cudaMissing ?? 'all libraries found'}`] : []),
      ...Object.entries(report.packages).map(([k, v]) => `  ${k.padEnd(32)} ${v ?? 'not installed'}`),
      `desktop app: ${report.desktop.available ? report.desktop.detail : `not available (${report.desktop.detail}); use "artiphys serve"`}`,
      `default project: ${report.defaultProject}`,
    ];
    return lines.join('\n');
  });
  return engine.backend ? 0 : 1;
}

/** In plain Node, require('electron') gives the binary's path, or throws where its download failed. */
function electronBinary(require: NodeJS.Require): { available: boolean; detail: string } {
  try {
    const binary = String(require('electron'));
    return fs.existsSync(binary) ? { available: true, detail: binary } : { available: false, detail: `${binary} is missing` };
  } catch (err) {
    return { available: false, detail: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}

function nvidiaDevices(): string[] {
  try {
    return execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}

async function project(sub: string | undefined, args: ParsedArgs): Promise<number> {
  if (sub === 'create') {
    const file = args.positional[2];
    if (!file) throw new ApiError('bad_request', 'usage: artiphys project create <file>');
    const { Workbench } = await import('../services/workbench');
    const wb = Workbench.open({ launcher: forkEngine, projectPath: path.resolve(file), create: true, startEngine: false });
    const info = wb.project.info();
    wb.close();
    out(args, info, () => `created ${info.path}`);
    return 0;
  }
  if (sub === 'info') {
    const { call, openForReading } = await common();
    const wb = await openForReading(args);
    const info = await call(wb, 'project.info').finally(() => wb.close());
    out(args, info, () =>
      [`${info.path} (schema ${info.schemaVersion}, created ${info.createdAt})`, ...Object.entries(info.counts).map(([k, v]) => `  ${k}: ${v}`)].join('\n'),
    );
    return 0;
  }
  if (sub === 'export' || sub === 'import') return (await import('./export')).projectArchiveCommand(sub, args);
  throw new ApiError('bad_request', 'usage: artiphys project create <file> | info [--project P] | export --out FILE | import ARCHIVE --to FILE');
}

async function serveCommand(args: ParsedArgs): Promise<number> {
  const { serve } = await import('../server/http-server');
  const wb = (await common()).openWorkbench(args);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const server = await serve(wb, {
    rendererDir: path.resolve(here, '../renderer'),
    ...(args.flags.port !== undefined ? { port: Number(args.flags.port) } : {}),
    ...(args.flags.host ? { host: String(args.flags.host) } : {}),
  });
  // One line, so that a program starting the server can read the URL as soon as it is printed.
  if (args.flags.json) console.log(JSON.stringify({ url: server.url, project: wb.project.path }));
  else console.log(forTerminal(`Artiphys is serving ${wb.project.path}\nOpen ${server.url}`));
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  wb.close();
  return 0;
}

async function models(sub: string | undefined, args: ParsedArgs): Promise<number> {
  const { call, openForReading, openWorkbench } = await common();
  if (sub === 'list') {
    const wb = await openForReading(args);
    const list = await call(wb, 'models.list').finally(() => wb.close());
    out(args, list, () => list.map((m) => `${m.id.padEnd(36)} ${m.format.padEnd(8)} ${m.layerCount} layers  ${m.name}`).join('\n'));
    return 0;
  }
  if (sub === 'inspect') {
    const file = args.positional[2];
    if (!file) throw new ApiError('bad_request', 'usage: artiphys models inspect <file>');
    // Reading a model file needs no GPU: the plain CPU backend, unless one is asked for.
    const inspected = await probeEngine(forkEngine, args.flags.backend ? String(args.flags.backend) : 'cpu', path.resolve(file));
    if (!inspected.model) throw new ApiError('bad_model', inspected.error ?? 'inspection failed');
    const m = inspected.model;
    out(args, m, () =>
      [
        `${m.name} (${m.format}), input ${m.inputConvention.inputSize} px ${m.inputConvention.channelOrder}${m.conventionGuessed ? ' (convention guessed: check it)' : ''}`,
        ...m.layers.map(
          (l) =>
            `  ${l.name.padEnd(56)} ${l.op.padEnd(20)} [${l.shape.join(', ')}]${l.rf ? `  rf ${l.rf.size} jump ${l.rf.jump} offset ${l.rf.offset}` : ''}` +
            (l.tokens ? `  tokens: ${l.tokens.classTokens} class + ${l.tokens.grid.join('x')} patches` : ''),
        ),
        ...(m.blocks.length ? [`residual blocks (${m.blocks.length}): In, Pre, Post (METHODS §7)`] : []),
        ...m.blocks.map((b) => `  ${b.name.padEnd(12)} ${String(b.channels).padStart(5)} ch  in ${b.inAfterRelu}  pre ${b.pre}  post ${b.postBeforeRelu}`),
      ].join('\n'),
    );
    return 0;
  }
  if (sub === 'import') {
    const file = args.positional[2];
    if (!file) throw new ApiError('bad_request', 'usage: artiphys models import <file> --project P');
    const wb = openWorkbench(args, true, { startEngine: false }); // the file is read in an engine of its own
    try {
      const m = await call(wb, 'models.import', { path: path.resolve(file), ...(args.flags.name ? { name: String(args.flags.name) } : {}) });
      out(args, m, () => `imported ${m.name} as ${m.id} (${m.layerCount} layers)`);
    } finally {
      wb.close();
    }
    return 0;
  }
  if (sub === 'randomize') {
    const modelId = args.positional[2];
    const seed = Number(args.flags.seed);
    if (!modelId || args.flags.seed === undefined || !Number.isInteger(seed)) {
      throw new ApiError('bad_request', 'usage: artiphys models randomize <model-id> --seed N --project P');
    }
    const wb = openWorkbench(args, false, { startEngine: false });
    try {
      const m = await call(wb, 'models.randomize', { modelId, seed });
      out(args, m, () => `added ${m.name} as ${m.id}`);
    } finally {
      wb.close();
    }
    return 0;
  }
  if (sub === 'zoo') {
    const { zooEntries } = await import('../services/zoo');
    const list = zooEntries().map((e) => {
      const file = path.join(modelsDir(), e.fileName);
      return { ...e, path: file, downloaded: fs.existsSync(file) };
    });
    out(args, list, () =>
      list
        .map((e) => `${e.name.padEnd(22)} ${e.format.padEnd(8)} ${(e.approxSizeMB ? `~${e.approxSizeMB} MB` : 'size ?').padEnd(8)} ${e.downloaded ? 'downloaded' : '          '}  ${e.title}`)
        .join('\n'),
    );
    return 0;
  }
  if (sub === 'download') {
    const name = args.positional[2];
    if (!name) throw new ApiError('bad_request', 'usage: artiphys models download <name> --project P ("artiphys models zoo" lists the names)');
    const entry = (await import('../services/zoo')).zooEntry(name);
    const wb = openWorkbench(args, true, { startEngine: false });
    const bar = !args.flags.json && process.stderr.isTTY ? new ProgressBar(process.stderr, entry.fileName) : null;
    wb.onEvent((e) => {
      if (e.type === 'zoo.progress' && e.name === name) {
        bar?.update({ step: e.progress.bytes, total: e.progress.total ?? 0, etaSeconds: e.progress.etaSeconds });
      }
    });
    try {
      const r = await call(wb, 'zoo.download', { name });
      bar?.done();
      out(args, r, () => (r.model ? `downloaded ${r.file}\nimported ${r.model.name} as ${r.model.id}` : r.importError ?? ''));
      return r.model ? 0 : 1;
    } finally {
      wb.close();
    }
  }
  throw new ApiError('bad_request', 'usage: artiphys models list|inspect|import|randomize|zoo|download');
}

async function run(kind: string | undefined, args: ParsedArgs): Promise<number> {
  if (!kind) throw new ApiError('bad_request', 'usage: artiphys run <analysis> --model M [--<setting> value ...]');
  // Flags and lists are checked before the services load or an engine starts.
  const flagSettings = settingsFromFlags(args.flags); // ranges bounded before the schemas load
  const request = (await import('./run-request')).runRequest(kind, flagSettings);
  const { call, openWorkbench } = await common();
  const wb = openWorkbench(args, true, runLog(args));
  let started: RunSummary;
  try {
    const model = request.settings.modelId;
    const { isModelFile, modelIdForFile } = await common();
    if (typeof model === 'string' && isModelFile(model)) request.settings.modelId = await modelIdForFile(wb, path.resolve(model));
    started = await call(wb, 'runs.start', {
      ...request,
      ...(args.flags.seed !== undefined ? { seed: Number(args.flags.seed) } : {}),
    });
  } catch (err) {
    wb.close();
    throw err;
  }
  return waitForRun(wb, started, args);
}

/** With --json, engine log lines of runs are JSON lines on stderr like every other event. */
function runLog(args: ParsedArgs): { log?: (runId: number, message: string) => void } {
  return args.flags.json ? { log: (runId, message) => jsonEvent({ event: 'log', runId, message }) } : {};
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGTERM: 15 };

/**
 * Follows a queued run to its end: a progress bar on a terminal, JSON lines on stderr with --json.
 * Ctrl-C cancels it (keeping what it finished); SIGTERM or SIGHUP (a closed terminal, a killed
 * job) stop the engine and leave the run interrupted, to be resumed with `runs resume`.
 */
async function waitForRun(wb: Workbench, started: RunSummary, args: ParsedArgs): Promise<number> {
  const { call } = await common();
  const json = Boolean(args.flags.json);
  const bar = !json && process.stderr.isTTY ? new ProgressBar(process.stderr, started.title) : null;
  if (json) jsonEvent({ event: 'status', runId: started.id, status: started.status });
  const final = await new Promise<RunSummary>((resolve) => {
    const onInterrupt = () => void wb.runner.cancel(started.id);
    const onStop = (signal: NodeJS.Signals) => {
      wb.close(); // the engine is stopped and the run marked interrupted
      const msg = `run ${started.id} interrupted by ${signal}; resume it with "artiphys runs resume ${started.id}"`;
      if (json) jsonEvent({ event: 'status', runId: started.id, status: 'interrupted', signal });
      else process.stderr.write(`${bar ? '\n' : ''}artiphys: ${msg}\n`);
      process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 0));
    };
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onStop);
    process.once('SIGHUP', onStop);
    const finish = () => {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onStop);
      process.off('SIGHUP', onStop);
      resolve(wb.project.getRun(started.id)!);
    };
    wb.onEvent((e) => {
      if (json && (e.type === 'run.progress' || e.type === 'run.status' || e.type === 'run.result') && e.runId === started.id) {
        const { type, ...rest } = e;
        jsonEvent({ event: type.slice(4), ...rest });
      }
      if (json && e.type === 'engine.status') jsonEvent({ event: 'engine', state: e.state, ...(e.error ? { error: e.error } : {}) });
      if (e.type === 'run.progress' && e.runId === started.id) bar?.update(e.progress);
      if (e.type === 'run.status' && e.runId === started.id && ['done', 'failed', 'cancelled'].includes(e.status)) finish();
      if (e.type === 'engine.status' && e.state === 'failed') {
        // The engine cannot start (or restarted too often): this run fails with its reason
        // rather than staying queued for a process that is about to exit.
        const run = wb.project.getRun(started.id)!;
        if (run.status === 'queued') wb.project.setRunStatus(run.id, 'failed', `engine failed: ${e.error ?? 'unknown error'}`);
        finish();
      }
    });
  });
  bar?.done();
  const results = await call(wb, 'results.list', { runId: final.id });
  const engineError = wb.runner.engineState.error;
  wb.close();
  // An analysis may end with a `summary` result (a table): it heads the JSON and the text output.
  const summary = results.find((r) => r.key === 'summary')?.data ?? null;
  out(args, { run: final, ...(summary ? { summary } : {}), results, ...(engineError ? { engineError } : {}) }, () =>
    [
      `run ${final.id} ${final.status}${final.error ? `: ${final.error}` : ''}${engineError && !final.error?.includes(engineError) ? ` (engine: ${engineError})` : ''}`,
      ...resultLines(results.filter((r) => r.key !== 'summary')),
      ...(summary ? ['', ...tableText(summary)] : []),
    ].join('\n'),
  );
  return final.status === 'done' ? 0 : 1;
}

async function runs(sub: string | undefined, args: ParsedArgs): Promise<number> {
  const { call, openForReading, openWorkbench } = await common();
  if (sub === 'resume') {
    const runId = Number(args.positional[2]);
    if (!Number.isInteger(runId) || runId <= 0) throw new ApiError('bad_request', 'usage: artiphys runs resume <id> [--project P]');
    const wb = openWorkbench(args, false, runLog(args));
    let run: RunSummary;
    try {
      run = await call(wb, 'runs.resume', { runId });
    } catch (err) {
      wb.close();
      throw err;
    }
    return waitForRun(wb, run, args);
  }
  const wb = await openForReading(args);
  try {
    if (sub === 'list') {
      const list = await call(wb, 'runs.list', {});
      out(args, list, () => list.map((r) => `${String(r.id).padStart(5)}  ${r.status.padEnd(11)} ${r.kind.padEnd(18)} ${r.title}`).join('\n'));
      return 0;
    }
    if (sub === 'show') {
      const runId = Number(args.positional[2]);
      const r = await call(wb, 'runs.get', { runId });
      const results = await call(wb, 'results.list', { runId });
      out(args, { run: r, results }, () =>
        [`run ${r.id} ${r.kind} ${r.status} on ${r.backend ?? '-'}: ${r.title}`, ...resultLines(results, true)].join('\n'),
      );
      return 0;
    }
  } finally {
    wb.close();
  }
  throw new ApiError('bad_request', 'usage: artiphys runs list | show <id> | resume <id>');
}

/** One line per result; details (per-lambda results) as one count unless `all`. */
function resultLines(results: { key: string; data: Record<string, unknown> }[], all = false): string[] {
  const details = all ? [] : results.filter((r) => isDetailResult(r.key));
  return [
    ...results.filter((r) => all || !isDetailResult(r.key)).map((r) => `  ${r.key}: ${summarize(r.data)}`),
    ...(details.length ? [`  (${details.length} per-lambda results: "artiphys runs show <id>" lists them)`] : []),
  ];
}

/** A result's numbers and short strings on one line (encoded arrays and long text are left out). */
function summarize(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, v]) => typeof v === 'number' || (typeof v === 'string' && v.length <= 80))
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`)
    .join(' ');
}

/**
 * Exits once stdout has taken everything written: on a pipe, writes are asynchronous, and
 * exiting at once cuts a large --json document short.
 */
function exitAfterOutput(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(
  (code) => exitAfterOutput(code),
  (err: unknown) => {
    const e = err instanceof ApiError ? err : new ApiError('internal', err instanceof Error ? err.message : String(err));
    if (process.argv.includes('--json')) console.log(JSON.stringify({ ok: false, error: { code: e.code, message: e.message } }));
    else console.error(forTerminal(`artiphys: ${e.message}`));
    exitAfterOutput(2);
  },
);
