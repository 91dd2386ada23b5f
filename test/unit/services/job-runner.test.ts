// The job runner against the real engine process (forked from source) and a real project file.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../../src/shared/api/contract';
import type { RunEstimate } from '../../../src/shared/analyses/cost';
import type { RunSummary } from '../../../src/shared/domain';
import { forkEngine, type EngineLauncher } from '../../../src/main/services/engine-process';
import { Workbench } from '../../../src/main/services/workbench';
import { tempDir } from '../../helpers/temp';
import { exited } from '../../helpers/processes';

const dir = tempDir();
let open: Workbench | null = null;
afterEach(() => {
  open?.close();
  open = null;
});

function workbench(name: string): { wb: Workbench; events: ApiEvent[] } {
  const wb = Workbench.open({ launcher: forkEngine, projectPath: path.join(dir, name), create: true, backend: 'cpu' });
  open = wb;
  const events: ApiEvent[] = [];
  wb.onEvent((e) => events.push(e));
  return { wb, events };
}

function until(wb: Workbench, runId: number, pred: (r: RunSummary) => boolean, timeoutMs = 90_000): Promise<RunSummary> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const r = wb.project.getRun(runId)!;
      if (pred(r)) return resolve(r);
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out; run is ${r.status} at ${r.progress.step}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}


const start = (wb: Workbench, settings: Record<string, unknown>, seed = 3) =>
  wb.call({ method: 'runs.start', params: { kind: 'max-image', settings: { modelId: 'builtin:simple-cell', ...settings }, seed } }) as Promise<RunSummary>;

