// Tables and figures from the UI (issue 17), on a project of 12 indexed units: the gallery's
// current filter downloads as a units × metrics CSV whose rows are the stored results, and the
// figure dialog's live preview is the SVG that "Export SVG" then saves; a long layer name is cut in
// the middle with the whole name on hover.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import type { GalleryPage } from '../../src/shared/curation';
import type { ResultRecord } from '../../src/shared/domain';
import { createGalleryProject, type GalleryProject } from '../fixtures/gallery-project';
import { expect, test } from './fixtures';
import { ENV_URL } from './global-setup';
import { apiCall, openProjectPage } from './workbench';

test.describe.configure({ mode: 'serial' });
// Electron turns a download into its native save dialog, which Playwright cannot answer.
test.skip(({ target }) => target === 'desktop', 'downloads in the desktop app go through the native save dialog');

const UNITS = 12;
/** A layer name as ONNX exports write them: longer than the sidebar is wide. */
const LAYER = '/features/features.10/block3/Conv_output_0';
const STARRED_CHANNELS = [1, 4, 7];
let fixture: GalleryProject;

async function download(page: Page, trigger: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), trigger()]);
  return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), 'utf8') };
}

/** The page's unit ids by channel, from the gallery API. */
async function unitIdsByChannel(page: Page, target: string): Promise<Map<number, number>> {
  const all = await apiCall<GalleryPage>(page, target, 'gallery.query', { modelId: fixture.modelId, layer: fixture.layer, filters: [] });
  return new Map(all.cards.map((c) => [c.channel, c.unitId]));
}

/** The SVG text without its provenance (which holds the moment of export). */
const withoutProvenance = (svg: string) => svg.replace(/<metadata\b[^>]*>[^<]*<\/metadata>/, '');

test.beforeAll(({ scratchDir }) => {
  fixture = createGalleryProject(path.join(scratchDir, 'tables-figures.artiphys'), { units: UNITS, layer: LAYER });
});

test.beforeEach(async ({ page, target }) => {
  await openProjectPage(page, target, fixture.file);
});

test.afterAll(async ({ browser, target, projectFile }) => {
  if (target === 'desktop') return; // skipped there: nothing was opened
  const page = await browser.newPage();
  await apiCall(page, target, 'project.open', { path: projectFile });
  await page.close();
});

test("the gallery's current filter downloads as a units × metrics CSV of the stored results", async ({ page, target }, testInfo) => {
  const ids = await unitIdsByChannel(page, target);
  await apiCall(page, target, 'curation.star', { unitIds: STARRED_CHANNELS.map((c) => ids.get(c)!), starred: true });

  await page.locator('body').press('g');
  await page.getByTestId('gallery-layer').selectOption(JSON.stringify([fixture.modelId, fixture.layer]));
  await page.getByTestId('gallery-starred').click();
  await expect(page.getByTestId('gallery-count')).toContainText(`${STARRED_CHANNELS.length} of ${UNITS}`);
  const csv = await download(page, () => page.getByTestId('gallery-table-export').getByTestId('export-csv').click());
  fs.writeFileSync(testInfo.outputPath('gallery-units.csv'), csv.text);
  expect(csv.name).toBe('gallery-units.csv');

  const lines = csv.text.split('\r\n').filter(Boolean);
  const comments = lines.filter((l) => l.startsWith('#'));
  expect(comments).toContain(`# project: ${fixture.file}`);
  expect(comments).toContain(`# runs: ${[fixture.featureVisRunId, fixture.diverseRunId].sort((a, b) => a - b).join(' ')}`);
  const [header, ...rows] = lines.filter((l) => !l.startsWith('#')).map((l) => l.split(','));
  // Identity and curation columns, then one column per metric the gallery knows.
  const shown = await apiCall<GalleryPage>(page, target, 'gallery.query', { modelId: fixture.modelId, layer: fixture.layer, starred: true, filters: [] });
  expect(header).toEqual(['unitId', 'modelId', 'layer', 'channel', 'starred', 'tags', 'note', ...shown.metrics.map((m) => m.key)]);
  expect(header).toEqual(expect.arrayContaining(['diversityRatio', 'shiftInvariance', 'linearCombination', 'lambdaStar']));
  // One row per unit the filter shows, each with the values its stored results hold.
  const col = (name: string) => header.indexOf(name);
  expect(rows.map((r) => Number(r[col('channel')])).sort((a, b) => a - b)).toEqual(STARRED_CHANNELS);
  const stored = await apiCall<ResultRecord[]>(page, target, 'results.list', { runId: fixture.diverseRunId });
  for (const row of rows) {
    const channel = Number(row[col('channel')]);
    expect(Number(row[col('unitId')])).toBe(ids.get(channel));
    expect(row[col('starred')]).toBe('true');
    const unit = stored.find((r) => r.key === `unit/${fixture.layer}/${channel}`)!.data;
    expect(Number(row[col('diversityRatio')])).toBe(unit.diversityRatio);
    expect(Number(row[col('lambdaStar')])).toBe(unit.lambdaStar);
    expect(row[col('shiftInvariance')]).toBe(typeof unit.shiftInvariance === 'number' ? String(unit.shiftInvariance) : '');
  }
});

