// Residual-stream analyses end to end on the shared ResNet-50 (issue 5): a scale-invariance run
// over the whole block layer1.0 (all 256 channels) stores visualizations, criteria and the passing
// list, and the grid view shows them; an ablation run draws its ratio plot and accuracy table.
// CI has 2 cores: visualizations are 64 px and 8 steps (METHODS: 128 px, 512 steps), the top-9
// scan and the ablation use 20 of the sample images, and the ablation 3 scales and 3 trials.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page, TestInfo } from '@playwright/test';
import { electronBinary, expect, test } from './fixtures';
import { apiCall, jobRow, luminanceStd } from './workbench';

test.describe.configure({ mode: 'serial' });
const desktop = electronBinary();
test.skip(({ target }) => target === 'desktop' && 'reason' in desktop, 'reason' in desktop ? desktop.reason : '');

const SHARED = path.resolve(import.meta.dirname, '../../../shared');
const SAMPLES = path.join(SHARED, 'data/imagenet-samples');
const RUN_TIMEOUT_MS = 9 * 60_000;

/** The first 20 sample images in a folder of their own (file names carry the synsets). */
function smallImageFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-residual-'));
  for (const f of fs.readdirSync(SAMPLES).filter((f) => f.endsWith('.JPEG')).sort().slice(0, 20)) fs.copyFileSync(path.join(SAMPLES, f), path.join(dir, f));
  return dir;
}

async function shot(page: Page, testInfo: TestInfo, id: string, name: string): Promise<Buffer> {
  const el = page.getByTestId(id);
  await expect(el).toBeVisible();
  await page.waitForTimeout(300); // images load, ECharts paints
  const png = await el.screenshot();
  fs.writeFileSync(testInfo.outputPath(`${name}.png`), png);
  await testInfo.attach(name, { body: png, contentType: 'image/png' });
  return png;
}

async function runToDone(page: Page, target: string, kind: string, settings: Record<string, unknown>): Promise<number> {
  const run = await apiCall<{ id: number }>(page, target, 'runs.start', { kind, settings, title: `e2e ${kind}` });
  const row = jobRow(page, run.id);
  await expect(row).toBeVisible();
  await row.locator('button.pick').click();
  await expect(row).toHaveAttribute('data-status', 'done', { timeout: RUN_TIMEOUT_MS });
  return run.id;
}

test('ResNet-50 layer1.0: scale invariance over the whole block, then an ablation plot', async ({ page, target }, testInfo) => {
  test.setTimeout(2 * RUN_TIMEOUT_MS + 120_000);
  await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const model = await apiCall<{ id: string }>(page, target, 'models.import', { path: path.join(SHARED, 'models/resnet50_keras_imagenet.onnx') });
  const images = smallImageFolder();
  try {
    const runId = await runToDone(page, target, 'scale-invariance', { modelId: model.id, blocks: ['layer1.0'], size: 64, steps: 8, batchSize: 64, images });
    const results = await apiCall<{ key: string; data: Record<string, unknown>; imageIds: number[] }[]>(page, target, 'results.list', { runId });
    const channels = results.filter((r) => r.key.startsWith('channel/layer1.0/'));
    expect(channels).toHaveLength(256);
    // A channel is judged (both criteria) or, when its visualizations stay silent, reported
    // silent with no verdict.
    const judged = (r: (typeof channels)[number]) => r.data.silent === false && typeof r.data.criterion1 === 'boolean';
    const unjudged = (r: (typeof channels)[number]) => r.data.silent === true && r.data.criterion1 === null && r.data.scaleInvariant === null;
    expect(channels.every((r) => typeof r.data.ratio === 'number' && (judged(r) || unjudged(r)) && r.imageIds.length === 7)).toBe(true);
    expect(channels.filter(judged).length).toBeGreaterThan(0);
    const summary = results.find((r) => r.key === 'block/layer1.0')!.data;
    const passing = summary.passing as number[];
    expect(summary.tested).toBe(256);
    expect(summary.count).toBe(passing.length);
    expect(passing).toEqual(channels.filter((r) => r.data.scaleInvariant).map((r) => r.data.channel));

    const view = page.getByTestId('scale-invariance-view');
    await expect(view.getByTestId('passing-count')).toContainText(`${passing.length} (${((100 * passing.length) / 256).toFixed(1)} %)`);
    await view.getByRole('checkbox').uncheck(); // every channel, so the grid shows one even if none passed
    await view.locator('.channels button').first().click();
    const grid = await shot(page, testInfo, 'channel-grid', 'layer1.0-channel-grid');
    expect(luminanceStd(grid), 'the grid shows images').toBeGreaterThan(5);
    await expect(view.getByTestId('channel-grid').locator('.top9').first().locator('img')).toHaveCount(9);

    await runToDone(page, target, 'ablation', {
      modelId: model.id,
      block: 'layer4.2',
      images,
      channels: Array.from({ length: 32 }, (_, i) => i),
      scales: [0, 20, 40],
      trials: 3,
      maxDraws: 20,
    });
    const ablation = page.getByTestId('ablation-view');
    await expect(ablation.getByTestId('ablation-table').locator('tbody tr')).toHaveCount(3);
    const plot = await shot(page, testInfo, 'ablation-chart', 'ablation-plot');
    expect(luminanceStd(plot), 'the plot is drawn').toBeGreaterThan(5);
    fs.writeFileSync(testInfo.outputPath('page.png'), await page.screenshot({ fullPage: true }));
  } finally {
    fs.rmSync(images, { recursive: true, force: true });
  }
});
