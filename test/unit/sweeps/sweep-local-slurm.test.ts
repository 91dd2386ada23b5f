// Sweeps run here and as Slurm array tasks: shards cut at the analysis's batches give every unit
// the results one unsharded run gives it; a Slurm export's script is valid bash, its tasks run by
// hand (the array index in the environment) and `sweep merge` store what the local run stores,
// once, and shards of another sweep or other settings are refused.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { forkEngine } from '../../../src/main/services/engine-process';
import { ProjectDb } from '../../../src/main/services/project-db';
import { ShardEngine, runSweepLocally } from '../../../src/main/services/shard-engine';
import { Workbench } from '../../../src/main/services/workbench';
import { shardSweep, sweepSpec } from '../../../src/shared/sweeps';
import { tempDir } from '../../helpers/temp';
import { artiphys, CELL_SWEEP, copyProject, projectWithSweep, runCount, storedShards } from './sweep-helpers';

const dir = tempDir('artiphys-sweeps-');

describe('sweep shards', () => {
  it('are cut at whole batches of the analysis, one per model, layer and set of units', () => {
    const shards = shardSweep(sweepSpec.parse({ ...CELL_SWEEP, models: ['builtin:complex-cell', 'builtin:energy'], unitsPerShard: 3 }));
    // 3 units a shard round up to 4 (two batches of 2): shards of 4 and 2 units per model.
    expect(shards.map((s) => [s.modelId, s.units])).toEqual([
      ['builtin:complex-cell', [0, 1, 2, 3]],
      ['builtin:complex-cell', [4, 5]],
      ['builtin:energy', [0, 1, 2, 3]],
      ['builtin:energy', [4, 5]],
    ]);
    expect(shards.every((s) => s.seed === 11 && s.settings.maxSteps === 6 && s.settings.layer === 'subunits')).toBe(true);
    expect(() => sweepSpec.parse({ ...CELL_SWEEP, settings: { units: [1] } })).toThrow(/set by the sweep/);
    expect(() => sweepSpec.parse({ ...CELL_SWEEP, units: undefined })).toThrow(/needs its units/);
  });
});

describe('a sweep run here', () => {
  it('stores per unit what one unsharded run of all its units stores', async () => {
    const { file, sweepId } = projectWithSweep(path.join(dir, 'local.artiphys'), CELL_SWEEP);
    const db = ProjectDb.open(file);
    const engine = new ShardEngine(forkEngine);
    try {
      const sweep = await runSweepLocally(db, sweepId, engine);
      expect(sweep.shards.map((s) => s.state)).toEqual(['done', 'done', 'done']);
    } finally {
      engine.stop();
      db.close();
    }
    const sharded = storedShards(file, sweepId).flatMap((s) => s.results!.filter((r) => r.key !== 'summary'));

    const wb = Workbench.open({ launcher: forkEngine, projectPath: path.join(dir, 'unsharded.artiphys'), create: true });
    try {
      const spec = sweepSpec.parse(CELL_SWEEP);
      const run = (await wb.call({
        method: 'runs.start',
        params: { kind: 'diverse', seed: spec.seed, settings: { ...spec.settings, modelId: 'builtin:complex-cell', layer: 'subunits', units: spec.units } },
      })) as { id: number };
      await new Promise<void>((resolve) => wb.onEvent((e) => e.type === 'run.status' && e.runId === run.id && e.status !== 'running' && e.status !== 'queued' && resolve()));
      expect(wb.project.getRun(run.id)!.status).toBe('done');
      const whole = wb.project.listResults(run.id).filter((r) => r.key !== 'summary');
      expect(whole.length).toBeGreaterThan(6);
      const asStored = whole.map((r) => ({
        key: r.key,
        data: r.data,
        images: r.imageIds.map((id) => wb.project.getImage(id)!.png.toString('base64')),
      }));
      const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : 1);
      expect(sharded.map((r) => ({ key: r.key, data: r.data, images: r.images.map((i) => i.pngBase64) })).sort(byKey)).toEqual(asStored.sort(byKey));
    } finally {
      wb.close();
    }
  }, 300_000);
});

describe('a sweep on Slurm', () => {
  it('exports a valid job-array script whose tasks, run by hand and merged, store what the local run stores', () => {
    const local = path.join(dir, 'local.artiphys'); // run by the test above
    const sweepId = 1;
    const project = copyProject(local, path.join(dir, 'slurm.artiphys'));
    // The copy forgets its shards' results: they come back from the cluster.
    const raw = new Database(project);
    raw.exec(`UPDATE sweep_shards SET state = 'pending', run_id = NULL, result_digest = NULL; DELETE FROM runs;`);
    raw.close();
    const out = path.join(dir, 'slurm');
    artiphys(['sweep', 'export', String(sweepId), '--slurm', out, '--time', '00:10:00', '--cpus-per-task', '2', '--mem', '4G', '--project', project]);
    const script = path.join(out, 'sweep.sbatch');
    const text = fs.readFileSync(script, 'utf8');
    expect(text).toMatch(/^#SBATCH --array=0-2$/m);
    expect(text).toMatch(/^#SBATCH --cpus-per-task=2$/m);
    expect(text).toContain('--index "$SLURM_ARRAY_TASK_ID"');
    execFileSync('bash', ['-n', script]);
    for (const index of [0, 1, 2]) execFileSync('bash', [script], { env: { ...process.env, SLURM_ARRAY_TASK_ID: String(index) }, stdio: 'ignore', timeout: 300_000 });
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.artiphys')).sort()).toEqual(['shard-0.artiphys', 'shard-1.artiphys', 'shard-2.artiphys']);

    const merged = JSON.parse(artiphys(['sweep', 'merge', out, '--project', project, '--json'])) as { stored: number[]; duplicate: number[] };
    expect(merged).toMatchObject({ stored: [0, 1, 2], duplicate: [] });
    expect(storedShards(project, sweepId)).toEqual(storedShards(local, sweepId));
    // Merging again stores nothing twice.
    expect(JSON.parse(artiphys(['sweep', 'merge', out, '--project', project, '--json']))).toMatchObject({ stored: [], duplicate: [0, 1, 2] });
    expect(runCount(project)).toBe(3);

    // Shards of another sweep, or run with other settings, are refused and nothing is written.
    const other = projectWithSweep(path.join(dir, 'other.artiphys'), CELL_SWEEP).file;
    expect(() => artiphys(['sweep', 'merge', out, '--project', other])).toThrow(/shard of sweep .* which is not in/);
    expect(runCount(other)).toBe(0);
    const tampered = new Database(path.join(out, 'shard-1.artiphys'));
    tampered.exec(`UPDATE sweep_shards SET digest = 'x' || digest`);
    tampered.close();
    const fresh = copyProject(project, path.join(dir, 'fresh.artiphys'));
    const rawFresh = new Database(fresh);
    rawFresh.exec(`UPDATE sweep_shards SET state = 'pending', run_id = NULL, result_digest = NULL; DELETE FROM runs;`);
    rawFresh.close();
    expect(() => artiphys(['sweep', 'merge', out, '--project', fresh])).toThrow(/shard 1 was run with other settings/);
    expect(runCount(fresh)).toBe(0);
  }, 600_000);
});
