// `artiphys sweep ...` and `artiphys worker`: one analysis over many models x layers x units, run
// here, on a Redis worker pool, or as a Slurm job array, and merged into the one project.
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { ApiError } from '../../shared/api/errors';
import { SWEEP_KINDS } from '../../shared/sweeps';
import { forkEngine } from '../services/engine-process';
import type { ProjectDb } from '../services/project-db';
import { createSweep } from '../services/sweep-create';
import type { SweepRecord } from '../services/sweep-db';
import { forTerminal } from '../terminal-text';
import { settingsFromFlags, type ParsedArgs } from './args';
import { isModelFile, modelIdForFile, openProjectFile, openWorkbench, out } from './common';
import { jsonEvent } from './output';
import { runRequest } from './run-request';

export const SWEEP_HELP = `  sweep create --analysis diverse|feature-vis|shapes --models M,... --layers L,...
               [--units 0-63] [--units-per-shard N] [--seed N] [--<setting> value ...]
                                 records a sweep and its shards (one run per set of units)
  sweep list | show <id>         sweeps with the state of every shard
  sweep run <id> [--queue redis://HOST:PORT/N] [--attempts N]
                                 runs the unfinished shards here, or on the queue's workers
  sweep export <id> --slurm DIR [--partition P] [--time T] [--cpus-per-task N] [--mem M]
               [--gres G] [--account A] [--parallel K] [--artiphys CMD]
                                 writes DIR/sweep.json and a job-array script DIR/sweep.sbatch
  sweep shard --index N --out DIR/shard-N.artiphys [--spec DIR/sweep.json]
                                 runs one shard into a shard project (a Slurm array task)
  sweep merge DIR [--project P]  merges DIR's shard projects into the project
  worker --queue redis://HOST:PORT/N [--concurrency N] [--lock-seconds S]
                                 runs shards from the queue (rediss:// for TLS; password in the URL)`;

/** Flags of `sweep create` that are the sweep's own, not the analysis's settings. */
const SWEEP_FLAGS = ['analysis', 'models', 'layers', 'units', 'units-per-shard', 'title'];

export async function sweepCommand(sub: string | undefined, args: ParsedArgs): Promise<number> {
  switch (sub) {
    case 'create':
      return create(args);
    case 'list':
    case 'show':
      return show(sub, args);
    case 'run':
      return run(args);
    case 'export':
      return exportSlurm(args);
    case 'shard':
      return shard(args);
    case 'merge':
      return merge(args);
    default:
      throw new ApiError('bad_request', `usage:\n${SWEEP_HELP}`);
  }
}

function sweepId(args: ParsedArgs): number {
  const id = Number(args.positional[2]);
  if (!Number.isInteger(id) || id <= 0) throw new ApiError('bad_request', `usage: artiphys sweep ${args.positional[1]} <sweep id> (see "artiphys sweep list")`);
  return id;
}

function getSweep(project: ProjectDb, id: number): SweepRecord {
  const sweep = project.sweeps.get(id);
  if (!sweep) throw new ApiError('not_found', `no sweep ${id} in ${project.path}`);
  return sweep;
}

async function create(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const kind = String(f.analysis ?? '');
  if (!Object.hasOwn(SWEEP_KINDS, kind)) {
    throw new ApiError('bad_request', `sweep create: --analysis takes ${Object.keys(SWEEP_KINDS).join(', ')}${f.analysis === undefined ? '' : `, not "${kind}"`}`);
  }
  const own = Object.fromEntries(Object.entries(f).filter(([k]) => !SWEEP_FLAGS.includes(k)));
  const settings = runRequest(kind, settingsFromFlags(own)).settings;
  const wb = openWorkbench(args, true, { startEngine: false });
  try {
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',') : []);
    const models: string[] = [];
    for (const m of list(f.models)) models.push(isModelFile(m) ? await modelIdForFile(wb, path.resolve(m)) : m);
    const sweep = createSweep(
      wb.project,
      {
        kind,
        models,
        layers: list(f.layers),
        ...(f.units !== undefined ? { units: String(f.units) } : {}),
        ...(f['units-per-shard'] !== undefined ? { unitsPerShard: Number(f['units-per-shard']) } : {}),
        settings,
        seed: f.seed !== undefined ? Number(f.seed) : randomInt(0, 2 ** 31),
      },
      f.title !== undefined ? String(f.title) : undefined,
    );
    out(args, sweep, () => `created sweep ${sweep.id} (${sweep.uid}): ${sweep.shards.length} shards of ${sweep.title}`);
    return 0;
  } finally {
    wb.close();
  }
}

