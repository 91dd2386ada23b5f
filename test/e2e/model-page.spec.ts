// The model page end to end: import the shared VGG-19 (to pool3) by path, read its layers and
// receptive fields in the table (sort, filter, keyboard, sidebar link), edit the input
// convention with validation, and see the edit kept after a reload.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { electronBinary, expect, test } from './fixtures';

test.describe.configure({ mode: 'serial' });
const desktop = electronBinary();
test.skip(({ target }) => target === 'desktop' && 'reason' in desktop, 'reason' in desktop ? desktop.reason : '');

const VGG = path.resolve(import.meta.dirname, '../../../shared/models/vgg19_features_to_pool3_caffe_rgb.onnx');
/** Opens (or creates) a project through the project dialog and waits until the page shows it. */
async function switchProject(page: Page, file: string, how: 'open' | 'create'): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('p');
  const dialog = page.getByTestId('project-dialog');
  await dialog.getByTestId('project-path').fill(file);
  await dialog.getByTestId(how === 'open' ? 'project-open' : 'project-create').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText(path.basename(file));
}

// The models these tests import (and the convention they edit) live in a project of their own,
// so the shared project the other specs use stays as they expect it.
let ownProject = '';
test.beforeEach(async ({ page, scratchDir }) => {
  const create = !ownProject;
  ownProject ||= path.join(scratchDir, `model-page-${Date.now()}.artiphys`);
  await switchProject(page, ownProject, create ? 'create' : 'open');
});
test.afterEach(async ({ page, projectFile }) => {
  await switchProject(page, projectFile, 'open');
});

/** The README's convention written torchvision-style: input 0..1, mean and std in that range. */
const TORCH_STYLE = { mean: ['0.482353', '0.457957', '0.407604'], std: ['0.00392157', '0.00392157', '0.00392157'] };

test('imports VGG-19 by path, shows its layers with receptive fields, and keeps an edited convention', async ({ page }, testInfo) => {
  test.skip(!fs.existsSync(VGG), `${VGG} is not there`);
  await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });

  // Import by path; the new model's page opens.
  await page.keyboard.press('i');
  const form = page.getByTestId('import-model-form');
  await form.getByTestId('model-path').fill(VGG);
  await form.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(form).toBeHidden({ timeout: 60_000 });
  const modelPage = page.getByTestId('model-page');
  await expect(modelPage).toBeVisible();
  const modelId = await modelPage.getAttribute('data-page-model');
  expect(modelId).toMatch(/^vgg19_features_to_pool3_caffe_rgb-/);
  await expect(modelPage.getByTestId('model-summary')).toContainText('onnx');
  await expect(modelPage.getByTestId('model-summary')).toContainText(VGG);
  const layerCount = Number(await modelPage.getByTestId('summary-layers').textContent());
  expect(layerCount).toBeGreaterThan(18);
  // The file does not state its convention: the page asks the user to check it.
  await expect(modelPage.getByTestId('convention-guessed')).toContainText('guessed — please check');

  // Filter to relu3_1: RF 24 px, jump 4 (METHODS §1 arithmetic for two 3x3 convs after two pools).
  const table = modelPage.getByTestId('layer-table');
  await table.getByTestId('layer-filter').fill('relu3_1');
  const row = table.locator('[data-layer-row="relu3_1"]');
  await expect(row).toBeVisible();
  await expect(row.locator('[data-col="rf"]')).toHaveText('24');
  await expect(row.locator('[data-col="jump"]')).toHaveText('4');
  await expect(table.getByTestId('layer-count')).toHaveText(`1 of ${layerCount} layers`);

  // Sorting by RF size, descending: the deepest layer (pool3, the largest RF) comes first.
  await table.getByTestId('layer-filter').fill('');
  const rfHeader = table.locator('[data-sort="rf"]');
  await rfHeader.click();
  await rfHeader.click();
  await expect(rfHeader).toHaveAttribute('aria-sort', 'descending');
  const firstRf = Number(await table.locator('[data-layer-row]').first().locator('[data-col="rf"]').textContent());
  const allRf = await table.locator('[data-layer-row] [data-col="rf"]').allTextContents();
  expect(firstRf).toBe(Math.max(...allRf.map(Number).filter(Number.isFinite)));
  await expect(table.locator('[data-layer-row]').first()).toHaveAttribute('data-layer-row', 'pool3');

  // Keyboard: focus the grid, move down one row, Enter selects that layer in the sidebar.
  const second = await table.locator('[data-layer-row]').nth(1).getAttribute('data-layer-row');
  await table.getByRole('grid').focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(table.locator('[data-layer-row].selected')).toHaveAttribute('data-layer-row', second!);
  const treeLayer = page.locator(`nav.tree li[data-model-id="${modelId}"] [data-layer="${second}"] button.layer`);
  await expect(treeLayer).toBeVisible();
  await expect(treeLayer).toHaveClass(/current/);
  // A click does the same.
  await table.locator('[data-layer-row="pool3"]').click();
  await expect(page.getByTestId('selection')).toContainText('pool3');

  // Convention editor: a mean outside the scaled range is refused before saving.
  const editor = modelPage.getByTestId('convention-editor');
  await editor.getByTestId('conv-scale').selectOption('1');
  await expect(editor.getByTestId('convention-problems')).toContainText('mean R must be within 0..1');
  await expect(editor.getByTestId('convention-save')).toBeDisabled();
  for (const i of [0, 1, 2]) {
    await editor.getByTestId(`conv-mean-${i}`).fill(TORCH_STYLE.mean[i]);
    await editor.getByTestId(`conv-std-${i}`).fill(TORCH_STYLE.std[i]);
  }
  await expect(editor.getByTestId('convention-problems')).toBeHidden();
  await editor.getByTestId('convention-save').click();
  await expect(editor.getByTestId('convention-guessed')).toBeHidden();

  // After a reload the page shows what was saved.
  await page.reload();
  await expect(page.locator('.shell[data-ready="true"]')).toBeVisible();
  await expect(page.getByTestId('project-name')).toHaveText(path.basename(ownProject));
  await page.locator(`nav.tree li[data-model-id="${modelId}"] button.model`).click();
  const reloaded = page.getByTestId('convention-editor');
  await expect(reloaded.getByTestId('conv-scale')).toHaveValue('1');
  await expect(reloaded.getByTestId('conv-order')).toHaveValue('RGB');
  for (const i of [0, 1, 2]) {
    await expect(reloaded.getByTestId(`conv-mean-${i}`)).toHaveValue(TORCH_STYLE.mean[i]);
    await expect(reloaded.getByTestId(`conv-std-${i}`)).toHaveValue(TORCH_STYLE.std[i]);
  }
  await expect(reloaded.getByTestId('convention-guessed')).toBeHidden();

  await page.getByTestId('layer-filter').fill('relu3');
  await page.getByTestId('layer-table').scrollIntoViewIfNeeded();
  const shot = await page.screenshot({ path: testInfo.outputPath('model-page.png') });
  expect(shot.length).toBeGreaterThan(10_000);

  // Random-weights control: a copy with the seed opens, with the convention just saved.
  await page.getByTestId('random-seed-input').fill('7');
  await page.getByTestId('randomize').click();
  const copyPage = page.locator('[data-testid="model-page"]:not([data-page-model="' + modelId + '"])');
  await expect(copyPage.getByTestId('random-seed')).toHaveText('random weights · seed 7');
  const copyId = await copyPage.getAttribute('data-page-model');
  await expect(page.locator(`nav.tree li[data-model-id="${copyId}"]`)).toBeVisible();
  await expect(copyPage.getByTestId('conv-mean-0')).toHaveValue(TORCH_STYLE.mean[0]);
  await expect(copyPage.getByTestId('summary-layers')).toHaveText(String(layerCount));
});

