// Shape tuning end to end on the shared real networks (issue 6): VGG-19 relu1_1 … relu3_4 and
// ResNet-50 stages 1–3 are imported through the API, a full shapes run completes on each, and
// the V4 comparison views draw their lines and points. CI has 2 cores: the settings below keep
// each run to a few minutes (a thinned TI sweep that reuses the centre; on ResNet-50, whose
// layer3 units see 291 px images, no random-weights network and no extra distributions).
import fs from 'node:fs';
import path from 'node:path';
import type { Page, TestInfo } from '@playwright/test';
import { electronBinary, expect, test } from './fixtures';
import { apiCall, jobRow, pixelsNear } from './workbench';

test.describe.configure({ mode: 'serial' });
const desktop = electronBinary();
test.skip(({ target }) => target === 'desktop' && 'reason' in desktop, 'reason' in desktop ? desktop.reason : '');

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHARED = path.resolve(ROOT, '../shared');
const RUN_TIMEOUT_MS = 9 * 60_000;

interface Case {
  file: string;
  layers: string[];
  /** Layers whose RF holds a 32 px shape at two or more positions (the others have no TI). */
  withTi: string[];
  settings: Record<string, unknown>;
}

const CASES: Record<string, Case> = {
  'VGG-19': {
    file: 'vgg19_features_to_pool3_caffe_rgb.onnx',
    layers: ['relu1_1', 'relu1_2', 'relu2_1', 'relu2_2', 'relu3_1', 'relu3_2', 'relu3_3', 'relu3_4'],
    withTi: ['relu3_4'], // the rotated 32 px shapes reach 19.5 px from their centre: relu3_3's 40 px RF holds them at one position only
    settings: { maxPositions: 3, naturalImages: path.join(SHARED, 'data/imagenet-samples'), naturalImageLimit: 16 },
  },
  'ResNet-50': {
    file: 'resnet50_keras_imagenet.onnx',
    layers: ['layer1', 'layer2', 'layer3'],
    withTi: ['layer2', 'layer3'],
    settings: { maxPositions: 2, randomWeightsControl: false, distributions: false },
  },
};

/** One API call the way the renderer makes it: HTTP with the token (web) or the preload bridge (desktop). */
/** Colours of the shape views, as in src/renderer/src/analyses/shapes/style.ts: V4 per theme, the shallowest and deepest layer. */
const V4_RGB = { light: '#111418', dark: '#f2f4f7' };
const FIRST_LAYER_RGB = '#2960ae';
const LAST_LAYER_RGB = '#cf8030';
const rgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];

async function chartShot(page: Page, testInfo: TestInfo, id: string, name: string): Promise<Buffer> {
  const chart = page.getByTestId(id);
  await expect(chart).toBeVisible();
  await page.waitForTimeout(150); // one frame for ECharts to paint
  const shot = await chart.screenshot();
  fs.writeFileSync(testInfo.outputPath(`${name}.png`), shot);
  await testInfo.attach(name, { body: shot, contentType: 'image/png' });
  return shot;
}

for (const [name, c] of Object.entries(CASES)) {
  test(`${name}: a full shapes run completes and the V4 comparison views draw`, async ({ page, target }, testInfo) => {
    test.setTimeout(RUN_TIMEOUT_MS + 120_000);
    await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    const model = await apiCall<{ id: string }>(page, target, 'models.import', { path: path.join(SHARED, 'models', c.file) });
    const started = Date.now();
    const run = await apiCall<{ id: number }>(page, target, 'runs.start', {
      kind: 'shapes',
      settings: { modelId: model.id, layers: c.layers, ...c.settings },
      title: `e2e shapes ${name}`,
    });
    const row = jobRow(page, run.id);
    await expect(row).toBeVisible();
    await row.locator('button.pick').click();
    await expect(row).toHaveAttribute('data-status', 'done', { timeout: RUN_TIMEOUT_MS });
    const seconds = (Date.now() - started) / 1000;
    testInfo.annotations.push({ type: 'run time', description: `${name}: ${seconds.toFixed(0)} s` });
    console.log(`shapes run on ${name}: ${seconds.toFixed(1)} s`);

    // Every layer has a median APC r, and a median TI where its RF holds the shapes.
    const view = page.getByTestId('shapes-view');
    const summary = view.getByTestId('shapes-summary');
    await expect(summary.locator('tbody tr')).toHaveCount(c.layers.length);
    for (const layer of c.layers) {
      const apcR = Number(await summary.locator(`tr[data-layer="${layer}"] [data-col="apcR"]`).textContent());
      expect(apcR, `${layer} median APC r`).toBeGreaterThan(0);
      expect(apcR).toBeLessThanOrEqual(1);
      const ti = await summary.locator(`tr[data-layer="${layer}"] [data-col="ti"]`).textContent();
      if (c.withTi.includes(layer)) expect(Number(ti), `${layer} median TI`).toBeGreaterThan(-1);
    }

    // The V4 comparison: each chart shows V4 (its own colour) and the layers' lines and points.
    const theme = ((await page.locator('html').getAttribute('data-theme')) ?? 'light') as 'light' | 'dark';
    const v4 = rgb(V4_RGB[theme]);
    const n = c.layers.length;
    const first = rgb(FIRST_LAYER_RGB);
    const last = rgb(LAST_LAYER_RGB);
    const apc = await chartShot(page, testInfo, 'chart-apc-cdf', `${name}-apc-cdf`);
    expect(pixelsNear(apc, v4, 12), 'the V4 APC r distribution is drawn').toBeGreaterThan(150);
    expect(pixelsNear(apc, first, 24), `the ${c.layers[0]} APC r distribution is drawn`).toBeGreaterThan(100);
    expect(pixelsNear(apc, last, 24), `the ${c.layers[n - 1]} APC r distribution is drawn`).toBeGreaterThan(100);
    const ti = await chartShot(page, testInfo, 'chart-ti-cdf', `${name}-ti-cdf`);
    expect(pixelsNear(ti, v4, 12), 'the V4 TI mark is drawn').toBeGreaterThan(100);
    expect(pixelsNear(ti, last, 24), `the ${c.layers[n - 1]} TI distribution is drawn`).toBeGreaterThan(100);
    const scatter = await chartShot(page, testInfo, 'chart-apc-ti', `${name}-apc-vs-ti`);
    expect(pixelsNear(scatter, v4, 12), 'the V4 mark is drawn').toBeGreaterThan(60);
    // Unit points are translucent (density shows): their colour lies within reach of the pure one.
    expect(pixelsNear(scatter, last, 64), `the ${c.layers[n - 1]} units are drawn`).toBeGreaterThan(100);

    // The other views render too: distributions, one unit, the stimuli.
    await view.getByTestId('shapes-tab-responses').click();
    if (c.settings.naturalImages) await chartShot(page, testInfo, 'chart-ratio', `${name}-ratio`);
    else await expect(view.getByTestId('no-natural')).toBeVisible();
    await view.getByTestId('shapes-tab-unit').click();
    await chartShot(page, testInfo, 'chart-apc-surface', `${name}-unit-surface`);
    await chartShot(page, testInfo, 'chart-prediction', `${name}-unit-prediction`);
    await view.getByTestId('shapes-tab-stimuli').click();
    await expect(view.getByTestId('shapes-stimuli').locator('figure')).toHaveCount(362);
    fs.writeFileSync(testInfo.outputPath(`${name}-page.png`), await page.screenshot({ fullPage: true }));
  });
}