function shardLines(sweep: SweepRecord): string[] {
  return [
    `sweep ${sweep.id} ${sweep.state}: ${sweep.title} (${sweep.uid})`,
    ...sweep.shards.map(
      (s) =>
        `  ${String(s.index).padStart(4)}  ${s.state.padEnd(9)} ${s.modelId} ${s.layer}${s.units ? ` units ${s.units.join(',')}` : ''}` +
        `${s.runId ? `  run ${s.runId}` : ''}${s.attempts ? `  attempts ${s.attempts}` : ''}${s.error ? `  error: ${s.error}` : ''}`,
    ),
  ];
}

async function show(sub: 'list' | 'show', args: ParsedArgs): Promise<number> {
  const wb = openProjectFile(args);
  try {
    if (sub === 'list') {
      const list = wb.project.sweeps.list();
      out(args, list, () => list.map((s) => `${String(s.id).padStart(4)}  ${s.state.padEnd(9)} ${s.shards.length} shards  ${s.title}`).join('\n'));
    } else {
      const sweep = getSweep(wb.project, sweepId(args));
      out(args, sweep, () => shardLines(sweep).join('\n'));
    }
    return 0;
  } finally {
    wb.close();
  }
}

async function run(args: ParsedArgs): Promise<number> {
  const id = sweepId(args);
  const wb = openWorkbench(args, false, { startEngine: false });
  const abort = new AbortController();
  const onInterrupt = () => abort.abort();
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  const onShard = (index: number, state: string, detail?: string) => {
    if (args.flags.json) jsonEvent({ event: 'shard', sweepId: id, index, state, ...(detail ? { detail } : {}) });
    else process.stderr.write(`${forTerminal(`shard ${index}: ${state}${detail ? ` (${detail})` : ''}`)}\n`);
  };
  try {
    getSweep(wb.project, id);
    let sweep: SweepRecord;
    if (args.flags.queue) {
      const { runSweepOnQueue } = await import('../services/sweep-queue');
      sweep = await runSweepOnQueue(wb.project, id, String(args.flags.queue), {
        signal: abort.signal,
        onShard,
        ...(args.flags.attempts !== undefined ? { attempts: Number(args.flags.attempts) } : {}),
      });
    } else {
      const { ShardEngine, runSweepLocally } = await import('../services/shard-engine');
      const engine = new ShardEngine(forkEngine, args.flags.backend ? String(args.flags.backend) : undefined);
      try {
        sweep = await runSweepLocally(wb.project, id, engine, { signal: abort.signal, onShard });
      } finally {
        engine.stop();
      }
    }
    out(args, sweep, () => shardLines(sweep).join('\n'));
    return sweep.state === 'done' ? 0 : 1;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    wb.close();
  }
}

async function exportSlurm(args: ParsedArgs): Promise<number> {
  const id = sweepId(args);
  const f = args.flags;
  if (typeof f.slurm !== 'string') throw new ApiError('bad_request', 'usage: artiphys sweep export <id> --slurm DIR [--partition P] [--time T] ...');
  const { exportSlurm: write, shellQuote } = await import('../services/sweep-slurm');
  const wb = openProjectFile(args);
  try {
    const text = (k: string) => (f[k] !== undefined ? String(f[k]) : undefined);
    const int = (k: string) => {
      if (f[k] === undefined) return undefined;
      const n = Number(f[k]);
      if (!Number.isInteger(n) || n < 1) throw new ApiError('bad_request', `--${k} takes a positive whole number, not "${f[k]}"`);
      return n;
    };
    const r = write(wb.project, getSweep(wb.project, id), String(f.slurm), {
      partition: text('partition'),
      time: text('time'),
      mem: text('mem'),
      gres: text('gres'),
      account: text('account'),
      cpusPerTask: int('cpus-per-task'),
      parallel: int('parallel'),
      backend: text('backend'),
      // The same artiphys as this one, by absolute path, unless the cluster has its own.
      command: text('artiphys') ?? `${shellQuote(process.execPath)} ${shellQuote(path.resolve(process.argv[1]))}`,
    });
    out(args, r, () => `wrote ${r.script} (${r.tasks} array tasks) and ${r.sweepFile}\nsubmit with: sbatch ${r.script}`);
    return 0;
  } finally {
    wb.close();
  }
}