test('ResNet-50: the layer table keeps only the rows in view in the page and scrolls to the end', async ({ page }) => {
  const resnet = path.resolve(import.meta.dirname, '../../../shared/models/resnet50_keras_imagenet.onnx');
  test.skip(!fs.existsSync(resnet), `${resnet} is not there`);
  await expect(page.getByTestId('engine')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await page.keyboard.press('i');
  const form = page.getByTestId('import-model-form');
  await form.getByTestId('model-path').fill(resnet);
  await form.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(form).toBeHidden({ timeout: 80_000 });
  const table = page.getByTestId('layer-table');
  const layerCount = Number(await page.getByTestId('summary-layers').textContent());
  expect(layerCount).toBeGreaterThan(150);
  await expect(table.getByTestId('layer-count')).toHaveText(`${layerCount} layers`);
  const rendered = await table.locator('[data-layer-row]').count();
  expect(rendered, 'rows in the DOM').toBeLessThan(60);

  // End jumps to the last layer; the rows in the DOM are still a window of the table.
  await table.getByRole('grid').focus();
  const t0 = Date.now();
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await expect(table.locator('[data-layer-row].selected')).toBeVisible();
  const endMs = Date.now() - t0;
  expect(endMs, 'End + Enter answered within a second').toBeLessThan(1000);
  expect(await table.locator('[data-layer-row]').count()).toBeLessThan(60);
});

test('a file dropped in the browser gets a clear message that the served workbench imports by path', async ({ page, target }) => {
  test.skip(target !== 'web', 'the desktop app reads a dropped file\'s path');
  // A DataTransfer made in the page, as a drag from the file manager brings one (no path in it).
  const drop = await page.evaluateHandle(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array([1, 2, 3])], 'my-net.onnx'));
    return dt;
  })()`);
  await page.dispatchEvent('main.centre', 'dragover', { dataTransfer: drop });
  await page.dispatchEvent('main.centre', 'drop', { dataTransfer: drop });
  const form = page.getByTestId('import-model-form');
  await expect(form).toBeVisible();
  await expect(form.getByTestId('drop-no-path')).toContainText('“my-net.onnx” was dropped, but the served workbench imports by path');
  await expect(form.getByTestId('model-path')).toBeVisible();
  await page.keyboard.press('Escape');
});
