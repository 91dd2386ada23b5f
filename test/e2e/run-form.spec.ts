// The new-run form as a researcher plans a run (issue 17) on the shared VGG-19: a preset, the
// time estimate from steps timed on this backend, the start; a bad image folder refused before
// anything is queued; a finished run edited and run again, and deleted.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { electronBinary, expect, test } from './fixtures';
import { apiCall, jobRow, openAdvanced } from './workbench';

test.describe.configure({ mode: 'serial' });
const desktop = electronBinary();
test.skip(({ target }) => target === 'desktop' && 'reason' in desktop, 'reason' in desktop ? desktop.reason : '');

const ROOT = path.resolve(import.meta.dirname, '../..');
const VGG = path.resolve(ROOT, '../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
/** Loading VGG-19 in the timing engine and timing its steps on 2 loaded cores. */
const ESTIMATE_TIMEOUT_MS = 3 * 60_000;

interface RunInfo {
  id: number;
  kind: string;
  status: string;
  seed: number;
  settings: Record<string, unknown>;
}

let vggId = '';
let quickRunId = 0;

async function openForm(page: Page): Promise<ReturnType<Page['getByTestId']>> {
  await page.keyboard.press('n');
  const form = page.getByTestId('new-run-form');
  await expect(form).toBeVisible();
  return form;
}

async function waitDone(page: Page, target: string, runId: number, timeoutMs: number): Promise<RunInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await apiCall<RunInfo & { error: string | null }>(page, target, 'runs.get', { runId });
    if (run.status === 'done') return run;
    if (!['queued', 'running', 'interrupted'].includes(run.status)) throw new Error(`run ${runId} ${run.status}: ${run.error}`);
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ${timeoutMs / 1000} s`);
    await page.waitForTimeout(1000);
  }
}

test('a preset, its time estimate on this backend, and the start (VGG-19 relu3_1)', async ({ page, target }, testInfo) => {
  test.setTimeout(10 * 60_000);
  await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  vggId = (await apiCall<{ id: string }>(page, target, 'models.import', { path: VGG })).id;
  await page.reload();
  await expect(page.locator('.shell[data-ready="true"]')).toBeVisible();

  const form = await openForm(page);
  await form.getByTestId('field-kind').selectOption('diverse');
  await form.getByTestId('field-modelId').selectOption(vggId);
  await form.getByTestId('field-layer').selectOption('relu3_1');
  await form.getByTestId('field-units').fill('0');
  // The key settings show; everything else waits under "Advanced".
  await expect(form.getByTestId('advanced')).not.toHaveAttribute('open', '');
  await expect(form.getByTestId('field-learningRate')).toBeHidden();
  await expect(form.getByTestId('field-normImages')).toBeHidden();

  await form.getByTestId('preset-quick').check();
  await expect(form.getByTestId('field-maxSteps')).toHaveValue('100');
  await expect(form.getByTestId('field-lambdas')).toHaveValue('[0,0.16,1.28]');
  const time = form.getByTestId('estimate-time');
  await expect(time).toHaveText(/^≈ \d+ (s|min) on \w+/, { timeout: ESTIMATE_TIMEOUT_MS });
  const backend = (await apiCall<{ backend: { name: string } }>(page, target, 'app.info', {})).backend.name;
  await expect(time).toContainText(`on ${backend}`);
  await expect(form.getByTestId('estimate-detail')).toContainText('100 steps × 1 unit × 4 passes (lambdas and texture) ×');
  // Timed when the unit was chosen (paper defaults, the same model, layer and batch), or now.
  await expect(form.getByTestId('estimate-detail')).toContainText(/per unit-step \((timed now|timing reused)\)/);
  const quickSeconds = Number(await time.getAttribute('data-seconds'));
  fs.writeFileSync(testInfo.outputPath('run-form-quick.png'), await form.screenshot());

  // Paper defaults: the METHODS sweep (12 lambdas, 1000 steps), priced with the timing just taken.
  await form.getByTestId('preset-paper').check();
  await expect(form.getByTestId('field-maxSteps')).toHaveValue('1000');
  await expect(form.getByTestId('estimate-detail')).toContainText('1000 steps × 1 unit × 13 passes (lambdas and texture) ×', { timeout: 30_000 });
  await expect(form.getByTestId('estimate-detail')).toContainText('timing reused');
  const paperSeconds = Number(await time.getAttribute('data-seconds'));
  expect(paperSeconds / quickSeconds).toBeCloseTo((1000 * 13) / (100 * 4), 6);
  console.log(`estimate on ${backend}: quick look ${quickSeconds.toFixed(1)} s, paper defaults ${(paperSeconds / 60).toFixed(1)} min`);

  // Editing a setting by hand makes the preset custom and opens nothing else.
  await form.getByTestId('preset-quick').check();
  await expect(form.getByTestId('field-maxSteps')).toHaveValue('100');
  await form.getByTestId('field-maxSteps').fill('60');
  await expect(form.getByTestId('preset-custom')).toBeChecked();
  await expect(form.getByTestId('estimate-detail')).toContainText('60 steps × 1 unit × 4 passes (lambdas and texture) ×', { timeout: 30_000 });

  const before = await apiCall<RunInfo[]>(page, target, 'runs.list', {});
  await form.getByTestId('start-run').click();
  await expect(form).toBeHidden();
  const header = page.getByTestId('run-header');
  quickRunId = Number(await header.getAttribute('data-run-id'));
  expect(before.some((r) => r.id === quickRunId)).toBe(false);
  const started = Date.now();
  const run = await waitDone(page, target, quickRunId, 6 * 60_000);
  console.log(`quick-look run (60 steps) took ${((Date.now() - started) / 1000).toFixed(0)} s, estimated ${((quickSeconds * 60) / 100).toFixed(0)} s of steps`);
  expect(run.settings).toMatchObject({ modelId: vggId, layer: 'relu3_1', units: [0], lambdas: [0, 0.16, 1.28], maxSteps: 60, patience: 30 });
});

test('an empty or missing image folder is refused before anything is queued', async ({ page, target, scratchDir }) => {
  const empty = path.join(scratchDir, 'no-images');
  fs.mkdirSync(empty, { recursive: true });
  fs.writeFileSync(path.join(empty, 'readme.txt'), 'not an image');
  const before = await apiCall<RunInfo[]>(page, target, 'runs.list', {});

  const form = await openForm(page);
  await form.getByTestId('field-kind').selectOption('shapes');
  // A plain text field: the folder is typed as it is, no quotes.
  await form.getByTestId('field-naturalImages').fill(empty);
  await expect(form.getByTestId('estimate-error')).toContainText(`--natural-images: the folder ${empty} holds no JPEG or PNG images`);
  await form.getByTestId('start-run').click();
  await expect(form.getByTestId('new-run-error')).toContainText(`the folder ${empty} holds no JPEG or PNG images`);
  await expect(form).toBeVisible();

  await form.getByTestId('field-naturalImages').fill(path.join(scratchDir, 'nowhere'));
  await expect(form.getByTestId('estimate-error')).toContainText('--natural-images: no folder at');
  await form.getByTestId('start-run').click();
  await expect(form.getByTestId('new-run-error')).toContainText('no folder at');
  await page.keyboard.press('Escape');
  await expect(form).toBeHidden();
  expect(await apiCall<RunInfo[]>(page, target, 'runs.list', {})).toEqual(before);
});

test('a finished run is edited and run again, and deleted after a confirmation', async ({ page, target }) => {
  test.setTimeout(6 * 60_000);
  expect(quickRunId, 'the first test left a finished run').toBeGreaterThan(0);
  const original = await apiCall<RunInfo>(page, target, 'runs.get', { runId: quickRunId });

  await jobRow(page, quickRunId).getByTestId('edit-rerun').click();
  const form = page.getByTestId('new-run-form');
  await expect(form).toBeVisible();
  await expect(form.getByTestId('field-kind')).toHaveValue('diverse');
  await expect(form.getByTestId('preset-custom')).toBeChecked();
  await expect(form.getByTestId('field-modelId')).toHaveValue(vggId);
  await expect(form.getByTestId('field-layer')).toHaveValue('relu3_1');
  await expect(form.getByTestId('field-maxSteps')).toHaveValue('60');
  await expect(form.getByTestId('field-lambdas')).toHaveValue('[0,0.16,1.28]');
  await openAdvanced(page);
  await expect(form.getByTestId('field-seed')).toHaveValue(String(original.seed));
  await form.getByTestId('field-maxSteps').fill('10');
  await form.getByTestId('start-run').click();
  await expect(form).toBeHidden();
  const rerunId = Number(await page.getByTestId('run-header').getAttribute('data-run-id'));
  expect(rerunId).not.toBe(quickRunId);
  const rerun = await waitDone(page, target, rerunId, 4 * 60_000);
  expect(rerun.seed).toBe(original.seed);
  expect(rerun.settings).toEqual({ ...original.settings, maxSteps: 10 });

  // Dismissing the confirmation keeps the run; accepting it deletes the run and its results.
  page.once('dialog', (d) => void d.dismiss());
  await jobRow(page, quickRunId).getByTestId('delete-run').click();
  await expect(jobRow(page, quickRunId)).toBeVisible();
  page.once('dialog', (d) => {
    expect(d.message()).toContain(`Delete run #${quickRunId}`);
    void d.accept();
  });
  await jobRow(page, quickRunId).getByTestId('delete-run').click();
  await expect(jobRow(page, quickRunId)).toHaveCount(0);
  await expect(apiCall(page, target, 'runs.get', { runId: quickRunId })).rejects.toThrow(`no run ${quickRunId}`);
  await expect(apiCall(page, target, 'results.list', { runId: quickRunId })).rejects.toThrow(`no run ${quickRunId}`);
  await expect(jobRow(page, rerunId)).toBeVisible();
});

