// Figure and data export end to end (issue 7): a real diverse run with the invariance indices on
// three units of a built-in cell model, a collection of those units, and from the UI: the
// collection's figure (unit images and the SI–LC scatter) exported as SVG, PDF and PNG, a chart
// exported from its own "Figure…" action, and the run's table as CSV. The downloaded files are
// read back: the SVG's elements, the PDF's page, the PNG's pixels, and the provenance in each.
import fs from 'node:fs';
import path from 'node:path';
import type { Download, Locator, Page } from '@playwright/test';
import { PDFDocument, PDFDict, PDFString, PDFHexString } from 'pdf-lib';
import { PNG } from 'pngjs';
import { expect, test } from './fixtures';
import { apiCall, jobRow } from './workbench';

test.describe.configure({ mode: 'serial' });
// Electron turns a download into its native save dialog, which Playwright cannot answer.
test.skip(({ target }) => target === 'desktop', 'downloads in the desktop app go through the native save dialog');

const RUN_TIMEOUT_MS = 3 * 60_000;
const DOWNLOAD_TIMEOUT_MS = 60_000;
const MODEL = 'builtin:complex-cell';
const LAYER = 'subunits';
const CHANNELS = [0, 1, 2];
/** Cheapest run that still yields SI and LC per unit: two lambdas, few steps. */
const SETTINGS = { modelId: MODEL, layer: LAYER, units: CHANNELS, lambdas: [0, 1], maxSteps: 20, indices: true };
const IMAGES_PER_UNIT = 4;
const MM_PER_INCH = 25.4;

interface Provenance {
  app: string;
  runIds: number[];
  configHash: string;
}

/** Clicks `trigger` and returns the file the page downloads. */
async function downloadOf(page: Page, trigger: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: DOWNLOAD_TIMEOUT_MS }), trigger()]);
  return { name: download.suggestedFilename(), bytes: await read(download) };
}

/** Exports from the figure dialog; an error the dialog shows fails the test with its words. */
async function exportFigure(page: Page, dialog: Locator): Promise<{ name: string; bytes: Buffer }> {
  const error = dialog.getByTestId('figure-error');
  const refused = error.waitFor({ timeout: DOWNLOAD_TIMEOUT_MS }).then(async () => {
    throw new Error(`the figure dialog says: ${await error.textContent()}`);
  });
  refused.catch(() => undefined); // settles after the download when there is no error
  return Promise.race([downloadOf(page, () => dialog.getByTestId('figure-export').click()), refused]);
}

async function read(download: Download): Promise<Buffer> {
  const file = await download.path();
  return fs.readFileSync(file);
}

interface SvgSummary {
  parsed: boolean;
  root: string;
  width: string | null;
  images: number;
  points: number;
  metadata: string;
  /** Nested svg elements (embedded charts), their paths and their text. */
  innerSvgs: number;
  innerPaths: number;
  innerText: string;
}

/** Parses an SVG file with the page's DOMParser and counts what the assertions need. */
function svgSummary(page: Page, bytes: Buffer): Promise<SvgSummary> {
  return page.evaluate((text) => {
    interface Node {
      localName: string;
      textContent: string | null;
      getAttribute(name: string): string | null;
      getElementsByTagName(name: string): ArrayLike<Node>;
    }
    interface Doc {
      documentElement: Node;
      getElementsByTagName(name: string): ArrayLike<Node>;
      querySelectorAll(selector: string): ArrayLike<Node>;
    }
    const { DOMParser } = globalThis as unknown as { DOMParser: new () => { parseFromString(text: string, type: string): Doc } };
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = doc.documentElement;
    const inner = Array.from(root.getElementsByTagName('svg'));
    return {
      parsed: doc.getElementsByTagName('parsererror').length === 0,
      root: root.localName,
      width: root.getAttribute('width'),
      images: doc.getElementsByTagName('image').length,
      points: doc.querySelectorAll('.artiphys-point').length,
      metadata: doc.getElementsByTagName('metadata')[0]?.textContent ?? '',
      innerSvgs: inner.length,
      innerPaths: inner.reduce((n, s) => n + s.getElementsByTagName('path').length, 0),
      innerText: inner.map((s) => s.textContent ?? '').join(' '),
    };
  }, bytes.toString('utf8'));
}

