// The workbench end to end: project open/create, a job to 100 %, cancel, results after reload,
// keyboard use, and the token that guards the served workbench. One project, tests in order.
import path from 'node:path';
import WebSocket from 'ws';
import { electronBinary, expect, test } from './fixtures';
import { ENV_URL } from './global-setup';
import { jobRow, luminanceStd, pixelsNear, selectUnit, startRun, watchProgress } from './workbench';

test.describe.configure({ mode: 'serial' });
const desktop = electronBinary();
// Decided before any fixture starts, so an absent desktop app costs nothing.
test.skip(({ target }) => target === 'desktop' && 'reason' in desktop, 'reason' in desktop ? desktop.reason : '');

const BUILTINS = ['simple-cell', 'energy', 'complex-cell', 'corner'];
/** Chart series colour (palette[0]) of each theme, as in src/renderer/src/charts/theme.ts. */
const SERIES_RGB: Record<string, [number, number, number]> = { light: [0x2f, 0x6d, 0xb0], dark: [0x6f, 0xa3, 0xdc] };

let doneRunId = 0;
let doneActivation = '';
let cancelledRunId = 0;

test('opens on a project with the built-in models, the compute backend and the engine state', async ({ page, projectFile }) => {
  await expect(page.getByTestId('project-name')).toHaveText(path.basename(projectFile));
  await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('backend')).toContainText(/tensorflow|webgpu|wasm|cpu/);
  for (const kind of BUILTINS) await expect(page.locator(`[data-model-id="builtin:${kind}"]`)).toBeVisible();

  // models → layers → units: a layer lists as many units as its shape has channels.
  const model = page.locator('[data-model-id="builtin:complex-cell"]');
  await model.locator('button.model').click();
  for (const layer of ['subunits', 'response']) {
    const item = model.locator(`[data-layer="${layer}"]`);
    await item.locator('button.layer').click();
    const shape = (await item.locator('.meta').textContent())!.match(/(\d+)×(\d+)×(\d+)/);
    expect(shape, `layer ${layer} shows its shape`).not.toBeNull();
    await expect(item.locator('[data-unit]')).toHaveCount(Number(shape![3]));
  }
});

test('creates a project, switches to it, and opens the first one again', async ({ page, projectFile, scratchDir }) => {
  const second = path.join(scratchDir, `second-${Date.now()}.artiphys`);
  const dialog = page.getByTestId('project-dialog');

  await page.keyboard.press('p');
  await dialog.getByTestId('project-path').fill(second);
  await dialog.getByTestId('project-create').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText(path.basename(second));
  await expect(page.getByTestId('project-counts')).toContainText('0 runs');
  await expect(page.getByTestId('jobs-panel')).toContainText('No runs yet');

  // Bad input gets a message that names the problem, and the project stays open.
  await page.keyboard.press('p');
  await dialog.getByTestId('project-path').fill(second);
  await dialog.getByTestId('project-create').click();
  await expect(dialog.getByTestId('project-error')).toContainText('already exists');
  await dialog.getByTestId('project-path').fill(path.join(scratchDir, 'missing.artiphys'));
  await dialog.getByTestId('project-open').click();
  await expect(dialog.getByTestId('project-error')).toContainText('no project at');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText(path.basename(second));

  await page.keyboard.press('p');
  await dialog.getByTestId('project-path').fill(projectFile);
  await dialog.getByTestId('project-open').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText(path.basename(projectFile));
});

test('a job shows live progress up to 100 % and its preferred image and activation curve', async ({ page }, testInfo) => {
  await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await selectUnit(page, 'builtin:complex-cell', 'response', 0);
  // Enough steps that the run lasts seconds (a 24 px cell takes well under a millisecond a
  // step), so the bar is seen between 0 and 100 %.
  const steps = 6000;
  const every = 1200;
  doneRunId = await startRun(page, { steps: String(steps), checkpointEvery: String(every), title: 'e2e preferred image' });

  const seen = await watchProgress(page, doneRunId);
  expect(seen.at(-1), `progress values seen: ${seen.join(', ')}`).toBe(100);
  expect(seen.some((v) => v > 0 && v < 100), `live values between 0 and 100 (seen ${seen.join(', ')})`).toBe(true);
  const row = jobRow(page, doneRunId);
  await expect(row).toHaveAttribute('data-status', 'done');
  await expect(row.getByTestId('percent')).toHaveText('100 %');

  // The result: a structured (not flat) image, the curve drawn, a snapshot per checkpoint.
  const view = page.getByTestId('max-image-view');
  const img = view.getByTestId('preferred-image').locator('img');
  await expect(img).toBeVisible();
  await expect(view.locator('figcaption strong')).toHaveText('Preferred image');
  const shot = await img.screenshot();
  await testInfo.attach('preferred-image', { body: shot, contentType: 'image/png' });
  expect(luminanceStd(shot), 'the preferred image is not blank').toBeGreaterThan(10);
  await expect(view.locator('.snap')).toHaveCount(steps / every);
  doneActivation = (await view.getByTestId('activation').textContent())!;
  expect(Number(doneActivation)).toBeGreaterThan(0);

  const theme = (await page.locator('html').getAttribute('data-theme'))!;
  const chart = await view.getByTestId('activation-chart').screenshot();
  await testInfo.attach('activation-chart', { body: chart, contentType: 'image/png' });
  expect(pixelsNear(chart, SERIES_RGB[theme]), 'the activation curve is drawn').toBeGreaterThan(100);
  await testInfo.attach('workbench', { body: await page.screenshot(), contentType: 'image/png' });
});

