// The command line as a careless or hostile user meets it (issue 15): help, misspelled flags,
// huge ranges, unknown backends, settings the model cannot serve, --json progress, runs killed by
// signals and resumed, reading a project while a run holds it, and names from model files that
// try to drive the terminal. Through the built CLI (npm test builds first).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProjectDb } from '../../../src/main/services/project-db';
import { tempDir } from '../../helpers/temp';
import { buildModel, ints, weights } from '../models/onnx-builder';
import { exited } from '../../helpers/processes';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin/artiphys.js');
const home = tempDir('artiphys-cli-hardening-');
let n = 0;
const freshProject = () => path.join(home, `p${n++}.artiphys`);
const env = { ...process.env, ARTIPHYS_HOME: home, ARTIPHYS_BACKEND: 'cpu' };

function artiphys(args: string[], timeout = 60_000) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

/** Resolves with the first stderr line (parsed JSON) that `pred` accepts. */
function stderrEvent(child: ChildProcess, pred: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const e = JSON.parse(line) as Record<string, unknown>;
        if (pred(e)) resolve(e);
      }
    });
    child.on('exit', (code) => reject(new Error(`exited (${code}) before the event`)));
  });
}

function childPids(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}


describe('usage errors are told at once, with exit 2 and nothing queued', () => {
  it('--help exits 0; a bare artiphys is a usage error', () => {
    const help = artiphys(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: artiphys <command>/);
    expect(help.stdout).toMatch(/runs resume <id>/);
    expect(artiphys(['run', '--help']).code).toBe(0);
    expect(artiphys([]).code).toBe(1);
  });

  it('a misspelled flag is named (with the likely one), and no project is touched', () => {
    const project = freshProject();
    const r = artiphys(['run', 'max-image', '--model', 'builtin:energy', '--stepz', '5', '--project', project]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^artiphys: unknown option --stepz for "run max-image"; did you mean --steps\?/);
    expect(fs.existsSync(project)).toBe(false);
    const json = artiphys(['run', 'diverse', '--lamdas', '0,1', '--json', '--project', project]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'bad_request', message: expect.stringContaining('--lamdas') } });
  });

  it('--units 0-100000000 is refused within a second, before anything is expanded', () => {
    const project = freshProject();
    const r = artiphys(['run', 'diverse', '--model', 'builtin:energy', '--units', '0-100000000', '--project', project]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/range 0-100000000 holds 100000001 values; a list holds at most 65536/);
    expect(r.ms).toBeLessThan(1000);
    expect(fs.existsSync(project)).toBe(false);
  });

  it('an unknown backend is one clear line, from the flag or the environment', () => {
    const project = freshProject();
    const r = artiphys(['run', 'max-image', '--backend', 'cuda9', '--project', project]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^artiphys: unknown backend "cuda9" \(--backend\); choose one of auto, /)]);
    expect(fs.existsSync(project)).toBe(false);
    const fromEnv = spawnSync(process.execPath, [BIN, 'doctor'], { cwd: ROOT, env: { ...env, ARTIPHYS_BACKEND: 'cuda9' }, encoding: 'utf8' });
    expect(fromEnv.status).toBe(2);
    expect(fromEnv.stderr).toMatch(/unknown backend "cuda9" \(ARTIPHYS_BACKEND\)/);
  });

  it('an unknown layer, a channel out of range and a missing folder are told before a run is queued', () => {
    const project = freshProject();
    const cases: [string[], RegExp][] = [
      [['max-image', '--model', 'builtin:energy', '--layer', 'nope'], /--layer: no layer "nope" in model builtin:energy; its layers: subunits, response/],
      [['max-image', '--model', 'builtin:energy', '--channel', '999'], /--channel: layer response of builtin:energy has 1 channel \(0-0\); 999 is out of range/],
      [['diverse', '--model', 'builtin:corner', '--layer', 'subunits', '--units', '0-9'], /--units: layer subunits of builtin:corner has 4 channels \(0-3\); 4 is out of range/],
      [['dataset-scan', '--images', path.join(home, 'missing')], /--images: no folder at .*missing/],
    ];
    for (const [args, message] of cases) {
      const r = artiphys(['run', ...args, '--project', project]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const list = artiphys(['runs', 'list', '--json', '--project', project]);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});

describe('runs and signals', () => {
  it('--json prints progress on stderr as one JSON object per line, and one document on stdout', () => {
    const project = freshProject();
    const r = artiphys(['run', 'max-image', '--model', 'builtin:energy', '--steps', '40', '--json', '--project', project]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { run: { status: string } };
    expect(doc.run.status).toBe('done');
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { event: string; progress?: { step: number; total: number } });
    expect(events[0]).toMatchObject({ event: 'status', status: 'queued' });
    const progress = events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.progress).toMatchObject({ step: 40, total: 40 });
    expect(events.at(-1)).toMatchObject({ event: 'status', status: 'done' });
  });

  it('a run stopped by SIGTERM is left interrupted and resumes with "runs resume"; the project stays readable meanwhile', async () => {
    const project = freshProject();
    const child = spawn(process.execPath, [BIN, 'run', 'max-image', '--model', 'builtin:energy', '--steps', '100000', '--checkpoint-every', '50', '--json', '--project', project], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await stderrEvent(child, (e) => e.event === 'result');
    // Another process reads the project while the run holds it.
    const during = artiphys(['runs', 'list', '--json', '--project', project]);
    expect(during.code).toBe(0);
    expect(JSON.parse(during.stdout)).toMatchObject([{ id: 1, status: 'running' }]);
    const ended = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await ended).toBe(143);
    const db = ProjectDb.open(project, { readOnly: true });
    const run = db.getRun(1)!;
    db.close();
    expect(run.status).toBe('interrupted');
    // Resumed from its checkpoint with fewer steps to go: settings are the run's own, so make it short.
    const raw = ProjectDb.open(project);
    const checkpoint = raw.loadCheckpoint(1) as { step: number };
    raw.close();
    expect(checkpoint.step).toBeGreaterThanOrEqual(50);
    const resumed = spawn(process.execPath, [BIN, 'runs', 'resume', '1', '--project', project, '--json'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // 100,000 steps would take minutes: its first progress shows where it started, then it is stopped again.
    const first = (await stderrEvent(resumed, (e) => e.event === 'progress')) as { progress: { step: number } };
    const resumedEnded = new Promise<number | null>((resolve) => resumed.on('exit', (code) => resolve(code)));
    resumed.kill('SIGTERM');
    expect(await resumedEnded).toBe(143);
    expect(first.progress.step).toBeGreaterThan(checkpoint.step);
  });

  it('"runs resume" finishes a run a killed process left running; a finished run is not resumed', () => {
    const project = freshProject();
    const db = ProjectDb.open(project, { create: true });
    const run = db.createRun({ kind: 'max-image', title: 't', modelId: 'builtin:energy', settings: { modelId: 'builtin:energy', layer: 'response', channel: 0, position: null, steps: 20, learningRate: 0.1, imageNorm: null, checkpointEvery: 10 }, seed: 3, appVersion: '0' });
    db.markRunStarted(run.id, 'cpu');
    db.close(); // as if its process had been killed: the run stays 'running'
    const list = artiphys(['runs', 'list', '--json', '--project', project]);
    expect(JSON.parse(list.stdout)).toMatchObject([{ id: run.id, status: 'interrupted' }]);
    const r = artiphys(['runs', 'resume', String(run.id), '--project', project]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^run ${run.id} done`));
    const again = artiphys(['runs', 'resume', String(run.id), '--project', project]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/run \d+ is done; only cancelled, failed or interrupted runs resume/);
  });

  it('the engine of a CLI killed with SIGKILL stops at once instead of computing on', async () => {
    const project = freshProject();
    const child = spawn(process.execPath, [BIN, 'run', 'max-image', '--model', 'builtin:energy', '--steps', '100000', '--json', '--project', project], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await stderrEvent(child, (e) => e.event === 'progress');
    const engines = childPids(child.pid!);
    expect(engines.length).toBe(1);
    child.kill('SIGKILL');
    expect(await exited(engines[0], 3000)).toBe(true);
    // The next open of the project (any command) marks the abandoned run interrupted.
    expect(JSON.parse(artiphys(['runs', 'list', '--json', '--project', project]).stdout)).toMatchObject([{ status: 'interrupted' }]);
  });
});

describe('text from model files reaches the terminal escaped', () => {
  it('layer and operator names with ANSI escapes are shown, not obeyed', () => {
    const evil = '\u001b[31mred\u001b]0;pwned\u0007';
    const model = buildModel({
      input: [1, 3, 8, 8],
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], output: `conv${evil}`, attrs: { kernel_shape: ints([3, 3]) } },
        { op: 'Relu', inputs: [`conv${evil}`], output: 'relu' },
      ],
      inits: { w: weights([2, 3, 3, 3], 1) },
    });
    const file = path.join(home, 'evil.onnx');
    fs.writeFileSync(file, model);
    const r = artiphys(['models', 'inspect', file]);
    expect(r.code).toBe(0);
    // eslint-disable-next-line no-control-regex -- control characters are what must not get through
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(r.stdout).toContain('conv\\x1b[31mred\\x1b]0;pwned\\x07');
    // In JSON the name is exact (JSON escapes it itself).
    const json = JSON.parse(artiphys(['models', 'inspect', file, '--json']).stdout) as { layers: { name: string }[] };
    expect(json.layers.map((l) => l.name)).toContain(`conv${evil}`);
    // And in error messages.
    const bad = buildModel({ input: [1, 3, 8, 8], nodes: [{ op: `Evil${evil}`, inputs: ['x'], output: 'y' }] });
    const badFile = path.join(home, 'evil-op.onnx');
    fs.writeFileSync(badFile, bad);
    const err = artiphys(['models', 'inspect', badFile]);
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/operator "Evil\\x1b\[31mred/);
    // eslint-disable-next-line no-control-regex -- control characters are what must not get through
    expect(err.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });
});
