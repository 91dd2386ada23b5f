// Diverse feature visualization end to end on the shared VGG-19 (issue 4): the network is imported
// through the API, a short real run on three relu3_1 units and its random-weights control
// complete, and the views show them: the unit's trade-off curve and image grid, the layer's
// normalized curves (trained and random), and the SI–LC scatter with one point per unit.
// CI has 2 cores: three units, three lambdas and 20 steps keep each run well under a minute.
import fs from 'node:fs';
import path from 'node:path';
import type { Page, TestInfo } from '@playwright/test';
import { PNG } from 'pngjs';
import { electronBinary, expect, test } from './fixtures';
import { apiCall, jobRow } from './workbench';

test.describe.configure({ mode: 'serial' });
const desktop = electronBinary();
test.skip(({ target }) => target === 'desktop' && 'reason' in desktop, 'reason' in desktop ? desktop.reason : '');

const ROOT = path.resolve(import.meta.dirname, '../..');
const VGG = path.resolve(ROOT, '../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
const RUN_TIMEOUT_MS = 4 * 60_000;
const UNITS = [0, 5, 9];
const SETTINGS = { layer: 'relu3_1', units: UNITS, lambdas: [0, 0.02, 0.2], maxSteps: 20, textureCropStride: 13 };
/** The first series colour and the random-weights grey of the diverse views (src/renderer/src/analyses/diverse/style.ts). */
const TRAINED_RGB: [number, number, number] = [0x29, 0x60, 0xae];
const RANDOM_RGB: [number, number, number] = [0x8a, 0x8f, 0x98];

async function chartShot(page: Page, testInfo: TestInfo, id: string, name: string): Promise<Buffer> {
  const chart = page.getByTestId(id);
  await expect(chart).toBeVisible();
  await page.waitForTimeout(300); // ECharts' entry animation
  const shot = await chart.screenshot({ animations: 'disabled' });
  fs.writeFileSync(testInfo.outputPath(`${name}.png`), shot);
  await testInfo.attach(name, { body: shot, contentType: 'image/png' });
  return shot;
}

/** Pixels within `tolerance` of a colour below the top `skip` rows (the legend). */
function colourPixelsBelow(png: Buffer, rgb: [number, number, number], skip: number, tolerance = 40): number {
  const img = PNG.sync.read(png);
  let count = 0;
  for (let y = skip; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = 4 * (y * img.width + x);
      if (Math.max(...rgb.map((c, k) => Math.abs(img.data[i + k] - c))) <= tolerance) count++;
    }
  }
  return count;
}

/** The first pixel (top to bottom) within `tolerance` of a colour below the top `skip` rows, right of `left`. */
function firstPixelNear(png: Buffer, rgb: [number, number, number], skip: number, tolerance: number, left = 0): { x: number; y: number } | null {
  const img = PNG.sync.read(png);
  for (let y = skip; y < img.height; y++) {
    for (let x = left; x < img.width; x++) {
      const i = 4 * (y * img.width + x);
      if (Math.max(...rgb.map((c, k) => Math.abs(img.data[i + k] - c))) <= tolerance) return { x, y };
    }
  }
  return null;
}