test('a run that failed on a bad setting offers to edit that setting and run again', async ({ page, target, scratchDir }) => {
  test.setTimeout(5 * 60_000);
  // The folder passes the check (it holds a .png) but its image cannot be decoded: the run fails.
  const broken = path.join(scratchDir, 'broken-images');
  fs.mkdirSync(broken, { recursive: true });
  fs.writeFileSync(path.join(broken, 'a.png'), 'not a PNG');
  const form = await openForm(page);
  await form.getByTestId('field-kind').selectOption('shapes');
  await form.getByTestId('field-modelId').selectOption('builtin:corner');
  await form.getByTestId('preset-quick').check();
  await form.getByTestId('field-naturalImages').fill(broken);
  await form.getByTestId('start-run').click();
  await expect(form).toBeHidden();
  const failedId = Number(await page.getByTestId('run-header').getAttribute('data-run-id'));
  await expect(jobRow(page, failedId)).toHaveAttribute('data-status', 'failed', { timeout: 4 * 60_000 });

  await page.getByTestId('run-header').getByTestId('header-edit-rerun').click();
  await expect(form).toBeVisible();
  await expect(form.getByTestId('field-naturalImages')).toHaveValue(broken);
  await form.getByTestId('field-naturalImages').fill('');
  await form.getByTestId('start-run').click();
  await expect(form).toBeHidden();
  const fixedId = Number(await page.getByTestId('run-header').getAttribute('data-run-id'));
  const fixed = await waitDone(page, target, fixedId, 4 * 60_000);
  const failed = await apiCall<RunInfo>(page, target, 'runs.get', { runId: failedId });
  expect(fixed.settings).toEqual({ ...failed.settings, naturalImages: null });
});
