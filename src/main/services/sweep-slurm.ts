// Sweeps on a Slurm cluster: the owner exports the sweep (a sweep file and a job-array script),
// each array task runs one shard into a shard project of its own, and `sweep merge` brings the
// shard projects back into the owner's project, refusing those of another sweep or settings.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../shared/api/errors';
import type { ModelDetail } from '../../shared/domain';
import { sweepSpec } from '../../shared/sweeps';
import type { EngineLauncher } from './engine-process';
import { ProjectDb } from './project-db';
import { ShardEngine, shardTasks, type ShardTask } from './shard-engine';
import type { SweepRecord } from './sweep-db';

export const SWEEP_FILE = 'sweep.json';
export const SLURM_SCRIPT = 'sweep.sbatch';

interface SweepFile {
  format: 'artiphys-sweep';
  version: 1;
  sweep: { uid: string; title: string; spec: unknown };
  /** The project models the shards use, as the shard projects record them. */
  models: ModelDetail[];
  tasks: ShardTask[];
}

/** `#SBATCH` resources, each written only when given. */
export interface SlurmOptions {
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  gres?: string;
  account?: string;
  /** At most this many array tasks at once (`--array=0-N%K`). */
  parallel?: number;
  /** How a task calls artiphys (default: this node and this CLI, by absolute path). */
  command: string;
  backend?: string;
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function exportSlurm(project: ProjectDb, sweep: SweepRecord, dir: string, opts: SlurmOptions): { script: string; sweepFile: string; tasks: number } {
  const out = path.resolve(dir);
  fs.mkdirSync(out, { recursive: true });
  const tasks = shardTasks(project, sweep);
  const used = new Set(sweep.shards.map((s) => s.modelId));
  const file: SweepFile = {
    format: 'artiphys-sweep',
    version: 1,
    sweep: { uid: sweep.uid, title: sweep.title, spec: sweep.spec },
    models: project.listModels().filter((m) => used.has(m.id)).map((m) => project.getModel(m.id)!),
    tasks,
  };
  const sweepFile = path.join(out, SWEEP_FILE);
  fs.writeFileSync(sweepFile, JSON.stringify(file, null, 1));
  const q = shellQuote;
  const sbatch = [
    ['job-name', `artiphys-sweep-${sweep.id}`],
    ['array', `0-${tasks.length - 1}${opts.parallel ? `%${opts.parallel}` : ''}`],
    ['output', path.join(out, 'slurm-%A_%a.out')],
    ['partition', opts.partition],
    ['time', opts.time],
    ['cpus-per-task', opts.cpusPerTask],
    ['mem', opts.mem],
    ['gres', opts.gres],
    ['account', opts.account],
  ].filter(([, v]) => v !== undefined && v !== '');
  const script = [
    '#!/bin/bash',
    `# Artiphys sweep ${sweep.uid}: ${tasks.length} shards, one array task each.`,
    `# Submit with: sbatch ${q(path.join(out, SLURM_SCRIPT))}; then: artiphys sweep merge ${q(out)} --project ${q(project.path)}`,
    ...sbatch.map(([k, v]) => `#SBATCH --${k}=${v}`),
    'set -euo pipefail',
    `${opts.command} sweep shard --spec ${q(sweepFile)} --index "$SLURM_ARRAY_TASK_ID" --out ${q(out)}/shard-"$SLURM_ARRAY_TASK_ID".artiphys${opts.backend ? ` --backend ${q(opts.backend)}` : ''}`,
    '',
  ].join('\n');
  const scriptFile = path.join(out, SLURM_SCRIPT);
  fs.writeFileSync(scriptFile, script, { mode: 0o755 });
  return { script: scriptFile, sweepFile, tasks: tasks.length };
}

function readSweepFile(file: string): SweepFile {
  let doc: SweepFile;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8')) as SweepFile;
  } catch (err) {
    throw new ApiError('bad_request', `${file} is not a readable sweep file (${err instanceof Error ? err.message : String(err)})`);
  }
  if (doc?.format !== 'artiphys-sweep' || doc.version !== 1) throw new ApiError('bad_request', `${file} is not an Artiphys sweep file`);
  return doc;
}

