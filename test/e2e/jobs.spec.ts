// Jobs that tell the truth and an address that keeps the user's place (issue 17): a diverse run
// cancelled part-way reads "cancelled" in the jobs panel, the run header, the unit's numbers, the
// API and the CLI, draws its one-lambda chart, and its finished images reach the gallery; while it
// ran, its duration went on and the footer's counts grew without a reload. A reload restores the
// open run and the selected unit from the URL, and a link to a unit or a layer opens it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { GalleryPage } from '../../src/shared/curation';
import type { RunSummary } from '../../src/shared/domain';
import { electronBinary, expect, test } from './fixtures';
import { ENV_URL } from './global-setup';
import { apiCall, jobRow, selectUnit } from './workbench';

test.describe.configure({ mode: 'serial' });
const desktop = electronBinary();
test.skip(({ target }) => target === 'desktop' && 'reason' in desktop, 'reason' in desktop ? desktop.reason : '');

const ROOT = path.resolve(import.meta.dirname, '../..');
const MODEL = 'builtin:corner';
/** Six lambdas of steps that never stop early: the run is cancelled long before its end. */
const SETTINGS = { modelId: MODEL, layer: 'response', units: [0], images: 4, lambdas: [0, 0.1, 0.3, 1, 3, 10], maxSteps: 3000, patience: 3000, minImprovement: 0, indices: false };

let cancelledRunId = 0;

const resultCount = (text: string | null): number => Number(text?.match(/(\d[\d,]*) results/)?.[1].replace(/,/g, '') ?? Number.NaN);

test('a run cancelled part-way reads cancelled everywhere and its finished images reach the gallery', async ({ page, target, projectFile }, testInfo) => {
  test.setTimeout(240_000);
  await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const counts = page.getByTestId('project-counts');
  const resultsBefore = await resultCount(await counts.textContent());

  const run = await apiCall<RunSummary>(page, target, 'runs.start', { kind: 'diverse', settings: SETTINGS, title: 'e2e cancelled part-way' });
  cancelledRunId = run.id;
  const row = jobRow(page, run.id);
  await row.locator('button.pick').click();
  const header = page.getByTestId('run-header');
  await expect(header).toHaveAttribute('data-run-id', String(run.id));
  await expect(row).toHaveAttribute('data-status', 'running', { timeout: 60_000 });

  // While it runs: the duration goes on, and the unit shows once its first lambda is stored.
  await expect(header.getByTestId('run-duration')).toHaveText(/^(0:(0[1-9]|[1-5]\d)|[1-9]\d*:\d\d)$/);
  await expect(row.getByTestId('elapsed')).toHaveText(/^\d+:\d\d$/);
  await expect(row.getByTestId('eta')).toBeVisible();
  const unit = page.getByTestId('diverse-unit');
  await expect(unit).toBeVisible({ timeout: 180_000 });
  await expect(unit.getByTestId('unit-partial')).toContainText('running');
  // The footer counted the stored lambda without a reload.
  await expect.poll(async () => resultCount(await counts.textContent())).toBeGreaterThan(resultsBefore);

  await row.getByTestId('cancel').click();
  await expect(row).toHaveAttribute('data-status', 'cancelled');
  await expect(row.getByTestId('resume')).toBeVisible();
  await expect(row.getByTestId('eta')).toHaveCount(0);
  await expect(header.locator('[data-status]')).toHaveAttribute('data-status', 'cancelled');
  await expect(unit.getByTestId('unit-partial')).toContainText(/cancelled: \d of 6 λ done/);
  await expect(unit).not.toContainText('running');
  // Its chart of one (or a few) lambdas is drawn, not broken (the page fixture fails on errors).
  await expect(unit.getByTestId('chart-trade-off').locator('canvas, svg').first()).toBeVisible();
  await page.waitForTimeout(1000); // ECharts' entry animation, for the picture kept for the eye
  fs.writeFileSync(testInfo.outputPath('cancelled-unit.png'), await unit.screenshot());
  const duration = await header.getByTestId('run-duration').textContent();
  await page.waitForTimeout(1500);
  await expect(header.getByTestId('run-duration'), 'a stopped run\'s duration stands still').toHaveText(duration!);

  // The API and the CLI (reading the project the server holds) agree.
  expect((await apiCall<RunSummary>(page, target, 'runs.get', { runId: run.id })).status).toBe('cancelled');
  const cli = await promisify(execFile)(process.execPath, ['bin/artiphys.js', 'runs', 'show', String(run.id), '--project', projectFile, '--json'], {
    cwd: ROOT,
    env: { ...process.env, ARTIPHYS_HOME: path.dirname(projectFile) },
  });
  expect((JSON.parse(cli.stdout) as { run: RunSummary }).run.status).toBe('cancelled');
  const list = await promisify(execFile)(process.execPath, ['bin/artiphys.js', 'runs', 'list', '--project', projectFile], { cwd: ROOT });
  expect(list.stdout.split('\n').find((l) => l.trim().startsWith(`${run.id} `))).toContain('cancelled');

  // The unit's finished images are in the gallery, with no numbers of a sweep it did not finish.
  const found = await apiCall<GalleryPage>(page, target, 'gallery.query', { modelId: MODEL, layer: 'response', filters: [] });
  const card = found.cards.find((c) => c.channel === 0 && c.runIds.includes(run.id));
  expect(card, 'the cancelled run\'s unit has a gallery card').toBeDefined();
  expect(card!.imageIds.length).toBe(SETTINGS.images);
  await page.getByTestId('tab-gallery').click();
  await page.getByTestId('gallery-layer').selectOption(JSON.stringify([MODEL, 'response']));
  const shown = page.locator(`[data-testid="unit-card"][data-unit-id="${card!.unitId}"]`);
  await expect(shown.locator('.thumbs img').first()).toBeVisible();
  await expect(shown).not.toContainText('no images');
});

