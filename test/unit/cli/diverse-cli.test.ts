// `artiphys run diverse|indices` as a user types it, through the built CLI (npm test builds
// first): the per-unit table with lambda*, the diversity ratio, SI and LC, per-lambda results
// counted rather than listed, and --json with the same numbers.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin/artiphys.js');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'artiphys-cli-diverse-'));
const project = path.join(home, 'p.artiphys');
const ARGS = ['--model', 'builtin:complex-cell', '--layer', 'response', '--units', '0', '--lambdas', '0,1', '--steps', '20', '--texture-crop-stride', '6', '--project', project];

function artiphys(args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ARTIPHYS_HOME: home }, encoding: 'utf8', timeout: 120_000 });
}

afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('artiphys run diverse / indices', () => {
  it('prints one table row per unit and counts the per-lambda results', () => {
    const text = artiphys(['run', 'diverse', ...ARGS]);
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^run \d+ done/);
    expect(text).toContain('(2 per-lambda results');
    expect(text).not.toMatch(/lambda\/\d/);
    const header = lines.findIndex((l) => /^layer\s+channel\s+lambda\*\s+D\(lambda\*\)\/D\(0\) \(floored\)\s+D\(lambda\*\)\/D\(0\) \(raw\)\s+SI\s+LC$/.test(l));
    expect(header).toBeGreaterThan(0);
    const row = lines[header + 1].trim().split(/\s+/);
    expect(row.slice(0, 2)).toEqual(['response', '0']);
    expect(['0', '1']).toContain(row[2]);
    for (const v of row.slice(3)) expect(Number.isFinite(Number(v)), `${v} is a number`).toBe(true);
  }, 120_000);

  it('runs indices as the diverse run with SI and LC, and --json carries them per unit', () => {
    const doc = JSON.parse(artiphys(['run', 'indices', ...ARGS, '--indices', 'false', '--json'])) as {
      run: { kind: string; status: string; settings: Record<string, unknown> };
      summary: { table: Record<string, unknown>[] };
      results: { key: string; data: Record<string, unknown> }[];
    };
    expect(doc.run).toMatchObject({ kind: 'diverse', status: 'done', settings: { indices: true, maxSteps: 20 } });
    const unit = doc.results.find((r) => r.key === 'unit/response/0')!.data;
    expect(doc.summary.table).toEqual([
      { layer: 'response', channel: 0, lambdaStar: unit.lambdaStar, diversityRatio: unit.diversityRatio, diversityRatioRaw: unit.diversityRatioRaw, shiftInvariance: unit.shiftInvariance, linearCombination: unit.linearCombination },
    ]);
    expect(typeof unit.shiftInvariance).toBe('number');
    expect(typeof unit.linearCombination).toBe('number');
  }, 120_000);
});
