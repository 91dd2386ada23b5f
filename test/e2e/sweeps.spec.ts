// The sweep view in the jobs panel: a project whose sweep ran (`artiphys sweep run`) shows the
// sweep with one chip per shard in its state, and a done shard's chip opens its run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { electronBinary, expect, test } from './fixtures';
import { apiCall, openProjectPage } from './workbench';

const desktop = electronBinary();
test.skip(({ target }) => target === 'desktop' && 'reason' in desktop, 'reason' in desktop ? desktop.reason : '');

const ROOT = path.resolve(import.meta.dirname, '../..');
const artiphys = (args: string[]) => execFileSync(process.execPath, [path.join(ROOT, 'bin/artiphys.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });

test('shows a sweep with its shards\' states, and a done shard opens its run', async ({ page, target, projectFile, scratchDir }) => {
  test.setTimeout(240_000);
  const file = path.join(scratchDir, `sweep-${target}.artiphys`);
  artiphys(['project', 'create', file]);
  artiphys(['sweep', 'create', '--analysis', 'diverse', '--models', 'builtin:complex-cell', '--layers', 'subunits', '--units', '0-3', '--units-per-shard', '2', '--units-per-batch', '2',
    '--lambdas', '0,1', '--steps', '3', '--indices', 'false', '--seed', '1', '--title', 'subunit sweep', '--project', file]);
  artiphys(['sweep', 'run', '1', '--project', file]);
  try {
    await openProjectPage(page, target, file);
    const sweep = page.locator('[data-testid="sweep"][data-sweep-id="1"]');
    await expect(sweep).toHaveAttribute('data-state', 'done');
    await expect(sweep).toContainText('subunit sweep');
    await expect(sweep.getByTestId('sweep-counts')).toHaveText('done · 2 done');
    const chips = sweep.getByTestId('shard');
    await expect(chips).toHaveCount(2);
    await expect(chips.nth(1)).toHaveAttribute('data-state', 'done');
    await expect(chips.nth(1)).toHaveAttribute('aria-label', /^shard 1: done · builtin:complex-cell subunits units 2–3 · step (\d+) of \1 · 1 attempt$/);
    await chips.nth(1).click();
    // Shard 1 is the sweep's second run.
    await expect(page.locator('[data-testid="job"][data-run-id="2"]')).toHaveClass(/selected/);
  } finally {
    await apiCall(page, target, 'project.open', { path: projectFile });
  }
});

test('the New sweep form records a sweep, runs it on this machine and exports it for Slurm', async ({ page, target, projectFile, scratchDir }) => {
  test.setTimeout(300_000);
  const file = path.join(scratchDir, `sweep-form-${target}.artiphys`);
  const slurmDir = path.join(scratchDir, `slurm-${target}`);
  artiphys(['project', 'create', file]);
  try {
    await openProjectPage(page, target, file);
    const fill = async (where: 'local' | 'slurm') => {
      await page.getByTestId('new-sweep').click();
      const form = page.getByTestId('new-sweep-form');
      await form.getByTestId('sweep-kind').selectOption('diverse');
      await form.getByTestId('sweep-models').selectOption(['builtin:complex-cell']);
      await form.getByTestId('sweep-units').fill('0-3');
      await form.getByTestId('sweep-units-per-shard').fill('2');
      await form.getByTestId('sweep-settings').fill('{"unitsPerBatch": 2, "lambdas": [0, 1], "maxSteps": 3, "indices": false}');
      await form.getByTestId('sweep-seed').fill('1');
      await form.getByTestId(`where-${where}`).check();
      return form;
    };

    // No layer chosen: the server's refusal shows in the form and nothing is recorded.
    let form = await fill('local');
    await form.getByTestId('start-sweep').click();
    await expect(form.getByTestId('new-sweep-error')).toContainText('layers');
    expect(await apiCall(page, target, 'sweeps.list', {})).toEqual([]);

    await form.getByTestId('sweep-layers').selectOption(['subunits']);
    await form.getByTestId('sweep-title').fill('form sweep');
    await form.getByTestId('start-sweep').click();
    await expect(form).toBeHidden();
    const sweep = page.locator('[data-testid="sweep"][data-sweep-id="1"]');
    await expect(sweep).toContainText('form sweep');
    await expect(sweep).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
    const chips = sweep.getByTestId('shard');
    await expect(chips).toHaveCount(2);
    for (const i of [0, 1]) await expect(chips.nth(i)).toHaveAttribute('data-state', 'done');
    await expect(sweep.getByTestId('sweep-counts')).toHaveText('done · 2 done');

    form = await fill('slurm');
    await form.getByTestId('sweep-layers').selectOption(['subunits']);
    await form.getByTestId('sweep-slurm-dir').fill(slurmDir);
    await form.getByTestId('start-sweep').click();
    const script = path.join(slurmDir, 'sweep.sbatch');
    await expect(form.getByTestId('sweep-exported')).toContainText(script);
    const text = readFileSync(script, 'utf8');
    expect(text).toContain('#SBATCH --array=0-1');
    execFileSync('bash', ['-n', script]);
  } finally {
    await apiCall(page, target, 'project.open', { path: projectFile });
  }
});