test('a reload restores the open run and the selected unit from the address', async ({ page }) => {
  expect(cancelledRunId, 'the earlier test ran a job').toBeGreaterThan(0);
  await selectUnit(page, 'builtin:complex-cell', 'subunits', 3);
  await jobRow(page, cancelledRunId).locator('button.pick').click();
  await expect(page.getByTestId('run-header')).toHaveAttribute('data-run-id', String(cancelledRunId));
  await expect.poll(() => new URL(page.url()).hash).toContain(`#/run/${cancelledRunId}?`);
  const address = page.url();
  expect(new URL(address).hash).toContain('unit=3');

  await page.reload();
  await expect(page.locator('.shell[data-ready="true"]')).toBeVisible();
  await expect(page.getByTestId('run-header')).toHaveAttribute('data-run-id', String(cancelledRunId));
  await expect(page.getByTestId('tab-run')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('selection')).toHaveText(/complex-cell \/ subunits \/ unit 3/);
  await expect(page.locator('[data-model-id="builtin:complex-cell"] [data-layer="subunits"] [data-unit="3"]')).toHaveAttribute('aria-pressed', 'true');
  expect(page.url()).toBe(address);

  // The gallery view is an address too, and Back returns to the run.
  await page.getByTestId('tab-gallery').click();
  await expect.poll(() => new URL(page.url()).hash).toMatch(/^#\/gallery/);
  await page.goBack();
  await expect(page.getByTestId('tab-run')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('run-header')).toHaveAttribute('data-run-id', String(cancelledRunId));
});

test('a link to a unit or a layer opens it', async ({ page }) => {
  const served = new URL(process.env[ENV_URL]!);
  // A fresh page opened on a link (with the token, as the served workbench is first opened).
  await page.goto(`${served.href}#/model?model=${encodeURIComponent('builtin:complex-cell')}&layer=subunits&unit=2`);
  await expect(page.locator('.shell[data-ready="true"]')).toBeVisible();
  const model = page.locator('[data-model-id="builtin:complex-cell"]');
  await expect(model.locator('[data-layer="subunits"] [data-unit="2"]')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('tab-model')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('selection')).toHaveText(/complex-cell \/ subunits \/ unit 2/);

  // A link followed inside the open page (only the hash changes): a layer.
  await page.evaluate(() => {
    (globalThis as unknown as { location: { hash: string } }).location.hash = '#/model?model=builtin%3Aenergy&layer=response';
  });
  await expect(page.locator('[data-model-id="builtin:energy"] [data-layer="response"] button.layer')).toHaveClass(/current/);
  await expect(page.getByTestId('selection').locator('.mono')).toHaveText('energy / response');
  await expect(page.getByTestId('tab-model')).toContainText('energy');
});
