// `npm start` (scripts/start.mjs) where Electron's binary is missing: one line that says so and
// names the headless command, instead of electron-vite's stack trace.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain ES module script without type declarations
import { electronBinary, HEADLESS_HINT } from '../../../scripts/start.mjs';

const ROOT = path.resolve(__dirname, '../../..');
type Found = { ok: true; binary: string } | { ok: false; why: string };
const check = electronBinary as (load?: () => unknown) => Found;

describe('npm start', () => {
  it('tells a missing package, a failed download and a missing binary apart from a present one', () => {
    const missingPackage = Object.assign(new Error("Cannot find module 'electron'"), { code: 'MODULE_NOT_FOUND' });
    expect(check(() => { throw missingPackage; })).toEqual({ ok: false, why: 'the electron package is not installed' });
    expect(check(() => { throw new Error('Electron failed to install correctly'); })).toEqual({ ok: false, why: 'its download did not complete' });
    expect(check(() => '/nowhere/electron')).toEqual({ ok: false, why: '/nowhere/electron is missing' });
    expect(check(() => process.execPath)).toEqual({ ok: true, binary: process.execPath });
  });

  it('without the binary: one line naming the headless command, exit 1, no stack trace', (ctx) => {
    if (check().ok) ctx.skip(); // Electron is installed here: npm start would open the window
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/start.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^artiphys: the desktop app needs Electron's binary, which is not installed \(.+\); /);
    expect(lines[0]).toContain(HEADLESS_HINT);
    expect(lines[0]).toContain('npx artiphys serve');
  });
});