/**
 * Runs shard `index` of a sweep file into a new shard project `out`. A shard project that already
 * holds this shard finished is left as it is (a requeued array task does nothing).
 */
export async function runShardToProject(
  sweepFile: string,
  index: number,
  out: string,
  launcher: EngineLauncher,
  backend?: string,
): Promise<{ status: string; error?: string; skipped?: boolean }> {
  const doc = readSweepFile(sweepFile);
  const task = doc.tasks[index];
  if (!task) throw new ApiError('bad_request', `the sweep has shards 0-${doc.tasks.length - 1}; there is no shard ${index}`);
  if (fs.existsSync(out)) {
    const existing = ProjectDb.open(out, { readOnly: true });
    try {
      const sweep = existing.sweeps.byUid(doc.sweep.uid);
      if (sweep?.shards[index]?.state === 'done') return { status: 'done', skipped: true };
    } finally {
      existing.close();
    }
    throw new ApiError('bad_request', `${out} exists and does not hold shard ${index} finished; remove it to run the shard again`);
  }
  const project = ProjectDb.open(out, { create: true });
  const engine = new ShardEngine(launcher, backend);
  try {
    for (const m of doc.models) project.addModel(m);
    const sweep = project.sweeps.create(sweepSpec.parse(doc.sweep.spec), doc.sweep.title, doc.sweep.uid);
    if (sweep.shards[index]?.digest !== task.digest) {
      throw new ApiError('bad_request', `shard ${index} of this sweep file has other settings than this Artiphys version gives it; run the shards with the version that exported the sweep`);
    }
    project.sweeps.setShardState(sweep.id, index, 'running', { countAttempt: true });
    const outcome = await engine.run(task, { onProgress: (step, total) => project.sweeps.setShardProgress(sweep.id, index, step, total) });
    project.sweeps.storeOutcome(sweep, outcome);
    return { status: outcome.status, ...(outcome.error ? { error: outcome.error } : {}) };
  } finally {
    engine.stop();
    project.close();
  }
}

/**
 * Merges the shard projects in `dir` into the project. Every shard project is checked before
 * anything is written: one of another sweep, or run with other settings, refuses the merge.
 * Shards already in the project are left as they are.
 */
export function mergeShardProjects(project: ProjectDb, dir: string): { sweepId: number; stored: number[]; duplicate: number[]; unfinished: string[] } {
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^shard-\d+\.artiphys$/.test(f))
    .sort((a, b) => Number(a.match(/\d+/)![0]) - Number(b.match(/\d+/)![0]));
  if (files.length === 0) throw new ApiError('bad_request', `no shard projects (shard-N.artiphys) in ${dir}`);
  let target: SweepRecord | null = null;
  const outcomes = [];
  const unfinished: string[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    const shardProject = ProjectDb.open(file, { readOnly: true });
    try {
      const sweeps = shardProject.sweeps.list();
      if (sweeps.length !== 1) throw new ApiError('bad_request', `${file} is not a shard project (it holds ${sweeps.length} sweeps)`);
      const own = project.sweeps.byUid(sweeps[0].uid);
      if (!own) throw new ApiError('bad_request', `${file} is a shard of sweep ${sweeps[0].uid}, which is not in ${project.path}`);
      if (target && own.id !== target.id) throw new ApiError('bad_request', `${file} is a shard of another sweep (${own.uid}) than the other files in ${dir} (${target.uid})`);
      target = own;
      const done = sweeps[0].shards.filter((s) => s.state === 'done');
      if (done.length === 0) unfinished.push(`${f}: ${sweeps[0].shards.map((s) => `${s.state}${s.error ? ` (${s.error})` : ''}`).join(', ')}`);
      for (const s of done) {
        if (own.shards[s.index]?.digest !== s.digest) {
          throw new ApiError('bad_request', `${file}: shard ${s.index} was run with other settings than sweep ${own.uid} gives it`);
        }
        outcomes.push(shardProject.sweeps.outcomeOf(sweeps[0], s.index)!);
      }
    } finally {
      shardProject.close();
    }
  }
  const stored: number[] = [];
  const duplicate: number[] = [];
  for (const o of outcomes) (project.sweeps.storeOutcome(target!, o) === 'stored' ? stored : duplicate).push(o.index);
  return { sweepId: target!.id, stored, duplicate, unfinished };
}