/** tEXt and iTXt chunks of a PNG (keyword → text), read straight from the chunk list. */
function pngTextChunks(png: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 8; // signature
  while (at + 8 <= png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'tEXt') {
      const nul = data.indexOf(0);
      out[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    } else if (type === 'iTXt') {
      const nul = data.indexOf(0);
      const keyword = data.toString('latin1', 0, nul);
      const compressed = data[nul + 1] === 1;
      // After the flags: language tag and translated keyword, each NUL-terminated.
      const lang = data.indexOf(0, nul + 3);
      const translated = data.indexOf(0, lang + 1);
      if (!compressed) out[keyword] = data.toString('utf8', translated + 1);
    }
    at += 12 + length;
  }
  return out;
}

function pdfInfo(doc: PDFDocument): Record<string, string> {
  const info = doc.context.lookup(doc.context.trailerInfo.Info, PDFDict);
  const out: Record<string, string> = {};
  for (const [key, entry] of info.entries()) {
    // Entries may be strings or references to them (pdfkit writes references).
    const value = doc.context.lookup(entry);
    if (value instanceof PDFString || value instanceof PDFHexString) out[key.decodeText()] = value.decodeText();
  }
  return out;
}

/** The provenance JSON somewhere in a text (metadata element, Info entry, text chunk). */
function provenanceIn(text: string): Provenance {
  const json = text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1);
  return JSON.parse(json) as Provenance;
}

