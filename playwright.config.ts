// End-to-end tests: the real renderer, driven in Debian's Chromium against `artiphys serve`
// (project "web"), and the same suite against the Electron app where its binary is installed
// (project "desktop"; reported as skipped otherwise). Build first: `npm run build`.
import { defineConfig } from '@playwright/test';
import type { E2eOptions } from './test/e2e/fixtures';

/** Playwright's own browser download cannot work here; Debian's chromium package can. */
const CHROMIUM = process.env.ARTIPHYS_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export default defineConfig<E2eOptions, E2eOptions>({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  globalSetup: './test/e2e/global-setup.ts',
  // One server, one project, two cores: the suite runs in order, one test at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  outputDir: 'test-results/e2e',
  use: {
    viewport: { width: 1400, height: 860 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'web',
      use: {
        target: 'web',
        browserName: 'chromium',
        launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
      },
    },
    {
      name: 'desktop',
      // The browser is not what these tests drive, but Playwright's page fixture starts one.
      use: { target: 'desktop', browserName: 'chromium', launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS } },
    },
  ],
});
