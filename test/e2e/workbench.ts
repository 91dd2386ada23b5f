// What the tests do with the workbench, in the user's terms (a small page-object layer).
import http from 'node:http';
import { PNG } from 'pngjs';
import { expect, type Locator, type Page } from '@playwright/test';
import { ENV_URL } from './global-setup';

export async function selectUnit(page: Page, modelId: string, layer: string, channel: number): Promise<void> {
  const model = page.locator(`[data-model-id="${modelId}"]`);
  const modelButton = model.locator('button.model');
  if ((await modelButton.getAttribute('aria-expanded')) !== 'true') await modelButton.click();
  const layerItem = model.locator(`[data-layer="${layer}"]`);
  const layerButton = layerItem.locator('button.layer');
  if ((await layerButton.getAttribute('aria-expanded')) !== 'true') await layerButton.click();
  await layerItem.locator(`[data-unit="${channel}"]`).click();
  await expect(layerItem.locator(`[data-unit="${channel}"]`)).toHaveAttribute('aria-pressed', 'true');
}

/** Opens "New run" with the keyboard, fills the given fields, starts, and returns the run id. */
export async function startRun(page: Page, fields: Record<string, string>): Promise<number> {
  await page.keyboard.press('n');
  const form = page.getByTestId('new-run-form');
  await expect(form).toBeVisible();
  await openAdvanced(page);
  for (const [name, value] of Object.entries(fields)) await form.getByTestId(`field-${name}`).fill(value);
  await form.getByTestId('start-run').click();
  await expect(form).toBeHidden();
  const header = page.getByTestId('run-header');
  await expect(header).toBeVisible();
  return Number(await header.getAttribute('data-run-id'));
}

/** Opens the new-run form's "Advanced" section (every setting but the key ones, seed and title). */
export async function openAdvanced(page: Page): Promise<void> {
  const advanced = page.getByTestId('new-run-form').getByTestId('advanced');
  if ((await advanced.getAttribute('open')) === null) await advanced.locator('summary').click();
  await expect(advanced).toHaveAttribute('open', '');
}

/**
 * Opens a project through the API and loads the page afresh without its address's route: a
 * reload would keep the route's `project=` and open the previous project again.
 */
export async function openProjectPage(page: Page, target: string, file: string): Promise<void> {
  await apiCall(page, target, 'project.open', { path: file });
  await page.goto(page.url().split('#')[0]);
  await expect(page.locator('.shell[data-ready="true"]')).toBeVisible();
}

export function jobRow(page: Page, runId: number): Locator {
  return page.locator(`[data-testid="job"][data-run-id="${runId}"]`);
}

/**
 * Samples a job's progress bar until it reads 100 % or the run stops, and returns every value
 * seen (percent): the live updates a user watches.
 */
export async function watchProgress(page: Page, runId: number, timeoutMs = 60_000): Promise<number[]> {
  const row = jobRow(page, runId);
  const bar = row.getByRole('progressbar');
  const seen: number[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // Status first: once it reads finished, the bar read after it shows the final value.
    const status = await row.getAttribute('data-status');
    const value = Number(await bar.getAttribute('aria-valuenow'));
    if (seen.at(-1) !== value) seen.push(value);
    if (value >= 100 || (status && !['queued', 'running', 'interrupted'].includes(status))) return seen;
    await page.waitForTimeout(25);
  }
  throw new Error(`run ${runId}: progress stuck at ${seen.at(-1)} % after ${timeoutMs / 1000} s (seen ${seen.join(', ')})`);
}

/** Standard deviation of the luminance of a PNG screenshot: 0 for a flat (blank) image. */
export function luminanceStd(png: Buffer): number {
  const img = PNG.sync.read(png);
  const n = img.width * img.height;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const y = 0.299 * img.data[4 * i] + 0.587 * img.data[4 * i + 1] + 0.114 * img.data[4 * i + 2];
    sum += y;
    sumSq += y * y;
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, sumSq / n - mean * mean));
}

/** Pixels of a screenshot within `tolerance` (per channel) of an RGB colour. */
export function pixelsNear(png: Buffer, rgb: [number, number, number], tolerance = 40): number {
  const img = PNG.sync.read(png);
  let count = 0;
  for (let i = 0; i < img.width * img.height; i++) {
    const d = Math.max(
      Math.abs(img.data[4 * i] - rgb[0]),
      Math.abs(img.data[4 * i + 1] - rgb[1]),
      Math.abs(img.data[4 * i + 2] - rgb[2]),
    );
    if (d <= tolerance) count++;
  }
  return count;
}

/** An API call through the transport of the target: the preload bridge, or HTTP with the token. */
export async function apiCall<T>(page: Page, target: string, method: string, params: Record<string, unknown>): Promise<T> {
  if (target === 'desktop') {
    const answer = await page.evaluate(
      ([m, p]) => (globalThis as unknown as { artiphys: { call(m: string, p: unknown): Promise<unknown> } }).artiphys.call(m as string, p),
      [method, params] as const,
    );
    const a = answer as { ok: boolean; result?: T; error?: { message: string } };
    if (!a.ok) throw new Error(`${method}: ${a.error?.message}`);
    return a.result as T;
  }
  const served = new URL(process.env[ENV_URL]!);
  const body = JSON.stringify({ method, params });
  // A new connection per call (agent: false): a pooled one can be closed by the server while a
  // test blocks this process (writing a fixture project), and then fails when it is reused.
  const text = await new Promise<string>((resolve, reject) => {
    const req = http.request(
      `${served.origin}/api/call`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${served.searchParams.get('token')}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  const a = JSON.parse(text) as { ok: boolean; result?: T; error?: { message: string } };
  if (!a.ok) throw new Error(`${method}: ${a.error?.message}`);
  return a.result as T;
}