test('the figure dialog previews the composed figure, the same SVG the export saves', async ({ page, target }, testInfo) => {
  const ids = await unitIdsByChannel(page, target);
  const three = await apiCall<{ id: number }>(page, target, 'collections.create', { name: 'three units', unitIds: [2, 5, 8].map((c) => ids.get(c)!) });
  await apiCall(page, target, 'collections.create', { name: 'one unit', unitIds: [ids.get(3)!] });

  await page.locator('body').press('g');
  await page.getByTestId('gallery-collection').selectOption(String(three.id));
  await page.getByTestId('action-figure').click();
  const dialog = page.getByTestId('figure-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('figure-panel').nth(0)).toContainText('3 units × up to 4 images');
  await dialog.getByTestId('figure-title').fill('Figure 2: three units');
  await dialog.getByTestId('figure-format-svg').check();

  // The preview follows the settings: it carries the title just typed.
  const preview = page.getByTestId('figure-preview');
  const previewSvg = async () => Buffer.from(((await preview.getAttribute('src')) ?? '').replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString('utf8');
  await expect.poll(previewSvg, { timeout: 30_000 }).toContain('<title>Figure 2: three units</title>');
  await expect(page.getByTestId('figure-preview-pane')).toHaveAttribute('data-busy', 'false');
  const shown = await previewSvg();
  const box = await preview.boundingBox();
  expect(box!.width, 'the preview is drawn').toBeGreaterThan(100);

  const [file] = await Promise.all([page.waitForEvent('download'), dialog.getByTestId('figure-export').click()]);
  const exported = fs.readFileSync(await file.path(), 'utf8');
  fs.writeFileSync(testInfo.outputPath('figure.svg'), exported);
  await page.screenshot({ path: testInfo.outputPath('figure-dialog.png') });
  expect(withoutProvenance(shown)).toBe(withoutProvenance(exported));
  // Every unit shows its four images, and no place is left empty.
  expect(exported.match(/<image\b/g)).toHaveLength(3 * 4);
  expect(exported).not.toMatch(/<rect\b[^>]*fill="none"[^>]*stroke="#ccc"/);

  // One unit is "1 unit".
  await dialog.getByTestId('figure-collection').click();
  await expect(dialog.getByTestId('figure-collection-select').locator('option', { hasText: 'one unit' })).toHaveText('one unit (1 unit)');
});

test('a long layer name is cut in the middle in the sidebar, the whole name on hover', async ({ page }) => {
  const model = page.locator(`[data-model-id="${fixture.modelId}"]`);
  await model.locator('button.model').click();
  const label = model.locator(`[data-layer="${LAYER}"] .label`);
  await expect(label).toHaveAttribute('title', LAYER);
  const shown = (await label.textContent()) ?? '';
  expect(shown).toContain('…');
  expect(shown.length).toBeLessThan(LAYER.length);
  // Its start and its end are kept: the part that tells layers apart is the end.
  const [head, tail] = shown.split('…');
  expect(LAYER.startsWith(head)).toBe(true);
  expect(LAYER.endsWith(tail)).toBe(true);
  expect(tail.length).toBeGreaterThan(head.length);
  // And it fits: nothing is hidden past the edge.
  expect(await label.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
});

test('the bare address without the token answers a page that says how to get in', async ({ browser }) => {
  const served = new URL(process.env[ENV_URL]!);
  // A fresh browser: no cookie from an earlier visit.
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    const response = await page.goto(served.origin + '/');
    expect(response?.status()).toBe(401);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('This Artiphys workbench needs its token');
    await expect(page.locator('body')).toContainText('artiphys serve');
    await expect(page.locator('body')).not.toContainText(served.searchParams.get('token')!);
  } finally {
    await context.close();
  }
});

test('a small image enlarges on a click, pixels kept sharp, and closes on a click or Escape', async ({ page, target }) => {
  const ids = await unitIdsByChannel(page, target);
  await page.locator('body').press('g');
  await page.getByTestId('gallery-layer').selectOption(JSON.stringify([fixture.modelId, fixture.layer]));
  const card = page.locator(`[data-testid="unit-card"][data-unit-id="${ids.get(0)}"]`);
  await card.getByTestId('card-details').click();
  const thumb = page.getByTestId('unit-detail').getByTestId('stored-image').first();
  await thumb.click();
  const zoom = page.getByTestId('image-zoom');
  await expect(zoom).toBeVisible();
  const big = zoom.locator('img');
  expect((await big.boundingBox())!.width, 'far larger than the 72 px thumbnail').toBeGreaterThan(4 * 72);
  expect(await big.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { imageRendering: string } }).getComputedStyle(el).imageRendering)).toBe('pixelated');
  await page.keyboard.press('Escape');
  await expect(zoom).toBeHidden();
  await thumb.click();
  await zoom.click();
  await expect(zoom).toBeHidden();
});