test('the new-run form shows why the server refuses bad settings', async ({ page }) => {
  await page.keyboard.press('n');
  const form = page.getByTestId('new-run-form');
  await form.getByTestId('field-steps').fill('0');
  await form.getByTestId('start-run').click();
  await expect(form.getByTestId('new-run-error')).toContainText('steps');
  await page.keyboard.press('Escape');
  await expect(form).toBeHidden();
});

test('a running job can be cancelled and keeps what it finished', async ({ page }) => {
  await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await selectUnit(page, 'builtin:complex-cell', 'subunits', 2);
  cancelledRunId = await startRun(page, { steps: '100000', checkpointEvery: '50', title: 'e2e cancelled' });
  const row = jobRow(page, cancelledRunId);
  await expect(row).toHaveAttribute('data-status', 'running');
  await expect(row.getByTestId('eta')).toBeVisible();
  // A checkpoint snapshot appears live while the run goes on.
  const img = page.getByTestId('max-image-view').getByTestId('preferred-image').locator('img');
  await expect(img).toBeVisible();

  await row.getByTestId('cancel').click();
  await expect(row).toHaveAttribute('data-status', 'cancelled');
  const percent = Number((await row.getByTestId('percent').textContent())!.replace(' %', ''));
  expect(percent).toBeLessThan(100);
  await expect(row.getByTestId('resume')).toBeVisible();
  await expect(img).toBeVisible();
  // The view re-renders when the final status arrives: an <img> replaced during the screenshot
  // counts as not yet seen, and the poll takes the new one.
  await expect
    .poll(async () => img.screenshot({ timeout: 5_000 }).then(luminanceStd, () => 0), { message: 'the snapshot of the cancelled run is an image' })
    .toBeGreaterThan(5);
});

test('results are still there after a reload', async ({ page, target }) => {
  expect(doneRunId, 'an earlier test ran a job').toBeGreaterThan(0);
  await page.reload();
  await expect(page.locator('.shell[data-ready="true"]')).toBeVisible();
  if (target === 'web') expect(new URL(page.url()).searchParams.has('token'), 'the token left the address bar').toBe(false);

  await expect(jobRow(page, doneRunId)).toHaveAttribute('data-status', 'done');
  await expect(jobRow(page, cancelledRunId)).toHaveAttribute('data-status', 'cancelled');
  await jobRow(page, doneRunId).locator('button.pick').click();
  const view = page.getByTestId('max-image-view');
  await expect(view.getByTestId('activation')).toHaveText(doneActivation);
  const img = view.getByTestId('preferred-image').locator('img');
  await expect(img).toBeVisible();
  expect(luminanceStd(await img.screenshot())).toBeGreaterThan(10);
});

test('the main actions work from the keyboard', async ({ page }, testInfo) => {
  const html = page.locator('html');
  const before = await html.getAttribute('data-theme');
  await page.keyboard.press('t');
  await expect(html).not.toHaveAttribute('data-theme', before!);
  await testInfo.attach(`theme-${await html.getAttribute('data-theme')}`, { body: await page.screenshot(), contentType: 'image/png' });
  await page.keyboard.press('t');
  await expect(html).toHaveAttribute('data-theme', before!);

  await page.keyboard.press('?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);

  // j/k walk the jobs list and the selected job's results follow.
  await page.keyboard.press('k');
  const first = Number(await page.getByTestId('run-header').getAttribute('data-run-id'));
  await page.keyboard.press('j');
  await expect(page.getByTestId('run-header')).not.toHaveAttribute('data-run-id', String(first));
  await page.keyboard.press('k');
  await expect(page.getByTestId('run-header')).toHaveAttribute('data-run-id', String(first));

  // Focus is visible and Tab reaches the controls.
  await page.keyboard.press('Tab');
  await expect(page.locator(':focus')).toHaveCount(1);
});

test('without the right token every route answers 401', async ({ target, request, browser }) => {
  test.skip(target !== 'web', 'the desktop app has no token: calls travel over IPC only');
  const served = new URL(process.env[ENV_URL]!);
  const origin = served.origin;
  const token = served.searchParams.get('token')!;
  const call = { method: 'app.info', params: {} };

  // Control: the right token is admitted.
  const ok = await request.post(`${origin}/api/call`, { headers: { authorization: `Bearer ${token}` }, data: call });
  expect(ok.status()).toBe(200);

  const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token' }];
  for (const headers of refused) {
    const res = await request.post(`${origin}/api/call`, { headers, data: call });
    expect(res.status()).toBe(401);
    expect((await res.json()).error.code).toBe('unauthorized');
  }
  for (const route of ['/', '/?token=wrong-token', '/index.html', '/api/events']) {
    expect((await request.get(`${origin}${route}`)).status(), route).toBe(401);
  }
  const events = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`${origin.replace('http', 'ws')}/api/events?token=wrong-token`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => reject(new Error('the event socket opened with a wrong token')));
    ws.on('error', () => undefined);
  });
  expect(events).toBe(401);

  const stranger = await browser.newPage();
  const res = await stranger.goto(`${origin}/?token=wrong-token`);
  expect(res?.status()).toBe(401);
  await stranger.close();
});
