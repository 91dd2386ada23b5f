// The sweep view in the jobs panel: a project whose sweep ran (`artiphys sweep run`) shows the
// sweep with one chip per shard in its state, and a done shard's chip opens its run.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { electronBinary, expect, test } from './fixtures';
import { apiCall } from './workbench';

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
    await apiCall(page, target, 'project.open', { path: file });
    await page.reload();
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