describe('job runner with the engine process', () => {
  it('runs a job to the end with progress, stores its results and the backend', async () => {
    const { wb, events } = workbench('a.artiphys');
    const run = await start(wb, { modelId: 'builtin:energy', steps: 60, checkpointEvery: 20 });
    const done = await until(wb, run.id, (r) => r.status === 'done' || r.status === 'failed');
    expect(done.error).toBeNull();
    expect(done.status).toBe('done');
    expect(done.backend).toBe('cpu');
    expect(done.progress).toMatchObject({ step: 60, total: 60 });
    const progress = events.filter((e) => e.type === 'run.progress');
    expect(progress.length).toBeGreaterThan(1);
    const results = wb.project.listResults(run.id);
    expect(results.map((r) => r.key)).toEqual(['snapshot/20', 'snapshot/40', 'snapshot/60', 'unit/response/0']);
    const final = results.at(-1)!;
    // Closed form: at RMS contrast 30 (grey levels), the energy model's best image puts all of its
    // greyscale norm 30 * 24 / 127.5 into the span of the quadrature pair: energy = norm^2.
    const best = ((30 * 24) / 127.5) ** 2;
    const trace = final.data.trace as number[];
    expect(trace[0]).toBeLessThan(0.2 * best);
    expect(final.data.activation as number).toBeGreaterThan(0.98 * best);
    expect(final.data.activation as number).toBeLessThanOrEqual(best * 1.001);
    const img = wb.project.getImage(final.imageIds[0])!;
    expect([img.width, img.height]).toEqual([24, 24]);
    expect(img.png.subarray(1, 4).toString()).toBe('PNG');
    // The API hands the stored bytes out one by one or several at once, naming the ids it lacks.
    const ids = results.flatMap((r) => r.imageIds);
    const one = await wb.call({ method: 'images.get', params: { imageId: ids[0] } });
    const many = (await wb.call({ method: 'images.getMany', params: { imageIds: [...ids, 999_999] } })) as {
      images: { id: number; base64: string }[];
      missing: number[];
    };
    expect(many.missing).toEqual([999_999]);
    expect(many.images.map((i) => i.id)).toEqual(ids);
    for (const i of many.images) expect(Buffer.from(i.base64, 'base64').equals(wb.project.getImage(i.id)!.png)).toBe(true);
    expect(many.images[0]).toEqual(one);
    await expect(wb.call({ method: 'images.getMany', params: { imageIds: [] } })).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('cancels a running job and keeps what it finished', async () => {
    const { wb } = workbench('b.artiphys');
    const run = await start(wb, { steps: 100_000, checkpointEvery: 10 });
    await until(wb, run.id, (r) => r.resultCount >= 2);
    // The answer comes once the run has stopped: it reads cancelled, as every later read does.
    const answer = (await wb.call({ method: 'runs.cancel', params: { runId: run.id } })) as RunSummary;
    expect(answer.status).toBe('cancelled');
    expect(wb.project.getRun(run.id)!.status).toBe('cancelled');
    expect(wb.project.listResults(run.id).length).toBeGreaterThanOrEqual(2);
  });

  it('resumes from the last checkpoint after the engine process is killed mid-job', async () => {
    const { wb, events } = workbench('c.artiphys');
    const run = await start(wb, { steps: 400, checkpointEvery: 25 }, 11);
    await until(wb, run.id, (r) => r.resultCount >= 3 && r.progress.step < 300);
    const before = wb.project.listResults(run.id);
    const checkpointStep = (wb.project.loadCheckpoint(run.id) as { step: number }).step;
    expect(checkpointStep).toBeGreaterThanOrEqual(75);
    const pid = wb.runner.enginePid!;
    process.kill(pid, 'SIGKILL');
    const done = await until(wb, run.id, (r) => r.status === 'done' || r.status === 'failed');
    expect(done.status).toBe('done');
    expect(wb.runner.enginePid).not.toBe(pid);
    // it went through 'interrupted', and the restarted engine began at the checkpoint, not at 0
    const statuses = events.filter((e) => e.type === 'run.status' && e.runId === run.id).map((e) => (e as { status: string }).status);
    expect(statuses).toContain('interrupted');
    const afterKill = events.slice(events.findIndex((e) => e.type === 'run.status' && e.status === 'interrupted'));
    const firstStep = afterKill.find((e) => e.type === 'run.progress')! as Extract<ApiEvent, { type: 'run.progress' }>;
    // Checkpoints the engine sent just before it died may still be stored after the read above,
    // so the run resumes at that checkpoint or a later one: never from the start, never finished.
    expect(firstStep.progress.step).toBeGreaterThan(checkpointStep);
    expect(firstStep.progress.step).toBeLessThan(400);
    // nothing finished before the kill was lost
    const after = wb.project.listResults(run.id);
    for (const r of before) expect(after.find((a) => a.key === r.key)).toBeDefined();
    expect(after.at(-1)!.key).toBe('unit/response/0');
  });

  it('answers bad calls with clear errors and keeps serving', async () => {
    const { wb } = workbench('d.artiphys');
    await expect(wb.call({ method: 'runs.start', params: { kind: 'nope' } })).rejects.toMatchObject({ code: 'bad_request' });
    await expect(wb.call({ method: 'runs.start', params: { kind: 'max-image', settings: { steps: -1 } } })).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('steps'),
    });
    await expect(wb.call({ method: 'runs.start', params: { kind: 'max-image', settings: { modelId: 'builtin:nope' } } })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(wb.call({ method: 'no.such' })).rejects.toMatchObject({ code: 'unknown_method' });
    await expect(wb.call('garbage')).rejects.toMatchObject({ code: 'bad_request' });
    await expect(wb.call({ method: 'runs.get', params: { runId: 999 } })).rejects.toMatchObject({ code: 'not_found' });
    // Settings the model cannot serve are refused before a run is queued (no engine start, no failed run).
    await expect(start(wb, { steps: 5, layer: 'nope' })).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/no layer "nope".*its layers: subunits, response/) });
    await expect(start(wb, { steps: 5, channel: 999 })).rejects.toMatchObject({ message: expect.stringMatching(/--channel: layer response of builtin:simple-cell has 1 channel \(0-0\); 999 is out of range/) });
    await expect(
      wb.call({ method: 'runs.start', params: { kind: 'diverse', settings: { modelId: 'builtin:energy', layer: 'subunits', units: '0-2' } } }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/--units: layer subunits .* 2 channels \(0-1\); 2 is out of range/) });
    await expect(wb.call({ method: 'runs.start', params: { kind: 'diverse', settings: { units: '0-100000000' } } })).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/range 0-100000000 holds 100000001 values/),
    });
    await expect(wb.call({ method: 'runs.start', params: { kind: 'dataset-scan', settings: { images: path.join(dir, 'missing') } } })).rejects.toMatchObject({
      message: expect.stringMatching(/--images: no folder at .*missing/),
    });
    const empty = path.join(dir, 'empty-images');
    fs.mkdirSync(path.join(empty, 'n01440764'), { recursive: true });
    fs.writeFileSync(path.join(empty, 'n01440764', 'notes.txt'), 'not an image');
    await expect(wb.call({ method: 'runs.start', params: { kind: 'shapes', settings: { naturalImages: empty } } })).rejects.toMatchObject({
      message: expect.stringMatching(/--natural-images: the folder .*empty-images holds no JPEG or PNG images$/),
    });
    await expect(wb.call({ method: 'runs.start', params: { kind: 'dataset-scan', settings: { images: empty } } })).rejects.toMatchObject({
      message: expect.stringMatching(/--images: the folder .*empty-images holds no JPEG or PNG images \(nor do its subfolders\)/),
    });
    expect(wb.project.listRuns()).toEqual([]);
    const ok = await start(wb, { steps: 5 });
    expect((await until(wb, ok.id, (r) => r.status === 'done' || r.status === 'failed')).status).toBe('done');
  });

  it('estimates a run from steps timed on this backend, reuses the timing, and deletes a finished run', async () => {
    const { wb, events } = workbench('estimate.artiphys');
    const settings = { modelId: 'builtin:energy', layer: 'response', units: [0], lambdas: [0, 1, 2], maxSteps: 50, indices: true };
    const first = (await wb.call({ method: 'runs.estimate', params: { kind: 'diverse', settings } })) as RunEstimate;
    expect(first).toMatchObject({ backend: 'cpu', timing: 'measured', unitSteps: 50 * 1 * 4 });
    expect(first.factors).toEqual([
      { label: 'steps', value: 50 },
      { label: 'units', value: 1 },
      { label: 'passes (lambdas and texture)', value: 4 },
    ]);
    expect(first.secondsPerUnitStep).toBeGreaterThan(0);
    expect(first.seconds).toBeCloseTo(first.secondsPerUnitStep! * 200, 9);
    // The same model, layer and batch: the timing is reused, the steps counted afresh.
    const again = (await wb.call({ method: 'runs.estimate', params: { kind: 'diverse', settings: { ...settings, maxSteps: 100 } } })) as RunEstimate;
    expect(again).toMatchObject({ timing: 'cached', secondsPerUnitStep: first.secondsPerUnitStep, unitSteps: 400 });
    // The probe stores nothing, and settings are checked as runs.start checks them.
    expect(wb.project.listRuns()).toEqual([]);
    await expect(wb.call({ method: 'runs.estimate', params: { kind: 'diverse', settings: { ...settings, units: [5] } } })).rejects.toMatchObject({
      message: expect.stringMatching(/--units: .* 5 is out of range/),
    });
    const shapes = (await wb.call({ method: 'runs.estimate', params: { kind: 'shapes', settings: {} } })) as RunEstimate;
    expect(shapes).toMatchObject({ seconds: null, reason: expect.stringMatching(/not counted in steps/) });

    const run = await start(wb, { steps: 5 });
    await expect(wb.call({ method: 'runs.delete', params: { runId: run.id } })).rejects.toMatchObject({ message: expect.stringMatching(/cancel it before deleting/) });
    await until(wb, run.id, (r) => r.status === 'done');
    expect(wb.project.listResults(run.id).length).toBeGreaterThan(0);
    await expect(wb.call({ method: 'runs.delete', params: { runId: run.id } })).resolves.toEqual({ deleted: run.id });
    expect(wb.project.getRun(run.id)).toBeNull();
    expect(wb.project.listResults(run.id)).toEqual([]);
    expect(events).toContainEqual({ type: 'run.deleted', runId: run.id });
  });

  it('restarts an engine killed while it starts, and the queued run completes', async () => {
    let launches = 0;
    const launcher: EngineLauncher = () => {
      const engine = forkEngine();
      if (launches++ === 0) process.kill(engine.pid!, 'SIGKILL'); // dies before it is ready
      return engine;
    };
    const wb = Workbench.open({ launcher, projectPath: path.join(dir, 'e.artiphys'), create: true, backend: 'cpu' });
    open = wb;
    const run = (await wb.call({ method: 'runs.start', params: { kind: 'max-image', settings: { modelId: 'builtin:energy', steps: 5 } } })) as RunSummary;
    const done = await until(wb, run.id, (r) => r.status === 'done' || r.status === 'failed', 60_000);
    expect(done.status).toBe('done');
    expect(launches).toBe(2);
    expect(wb.runner.engineState.state).toBe('ready');
  });

  it('reads a model file in an engine of its own: runs go on meanwhile, and a reading that hangs is stopped', async () => {
    const stalled: number[] = [];
    let launches = 0;
    const launcher: EngineLauncher = () => {
      const engine = forkEngine();
      // The second process is the inspection: freeze it, as a file that takes minutes would.
      if (launches++ === 1) {
        process.kill(engine.pid!, 'SIGSTOP');
        stalled.push(engine.pid!);
      }
      return engine;
    };
    const wb = Workbench.open({ launcher, projectPath: path.join(dir, 'f.artiphys'), create: true, backend: 'cpu', inspectTimeoutSeconds: 4 });
    open = wb;
    await wb.runner.start();
    const file = path.join(dir, 'slow.onnx');
    fs.writeFileSync(file, Uint8Array.of(0x08, 0x07));
    const t0 = Date.now();
    const importing = wb.call({ method: 'models.import', params: { path: file } }).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    const run = await start(wb, { modelId: 'builtin:energy', steps: 10 });
    const done = await until(wb, run.id, (r) => r.status === 'done' || r.status === 'failed', 30_000);
    expect(done.status).toBe('done');
    expect(Date.now() - t0).toBeLessThan(4000); // finished while the inspection hung
    const err = await importing;
    expect(err).toMatchObject({ code: 'bad_model', message: expect.stringMatching(/took longer than 4 s and was stopped/) });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(stalled.length).toBe(1);
    expect(await exited(stalled[0])).toBe(true); // the inspection process is gone
    // An ordinary bad file still gets its own clear answer.
    const junk = path.join(dir, 'junk.onnx');
    fs.writeFileSync(junk, 'not a model');
    await expect(wb.call({ method: 'models.import', params: { path: junk } })).rejects.toMatchObject({ code: 'bad_model', message: expect.stringMatching(/not ONNX/) });
  });
});