async function shard(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const raw = f.index ?? process.env.SLURM_ARRAY_TASK_ID;
  const index = Number(raw);
  if (raw === undefined || raw === true || !Number.isInteger(index) || index < 0) {
    throw new ApiError('bad_request', 'usage: artiphys sweep shard --index N --out DIR/shard-N.artiphys [--spec DIR/sweep.json] (N defaults to $SLURM_ARRAY_TASK_ID)');
  }
  if (typeof f.out !== 'string') throw new ApiError('bad_request', 'sweep shard: give the shard project to write (--out DIR/shard-N.artiphys)');
  const outFile = path.resolve(f.out);
  const { runShardToProject, SWEEP_FILE } = await import('../services/sweep-slurm');
  const spec = typeof f.spec === 'string' ? path.resolve(f.spec) : path.join(path.dirname(outFile), SWEEP_FILE);
  const r = await runShardToProject(spec, index, outFile, forkEngine, f.backend ? String(f.backend) : undefined);
  out(args, { index, out: outFile, ...r }, () => `shard ${index}: ${r.skipped ? 'already done' : r.status}${r.error ? ` (${r.error})` : ''} -> ${outFile}`);
  return r.status === 'done' ? 0 : 1;
}

async function merge(args: ParsedArgs): Promise<number> {
  const dir = args.positional[2];
  if (!dir) throw new ApiError('bad_request', 'usage: artiphys sweep merge DIR [--project P]');
  const { mergeShardProjects } = await import('../services/sweep-slurm');
  const wb = openWorkbench(args, false, { startEngine: false });
  try {
    const r = mergeShardProjects(wb.project, path.resolve(dir));
    const sweep = getSweep(wb.project, r.sweepId);
    out(args, { ...r, sweep }, () =>
      [
        `merged ${r.stored.length} shards${r.duplicate.length ? ` (${r.duplicate.length} already merged)` : ''}`,
        ...r.unfinished.map((u) => `  not finished: ${u}`),
        ...shardLines(sweep),
      ].join('\n'),
    );
    return 0;
  } finally {
    wb.close();
  }
}

export async function workerCommand(args: ParsedArgs): Promise<number> {
  const url = args.flags.queue;
  if (typeof url !== 'string') throw new ApiError('bad_request', 'usage: artiphys worker --queue redis://HOST:PORT/N [--backend B] [--concurrency N]');
  const concurrency = args.flags.concurrency !== undefined ? Number(args.flags.concurrency) : 1;
  const lockSeconds = args.flags['lock-seconds'] !== undefined ? Number(args.flags['lock-seconds']) : undefined;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ApiError('bad_request', `--concurrency takes a positive whole number, not "${args.flags.concurrency}"`);
  if (lockSeconds !== undefined && !(lockSeconds > 0)) throw new ApiError('bad_request', `--lock-seconds takes a positive number, not "${args.flags['lock-seconds']}"`);
  const { startWorker } = await import('../services/sweep-queue');
  const log = (line: string) => (args.flags.json ? jsonEvent({ event: 'worker', message: line }) : process.stderr.write(`${forTerminal(`[worker] ${line}`)}\n`));
  const worker = await startWorker(url, {
    launcher: forkEngine,
    concurrency,
    ...(lockSeconds !== undefined ? { lockSeconds } : {}),
    ...(args.flags.backend ? { backend: String(args.flags.backend) } : {}),
    log,
  });
  log(`ready: ${concurrency} engine${concurrency === 1 ? '' : 's'} on ${redactedUrl(url)}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  // The shards in hand finish first (Ctrl-C again stops at once; they then run elsewhere).
  process.once('SIGINT', () => process.exit(130));
  await worker.close();
  return 0;
}

/** The queue URL without its password, for logs. */
function redactedUrl(url: string): string {
  return url.replace(/\/\/([^@/]*):[^@/]*@/, '//$1:***@');
}
