// The suite runs against two targets with one set of tests:
//  - web: Chromium opens the URL that `artiphys serve` printed (see global-setup.ts);
//  - desktop: the Electron app, launched once per worker with its own temporary project.
// The desktop target needs Electron's binary (and, on Linux, a display); where
// `require('electron')` does not resolve to one, every desktop test is skipped with the reason,
// never passed.
import { _electron, test as base, expect, type ConsoleMessage, type ElectronApplication, type Page } from '@playwright/test';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { ENV_PROJECT, ENV_URL } from './global-setup';

export type Target = 'web' | 'desktop';

export interface E2eOptions {
  target: Target;
}

interface WorkerFixtures extends E2eOptions {
  /** The project file the workbench opened on at start. */
  projectFile: string;
  /** A folder for files tests create (projects), removed after the worker. */
  scratchDir: string;
  electronApp: ElectronApplication | null;
}

interface TestFixtures {
  /** Console errors and uncaught exceptions of the page; a test fails if any appear. */
  pageErrors: string[];
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Path of Electron's binary, or why the desktop app cannot run here. */
export function electronBinary(): { path: string } | { reason: string } {
  let bin: unknown;
  try {
    bin = createRequire(path.join(ROOT, 'package.json'))('electron');
  } catch (err) {
    return { reason: `Electron binary not installed (${(err as Error).message.split('\n')[0]})` };
  }
  if (typeof bin !== 'string' || !fs.existsSync(bin)) return { reason: `require('electron') gave ${String(bin)}, not an executable` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: 'no display for the Electron window (run the suite under xvfb-run)' };
  }
  return { path: bin };
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  target: ['web', { option: true, scope: 'worker' }],

  scratchDir: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'artiphys-e2e-scratch-'));
      await use(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],

  electronApp: [
    async ({ target, scratchDir }, use) => {
      const bin = target === 'desktop' ? electronBinary() : null;
      if (!bin || !('path' in bin)) {
        await use(null);
        return;
      }
      const app = await _electron.launch({
        executablePath: bin.path,
        args: [path.join(ROOT, 'out/main/index.js'), '--project', path.join(scratchDir, 'desktop.artiphys'), '--no-sandbox'],
        env: { ...process.env, ARTIPHYS_HOME: scratchDir } as Record<string, string>,
      });
      await use(app);
      await app.close();
    },
    { scope: 'worker' },
  ],

  projectFile: [
    async ({ target, scratchDir }, use) => {
      if (target === 'desktop') {
        await use(path.join(scratchDir, 'desktop.artiphys'));
        return;
      }
      const file = process.env[ENV_PROJECT];
      if (!file) throw new Error(`${ENV_PROJECT} is not set: the global setup did not run`);
      await use(file);
    },
    { scope: 'worker' },
  ],

  // Playwright reads a fixture's dependencies from this destructuring: it must be a pattern.
  // eslint-disable-next-line no-empty-pattern
  pageErrors: async ({}, use) => {
    await use([]);
  },

  page: async ({ target, electronApp, page: browserPage, pageErrors }, use, testInfo) => {
    const onConsole = (m: ConsoleMessage) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    };
    const onPageError = (e: Error) => pageErrors.push(`pageerror: ${e.message}`);
    const watch = (page: Page) => {
      page.on('console', onConsole);
      page.on('pageerror', onPageError);
    };
    let page: Page;
    if (target === 'desktop') {
      const bin = electronBinary();
      test.skip(!electronApp, 'reason' in bin ? bin.reason : 'Electron did not start');
      page = await electronApp!.firstWindow();
      watch(page);
      await page.reload(); // every test starts from a freshly loaded window
    } else {
      const url = process.env[ENV_URL];
      if (!url) throw new Error(`${ENV_URL} is not set: the global setup did not run`);
      page = browserPage;
      watch(page);
      await page.goto(url);
    }
    await expect(page.locator('.shell[data-ready="true"]')).toBeVisible();
    await use(page);
    page.off('console', onConsole);
    page.off('pageerror', onPageError);
    if (testInfo.status === testInfo.expectedStatus) {
      expect(pageErrors, 'the page logged errors (CSP violations, exceptions, failed requests)').toEqual([]);
    }
  },
});

export { expect };
