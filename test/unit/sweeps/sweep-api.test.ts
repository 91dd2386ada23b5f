// The sweep API behind the "New sweep" form: sweeps.create refuses what `sweep create` refuses
// and records nothing, and sweeps.cancel stops a sweep this server runs with no shard left running.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SweepSummary } from '../../../src/shared/sweeps';
import { forkEngine } from '../../../src/main/services/engine-process';
import { Workbench } from '../../../src/main/services/workbench';
import { tempDir } from '../../helpers/temp';
import { CELL_SWEEP } from './sweep-helpers';

const dir = tempDir();
let open: Workbench | null = null;
afterEach(() => {
  open?.close();
  open = null;
});

function workbench(name: string): Workbench {
  open = Workbench.open({ launcher: forkEngine, projectPath: path.join(dir, name), create: true, backend: 'cpu', startEngine: false });
  return open;
}

const list = (wb: Workbench) => wb.call({ method: 'sweeps.list', params: {} }) as Promise<SweepSummary[]>;

describe('sweeps API', () => {
  it('refuses a sweep that cannot run, naming why, and records nothing', async () => {
    const wb = workbench('refuse.artiphys');
    const { seed: _seed, ...spec } = CELL_SWEEP;
    await expect(wb.call({ method: 'sweeps.create', params: { spec: { ...spec, layers: [] } } })).rejects.toMatchObject({ message: expect.stringMatching(/^layers: /) });
    await expect(wb.call({ method: 'sweeps.create', params: { spec: { ...spec, models: ['no-such-model'] } } })).rejects.toMatchObject({ message: expect.stringMatching(/no model "no-such-model"/) });
    await expect(wb.call({ method: 'sweeps.create', params: { spec: { ...spec, layers: ['no-such-layer'] } } })).rejects.toMatchObject({ message: expect.stringMatching(/no-such-layer/) });
    await expect(wb.call({ method: 'sweeps.run', params: { sweepId: 1, where: 'queue', url: 'http://localhost' } })).rejects.toMatchObject({ message: expect.stringMatching(/redis/) });
    expect(await list(wb)).toEqual([]);
    // No seed given: the server draws one, as `sweep create` does.
    const sweep = (await wb.call({ method: 'sweeps.create', params: { spec } })) as SweepSummary;
    expect(sweep.shards.map((s) => s.state)).toEqual(['pending', 'pending', 'pending']);
    await expect(wb.call({ method: 'sweeps.cancel', params: { sweepId: sweep.id } })).rejects.toMatchObject({ message: expect.stringMatching(/not running/) });
  });

  it('cancels a sweep it runs: no shard is left running or pending', async () => {
    const wb = workbench('cancel.artiphys');
    const sweep = (await wb.call({ method: 'sweeps.create', params: { spec: CELL_SWEEP } })) as SweepSummary;
    const ended = new Promise<void>((resolve) =>
      wb.onEvent((e) => {
        if (e.type !== 'sweep.changed') return;
        void list(wb).then((l) => {
          if (!l[0].shards.some((s) => s.state === 'running' || s.state === 'pending')) resolve();
        });
      }),
    );
    await wb.call({ method: 'sweeps.run', params: { sweepId: sweep.id, where: 'local' } });
    await expect(wb.call({ method: 'sweeps.run', params: { sweepId: sweep.id, where: 'local' } })).rejects.toMatchObject({ message: expect.stringMatching(/already running/) });
    await wb.call({ method: 'sweeps.cancel', params: { sweepId: sweep.id } });
    await ended;
    const [after] = await list(wb);
    expect(after.shards.every((s) => s.state === 'cancelled' || s.state === 'done')).toBe(true);
    expect(after.shards.some((s) => s.state === 'cancelled')).toBe(true);
  }, 120_000);
});