test('a collection, a chart and a table export from the UI with their provenance', async ({ page, target }, testInfo) => {
  test.setTimeout(RUN_TIMEOUT_MS + 180_000);
  await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const run = await apiCall<{ id: number }>(page, target, 'runs.start', { kind: 'diverse', settings: SETTINGS, title: 'e2e export' });
  await expect(jobRow(page, run.id)).toHaveAttribute('data-status', 'done', { timeout: RUN_TIMEOUT_MS });

  // The run's units, as the gallery indexes them, in a collection.
  const page0 = await apiCall<{ cards: { unitId: number; channel: number; runIds: number[]; metrics: Record<string, number> }[] }>(
    page,
    target,
    'gallery.query',
    { modelId: MODEL, layer: LAYER },
  );
  const cards = page0.cards.filter((c) => c.runIds.includes(run.id));
  expect(cards.map((c) => c.channel).sort()).toEqual(CHANNELS);
  const unitIds = cards.map((c) => c.unitId);
  const collection = await apiCall<{ id: number }>(page, target, 'collections.create', { name: 'e2e figure units', unitIds });

  // --- The run's table as CSV, from the run's view: provenance comment lines, a header and one row per unit.
  await jobRow(page, run.id).locator('button.pick').click();
  const csv = await downloadOf(page, () => page.getByTestId('diverse-view').getByTestId('export-csv').click());
  expect(csv.name).toMatch(/\.csv$/);
  fs.writeFileSync(testInfo.outputPath('run.csv'), csv.bytes);
  const all = csv.bytes.toString('utf8').trim().split(/\r?\n/);
  const comments = all.filter((l) => l.startsWith('#'));
  expect(comments).toContain(`# runs: ${run.id}`);
  const configHash = comments.find((l) => l.startsWith('# config-hash: '))?.slice('# config-hash: '.length) ?? '';
  expect(configHash).toMatch(/^[0-9a-f]{64}$/);
  const lines = all.filter((l) => !l.startsWith('#'));
  expect(lines.length, lines.join('\n')).toBe(1 + CHANNELS.length);
  const header = lines[0].split(',');
  expect(header).toEqual(expect.arrayContaining(['channel', 'shiftInvariance', 'linearCombination']));
  const column = (name: string) => lines.slice(1).map((l) => Number(l.split(',')[header.indexOf(name)]));
  expect(column('channel').sort()).toEqual(CHANNELS);
  // The same SI values the gallery's cards carry.
  for (const c of cards) {
    const row = column('channel').indexOf(c.channel);
    expect(column('shiftInvariance')[row]).toBeCloseTo(c.metrics.shiftInvariance, 6);
  }

  // The run's raw arrays: every stored result, with the run's provenance.
  const arrays = await downloadOf(page, () => page.getByTestId('diverse-view').getByTestId('export-arrays').click());
  expect(arrays.name).toMatch(/\.json$/);
  const dump = JSON.parse(arrays.bytes.toString('utf8')) as { provenance: Provenance; run: { id: number }; results: { key: string }[] };
  const stored = await apiCall<{ key: string }[]>(page, target, 'results.list', { runId: run.id });
  expect(dump.run.id).toBe(run.id);
  expect(dump.provenance).toMatchObject({ runIds: [run.id], configHash });
  expect(dump.results.map((r) => r.key).sort()).toEqual(stored.map((r) => r.key).sort());

  // --- The collection's figure, from the gallery's Figure button.
  await page.getByTestId('tab-gallery').click();
  const pickCollection = page.getByTestId('gallery-collection');
  await expect(pickCollection.locator(`option[value="${collection.id}"]`)).toBeAttached();
  await pickCollection.selectOption(String(collection.id));
  await page.getByTestId('action-figure').click();
  const dialog = page.getByTestId('figure-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('figure-panel')).toHaveCount(2);
  await expect(dialog.getByTestId('figure-panel').nth(0)).toHaveAttribute('data-panel-kind', 'units');
  await expect(dialog.getByTestId('figure-panel').nth(1)).toHaveAttribute('data-panel-kind', 'si-lc');
  await dialog.getByTestId('figure-columns').fill('2');

  // SVG at the two-column width.
  await dialog.getByTestId('figure-preset').selectOption('two-column');
  await dialog.getByTestId('figure-format-svg').check();
  const svg = await exportFigure(page, dialog);
  expect(svg.name).toMatch(/\.svg$/);
  fs.writeFileSync(testInfo.outputPath('collection.svg'), svg.bytes);
  const svgFacts = await svgSummary(page, svg.bytes);
  expect(svgFacts.parsed, 'the SVG parses').toBe(true);
  expect(svgFacts.root).toBe('svg');
  expect(svgFacts.width).toBe('174mm');
  expect(svgFacts.images, 'one image element per unit image').toBe(unitIds.length * IMAGES_PER_UNIT);
  expect(svgFacts.points, 'one SI–LC point per unit with both indices').toBe(cards.filter((c) => 'shiftInvariance' in c.metrics && 'linearCombination' in c.metrics).length);
  expect(svgFacts.points).toBe(unitIds.length);
  const svgProvenance = provenanceIn(svgFacts.metadata);
  expect(svgProvenance).toMatchObject({ app: 'Artiphys', runIds: [run.id] });
  expect(svgProvenance.configHash, 'the same hash as the table of the same run').toBe(configHash);
  await expect(dialog.getByTestId('figure-result')).toContainText(`#${run.id}`);

  // PDF at a custom width in inches: one page of that many points.
  const widthIn = 3.5;
  await dialog.getByTestId('figure-size-custom').check();
  await dialog.getByTestId('figure-unit').selectOption('in');
  await dialog.getByTestId('figure-width').fill(String(widthIn));
  await dialog.getByTestId('figure-format-pdf').check();
  await expect(dialog.getByTestId('figure-size-note')).toContainText(`${(widthIn * 72).toFixed(1)} × auto pt`);
  const pdf = await exportFigure(page, dialog);
  expect(pdf.name).toMatch(/\.pdf$/);
  fs.writeFileSync(testInfo.outputPath('collection.pdf'), pdf.bytes);
  const doc = await PDFDocument.load(pdf.bytes, { updateMetadata: false });
  expect(doc.getPageCount()).toBe(1);
  const size = doc.getPage(0).getSize();
  expect(Math.abs(size.width - widthIn * 72), `page width ${size.width} pt`).toBeLessThanOrEqual(0.5);
  expect(size.height).toBeGreaterThan(0);
  const info = pdfInfo(doc);
  expect(provenanceIn(Object.values(info).find((v) => v.includes('"configHash"')) ?? '')).toEqual(
    expect.objectContaining({ runIds: [run.id], configHash }),
  );

  // PNG at the one-column width and 150 dpi.
  const dpi = 150;
  await dialog.getByTestId('figure-size-preset').check();
  await dialog.getByTestId('figure-preset').selectOption('one-column');
  await dialog.getByTestId('figure-unit').selectOption('mm');
  await dialog.getByTestId('figure-format-png').check();
  await dialog.getByTestId('figure-dpi').fill(String(dpi));
  const expectedWidth = Math.round((85 / MM_PER_INCH) * dpi);
  await expect(dialog.getByTestId('figure-size-note')).toContainText(`${expectedWidth} × auto px at ${dpi} dpi`);
  const png = await exportFigure(page, dialog);
  expect(png.name).toMatch(/\.png$/);
  fs.writeFileSync(testInfo.outputPath('collection.png'), png.bytes);
  const image = PNG.sync.read(png.bytes);
  expect(image.width).toBe(expectedWidth);
  expect(image.height).toBeGreaterThan(0);
  const chunks = pngTextChunks(png.bytes);
  expect(provenanceIn(Object.values(chunks).find((v) => v.includes('"configHash"')) ?? '')).toEqual(
    expect.objectContaining({ runIds: [run.id], configHash }),
  );
  await dialog.getByRole('button', { name: 'Close', exact: true }).click();
  await expect(dialog).toBeHidden();

  // --- One chart, from its own Figure… action: the trade-off curve as a vector panel.
  await page.getByTestId('tab-run').click();
  const view = page.getByTestId('diverse-view');
  await expect(view.getByTestId('diverse-unit')).toBeVisible();
  const chart = page.getByTestId('chart-trade-off');
  await chart.hover();
  await chart.getByTestId('figure-menu').click();
  await page.getByTestId('figure-new').click();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('figure-panel')).toHaveCount(1);
  await expect(dialog.getByTestId('figure-panel')).toHaveAttribute('data-panel-kind', 'svg');
  await dialog.getByTestId('figure-format-svg').check();
  const chartSvg = await exportFigure(page, dialog);
  fs.writeFileSync(testInfo.outputPath('chart.svg'), chartSvg.bytes);
  const chartFacts = await svgSummary(page, chartSvg.bytes);
  expect(chartFacts.parsed, 'the chart figure parses').toBe(true);
  expect(chartFacts.innerSvgs, 'the chart is embedded as an svg element').toBeGreaterThanOrEqual(1);
  expect(chartFacts.innerPaths, 'the curves and axes are drawn').toBeGreaterThan(5);
  expect(chartFacts.innerText).toContain('activation a(λ)');
  expect(provenanceIn(chartFacts.metadata).runIds).toEqual([run.id]);
  await dialog.getByRole('button', { name: 'Close', exact: true }).click();

});

test('the project dialog exports the open project as one archive', async ({ page, scratchDir }) => {
  const archive = path.join(scratchDir, 'e2e-project-archive.tar.gz');
  await page.keyboard.press('p');
  const dialog = page.getByTestId('project-dialog');
  await dialog.getByTestId('project-archive').locator('summary').click();
  await dialog.getByTestId('archive-export-path').fill(archive);
  await dialog.getByTestId('archive-export').click();
  await expect(dialog.getByTestId('archive-done')).toContainText(archive, { timeout: 60_000 });
  expect(fs.statSync(archive).size).toBeGreaterThan(0);
  // An archive that is not there: the dialog says so, and the open project stays.
  await dialog.getByTestId('archive-import-path').fill(path.join(scratchDir, 'missing.tar.gz'));
  await dialog.getByTestId('archive-import-to').fill(path.join(scratchDir, 'never.artiphys'));
  await dialog.getByTestId('archive-import').click();
  await expect(dialog.getByTestId('archive-error')).toContainText('missing.tar.gz');
  expect(fs.existsSync(path.join(scratchDir, 'never.artiphys'))).toBe(false);
});
