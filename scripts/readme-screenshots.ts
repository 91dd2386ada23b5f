// Takes the README's screenshots from real runs: the built server on a fresh project, Debian's
// Chromium, VGG-19 from ../shared. `npm run build && npm run docs:screenshots` (about 10 minutes
// on 2 cores). Writes docs/run-form.png, docs/gallery.png, docs/si-lc.png, docs/v4-comparison.png
// and docs/figure-preview.png; `npm run docs:screenshots -- run-form` only the first (about a minute).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from '@playwright/test';

const ROOT = path.resolve(import.meta.dirname, '..');
const VGG = path.resolve(ROOT, '../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
const DOCS = path.join(ROOT, 'docs');
const VGG_LAYERS = ['relu1_1', 'relu1_2', 'relu2_1', 'relu2_2', 'relu3_1', 'relu3_2', 'relu3_3', 'relu3_4'];

async function startServer(home: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['out/main/cli.js', 'serve', '--project', path.join(home, 'docs.artiphys'), '--port', '0', '--json'], {
    cwd: ROOT,
    env: { ...process.env, ARTIPHYS_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const found = out.match(/"url"\s*:\s*"(http:\/\/[^"]+)"/)?.[1];
      if (found) resolve(found);
    });
    child.on('exit', (code) => reject(new Error(`artiphys serve exited with ${code}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

async function api<T>(page: Page, method: string, params: Record<string, unknown> = {}): Promise<T> {
  type Answer = { ok: true; result: unknown } | { ok: false; error: { message: string } };
  const answer = (await page.evaluate(
    async ([m, p]) => (await fetch('/api/call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: m, params: p }) })).json(),
    [method, params] as const,
  )) as Answer;
  if (!answer.ok) throw new Error(`${method}: ${answer.error.message}`);
  return answer.result as T;
}

async function runToEnd(page: Page, kind: string, settings: Record<string, unknown>, title: string): Promise<number> {
  const run = await api<{ id: number }>(page, 'runs.start', { kind, settings, title, seed: 7 });
  for (;;) {
    const now = await api<{ status: string; error: string | null }>(page, 'runs.get', { runId: run.id });
    if (now.status === 'done') return run.id;
    if (now.status !== 'queued' && now.status !== 'running') throw new Error(`${title}: ${now.status} ${now.error ?? ''}`);
    await page.waitForTimeout(2000);
  }
}

async function openRun(page: Page, runId: number): Promise<void> {
  await page.locator(`[data-testid="job"][data-run-id="${runId}"] button.pick`).click();
}

/** The new-run form on VGG-19 relu3_1 with the quick-look preset and its time estimate. */
async function runFormShot(page: Page, modelId: string): Promise<void> {
  await page.reload();
  await page.getByTestId('new-run-button').click();
  const form = page.getByTestId('new-run-form');
  await form.getByTestId('field-kind').selectOption('diverse');
  await form.getByTestId('field-modelId').selectOption(modelId);
  await form.getByTestId('field-layer').selectOption('relu3_1');
  await form.getByTestId('field-units').fill('0');
  await form.getByTestId('preset-quick').check();
  await form.getByTestId('estimate').and(page.locator('[data-state="ready"]')).waitFor({ timeout: 300_000 });
  await page.screenshot({ path: path.join(DOCS, 'run-form.png') });
  await page.keyboard.press('Escape');
}

async function main(): Promise<void> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'artiphys-docs-'));
  const server = await startServer(home);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 880 }, deviceScaleFactor: 1 });
    await page.goto(server.url);
    await page.getByTestId('engine').and(page.locator('[data-state="ready"]')).waitFor({ timeout: 120_000 });
    const vgg = await api<{ id: string }>(page, 'models.import', { path: VGG });
    await runFormShot(page, vgg.id);
    if (process.argv.includes('run-form')) return;
    const diverse = { modelId: vgg.id, layer: 'relu3_1', units: Array.from({ length: 12 }, (_, i) => i), lambdas: [0, 0.5, 2], maxSteps: 30, textureCropStride: 4 };
    const trainedRun = await runToEnd(page, 'diverse', diverse, 'VGG-19 relu3_1: diverse images and indices');
    await runToEnd(page, 'diverse', { ...diverse, randomWeightsSeed: 1 }, 'VGG-19 relu3_1, random weights: diverse images and indices');
    const shapesRun = await runToEnd(page, 'shapes', { modelId: vgg.id, layers: VGG_LAYERS, maxPositions: 3 }, 'VGG-19: shape tuning');
    await page.reload();

    await openRun(page, trainedRun);
    await page.getByTestId('diverse-tab-indices').click();
    await page.getByTestId('chart-si-lc').waitFor();
    // Both runs: the trained network and its random-weights control.
    await page.getByText('all diverse runs').click();
    await page.waitForTimeout(800);
    await page.screenshot({ path: path.join(DOCS, 'si-lc.png') });

    await openRun(page, shapesRun);
    await page.getByTestId('chart-apc-ti').waitFor();
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(DOCS, 'v4-comparison.png') });

    await page.getByTestId('tab-gallery').click();
    await page.getByTestId('unit-grid').waitFor();
    // relu3_1's cards carry every analysis: diverse images, lambda*, SI, LC, APC r and TI.
    await page.getByTestId('gallery-layer').selectOption(JSON.stringify([vgg.id, 'relu3_1']));
    await page.waitForTimeout(1500);
    await page.screenshot({ path: path.join(DOCS, 'gallery.png') });

    // A figure of six relu3_1 units from a collection: the dialog with its live preview.
    const cards = await api<{ cards: { unitId: number; runIds: number[] }[] }>(page, 'gallery.query', { modelId: vgg.id, layer: 'relu3_1', filters: [] });
    const six = cards.cards.filter((c) => c.runIds.includes(trainedRun)).slice(0, 6).map((c) => c.unitId);
    const collection = await api<{ id: number }>(page, 'collections.create', { name: 'relu3_1 texture units', unitIds: six });
    await page.reload();
    await page.getByTestId('tab-gallery').click();
    await page.getByTestId('gallery-collection').selectOption(String(collection.id));
    await page.getByTestId('action-figure').click();
    await page.getByTestId('figure-title').fill('Figure 2: six relu3_1 units of VGG-19');
    await page.getByTestId('figure-columns').fill('2');
    await page.getByTestId('figure-preview-pane').and(page.locator('[data-busy="false"]')).waitFor();
    await page.waitForTimeout(1500);
    await page.getByTestId('figure-preview-pane').and(page.locator('[data-busy="false"]')).waitFor();
    await page.screenshot({ path: path.join(DOCS, 'figure-preview.png') });
  } finally {
    await browser.close();
    server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