test('the shapes layer picker starts on the first layer whose RF holds the shapes, and one click picks a layer', async ({ page, target }) => {
  test.setTimeout(120_000);
  const vgg = await apiCall<{ id: string; layers?: unknown }>(page, target, 'models.import', { path: path.resolve(import.meta.dirname, '../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx') });
  await page.reload();
  await expect(page.locator('.shell[data-ready="true"]')).toBeVisible();
  await page.keyboard.press('n');
  const form = page.getByTestId('new-run-form');
  await form.getByTestId('field-kind').selectOption('shapes');
  await form.getByTestId('field-modelId').selectOption(vgg.id);
  const picker = form.getByTestId('field-layers');
  const checked = () => picker.locator('input:checked').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
  // 32 px shapes: the first spatial layer whose RF is larger (conv3_3's output and relu3_3: 40 px).
  const detail = await apiCall<{ layers: { name: string; shape: number[]; rf: { size: number } | null }[] }>(page, target, 'models.get', { modelId: vgg.id });
  const first = detail.layers.find((l) => l.shape.length === 3 && l.rf && l.rf.size > 32)!;
  expect(first.rf!.size).toBe(40);
  await expect.poll(checked).toEqual([first.name]);
  // One click adds a layer, another takes it away: no Ctrl.
  await picker.locator('label', { hasText: 'relu3_1' }).locator('input').click();
  await picker.locator('label', { hasText: 'relu3_4' }).locator('input').click();
  expect((await checked()).sort()).toEqual([first.name, 'relu3_1', 'relu3_4'].sort());
  await picker.locator('label', { hasText: first.name }).locator('input').click();
  expect((await checked()).sort()).toEqual(['relu3_1', 'relu3_4']);
  await expect(picker.locator('label', { hasText: 'relu3_1' })).toContainText('RF 24 px');
});