async function runToDone(page: Page, target: string, settings: Record<string, unknown>, title: string): Promise<number> {
  const started = Date.now();
  const run = await apiCall<{ id: number }>(page, target, 'runs.start', { kind: 'diverse', settings, title });
  const row = jobRow(page, run.id);
  await expect(row).toHaveAttribute('data-status', 'done', { timeout: RUN_TIMEOUT_MS });
  console.log(`${title}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return run.id;
}

test('VGG-19 relu3_1: a short diverse run and its random-weights control are stored and drawn', async ({ page, target }, testInfo) => {
  test.setTimeout(2 * RUN_TIMEOUT_MS + 60_000);
  await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const model = await apiCall<{ id: string }>(page, target, 'models.import', { path: VGG });
  const controlId = await runToDone(page, target, { modelId: model.id, ...SETTINGS, randomWeightsSeed: 7 }, 'e2e diverse VGG-19 random weights');
  const runId = await runToDone(page, target, { modelId: model.id, ...SETTINGS }, 'e2e diverse VGG-19');

  // Everything per unit and lambda is stored: images for every lambda, the summary with SI and LC.
  const results = await apiCall<{ key: string; data: Record<string, unknown>; imageIds: number[] }[]>(page, target, 'results.list', { runId });
  for (const c of UNITS) {
    for (let i = 0; i < SETTINGS.lambdas.length; i++) {
      const r = results.find((x) => x.key === `unit/relu3_1/${c}/lambda/${i}`);
      expect(r?.imageIds, `unit ${c} lambda ${i} images`).toHaveLength(6);
    }
    const u = results.find((x) => x.key === `unit/relu3_1/${c}`)!;
    expect(u.data).toMatchObject({ complete: true, lambdas: SETTINGS.lambdas });
    expect(typeof u.data.shiftInvariance, `unit ${c} SI`).toBe('number');
    expect(typeof u.data.linearCombination, `unit ${c} LC`).toBe('number');
  }
  const summary = results.find((x) => x.key === 'summary')!;
  expect((summary.data.table as unknown[]).length).toBe(UNITS.length);

  await jobRow(page, runId).locator('button.pick').click();
  const view = page.getByTestId('diverse-view');
  await expect(view).toBeVisible();

  // One unit: the trade-off curve and a row of six pixelated images per lambda.
  await expect(view.getByTestId('diverse-images').locator('.row img')).toHaveCount(6 * SETTINGS.lambdas.length + 1, { timeout: 30_000 });
  const trade = await chartShot(page, testInfo, 'chart-trade-off', 'vgg-trade-off');
  expect(colourPixelsBelow(trade, TRAINED_RGB, 30), 'the activation curve is drawn').toBeGreaterThan(100);

  // The layer: trained units in colour, the control's in grey.
  await view.getByTestId('diverse-tab-layer').click();
  await expect(view.getByTestId('diverse-layer')).toContainText(`${UNITS.length} trained units, ${UNITS.length} random-weights units`);
  const curves = await chartShot(page, testInfo, 'chart-layer-activation', 'vgg-layer-activation');
  expect(colourPixelsBelow(curves, TRAINED_RGB, 30, 60), 'the trained curves are drawn').toBeGreaterThan(100);
  expect(colourPixelsBelow(curves, RANDOM_RGB, 30, 24), 'the random-weights curves are drawn').toBeGreaterThan(100);
  await chartShot(page, testInfo, 'chart-diversity-ratio', 'vgg-diversity-ratio');

  // The SI–LC scatter has this run's points: their colour in the plot area (below the legend,
  // whose icon has it too).
  await view.getByTestId('diverse-tab-indices').click();
  const scatter = await chartShot(page, testInfo, 'chart-si-lc', 'vgg-si-lc');
  expect(colourPixelsBelow(scatter, TRAINED_RGB, 50), 'the points are drawn in the plot area').toBeGreaterThan(UNITS.length * 30);
  // Axis text antialiases through the grey: that count without control points is the baseline.
  const greyBefore = colourPixelsBelow(scatter, RANDOM_RGB, 50, 16);
  // Hovering a point shows that unit's lambda* images; clicking it opens the unit.
  const point = firstPixelNear(scatter, TRAINED_RGB, 50, 36); // the top of a 9 px disc
  expect(point, 'a point to hover').not.toBeNull();
  const chart = page.getByTestId('chart-si-lc');
  await chart.hover({ position: { x: point!.x, y: point!.y + 4 } });
  await expect(chart.locator('img')).toHaveCount(6);
  await chart.click({ position: { x: point!.x, y: point!.y + 4 } });
  await expect(view.getByTestId('diverse-unit')).toBeVisible();
  await expect(view.getByTestId('diverse-tab-unit')).toHaveAttribute('aria-selected', 'true');
  await view.getByTestId('diverse-tab-indices').click();

  // Across runs the control joins as its own group.
  await view.getByTestId('indices-scope-all').click();
  await expect(view.getByTestId('diverse-indices')).toContainText(`${2 * UNITS.length} units with SI and LC`);
  // The new points grow in over ECharts' one-second entry animation.
  await expect
    .poll(async () => colourPixelsBelow(await chartShot(page, testInfo, 'chart-si-lc', 'vgg-si-lc-all'), RANDOM_RGB, 50, 16) - greyBefore, {
      message: 'the control\'s points are drawn',
      timeout: 10_000,
    })
    .toBeGreaterThan(UNITS.length * 30);
  await chartShot(page, testInfo, 'chart-si-hist', 'vgg-si-hist');
  // A control point opens its own run on that unit.
  const both = await chartShot(page, testInfo, 'chart-si-lc', 'vgg-si-lc-all');
  const grey = firstPixelNear(both, RANDOM_RGB, 50, 24, 64); // right of the axis labels
  expect(grey, 'a control point to click').not.toBeNull();
  await chart.click({ position: { x: grey!.x, y: grey!.y + 4 } });
  await expect(page.getByTestId('run-header')).toHaveAttribute('data-run-id', String(controlId));
  await expect(page.getByTestId('diverse-unit')).toContainText('random weights (seed 7)');
  fs.writeFileSync(testInfo.outputPath('vgg-page.png'), await page.screenshot({ fullPage: true }));
});

test('complex cell: the phase histogram of the synthesized images is drawn', async ({ page, target }, testInfo) => {
  await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const runId = await runToDone(page, target, { modelId: 'builtin:complex-cell', lambdas: [0, 1], maxSteps: 40, indices: false }, 'e2e diverse complex cell');
  await jobRow(page, runId).locator('button.pick').click();
  const view = page.getByTestId('diverse-view');
  await expect(view.getByTestId('diverse-images').locator('.row img')).toHaveCount(12, { timeout: 30_000 });
  const phases = await chartShot(page, testInfo, 'chart-phases', 'complex-cell-phases');
  expect(colourPixelsBelow(phases, TRAINED_RGB, 30, 30), 'the lambda = 0 phase bars are drawn').toBeGreaterThan(100);
});
